"""Item 2 of issue 11: logins are throttled per username and per client address (429 + Retry-After, growing
delays), failures are audited, and the password is checked outside any transaction — a flood of junk
logins does not turn pushes into 503."""

from __future__ import annotations

import threading
import time
import uuid

import httpx

from tests.api import helpers as h
from tests.security.support import audit, setting
from tests.support.device import PASSWORD, mutation, new_case_fields, push


def _login(base: str, username: str, password: str) -> httpx.Response:
    return httpx.post(base + "/api/v1/auth/token", timeout=60,
                      data={"username": username, "password": password, "client_id": str(uuid.uuid4())})


def test_pushes_are_served_while_junk_logins_run(server, as_user):
    m = as_user("wanfucun.mediator")
    stop = threading.Event()
    junk: list[int] = []

    def flood() -> None:
        with httpx.Client(base_url=server.base, timeout=60) as c:
            while not stop.is_set():
                r = c.post("/api/v1/auth/token", data={"username": f"junk.{uuid.uuid4().hex[:8]}",
                                                        "password": "guess-" + uuid.uuid4().hex,
                                                        "client_id": str(uuid.uuid4())})
                junk.append(r.status_code)

    threads = [threading.Thread(target=flood) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        statuses = []
        for i in range(8):
            r = push(m, [mutation("mediation_case", str(uuid.uuid4()),
                                  new_case_fields(title=f"洪水期间第{i}件", received_on=h.days_ago(1)))])
            statuses.append(r.status_code)
            if r.status_code == 200:
                assert r.json()["results"][0]["status"] == "applied"
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert statuses == [200] * 8, statuses
    assert junk and set(junk) <= {401}, set(junk)


def test_429_after_bad_logins_with_growing_delays(server, monkeypatch, database):
    setting(monkeypatch, login_max_failures=5, login_lock_seconds=1, login_lock_max_seconds=60)
    for _ in range(4):
        h.assert_error(_login(server.base, "wanfucun.admin", "not-the-password"), 401, "invalid_credentials")
    h.assert_error(_login(server.base, "wanfucun.admin", "not-the-password"), 401)  # the 5th locks
    r = _login(server.base, "wanfucun.admin", "not-the-password")
    body = h.assert_error(r, 429, "too_many_attempts")
    assert int(r.headers["Retry-After"]) == 1 and body["details"] == []
    # while locked even the right password waits (the lock must not be a way to test guesses)
    h.assert_error(_login(server.base, "wanfucun.admin", PASSWORD), 429, "too_many_attempts")
    # other accounts are not affected
    assert _login(server.base, "wanfucun.mediator", PASSWORD).status_code == 200
    time.sleep(1.1)
    h.assert_error(_login(server.base, "wanfucun.admin", "still-not-it"), 401)  # the 6th: a longer lock
    r = _login(server.base, "wanfucun.admin", PASSWORD)
    h.assert_error(r, 429)
    assert int(r.headers["Retry-After"]) == 2
    time.sleep(2.1)
    assert _login(server.base, "wanfucun.admin", PASSWORD).status_code == 200  # and the count starts again
    assert _login(server.base, "wanfucun.admin", "wrong-once-more").status_code == 401
    assert _login(server.base, "wanfucun.admin", PASSWORD).status_code == 200


def test_per_address_throttle(server, monkeypatch):
    setting(monkeypatch, login_ip_max_failures=3, login_lock_seconds=30)
    for i in range(3):  # a different username each time: the per-username count never trips
        h.assert_error(_login(server.base, f"spray.{i}", "Spring2026!!"), 401)
    r = _login(server.base, "spray.9", "Spring2026!!")
    h.assert_error(r, 429, "too_many_attempts")
    assert 25 <= int(r.headers["Retry-After"]) <= 30
    h.assert_error(_login(server.base, "wanfucun.mediator", PASSWORD), 429)


def test_failed_logins_are_audited_without_the_password(server, database):
    _login(server.base, "wanfucun.grid", "secret-guess-1")
    _login(server.base, "someone.unknown", "secret-guess-2")
    rows = audit(database, "login_failed")
    assert len(rows) == 2
    known, unknown = rows
    detail = [r["detail"] if isinstance(r["detail"], dict) else __import__("json").loads(r["detail"]) for r in rows]
    assert known["user_id"] == h.user_id(h.engine_for(database), "wanfucun.grid")
    assert detail[0]["username"] == "wanfucun.grid" and detail[0]["address"] == "127.0.0.1"
    assert detail[1]["username"] is None  # an unknown name may be a mistyped password: not kept
    assert unknown["user_id"] == "00000000-0000-0000-0000-000000000000"
    text = repr(rows)
    assert "secret-guess" not in text and "someone.unknown" not in text
