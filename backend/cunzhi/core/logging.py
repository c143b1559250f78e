"""Structured logs (structlog): one line per request, with a request id the error answer also carries.

Settings: ``CUNZHI_LOG_LEVEL`` (default INFO) and ``CUNZHI_LOG_JSON`` (one JSON object per line, for a log
collector; default off: ``key=value`` lines for a person). The standard library's loggers (``cunzhi``, uvicorn)
are rendered the same way. A request line names the method, the route *template*, the status, the time taken,
the request id and the user id — never a path's values, a query string, a field value or a person's name.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from typing import Any

import structlog

from cunzhi.core import metrics
from cunzhi.core.config import get_settings
from cunzhi.core.i18n import message, pick_language

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_HANDLER_MARK = "_cunzhi_handler"

request_log = structlog.get_logger("cunzhi.request")


class _StdoutHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stdout`` is at the time (test runners swap it), never to a closed stream.

    Standard output, as containers expect (``docker compose logs``); a parent process that reads only a server's
    stderr (for start-up errors) is never blocked by a full pipe of request lines."""

    @property  # type: ignore[override]
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure_logging(level: str | None = None, json_output: bool | None = None) -> None:
    """Route structlog and the standard library's logging through one renderer (idempotent)."""
    settings = get_settings()
    level_name = (level or settings.log_level).upper()
    as_json = settings.log_json if json_output is None else json_output
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = structlog.processors.JSONRenderer(ensure_ascii=False) if as_json else \
        structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, renderer],
    )
    root = logging.getLogger()
    for h in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(h)
    handler = _StdoutHandler()
    setattr(handler, _HANDLER_MARK, True)
    handler.setFormatter(formatter)
    root.addHandler(handler)
    level_no = logging.getLevelName(level_name)
    root.setLevel(level_no if isinstance(level_no, int) else logging.INFO)
    for name in ("uvicorn", "uvicorn.error"):
        lg = logging.getLogger(name)
        lg.handlers.clear()
        lg.propagate = True
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # start-up chatter
    logging.getLogger("httpx").setLevel(logging.WARNING)  # it logs whole URLs, query strings included
    # uvicorn's access log prints paths with their query strings: our request line replaces it
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.disabled = True


def _request_id(headers: dict[bytes, bytes]) -> str:
    sent = headers.get(REQUEST_ID_HEADER.lower().encode(), b"").decode("latin-1")
    return sent if _SAFE_ID.match(sent) else uuid.uuid4().hex


class RequestContextMiddleware:
    """Gives every request an id (``X-Request-ID`` in and out), logs one line when it ends, counts it for
    /metrics, and adds ``request_id`` to every error answer's JSON body (4xx and 5xx)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        rid = _request_id(headers)
        scope.setdefault("state", {})["request_id"] = rid
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=rid)
        started = time.perf_counter()
        status = 500
        held: dict | None = None  # an error answer's start message, held until its body is rewritten

        async def send_wrapper(msg: dict) -> None:
            nonlocal status, held
            if msg["type"] == "http.response.start":
                status = msg["status"]
                out = [(k, v) for k, v in msg.get("headers", []) if k.lower() != b"x-request-id"]
                out.append((b"x-request-id", rid.encode()))
                msg = {**msg, "headers": out}
                if status >= 400 and _is_plain_json(out):
                    held = msg
                    return
            elif msg["type"] == "http.response.body" and held is not None:
                if msg.get("more_body"):  # a streamed error body: pass it on unchanged
                    start, held = held, None
                    await send(start)
                else:
                    body = _with_request_id(msg.get("body", b""), rid)
                    start, held = held, None
                    start["headers"] = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"] + \
                        [(b"content-length", str(len(body)).encode())]
                    await send(start)
                    msg = {**msg, "body": body}
            await send(msg)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            # an unhandled error: the one error shape, never a traceback to the client
            status = 500
            logging.getLogger("cunzhi").exception("unhandled error")
            lang = pick_language(headers.get(b"accept-language", b"").decode("latin-1"))
            body = json.dumps({"code": "internal_error", "message": message("internal_error", lang), "details": [],
                               "request_id": rid}, ensure_ascii=False).encode()
            try:
                await send({"type": "http.response.start", "status": 500,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode()),
                                        (b"x-request-id", rid.encode())]})
                await send({"type": "http.response.body", "body": body})
            except Exception:  # noqa: BLE001 - the response had already started: nothing more can be said
                pass
        finally:
            elapsed = time.perf_counter() - started
            route = _route_of(scope)
            user = (scope.get("state") or {}).get("scope")
            fields: dict[str, Any] = {"method": scope["method"], "route": route, "status": status,
                                      "duration_ms": round(elapsed * 1000, 1)}
            if user is not None:
                fields["user_id"] = getattr(user, "user_id", None)
            request_log.info("request", **fields)
            metrics.observe_request(scope["method"], route, status, elapsed)
            structlog.contextvars.clear_contextvars()


def _route_of(scope: dict) -> str:
    """The matched route's template (``/api/v1/mediation-cases/{case_id}``), never the path with its values."""
    route = scope.get("route")
    if route is None:
        return "(unmatched)"
    # FastAPI nests included routers: the route object knows only its own part, the effective context the whole
    context = (scope.get("fastapi") or {}).get("effective_route_context")
    path = getattr(context, "path_format", None) or getattr(route, "path", None)
    if path == "/{path:path}":
        return "/api/*" if scope.get("path", "").startswith("/api/") else "/{app}"
    return path or "(unmatched)"


def _is_plain_json(headers: list[tuple[bytes, bytes]]) -> bool:
    h = {k.lower(): v for k, v in headers}
    return h.get(b"content-type", b"").startswith(b"application/json") and b"content-encoding" not in h


def _with_request_id(body: bytes, rid: str) -> bytes:
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if not isinstance(data, dict):
        return body
    data["request_id"] = rid
    return json.dumps(data, ensure_ascii=False).encode()
