"""The ASGI application: the versioned JSON API under /api/v1 and the built PWA at /."""

from __future__ import annotations

import gc
import mimetypes
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from anyio import to_thread
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from fastapi.responses import FileResponse, HTMLResponse, Response

from cunzhi import __version__
from cunzhi.api import health, openapi
from cunzhi.api.audit import AuditGate
from cunzhi.core.jsonx import JSONResponse
from cunzhi.api.deps import current_scope, reads
from cunzhi.attachments import routes as attachments
from cunzhi.core import metrics
from cunzhi.core.compress import GZipMiddleware
from cunzhi.core.config import get_settings
from cunzhi.core.errors import AppError, allowed_methods, install_error_handlers
from cunzhi.core.limits import BodyLimitMiddleware
from cunzhi.core.security import SecurityHeadersMiddleware, install_access_log_filter
from cunzhi.core.logging import RequestContextMiddleware, configure_logging
from cunzhi.grid import routes as grid  # grid work (issue 7)
from cunzhi.dashboard import routes as dashboard  # dashboard (i9)
from cunzhi.integrations import routes as integrations
from cunzhi.mediation import routes as mediation
from cunzhi.nominations import routes as nominations  # six-no, nominations, points (issue 8)
from cunzhi.points import routes as points  # issue 8
from cunzhi.six_no import routes as six_no  # issue 8
from cunzhi.reference import routes as reference
from cunzhi.sync import routes as sync
from cunzhi.sync.registry import load_entities
from cunzhi.users import routes as users

DESCRIPTION = """村治 Cunzhi — the offline-first field app and township ledger for village governance pilots.

Every endpoint but login and health needs `Authorization: Bearer <access_token>`. Every 4xx answers
`{"code", "message", "details": [{"field", "code", "message"}]}` in the language of `Accept-Language`
(zh-CN by default, en). Sync: see docs/api.md and the sync protocol v1.
"""


def create_app() -> FastAPI:
    load_entities()
    configure_logging()
    app = FastAPI(title="Cunzhi 村治 API", version=__version__, description=DESCRIPTION,
                  openapi_url="/api/v1/openapi.json", docs_url=None, redoc_url=None, lifespan=_lifespan,
                  default_response_class=JSONResponse)
    _mount_docs(app)
    install_error_handlers(app)
    # an answer with personal data in full leaves once its audit row is committed (innermost: a refusal still
    # gets the headers, compression and request id of any answer)
    app.add_middleware(AuditGate)
    app.add_middleware(BodyLimitMiddleware)
    # operations: a request id, one log line and the request metrics per request (inside gzip: error bodies
    # are still plain JSON there, and get their request_id)
    app.add_middleware(RequestContextMiddleware)
    # pulls and lists travel compressed on slow links; level 6 costs half the CPU of 9 for ~6% more bytes (zlib-ng:
    # core/compress.py)
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    # --- security (issue 11): CSP, nosniff, referrer policy… on every response; access logs without queries
    app.add_middleware(SecurityHeadersMiddleware)
    install_access_log_filter()

    api = APIRouter(prefix="/api/v1")
    api.include_router(health.router)
    api.include_router(users.public_router)
    authed = APIRouter(dependencies=[Depends(current_scope)])  # authenticated by default
    for r in (users.router, reference.router, sync.router, sync.conflicts_router, mediation.router,
              attachments.router, integrations.router):
        authed.include_router(r)
    authed.include_router(grid.router)  # grid work (issue 7): /grids, /households, /patrols, /incidents
    # six-no, nominations, points (issue 8)
    for r in (six_no.router, nominations.router, points.router):
        authed.include_router(r)
    # dashboard (i9): it counts and lists every record type, so a key limited to some types finds it absent
    authed.include_router(dashboard.router, dependencies=[reads()])
    api.include_router(authed)
    app.include_router(api)
    _mount_metrics(app)
    # public pages without sign-in (issue 8): the notice poster and the points ranking of a village
    app.include_router(nominations.public_router)
    app.include_router(points.public_router)
    _mount_frontend(app, get_settings().frontend_dir)
    openapi.install(app)  # errors, shared names, record schemas, links: api/openapi.py
    return app


GC_THRESHOLD = (10_000, 10, 10)


def settle_heap() -> None:
    """Once per process, when the app starts: move everything imported and built so far into the collector's
    permanent generation, and collect the young generation every 10,000 allocations instead of 700.

    The modules, tables, routes and schemas are never garbage, yet every full collection walked them: a push of
    500 cases spent 22–27 ms in the collector, 4–5 ms after the freeze and 2–3 ms with the threshold too
    (gc.callbacks, docs/performance.md)."""
    if gc.get_threshold() == GC_THRESHOLD:
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """Every server process runs a webhook delivery worker (claims keep them from sending twice); its
    metrics are marked dead when it stops (Prometheus multiprocess mode). Sync route handlers run on at most
    ``request_threads`` threads at once (config.py)."""
    from cunzhi.integrations import worker

    settle_heap()
    to_thread.current_default_thread_limiter().total_tokens = get_settings().request_threads
    w = worker.start()
    try:
        yield
    finally:
        if w is not None:
            w.stop.set()
        metrics.mark_process_dead()


def _mount_docs(app: FastAPI) -> None:
    """/docs with Swagger UI served by this server (a township intranet reaches no CDN)."""
    import fastapi_offline

    static = Path(fastapi_offline.__file__).parent / "static"
    app.mount("/docs-assets", StaticFiles(directory=static), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(openapi_url=f"{root}/api/v1/openapi.json", title="村治 Cunzhi API",
                                   swagger_js_url=f"{root}/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url=f"{root}/docs-assets/swagger-ui.css",
                                   swagger_favicon_url=f"{root}/docs-assets/favicon.png")


def _mount_metrics(app: FastAPI) -> None:
    """/metrics for Prometheus, only with ``Authorization: Bearer $CUNZHI_METRICS_TOKEN``; off (404) without a token."""
    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics(request: Request) -> Response:
        token = get_settings().metrics_token
        if not token:
            raise AppError(404, "not_found")
        if not metrics.token_ok(request.headers.get("authorization"), token):
            raise AppError(401, "not_authenticated", headers={"WWW-Authenticate": "Bearer"})
        body, content_type = metrics.render()
        return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})


_NO_BUILD = """<!doctype html><meta charset="utf-8"><title>村治 Cunzhi</title>
<h1>村治 Cunzhi</h1><p>API 运行中：<a href="/docs">/docs</a>。前端尚未构建：运行 <code>make run</code>
（或 <code>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</code>）。</p>
<p>The API is running: <a href="/docs">/docs</a>. The app is not built yet: run <code>make run</code>
(or <code>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</code>).</p>"""


def _mount_frontend(app: FastAPI, root: Path) -> None:
    mimetypes.add_type("application/manifest+json", ".webmanifest")
    @app.get("/{path:path}", include_in_schema=False)
    def spa(path: str, request: Request):
        if path.startswith("api/") or path == "api":
            allowed = allowed_methods(request)  # a GET of a path that has only other methods
            if allowed:
                raise AppError(405, "method_not_allowed", headers={"Allow": ", ".join(allowed)})
            raise AppError(404, "not_found")
        base = root.resolve()
        index = base / "index.html"
        if not index.exists():
            return HTMLResponse(_NO_BUILD)
        target = (base / path).resolve() if path else index
        if path and target.is_file() and base in target.parents:
            headers = {"Cache-Control": "public, max-age=31536000, immutable"} if path.startswith("assets/") \
                else {"Cache-Control": "no-cache"}
            return FileResponse(target, headers=headers)
        if path and "." in path.rsplit("/", 1)[-1]:
            raise AppError(404, "not_found")  # a missing file, not a route of the app
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
