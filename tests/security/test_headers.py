"""Items 6 and 9 of issue 11: security headers, /health for anonymous callers, the secret key file, access
logs without query strings."""

from __future__ import annotations

import logging
import os
import stat
import threading

import httpx

from tests.api import helpers as h


def _assert_headers(r: httpx.Response) -> None:
    csp = r.headers.get("content-security-policy", "")
    assert "default-src 'self'" in csp, (r.url, csp)
    assert "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"
    # the patrol records its route and the intake takes photos on this origin: those two stay allowed here
    policy = r.headers["permissions-policy"]
    assert "geolocation=(self)" in policy and "camera=(self)" in policy and "microphone=()" in policy


def test_headers_on_every_kind_of_response(server, as_user):
    m = as_user("wanfucun.mediator")
    for r in (httpx.get(server.base + "/"), httpx.get(server.base + "/login"), m.get("/api/v1/me"),
              httpx.get(server.base + "/api/v1/health"), httpx.get(server.base + "/api/v1/me"),
              m.get("/api/v1/mediation-cases/00000000-0000-4000-8000-000000000000"),
              httpx.get(server.base + "/api/v1/openapi.json")):
        _assert_headers(r)
    app_csp = httpx.get(server.base + "/").headers["content-security-policy"]
    assert "img-src 'self' blob: data:" in app_csp and "script-src 'self';" in app_csp
    assert "unsafe-eval" not in app_csp and "'unsafe-inline'" not in app_csp.split("script-src")[1].split(";")[0]
    assert "strict-transport-security" not in httpx.get(server.base + "/").headers  # plain HTTP: no HSTS


def test_api_docs_page_keeps_working(server):
    r = httpx.get(server.base + "/docs")
    assert r.status_code == 200
    _assert_headers(r)
    csp = r.headers["content-security-policy"]
    # Swagger UI starts with an inline script; its files load from this server (no CDN on an intranet)
    assert "script-src 'self' 'unsafe-inline'" in csp and "connect-src 'self'" in csp
    assert "http" not in csp


def test_hsts_behind_the_tls_proxy(server):
    r = httpx.get(server.base + "/api/v1/health", headers={"X-Forwarded-Proto": "https"})
    assert r.headers["strict-transport-security"].startswith("max-age=31536000")


def test_health_tells_anonymous_callers_only_up_or_not(server, as_user):
    anon = httpx.get(server.base + "/api/v1/health").json()
    assert anon == {"status": "ok", "version": None, "database": None, "migration": None,
                    "migration_head": None, "demo": None} or anon == {"status": "ok"}
    assert as_user("wanfucun.mediator").get("/api/v1/health").json().get("version") is None
    full = as_user("county.admin").get("/api/v1/health").json()
    assert full["version"] and full["database"] in ("sqlite", "postgresql") and full["migration"]


def test_secret_key_file_is_private_and_created_once(tmp_path):
    from cunzhi.core.config import Settings

    keys = []
    settings = [Settings(data_dir=tmp_path / "d", secret_key="") for _ in range(8)]
    threads = [threading.Thread(target=lambda s=s: keys.append(s.resolved_secret_key)) for s in settings]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    path = tmp_path / "d" / "secret_key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(set(keys)) == 1 and keys[0] == path.read_text().strip() and len(keys[0]) > 40
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret_key"]  # no temporary file left


def test_access_log_lines_carry_no_query_string():
    from cunzhi.core.security import DropQueryStrings

    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/api/v1/mediation-cases?q=张三&phone=13812345678", "1.1",
                                200), None)
    assert DropQueryStrings().filter(record)
    line = record.getMessage()
    assert "/api/v1/mediation-cases" in line and "张三" not in line and "13812345678" not in line
    from cunzhi.main import create_app

    create_app()
    assert any(isinstance(f, DropQueryStrings) for f in logging.getLogger("uvicorn.access").filters)


def test_error_bodies_never_carry_the_password(server):
    r = httpx.post(server.base + "/api/v1/auth/token", data={"username": "x", "password": "p@ss-very-secret",
                                                             "client_id": "nope"})
    h.assert_error(r, 422)
    assert "p@ss-very-secret" not in r.text
