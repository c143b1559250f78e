"""Item 1 and 9 of issue 11: demo passwords never outlive demo mode; passwords can be changed and accounts
deactivated (command line and app); password rules. Attacks over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx

from tests.api import helpers as h
from tests.security.support import audit, cli
from tests.support.device import PASSWORD
from tests.support.server import free_port

DEMO = "cunzhi-demo"
REPO = Path(__file__).resolve().parents[2]


def _token(base: str, username: str, password: str) -> httpx.Response:
    return httpx.post(base + "/api/v1/auth/token", timeout=30,
                      data={"username": username, "password": password, "client_id": str(uuid.uuid4())})


def _add_demo_account(username: str = "legacy.admin") -> None:
    """An account left with the demo password (as `make run` then CUNZHI_DEMO=0 leaves them)."""
    from cunzhi.core.db import write_tx
    from cunzhi.users.service import create_user

    with write_tx() as conn:
        create_user(conn, username, DEMO, "township_admin", "340321108", demo=True)


def test_demo_password_opens_no_session_outside_demo_mode(server):
    _add_demo_account()
    r = _token(server.base, "legacy.admin", DEMO)
    h.assert_error(r, 401, "invalid_credentials")
    # the same answer as a wrong password: nothing tells an attacker the account exists
    assert h.error_body(r) == h.error_body(_token(server.base, "nobody.at.all", DEMO))


def test_server_refuses_to_start_while_an_account_has_the_demo_password(database, tmp_path):
    _add_demo_account()
    env = {**os.environ, "CUNZHI_DATABASE_URL": database, "CUNZHI_DATA_DIR": str(tmp_path), "CUNZHI_DEMO": "0"}
    port = free_port()
    p = subprocess.run([sys.executable, "-m", "cunzhi", "serve", "--port", str(port)], env=env, cwd=str(REPO),
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 3, (p.stdout, p.stderr[-2000:])
    assert "legacy.admin" in p.stderr and "cunzhi-demo" in p.stderr
    assert "cunzhi users set-password" in p.stderr and "cunzhi users deactivate" in p.stderr
    # after the fix the message names, the server starts
    r = cli("users", "set-password", "legacy.admin", "--password-stdin", stdin="a-real-pilot-password\n")
    assert r.exit_code == 0, r.output
    proc = subprocess.Popen([sys.executable, "-m", "cunzhi", "serve", "--port", str(port)], env=env,
                            cwd=str(REPO), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        from tests.support.server import wait_up

        wait_up(f"http://127.0.0.1:{port}", timeout=60, proc=proc)
        assert _token(f"http://127.0.0.1:{port}", "legacy.admin", "a-real-pilot-password").status_code == 200
    finally:
        proc.kill()
        proc.wait(10)


def test_demo_refuses_a_database_with_other_accounts(database):
    r = cli("demo")
    assert r.exit_code == 3, r.output
    assert "wanfu.mediator" in r.output  # the accounts that are not the demo's
    engine = h.engine_for(database)
    try:
        assert h.count(engine, "mediation_case") == 0
    finally:
        engine.dispose()


def test_users_create_on_an_existing_name_fails(database):
    r = cli("users", "create", "wanfu.admin", "--role", "township_admin", "--org", "340321108",
            "--password-stdin", stdin="another-long-password\n")
    assert r.exit_code == 2 and "username_taken" in r.output, r.output


def test_set_password_ends_sessions_and_old_password(server, as_user):
    c = as_user("wanfu.admin")
    assert c.get("/api/v1/me").status_code == 200
    weak = cli("users", "set-password", "wanfu.admin", "--password-stdin", stdin="short\n")
    assert weak.exit_code == 2 and "password_too_short" in weak.output
    common = cli("users", "set-password", "wanfu.admin", "--password-stdin", stdin="Password1234!\n")
    assert common.exit_code == 2 and "password_too_common" in common.output
    r = cli("users", "set-password", "wanfu.admin", "--password-stdin", stdin="Wanfu-zonghe-2026!\n")
    assert r.exit_code == 0, r.output
    h.assert_error(c.get("/api/v1/me"), 401, "session_revoked")
    h.assert_error(_token(server.base, "wanfu.admin", PASSWORD), 401, "invalid_credentials")
    assert _token(server.base, "wanfu.admin", "Wanfu-zonghe-2026!").status_code == 200


def test_deactivate_from_the_command_line(server, as_user):
    c = as_user("wanfucun.grid")
    r = cli("users", "deactivate", "wanfucun.grid")
    assert r.exit_code == 0, r.output
    assert c.get("/api/v1/me").status_code == 401
    h.assert_error(_token(server.base, "wanfucun.grid", PASSWORD), 401, "invalid_credentials")
    assert cli("users", "activate", "wanfucun.grid").exit_code == 0
    assert _token(server.base, "wanfucun.grid", PASSWORD).status_code == 200


def test_township_admin_sets_a_password_and_deactivates_in_the_app(server, as_user, database):
    ta, m, oa = as_user("wanfu.admin"), as_user("wanfucun.mediator"), as_user("tangji.admin")
    me = ta.get("/api/v1/me").json()
    assert me["manages_users"] is True and m.get("/api/v1/me").json()["manages_users"] is False
    users = {u["username"]: u for u in ta.get("/api/v1/users").json()["items"]}
    assert "wanfucun.mediator" in users and "tangji.admin" not in users
    uid = users["wanfucun.mediator"]["id"]
    # the rules hold in the app too, in the one error shape
    for pw, code in (("cunzhi-demo", "password_too_short"), ("qwertyuiop123", "password_too_common"),
                     ("wanfucun.mediator-2026", "password_contains_username")):
        body = h.assert_error(ta.put(f"/api/v1/users/{uid}/password", json={"password": pw}), 422)
        assert body["details"][0]["code"] == code
    # another township's admin: the same 404 as no such user; a mediator: 403
    assert h.error_body(oa.put(f"/api/v1/users/{uid}/password", json={"password": "x" * 20})) == \
        h.error_body(oa.put(f"/api/v1/users/{uuid.uuid4()}/password", json={"password": "x" * 20}))
    h.assert_error(oa.post(f"/api/v1/users/{uid}/deactivate"), 404, "not_found")
    h.assert_error(m.get("/api/v1/users"), 403, "forbidden")
    r = ta.put(f"/api/v1/users/{uid}/password", json={"password": "Tiaojie-wanfucun-77"})
    assert r.status_code == 200, r.text
    h.assert_error(m.get("/api/v1/me"), 401, "session_revoked")
    assert _token(server.base, "wanfucun.mediator", "Tiaojie-wanfucun-77").status_code == 200
    r = ta.post(f"/api/v1/users/{uid}/deactivate")
    assert r.status_code == 200 and r.json()["active"] is False
    h.assert_error(_token(server.base, "wanfucun.mediator", "Tiaojie-wanfucun-77"), 401, "invalid_credentials")
    h.assert_error(ta.post(f"/api/v1/users/{me['id']}/deactivate"), 422)  # not oneself
    actions = {a["action"] for a in audit(database, "user_password_set") + audit(database, "user_deactivated")}
    assert actions == {"user_password_set", "user_deactivated"}
