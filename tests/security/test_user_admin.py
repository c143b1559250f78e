"""Account administration in the app (township officer findings 3, 4, 6): admins create accounts
(POST /users, the CLI's code path), manage only accounts ranked below their own role (county_admin >
township_admin > the rest), see and revoke one account's sessions; /me and /sessions refuse an API key in the
one error shape. Over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from tests.api import helpers as h
from tests.security.support import audit, cli
from tests.support.device import PASSWORD

WANFU, TANGJI, COUNTY = "340321108", "340321109", "340321"
WANFUCUN, ZHENDONG, TANGJICUN = "340321108200", "340321108201", "340321109200"
NEW_PASSWORD = "Xinzhanghao-2026-pw"


def _token(base: str, username: str, password: str, client_id: str | None = None) -> httpx.Response:
    return httpx.post(base + "/api/v1/auth/token", timeout=30,
                      data={"username": username, "password": password, "client_id": client_id or str(uuid.uuid4())})


def _signed_in(base: str, username: str, password: str, agent: str = "test-phone") -> httpx.Client:
    r = httpx.post(base + "/api/v1/auth/token", timeout=30, headers={"User-Agent": agent},
                   data={"username": username, "password": password, "client_id": str(uuid.uuid4())})
    assert r.status_code == 200, r.text
    c = httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    c.session_id = r.json()["session_id"]  # type: ignore[attr-defined]
    return c


def _body(**over) -> dict:
    return {"username": f"new.{uuid.uuid4().hex[:8]}", "display_name": "张桂兰", "role": "mediator",
            "org_code": WANFUCUN, "password": NEW_PASSWORD, **over}


def _add_account(username: str, role: str, org: str) -> str:
    """An account made on the server's shell (the CLI's path), e.g. a second township admin."""
    r = cli("users", "create", username, "--role", role, "--org", org, "--password-stdin", stdin=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    return r.output.split(" id ")[-1].strip()


def test_township_admin_creates_a_mediator_who_signs_in_and_can_be_assigned(server, as_user, database):
    ta, village = as_user("wanfu.admin"), as_user("wanfucun.mediator")
    body = _body(username="wanfucun.tj2")
    r = ta.post("/api/v1/users", json=body)
    assert r.status_code == 201, r.text
    out = r.json()
    assert {k: out[k] for k in ("username", "display_name", "role", "org_code", "active", "manageable")} == {
        "username": "wanfucun.tj2", "display_name": "张桂兰", "role": "mediator", "org_code": WANFUCUN,
        "active": True, "manageable": True}
    assert NEW_PASSWORD not in r.text and "password_hash" not in r.text
    # it signs in, is the user it was made as, and phones of its village can assign cases to it
    new = _signed_in(server.base, "wanfucun.tj2", NEW_PASSWORD)
    me = new.get("/api/v1/me").json()
    assert (me["id"], me["role"], me["org_code"]) == (out["id"], "mediator", WANFUCUN)
    assert out["id"] in {u["id"] for u in village.get("/api/v1/reference").json()["users"]}
    assert out["id"] in {u["id"] for u in ta.get("/api/v1/users").json()["items"]}
    # the creation is in the audit trail, by the admin who made it
    (row,) = audit(database, "user_created")[-1:]
    ids = row["record_ids"] if isinstance(row["record_ids"], list) else json.loads(row["record_ids"])  # SQLite: text
    assert ids == [out["id"]] and row["user_id"] == ta.get("/api/v1/me").json()["id"]
    # the CLI (the same service) still works, and sees the name as taken
    taken = cli("users", "create", "wanfucun.tj2", "--role", "mediator", "--org", WANFUCUN, "--password-stdin",
                stdin=NEW_PASSWORD + "\n")
    assert taken.exit_code == 2 and "username_taken" in taken.output


# who creates what, where: (role, org) → status, and the field error code of a 422
TOWNSHIP_CASES = [
    ("mediator", WANFUCUN, 201, None), ("grid_worker", ZHENDONG, 201, None), ("village_admin", ZHENDONG, 201, None),
    ("township_viewer", WANFU, 201, None),
    ("township_admin", WANFU, 403, None), ("county_admin", COUNTY, 403, None),  # its own rank or above
    ("mediator", WANFU, 422, "role_org_mismatch"),  # a township-level mediator is the county's to make
    ("grid_worker", WANFU, 422, "role_org_mismatch"), ("township_viewer", WANFUCUN, 422, "role_org_mismatch"),
    ("mediator", TANGJICUN, 422, "unknown_org"), ("township_viewer", TANGJI, 422, "unknown_org"),  # not its township
    ("mediator", "340321108999", 422, "unknown_org"),  # no such unit: the same answer
]
COUNTY_CASES = [
    ("township_admin", TANGJI, 201, None), ("mediator", WANFU, 201, None), ("township_viewer", TANGJI, 201, None),
    ("village_admin", TANGJICUN, 201, None),
    ("county_admin", COUNTY, 403, None),
    ("township_admin", WANFUCUN, 422, "role_org_mismatch"), ("village_admin", COUNTY, 422, "role_org_mismatch"),
    ("mediator", "340322100200", 422, "unknown_org"),  # another county
]


@pytest.mark.parametrize("admin,cases", [("wanfu.admin", TOWNSHIP_CASES), ("county.admin", COUNTY_CASES)])
def test_what_each_admin_may_create_and_where(server, as_user, database, admin, cases):
    c = as_user(admin)
    for role, org, status, code in cases:
        body = _body(role=role, org_code=org)
        r = c.post("/api/v1/users", json=body)
        if status == 201:
            assert r.status_code == 201, (role, org, r.text)
            assert r.json()["manageable"] is True
            continue
        err = h.assert_error(r, status, "forbidden" if status == 403 else "validation_error")
        if code:
            assert [(d["field"], d["code"]) for d in err["details"]] == [("org_code", code)], (role, org, err)
        assert h.count(h.engine_for(database), "app_user", "WHERE username = :n", n=body["username"]) == 0
    # never an integration account (API keys are made on /api-keys), and never by a non-admin
    err = h.assert_error(c.post("/api/v1/users", json=_body(role="integration")), 422, "validation_error")
    assert err["details"][0]["field"] == "role"
    h.assert_error(as_user("wanfucun.admin").post("/api/v1/users", json=_body()), 403, "forbidden")
    h.assert_error(as_user("wanfu.viewer").post("/api/v1/users", json=_body(org_code=WANFUCUN)), 403, "forbidden")


def test_create_checks_the_username_and_the_password_rules(server, as_user):
    ta = as_user("wanfu.admin", lang="en")
    for username in ("wanfucun.mediator", "WanfuCun.Mediator"):  # taken, in any letter case
        err = h.assert_error(ta.post("/api/v1/users", json=_body(username=username)), 409, "username_taken",
                             lang="en")
        assert [(d["field"], d["code"]) for d in err["details"]] == [("username", "username_taken")]
        assert err["message"] == "This username is taken"
    for username in ("张三", "k", "with space", "-dash.first"):
        err = h.assert_error(ta.post("/api/v1/users", json=_body(username=username)), 422, "validation_error",
                             lang="en")
        assert [(d["field"], d["code"]) for d in err["details"]] == [("username", "invalid_username")], username
    # the rules of PUT /users/{id}/password
    for password, code in (("short-pw", "password_too_short"), ("qwertyuiop123", "password_too_common"),
                           ("new.zhangsan-2026", "password_contains_username")):
        err = h.assert_error(ta.post("/api/v1/users", json=_body(username="new.zhangsan", password=password)), 422,
                             "validation_error", lang="en")
        assert [(d["field"], d["code"]) for d in err["details"]] == [("password", code)]
    err = h.assert_error(ta.post("/api/v1/users", json=_body(display_name="   ")), 422, "validation_error", lang="en")
    assert [(d["field"], d["code"]) for d in err["details"]] == [("display_name", "required")]
    # several problems at once: every field is named in one answer (the form marks each)
    err = h.assert_error(ta.post("/api/v1/users", json=_body(username="x", org_code=WANFU, password="short")), 422,
                         "validation_error", lang="en")
    assert {d["field"] for d in err["details"]} == {"username", "org_code", "password"}


def test_an_admin_manages_only_accounts_below_its_rank(server, as_user):
    peer_id = _add_account("wanfu.admin2", "township_admin", WANFU)
    ta, oa, ca = as_user("wanfu.admin"), as_user("tangji.admin"), as_user("county.admin")
    peer = _signed_in(server.base, "wanfu.admin2", PASSWORD)
    me = ta.get("/api/v1/me").json()["id"]
    # the list shows the peer (in scope) but says the caller does not manage it; its own row neither
    users = {u["username"]: u for u in ta.get("/api/v1/users").json()["items"]}
    assert users["wanfu.admin2"]["manageable"] is False and users["wanfu.admin"]["manageable"] is False
    assert users["wanfucun.mediator"]["manageable"] is True and users["wanfu.viewer"]["manageable"] is True
    assert users["wanfu.mediator"]["manageable"] is True  # a township-level mediator ranks below too
    # a peer: 403 for every action, nothing changes, its session lives on
    for r in (ta.put(f"/api/v1/users/{peer_id}/password", json={"password": "Takeover-Password-9931"}),
              ta.post(f"/api/v1/users/{peer_id}/deactivate"), ta.post(f"/api/v1/users/{peer_id}/activate"),
              ta.get("/api/v1/sessions", params={"user_id": peer_id}),
              ta.delete(f"/api/v1/sessions/{peer.session_id}")):  # type: ignore[attr-defined]
        h.assert_error(r, 403, "forbidden")
    assert peer.get("/api/v1/me").status_code == 200
    h.assert_error(_token(server.base, "wanfu.admin2", "Takeover-Password-9931"), 401, "invalid_credentials")
    # another township's admin: the peer is outside its scope, the same 404 as no account
    for r in (oa.put(f"/api/v1/users/{peer_id}/password", json={"password": "Takeover-Password-9931"}),
              oa.get("/api/v1/sessions", params={"user_id": peer_id}), oa.delete(f"/api/v1/sessions/{peer.session_id}")):  # type: ignore[attr-defined]
        h.assert_error(r, 404, "not_found")
    assert h.error_body(oa.get("/api/v1/sessions", params={"user_id": peer_id})) == \
        h.error_body(oa.get("/api/v1/sessions", params={"user_id": str(uuid.uuid4())}))
    # the county admin ranks above both: it may
    assert ca.post(f"/api/v1/users/{peer_id}/deactivate").status_code == 200
    h.assert_error(peer.get("/api/v1/me"), 401)
    assert ca.post(f"/api/v1/users/{peer_id}/activate").status_code == 200
    # but not another county admin
    other_county = _add_account("county.admin2", "county_admin", COUNTY)
    users = {u["username"]: u for u in ca.get("/api/v1/users").json()["items"]}
    assert users["county.admin2"]["manageable"] is False and users["wanfu.admin2"]["manageable"] is True
    h.assert_error(ca.post(f"/api/v1/users/{other_county}/deactivate"), 403, "forbidden")
    # one's own password stays one's own to set (its sessions end, as for anyone)
    r = ta.put(f"/api/v1/users/{me}/password", json={"password": "Wanfu-zonghe-2026!"})
    assert r.status_code == 200 and r.json()["manageable"] is False
    h.assert_error(ta.post(f"/api/v1/users/{me}/activate"), 401, "session_revoked")


def test_what_a_township_admins_sessions_list_reveals(server, as_user):
    _add_account("wanfu.admin2", "township_admin", WANFU)
    peer = _signed_in(server.base, "wanfu.admin2", PASSWORD)
    ta, m, oa = as_user("wanfu.admin"), as_user("wanfucun.mediator"), as_user("tangji.admin")
    items = ta.get("/api/v1/sessions").json()["items"]
    names = {i["username"] for i in items}
    # its own, the ones of accounts it manages; not its peer's (it may not revoke them), nor another township's
    assert {"wanfu.admin", "wanfucun.mediator"} <= names
    assert "wanfu.admin2" not in names and "tangji.admin" not in names
    assert peer.session_id not in {i["id"] for i in items}  # type: ignore[attr-defined]
    assert all("token_hash" not in i for i in items)
    assert m.get("/api/v1/me").status_code == 200 and oa.get("/api/v1/me").status_code == 200


def test_an_admin_sees_and_revokes_one_session_of_one_account(server, as_user):
    ta, m = as_user("wanfu.admin"), as_user("wanfucun.mediator")
    mid = m.get("/api/v1/me").json()["id"]
    lost = _signed_in(server.base, "wanfucun.mediator", PASSWORD, agent="Mozilla/5.0 (Linux; Android 14; lost phone)")
    r = ta.get("/api/v1/sessions", params={"user_id": mid})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert {i["user_id"] for i in items} == {mid} and len(items) == 2
    lost_row = next(i for i in items if i["id"] == lost.session_id)  # type: ignore[attr-defined]
    assert "lost phone" in lost_row["user_agent"] and lost_row["created_at"] and lost_row["last_seen_at"]
    r = ta.delete(f"/api/v1/sessions/{lost.session_id}")  # type: ignore[attr-defined]
    assert r.status_code == 200 and r.json()["revoked_at"]
    h.assert_error(lost.get("/api/v1/me"), 401, "session_revoked")
    assert m.get("/api/v1/me").status_code == 200  # the account and its other phone work on
    assert [i["id"] for i in ta.get("/api/v1/sessions", params={"user_id": mid}).json()["items"]] != [lost.session_id]  # type: ignore[attr-defined]
    assert len(ta.get("/api/v1/sessions", params={"user_id": mid}).json()["items"]) == 1
    # a non-admin: its own sessions only
    assert {i["user_id"] for i in m.get("/api/v1/sessions", params={"user_id": mid}).json()["items"]} == {mid}
    h.assert_error(m.get("/api/v1/sessions", params={"user_id": ta.get("/api/v1/me").json()["id"]}), 403, "forbidden")


def test_me_and_sessions_with_an_api_key_answer_403_not_500(server, as_user):
    ta = as_user("wanfu.admin")
    r = ta.post("/api/v1/api-keys", json={"name": "县综治平台", "org_code": WANFU})
    assert r.status_code == 201, r.text
    with httpx.Client(base_url=server.base, timeout=30,
                      headers={"Authorization": f"Bearer {r.json()['secret']}", "Accept-Language": "en"}) as key:
        for path in ("/api/v1/me", "/api/v1/sessions", "/api/v1/users"):  # user-only routes: like /users
            h.assert_error(key.get(path), 403, "forbidden", lang="en")
        assert key.get("/api/v1/mediation-cases").status_code == 200  # the key itself works
