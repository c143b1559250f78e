"""Request body limits, enforced before a body is read whole: too large → 413 in the one error shape."""

from __future__ import annotations

import json

from cunzhi.core.config import get_settings
from cunzhi.core.i18n import message, pick_language


def limit_for(path: str) -> int:
    s = get_settings()
    if path == "/api/v1/sync/push":
        return s.max_push_bytes
    if path == "/api/v1/households/import":  # grid work: a roster of up to 10,000 rows (XLSX or CSV)
        return s.max_push_bytes
    if path.startswith("/api/v1/attachments/"):
        return s.max_attachment_bytes + 256 * 1024  # multipart framing and form fields
    return s.max_body_bytes


class BodyLimitMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        lang = pick_language(headers.get(b"accept-language", b"").decode("latin-1"))
        query = scope.get("query_string") or b""
        if b"\x00" in query or b"%00" in query.lower():
            # no query parameter may hold a NUL (PostgreSQL text cannot store one): a clear 422, not a 500
            return await _error(send, lang, 422, "validation_error", [{"field": "query", "code": "invalid_type"}])
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        limit = limit_for(scope["path"])
        try:
            declared = int(headers.get(b"content-length", b"0") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            return await _too_large(send, lang)
        seen = 0
        over = False

        async def limited_receive():
            nonlocal seen, over
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    over = True
                    raise _TooLarge()
            return msg

        started = False

        async def tracking_send(msg):
            nonlocal started
            if over:  # the body went over the limit while the app read it: answer 413, whatever the app made of it
                if not started:
                    started = True
                    await _too_large(send, lang)
                return
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _too_large(send, lang)
        except Exception:
            if over and not started:
                await _too_large(send, lang)
            else:
                raise


class _TooLarge(Exception):
    pass


async def _too_large(send, lang: str) -> None:
    await _error(send, lang, 413, "payload_too_large", [])


async def _error(send, lang: str, status: int, code: str, details: list[dict]) -> None:
    body = json.dumps({"code": code, "message": message(code, lang),
                       "details": [dict(d, message=message(d["code"], lang)) for d in details]},
                      ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
