"""Security headers on every response, and access logs that never carry query strings.

The CSP allows only what the PWA and the API docs load from this server: scripts and styles from self,
images from self, ``blob:`` (photos picked on the phone) and ``data:``, no framing. HSTS is sent only when
the request arrived over HTTPS (behind the TLS proxy, see docs/phone.md); the proxy examples send it too.
"""

from __future__ import annotations

import logging

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; "
       "font-src 'self' data:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
# /docs (Swagger UI): its files are served by this server (/docs-assets, no CDN); only its start-up script is
# inline, so only this page allows inline scripts.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' blob: data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
            "frame-ancestors 'none'")
HSTS = "max-age=31536000; includeSubDomains"

_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"geolocation=(self), microphone=(), camera=(self)"),
]


class SecurityHeadersMiddleware:
    """Adds the headers to every HTTP response (an app's own value for a header wins)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        csp = DOCS_CSP if path == "/docs" or path.startswith("/docs/") else CSP
        extra = [*_COMMON, (b"content-security-policy", csp.encode())]
        if scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", HSTS.encode()))

        async def send_with_headers(msg):
            if msg["type"] == "http.response.start":
                headers = list(msg.get("headers") or [])
                have = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in extra if k not in have]
                msg = {**msg, "headers": headers}
            await send(msg)

        await self.app(scope, receive, send_with_headers)


class DropQueryStrings(logging.Filter):
    """uvicorn's access log line without the query string (a list filter may carry a name or a number)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def install_access_log_filter() -> None:
    log = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, DropQueryStrings) for f in log.filters):
        log.addFilter(DropQueryStrings())
