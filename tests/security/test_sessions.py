"""Item 5 of issue 11 (server side): sign-out ends the session; sessions have an absolute lifetime."""

from __future__ import annotations

from datetime import timedelta

from cunzhi.core.clock import utcnow
from tests.api import helpers as h
from tests.security.support import execute
from tests.support.device import login


def test_old_token_is_401_after_sign_out(server):
    c = login(server.base, "wanfucun.mediator")
    sid = c.get("/api/v1/sessions").json()["items"][0]["id"]
    assert c.delete(f"/api/v1/sessions/{sid}").status_code == 200  # what the app's sign-out sends
    h.assert_error(c.get("/api/v1/me"), 401, "session_revoked")
    h.assert_error(c.get("/api/v1/sync/pull"), 401, "session_revoked")


def test_sessions_end_after_their_absolute_lifetime(server, database):
    c = login(server.base, "wanfucun.mediator")
    assert c.get("/api/v1/me").status_code == 200
    # used every day for 91 days: the sliding expiry is still ahead, the absolute lifetime (90 days) is not
    now = utcnow()
    execute(database, "UPDATE auth_session SET created_at = :c, last_seen_at = :s, expires_at = :e",
            c=now - timedelta(days=91), s=now - timedelta(minutes=1), e=now + timedelta(days=29))
    h.assert_error(c.get("/api/v1/me"), 401, "session_expired")


def test_sliding_expiry_stops_at_the_absolute_lifetime(server, database):
    c = login(server.base, "wanfucun.mediator")
    now = utcnow()
    execute(database, "UPDATE auth_session SET created_at = :c, last_seen_at = :s",
            c=now - timedelta(days=80), s=now - timedelta(hours=1))
    assert c.get("/api/v1/me").status_code == 200  # refreshes the sliding expiry…
    expires = c.get("/api/v1/sessions").json()["items"][0]["expires_at"]
    from datetime import datetime

    left = datetime.fromisoformat(expires) - now
    assert timedelta(days=9) < left <= timedelta(days=10, minutes=1), left  # …only up to day 90
