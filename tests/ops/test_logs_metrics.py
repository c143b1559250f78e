"""Logs and metrics of a real server (``cunzhi serve --workers 2``, JSON logs, a metrics token):

- one log line per request with its request id — the same id as the error answer's ``request_id`` and its
  ``X-Request-ID`` header — the route template and the user id, and no personal data, field values or query strings;
- ``/metrics`` answers Prometheus text only with the token, adds up both workers, and counts pushes by result,
  conflicts opened and pull pages; without a token configured it is off (404).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from tests.api.helpers import assert_error
from tests.support.device import PASSWORD, login, mutation, new_case_fields, push
from tests.support.server import free_port, wait_up
from tests.sync.util import upd

REPO = Path(__file__).resolve().parents[2]
TOKEN = "metrics-token-for-the-test"


@pytest.fixture
def db_kind() -> str:
    return "sqlite"  # logs and metrics do not depend on the database (the drill covers both)


@pytest.fixture
def served(database, tmp_path):
    """``cunzhi serve --workers 2`` with JSON logs into a file; yields (base URL, log file)."""
    port = free_port()
    log = tmp_path / "server.log"
    env = {**os.environ, "CUNZHI_DEMO": "0", "CUNZHI_LOG_JSON": "1", "CUNZHI_LOG_LEVEL": "INFO",
           "CUNZHI_METRICS_TOKEN": TOKEN}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "cunzhi", "serve", "--port", str(port), "--workers", "2"],
                                env=env, stdout=out, stderr=subprocess.STDOUT, cwd=str(REPO))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(base, timeout=120, proc=proc)
        yield base, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def request_lines(log: Path) -> list[dict]:
    out = []
    for line in log.read_text(encoding="utf-8").splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("event") == "request":
                out.append(entry)
    return out


def scrape(base: str) -> dict[str, float]:
    with httpx.Client(base_url=base, timeout=30) as c:  # a new connection: any worker may answer
        r = c.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain"), r.text[:300]
    values: dict[str, float] = {}
    for line in r.text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = values.get(name, 0.0) + float(value)
    return values


def test_request_log_lines_and_metrics(served):
    base, log = served
    mediator = login(base, "wanfucun.mediator")
    admin = login(base, "wanfucun.admin")
    me = mediator.get("/api/v1/me").json()["id"]

    # writes carrying personal data and field values
    fields = new_case_fields(title="邻里排水纠纷-秘密标题")
    case_id = str(uuid.uuid4())
    r = push(mediator, [mutation("mediation_case", case_id, fields)])
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "applied"
    # a query string with a name in it
    assert mediator.get("/api/v1/mediation-cases", params={"q": "张三"}).status_code == 200
    # an error answer: its request id is in the body and the header
    missing = str(uuid.uuid4())
    r = mediator.get(f"/api/v1/mediation-cases/{missing}")
    body = assert_error(r, 404, "not_found")
    rid = body["request_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid) and r.headers["x-request-id"] == rid
    # a request id sent by the proxy is kept; a bad one is replaced
    r = mediator.get("/api/v1/me", headers={"X-Request-ID": "caddy-0123456789"})
    assert r.headers["x-request-id"] == "caddy-0123456789"
    r = mediator.get("/api/v1/me", headers={"X-Request-ID": "bad id with spaces"})
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])
    # a validation error names the field, never the value
    r = push(mediator, [mutation("mediation_case", str(uuid.uuid4()), new_case_fields(risk_level="秘密值XYZ"))])
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "rejected"
    r = mediator.post("/api/v1/sync/push", json={"client_id": mediator.client_id, "mutations": "秘密值XYZ"})
    assert_error(r, 422)
    # a conflict: two phones change the title from the same revision
    assert push(mediator, [upd(case_id, 1, title="甲改")]).json()["results"][0]["status"] == "applied"
    res = push(admin, [upd(case_id, 1, title="乙改")]).json()["results"][0]
    assert res["status"] == "conflict" and res["conflict_id"]
    # pulls: one page each
    for c in (mediator, admin):
        assert c.get("/api/v1/sync/pull").status_code == 200
    # several fresh connections, so both workers answer some requests
    for _ in range(6):
        with httpx.Client(base_url=base, timeout=30) as c:
            assert c.get("/api/v1/health").status_code == 200

    # ---- /metrics: token required; both workers' counts added up, whichever answers --------------------------
    with httpx.Client(base_url=base, timeout=30) as c:
        assert_error(c.get("/metrics"), 401, "not_authenticated")
        assert_error(c.get("/metrics", headers={"Authorization": "Bearer wrong"}), 401, "not_authenticated")
    scrapes = [scrape(base) for _ in range(3)]
    m = scrapes[-1]
    assert m['cunzhi_sync_push_results_total{status="applied"}'] == 2
    assert m['cunzhi_sync_push_results_total{status="rejected"}'] == 1
    assert m['cunzhi_sync_push_results_total{status="conflict"}'] == 1
    assert m["cunzhi_sync_conflicts_opened_total"] == 1
    assert m["cunzhi_sync_pushes_total"] == 4
    assert m["cunzhi_sync_pull_pages_total"] == 2
    assert m['cunzhi_http_requests_total{method="POST",route="/api/v1/sync/push",status="200"}'] == 4
    assert m['cunzhi_http_requests_total{method="GET",route="/api/v1/mediation-cases/{case_id}",status="404"}'] == 1
    assert m['cunzhi_http_request_duration_seconds_count{method="GET",route="/api/v1/health"}'] >= 6
    assert "cunzhi_db_pool_connections_in_use" in m and m["cunzhi_db_pool_checkouts_total"] > 0
    for earlier in scrapes[:-1]:  # totals do not depend on the worker that answered the scrape
        assert earlier['cunzhi_sync_push_results_total{status="applied"}'] == 2
        assert earlier["cunzhi_sync_conflicts_opened_total"] == 1

    # ---- the log: one line per request, with id, route template and user; nothing personal -----------------
    lines = request_lines(log)
    (line,) = [ln for ln in lines if ln["request_id"] == rid]
    assert line["route"] == "/api/v1/mediation-cases/{case_id}" and line["status"] == 404
    assert line["method"] == "GET" and line["user_id"] == me and isinstance(line["duration_ms"], float)
    assert {"timestamp", "level"} <= set(line)
    assert [ln["route"] for ln in lines if ln["request_id"] == "caddy-0123456789"] == ["/api/v1/me"]
    pushes = [ln for ln in lines if ln["route"] == "/api/v1/sync/push"]
    assert len(pushes) == 5 and all(ln["user_id"] in (me, admin.get("/api/v1/me").json()["id"]) for ln in pushes)
    logins = [ln for ln in lines if ln["route"] == "/api/v1/auth/token"]
    assert len(logins) == 2 and all("user_id" not in ln for ln in logins)
    text = log.read_text(encoding="utf-8")
    for secret in ("张三", "李四", "13812345678", "340321199001011236", "秘密标题", "秘密值XYZ", "q=", "%E5%BC%A0",
                   missing, PASSWORD, mediator.headers["Authorization"].split()[1]):
        assert secret not in text, secret


def test_metrics_are_off_without_a_token(server):
    with httpx.Client(base_url=server.base, timeout=30) as c:
        r = c.get("/metrics")
        assert_error(r, 404, "not_found")
        assert r.headers["x-request-id"] == r.json()["request_id"]
        assert "/metrics" not in c.get("/api/v1/openapi.json").json()["paths"]


def test_an_unexpected_error_is_a_500_in_the_one_shape_with_its_request_id(database, capsys, monkeypatch):
    """A bug (an exception no handler knows) answers the one error shape with the request id, and its log line
    says 500 — never a traceback to the client."""
    from fastapi.testclient import TestClient

    from cunzhi.core.config import get_settings
    from cunzhi.main import create_app

    monkeypatch.setenv("CUNZHI_LOG_LEVEL", "INFO")
    get_settings.cache_clear()

    app = create_app()

    @app.get("/api/v1/boom-for-the-test")
    def boom() -> None:
        raise RuntimeError("a bug with 张三's phone 13812345678 in its message")

    app.router.routes.insert(0, app.router.routes.pop())  # before the PWA's catch-all
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/api/v1/boom-for-the-test", headers={"Accept-Language": "en"})
    assert r.status_code == 500
    body = r.json()
    assert set(body) == {"code", "message", "details", "request_id"} and body["code"] == "internal_error"
    assert body["request_id"] == r.headers["x-request-id"] and "13812345678" not in r.text
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if body["request_id"] in ln and "route=" in ln)
    assert "status=500" in line and "route=/api/v1/boom-for-the-test" in line
