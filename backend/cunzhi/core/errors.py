"""One error shape for every 4xx: ``{"code", "message", "details": [{"field", "code", "message"}]}``.

Messages are rendered in the request's language at the edge; code raises ``AppError`` with codes only,
so details never echo the values a client sent (personal data stays out of error bodies and logs).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from cunzhi.core.jsonx import JSONResponse
from cunzhi.core.i18n import message, pick_language

log = logging.getLogger("cunzhi")


@dataclass
class FieldError:
    field: str
    code: str

    def render(self, lang: str) -> dict:
        return {"field": self.field, "code": self.code, "message": message(self.code, lang)}


@dataclass
class AppError(Exception):
    status: int
    code: str
    details: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] | None = None

    def render(self, lang: str) -> dict:
        return render_error(self.code, self.details, lang)


def render_error(code: str, details: list[FieldError], lang: str) -> dict:
    return {"code": code, "message": message(code, lang), "details": [d.render(lang) for d in details]}


class ValidationFailed(AppError):
    def __init__(self, details: list[FieldError]):
        super().__init__(422, "validation_error", details)


def lang_of(request: Request) -> str:
    return pick_language(request.headers.get("accept-language"))


_HTTP_CODES = {401: "not_authenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
               413: "payload_too_large", 415: "unsupported_media_type"}

_PYDANTIC_CODES = {"missing": "required", "string_too_long": "too_long", "string_too_short": "too_short",
                   "greater_than_equal": "out_of_range", "less_than_equal": "out_of_range",
                   "greater_than": "out_of_range", "less_than": "out_of_range", "uuid_parsing": "invalid_uuid",
                   "uuid_type": "invalid_uuid", "json_invalid": "invalid_json", "literal_error": "invalid_choice",
                   "enum": "invalid_choice", "invalid_date": "invalid_date", "invalid_datetime": "invalid_datetime",
                   "out_of_range": "out_of_range"}


def _loc_name(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or "body"


def is_busy(exc: BaseException) -> bool:
    """A momentarily busy database: SQLite lock, PostgreSQL lock/statement timeout or serialization."""
    text = str(getattr(exc, "orig", exc)).lower()
    return any(s in text for s in ("database is locked", "database is busy", "could not serialize",
                                   "deadlock detected", "lock timeout", "statement timeout",
                                   "canceling statement", "too many clients", "queuepool limit"))


def database_error(request: Request, exc: BaseException) -> JSONResponse:
    """A failed database operation as the answer: 503 busy (retry) when the database was momentarily busy, else
    500, logged with its traceback. The handler of ``OperationalError``, and the audit gate's failed commit."""
    if is_busy(exc):
        return JSONResponse(render_error("busy", [], lang_of(request)), status_code=503, headers={"Retry-After": "2"})
    log.error("database error", exc_info=exc)
    return JSONResponse(render_error("internal_error", [], lang_of(request)), status_code=500)


def allowed_methods(request: Request) -> list[str]:
    """The methods the request's path has, read from the app's OpenAPI paths (compiled once per app). A path
    written out (``/households/import``) is that resource, not a value of a template beside it
    (``/households/{record_id}``): its own methods only."""
    import re

    app = request.app
    table = getattr(app.state, "allowed_methods", None)
    if table is None:
        table = []
        for path, ops in app.openapi().get("paths", {}).items():
            pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")
            methods = {m.upper() for m in ops if m in ("get", "post", "put", "patch", "delete")}
            table.append((pattern, methods, "{" not in path))
        app.state.allowed_methods = table
    found: set[str] = set()
    for pattern, methods, literal in table:
        if pattern.match(request.url.path):
            if literal:
                return sorted(methods)
            found |= methods
    return sorted(found)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError):
        return JSONResponse(exc.render(lang_of(request)), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        allowed = allowed_methods(request)
        if allowed and request.method not in allowed:
            # a template route took a path written out for other methods (GET /households/import): 405
            return JSONResponse(render_error("method_not_allowed", [], lang_of(request)), status_code=405,
                                headers={"Allow": ", ".join(allowed)})
        details = []
        for err in exc.errors():
            etype = err.get("type", "")
            code = _PYDANTIC_CODES.get(etype, "invalid_type" if "type" in etype or "parsing" in etype else "invalid_type")
            details.append(FieldError(_loc_name(tuple(err.get("loc", ()))), code))
        top = "invalid_json" if any(d.code == "invalid_json" for d in details) else "validation_error"
        return JSONResponse(render_error(top, details, lang_of(request)), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            # FastAPI could not read the body (bad UTF-8, nesting too deep for the parser): not JSON → 422
            return JSONResponse(render_error("invalid_json", [FieldError("body", "invalid_json")], lang_of(request)),
                                status_code=422)
        if exc.status_code == 400:
            # the framework could not read a form or multipart body (a broken part header…): a malformed
            # request like any other, 422 naming the body (400 is ours alone: an unreadable cursor)
            return JSONResponse(render_error("validation_error", [FieldError("body", "invalid_type")], lang_of(request)),
                                status_code=422)
        code = _HTTP_CODES.get(exc.status_code, "validation_error" if exc.status_code < 500 else "internal_error")
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:  # every method the path has, not only the first route's (RFC 9110 §15.5.6)
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
        return JSONResponse(render_error(code, [], lang_of(request)), status_code=exc.status_code, headers=headers)

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError):
        # a value the database cannot hold (e.g. a NUL byte in PostgreSQL text) that slipped past validation:
        # the transaction was rolled back, nothing is stored; the client sent it, so it is a 4xx, not a 500
        log.warning("database refused a value on %s %s: %s", request.method, request.url.path, type(exc.orig).__name__)
        return JSONResponse(render_error("validation_error", [FieldError("body", "invalid_type")], lang_of(request)),
                            status_code=422)

    @app.exception_handler(OperationalError)
    async def _operational(request: Request, exc: OperationalError):
        return database_error(request, exc)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError):
        # Every rule is checked before a write, so this is a race with a concurrent request doing the same
        # thing (the same mutation id or record id at once): the retry sees the winner's result.
        log.warning("integrity race on %s %s: %s", request.method, request.url.path, exc.orig)
        return JSONResponse(render_error("busy", [], lang_of(request)), status_code=503, headers={"Retry-After": "1"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(render_error("internal_error", [], lang_of(request)), status_code=500)
