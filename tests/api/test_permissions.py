"""Permission matrix: every role × every endpoint (push per entity × op) × own/other scope.

Each cell checks what is revealed, not only the status: which records a read returns, whether phone and ID
numbers come masked, that a forbidden push result carries no record, that out-of-scope gets answer 404,
that no body echoes personal data the caller may not see, and that unmasked personal data leaves an audit
row. A route of the app without a row here fails ``test_every_route_has_a_matrix_row``.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute

from tests.api import helpers as h
from tests.api.conftest import ORDER, SEEDS, USERS, World, make_conflict, new_case
from tests.support.device import PASSWORD, mutation, pull_all, push

# ---- who owns what -----------------------------------------------------------------------------------
ROLE = {"M": "mediator", "G": "grid_worker", "VA": "village_admin", "ZM": "mediator", "ZA": "village_admin",
        "TA": "township_admin", "TV": "township_viewer", "TM": "mediator", "OA": "township_admin",
        "CA": "county_admin"}
ORG = {"M": "340321108200", "G": "340321108200", "VA": "340321108200", "ZM": "340321108201", "ZA": "340321108201",
       "TA": "340321108", "TV": "340321108", "TM": "340321108", "OA": "340321109", "CA": "340321"}
# the seed a cell calls "own" (in scope) and "other" (out of scope) for each user
HOME = {"M": "W", "G": "W", "VA": "W", "ZM": "Z", "ZA": "Z", "TA": "WT", "TV": "WT", "TM": "WT", "OA": "T", "CA": "W"}
OTHER = {"M": "Z", "G": "Z", "VA": "Z", "ZM": "W", "ZA": "W", "TA": "T", "TV": "T", "TM": "T", "OA": "W", "CA": "X"}
VISIBLE = {"M": {"W"}, "G": {"W"}, "VA": {"W"}, "ZM": {"Z"}, "ZA": {"Z"}, "TA": {"W", "Z", "WT"},
           "TV": {"W", "Z", "WT"}, "TM": {"W", "Z", "WT"}, "OA": {"T"}, "CA": {"W", "Z", "WT", "T"}}
UNMASKED = {"M": {"W"}, "G": set(), "VA": {"W"}, "ZM": {"Z"}, "ZA": {"Z"}, "TA": {"W", "Z", "WT"}, "TV": set(),
            "TM": {"WT"}, "OA": {"T"}, "CA": set()}
# whose session a user tries to see and revoke in the "other" cells
OTHER_SESSION = {"M": "G", "G": "M", "VA": "M", "ZM": "M", "ZA": "ZM", "TA": "M", "TV": "M", "TM": "M", "OA": "M",
                 "CA": "M"}
PERMISSIONS = {
    "mediator": {"mediation_case": ["create", "update"], "case_event": ["create"]},
    "grid_worker": {"mediation_case": ["create"]},
    "village_admin": {"mediation_case": ["create", "delete", "update"], "case_event": ["create"]},
    "township_admin": {"mediation_case": ["create", "delete", "update"], "case_event": ["create"]},
    "township_viewer": {},
    "county_admin": {},
}


def _row(text: str) -> dict[str, str]:
    vals = text.split()
    assert len(vals) == len(ORDER), text
    return dict(zip(ORDER, vals, strict=True))


ALL = lambda v: " ".join([v] * len(ORDER))  # noqa: E731

# ---- the matrix: cell → expected outcome per user, own and other scope --------------------------------
#                                M    G    VA   ZM   ZA   TA   TV   TM   OA   CA
EXPECT: dict[str, dict[str, dict[str, str]]] = {
    "token": {"own": _row(ALL("ok")), "other": _row(ALL("401"))},
    "me": {"own": _row(ALL("ok")), "other": _row(ALL("401"))},
    "reference": {"own": _row(ALL("ok")), "other": _row(ALL("hidden"))},
    "sessions_list": {"own": _row(ALL("ok")),
                      "other": _row("hidden hidden hidden hidden hidden seen hidden hidden hidden seen")},
    "sessions_revoke": {"own": _row(ALL("200")),
                        "other": _row("404 404 404 404 404 200 404 404 404 200")},
    "push_case_create": {"own": _row("ok   ok   ok   ok   ok   ok   F    ok   ok   F"), "other": _row(ALL("F"))},
    # sync (issue 6 / issue 11 item 8): an out-of-scope record answers exactly like an absent one (U:
    # unknown_record, not stored), for every role; a role without the right at all is F before anything is read
    "push_case_update": {"own": _row("ok   F    ok   ok   ok   ok   F    ok   ok   F"), "other": _row(ALL("U"))},
    "push_case_delete": {"own": _row("F    F    ok   F    ok   ok   F    F    ok   F"), "other": _row(ALL("U"))},
    "push_event_create": {"own": _row("ok   F    ok   ok   ok   ok   F    ok   ok   F"),
                          "other": _row("U    F    U    U    U    U    F    U    U    F")},
    "push_event_update": {"own": _row("A    F    A    A    A    A    F    A    A    F"), "other": _row(ALL("U"))},
    "pull": {"own": _row(ALL("ok")), "other": _row(ALL("hidden"))},
    "conflicts_list": {"own": _row(ALL("ok")), "other": _row(ALL("hidden"))},
    "conflict_get": {"own": _row(ALL("200")), "other": _row(ALL("404"))},
    "conflict_resolve": {"own": _row("200  403  200  200  200  200  403  200  200  403"), "other": _row(ALL("404"))},
    "cases_list": {"own": _row(ALL("ok")), "other": _row(ALL("hidden"))},
    "case_get": {"own": _row(ALL("200")), "other": _row(ALL("404"))},
    "case_history": {"own": _row(ALL("200")), "other": _row(ALL("404"))},
    "attachment_put": {"own": _row("200  200  200  200  200  200  403  200  200  403"),
                       "other": _row("404  404  404  404  404  404  403  404  404  403")},
    # a case holds personal data: its files only for those who see it unmasked (others: the 404 of a missing file)
    "attachment_get": {"own": _row("200  404  200  200  200  200  404  200  200  404"), "other": _row(ALL("404"))},
    "health": {"own": _row("ok   ok   ok   ok   ok   full ok   ok   full full"), "other": _row(ALL("ok"))},
    # --- user administration (issue 11): township and county admins, for accounts in their scope
    "users_list": {"own": _row("403  403  403  403  403  ok   403  403  ok   ok"),
                   "other": _row("403  403  403  403  403  hidden 403 403 hidden hidden")},
    # a role below the caller's at its home unit (TA, OA: a viewer at the township; CA: a village mediator); a unit
    # outside the scope answers like an unknown one
    "users_create": {"own": _row("403  403  403  403  403  201  403  403  201  201"),
                     "other": _row("403  403  403  403  403  422  403  403  422  422")},
    "users_password": {"own": _row("403  403  403  403  403  200  403  403  200  200"),
                       "other": _row("403  403  403  403  403  404  403  403  404  404")},
    "users_deactivate": {"own": _row("403  403  403  403  403  200  403  403  200  200"),
                         "other": _row("403  403  403  403  403  404  403  403  404  404")},
    "users_activate": {"own": _row("403  403  403  403  403  200  403  403  200  200"),
                       "other": _row("403  403  403  403  403  404  403  403  404  404")},
    # dashboard (i9): township/county admins and viewers, village admins; out of scope → 404; others → 403
    **{cell: {"own": _row("403  403  200  403  200  200  200  403  200  200"),
              "other": _row("403  403  404  403  404  404  404  403  404  404")}
       for cell in ("dashboard", "dashboard_compare", "dashboard_export", "dashboard_units", "dashboard_mediators")},
}

ROUTES: dict[tuple[str, str], list[str]] = {
    ("POST", "/api/v1/auth/token"): ["token"],
    ("GET", "/api/v1/me"): ["me"],
    ("GET", "/api/v1/reference"): ["reference"],
    ("GET", "/api/v1/sessions"): ["sessions_list"],
    ("DELETE", "/api/v1/sessions/{session_id}"): ["sessions_revoke"],
    ("POST", "/api/v1/sync/push"): ["push_case_create", "push_case_update", "push_case_delete", "push_event_create",
                                    "push_event_update"],
    ("GET", "/api/v1/sync/pull"): ["pull"],
    ("GET", "/api/v1/conflicts"): ["conflicts_list"],
    ("GET", "/api/v1/conflicts/{conflict_id}"): ["conflict_get"],
    ("POST", "/api/v1/conflicts/{conflict_id}/resolve"): ["conflict_resolve"],
    ("GET", "/api/v1/mediation-cases"): ["cases_list"],
    ("GET", "/api/v1/mediation-cases/{case_id}"): ["case_get"],
    ("GET", "/api/v1/mediation-cases/{case_id}/history"): ["case_history"],
    ("PUT", "/api/v1/attachments/{attachment_id}"): ["attachment_put"],
    ("GET", "/api/v1/attachments/{attachment_id}"): ["attachment_get"],
    ("GET", "/api/v1/health"): ["health"],
    ("GET", "/api/v1/users"): ["users_list"],
    ("POST", "/api/v1/users"): ["users_create"],
    ("PUT", "/api/v1/users/{user_id}/password"): ["users_password"],
    ("POST", "/api/v1/users/{user_id}/deactivate"): ["users_deactivate"],
    ("POST", "/api/v1/users/{user_id}/activate"): ["users_activate"],
    ("GET", "/api/v1/dashboard"): ["dashboard"],  # dashboard (i9)
    ("GET", "/api/v1/dashboard/compare"): ["dashboard_compare"],
    ("GET", "/api/v1/dashboard/export"): ["dashboard_export"],
    ("GET", "/api/v1/dashboard/units"): ["dashboard_units"],
    ("GET", "/api/v1/dashboard/mediators"): ["dashboard_mediators"],
}
# entity × op combinations the push cells cover (a newly registered writer op must add a cell)
PUSH_CELLS = {("mediation_case", "create"): "push_case_create", ("mediation_case", "update"): "push_case_update",
              ("mediation_case", "delete"): "push_case_delete", ("case_event", "create"): "push_event_create",
              ("case_event", "update"): "push_event_update"}


def test_every_route_has_a_matrix_row():
    from cunzhi.main import create_app

    app = create_app()
    # every operation the app serves under /api (FastAPI nests included routers, so read the schema)
    routes = {(m.upper(), path) for path, ops in app.openapi()["paths"].items() if path.startswith("/api/")
              for m in ops if m in ("get", "post", "put", "patch", "delete")}
    routes |= {(m, r.path) for r in app.routes if isinstance(r, APIRoute) and r.path.startswith("/api/")
               for m in r.methods - {"HEAD", "OPTIONS"}}
    assert routes == set(ROUTES), f"routes without a row: {routes - set(ROUTES)}; stale rows: {set(ROUTES) - routes}"
    cells = {c for cs in ROUTES.values() for c in cs}
    assert cells == set(EXPECT)
    for cell, scopes in EXPECT.items():
        assert set(scopes) == {"own", "other"}, cell
        for scope in scopes.values():
            assert set(scope) == set(ORDER), cell


def test_every_entity_op_has_a_push_cell():
    from cunzhi.sync.registry import entities, load_entities

    load_entities()
    ops = {(name, op) for name, spec in entities().items() for op in spec.writers}
    ops |= {(name, "update") for name, spec in entities().items() if spec.append_only}
    assert ops <= set(PUSH_CELLS), ops - set(PUSH_CELLS)


def test_me_reports_role_permissions():
    for short, role in ROLE.items():
        assert USERS[short]  # every short name is a demo account
        assert role in PERMISSIONS


# ---- checks ------------------------------------------------------------------------------------------
def in_scope(short: str, org: str) -> bool:
    return org.startswith(ORG[short])


def assert_not_revealed(world: World, short: str, text: str, *, extra_secrets: list[str] = ()) -> None:
    """No id of a record the user may not see, no personal value the user may not see unmasked."""
    for name, seed in world.seeds.items():
        if name not in VISIBLE[short]:
            for ident in (seed.case_id, seed.event_id, seed.conflict_id):
                assert ident not in text, f"{USERS[short]} sees {name}"
        if name not in UNMASKED[short]:
            for secret in seed.phones + [seed.id_number]:
                assert secret not in text, f"{USERS[short]} sees personal data of {name} unmasked"
    for secret in extra_secrets:
        assert secret not in text


def assert_parties(parties: list[dict], phone: str, idn: str, unmasked: bool) -> None:
    p = parties[0]
    if unmasked:
        assert (p["phone"], p["id_number"]) == (phone, idn), p
    else:
        assert p["phone"] == h.mask_phone(phone) and h.MASKED_PHONE.match(p["phone"]), p
        assert p["id_number"] == h.mask_id(idn) and h.MASKED_ID.match(p["id_number"]), p


class Audit:
    def __init__(self, world: World, short: str):
        self.world, self.uid = world, h.user_id(world.engine, USERS[short])
        self.before = len(h.audit_rows(world.engine, self.uid))

    def new(self) -> list[dict]:
        return h.audit_rows(self.world.engine, self.uid)[self.before:]

    def expect(self, record_ids: set[str]) -> None:
        rows = self.new()
        if record_ids:
            assert rows, "no audit row for unmasked personal data"
            seen = {rid for r in rows for rid in r["record_ids"]}
            assert record_ids <= seen, (record_ids, seen)
            assert all(r["at"] is not None and r["action"] for r in rows)
        else:
            assert rows == [], rows


def seed_cases(world: World, names) -> set[str]:
    return {world.seeds[n].case_id for n in names}


# ---- cells -------------------------------------------------------------------------------------------
def cell_token(world: World, short: str, scope: str, exp: str) -> None:
    c = world.anon()
    pw = PASSWORD if scope == "own" else "wrong-password"
    r = c.post("/api/v1/auth/token", data={"username": USERS[short], "password": pw, "client_id": h.new_id()})
    if exp == "ok":
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["token_type"] == "bearer" and body["access_token"] and body["expires_at"]
    else:
        h.assert_error(r, 401, "invalid_credentials")
        r2 = c.post("/api/v1/auth/token", data={"username": "nobody." + short, "password": pw,
                                                 "client_id": h.new_id()})
        h.assert_error(r2, 401)
        assert h.error_body(r2) == h.error_body(r)  # unknown user answers the same: no username leak


def cell_me(world: World, short: str, scope: str, exp: str) -> None:
    if scope == "own":
        r = world.c(short).get("/api/v1/me")
        assert r.status_code == 200, r.text
        me = r.json()
        assert (me["username"], me["role"], me["org_code"]) == (USERS[short], ROLE[short], ORG[short])
        assert me["permissions"] == PERMISSIONS[ROLE[short]]
        sees = ROLE[short] in ("mediator", "village_admin", "township_admin")
        assert me["unmasked_org_prefixes"] == ([ORG[short]] if sees else [])
        assert "parties.phone" in me["personal_fields"]["mediation_case"]
    else:
        anon = world.anon()
        h.assert_error(anon.get("/api/v1/me"), 401, "not_authenticated")
        h.assert_error(anon.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"}), 401,
                       "not_authenticated")


def cell_reference(world: World, short: str, scope: str, exp: str) -> None:
    r = world.c(short).get("/api/v1/reference")
    assert r.status_code == 200, r.text
    ref = r.json()
    codes = {o["code"] for o in ref["orgs"]}
    for code in codes:
        assert in_scope(short, code) or ORG[short].startswith(code), code
    for u in ref["users"]:
        assert in_scope(short, u["org_code"]), u
        assert "password_hash" not in u
    if scope == "own":
        assert ORG[short] in codes
        assert {c["code"] for c in ref["code_tables"]["case_category"]} >= {"neighbor", "other"}
        assert ref["settings"]["deadline_days"] == 30
    else:
        other_org = world.seeds[OTHER[short]].org
        assert other_org not in codes
        assert not any(u["org_code"] == other_org for u in ref["users"])


def _login_with_session(world: World, username: str):
    c = world.login(username)
    return c, c.session_id, c.client_id


def cell_sessions_list(world: World, short: str, scope: str, exp: str) -> None:
    target = short if scope == "own" else OTHER_SESSION[short]
    _, sid, cid = _login_with_session(world, USERS[target])
    r = world.c(short).get("/api/v1/sessions")
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    ids = {i["id"] for i in items}
    for i in items:  # nothing but own sessions, or (admins) sessions of users in scope
        if ROLE[short] not in ("township_admin", "county_admin"):
            assert i["username"] == USERS[short], i
        assert "token_hash" not in i
    if exp in ("ok", "seen"):
        assert sid in ids
        assert any(i["client_id"] == cid for i in items)
    else:
        assert sid not in ids
        assert USERS[target] not in {i["username"] for i in items}


def cell_sessions_revoke(world: World, short: str, scope: str, exp: str) -> None:
    target = short if scope == "own" else OTHER_SESSION[short]
    victim, sid, _ = _login_with_session(world, USERS[target])
    r = world.c(short).delete(f"/api/v1/sessions/{sid}")
    if exp == "200":
        assert r.status_code == 200, r.text
        assert r.json()["id"] == sid and r.json()["revoked_at"]
        h.assert_error(victim.get("/api/v1/me"), 401, "session_revoked")
        assert world.c(short).get("/api/v1/me").status_code == 200  # the caller's own session is untouched
    else:
        h.assert_error(r, 404, "not_found")
        assert victim.get("/api/v1/me").status_code == 200  # not revoked
    # an unknown session id is the same 404 for everyone
    h.assert_error(world.c(short).delete(f"/api/v1/sessions/{h.new_id()}"), 404, "not_found")


def _target_org(world: World, short: str, scope: str) -> str:
    return world.seeds[HOME[short] if scope == "own" else OTHER[short]].org


def _creator_for(world: World, org: str):
    creator = next(c for o, c, _ in SEEDS.values() if o == org)
    return world.clients[creator]


def _assert_push_outcome(world: World, short: str, res: dict, exp: str, table: str, rid: str,
                         secrets: list[str], raw: str) -> None:
    if exp == "ok":
        assert res["status"] == "applied", res
        assert res["record"]["id"] == rid
    else:
        assert res["status"] == "rejected", res
        assert "record" not in res, res
        code = {"F": "forbidden", "V": "validation_error", "A": "append_only", "U": "unknown_record"}[exp]
        assert res["error"]["code"] == code, res
        h.assert_lang(res["error"], "zh")
        if exp == "V":
            assert [d["code"] for d in res["error"]["details"]] == ["case_not_found"]
        assert not any(s in raw for s in secrets), "a rejected answer echoes personal data"


def cell_push_case_create(world: World, short: str, scope: str, exp: str) -> None:
    org = _target_org(world, short, scope)
    rid, idn, ph = h.new_id(), h.id_number(7, 3), h.phone(7, 3)
    fields = {"org_code": org, "title": "权限矩阵", "category": "neighbor", "source": "patrol",
              "received_on": h.days_ago(1), "risk_level": "blue", "escalation_flag": False,
              "parties": [{"name": "赵六", "role": "applicant", "phone": ph, "id_number": idn}]}
    audit = Audit(world, short)
    r = push(world.c(short), [mutation("mediation_case", rid, fields)])
    assert r.status_code == 200, r.text
    res = r.json()["results"][0]
    unmasked = exp == "ok" and HOME[short] in UNMASKED[short]
    _assert_push_outcome(world, short, res, exp, "mediation_case", rid, [ph, idn], r.text)
    stored = h.row(world.engine, "mediation_case", rid)
    if exp == "ok":
        assert_parties(res["record"]["parties"], ph, idn, unmasked)
        if not unmasked:
            assert ph not in r.text and idn not in r.text
        # intake by anyone who may create stores the full values (a grid worker's intake)
        assert stored is not None and ph in str(stored["parties"]) and idn in str(stored["parties"])
        audit.expect({rid} if unmasked else set())
    else:
        assert stored is None
        audit.expect(set())


def _fresh_case(world: World, org: str) -> dict:
    return new_case(_creator_for(world, org), org, idx=8)


def cell_push_case_update(world: World, short: str, scope: str, exp: str) -> None:
    org = _target_org(world, short, scope)
    case = _fresh_case(world, org)
    r = push(world.c(short), [mutation("mediation_case", case["id"], {"title": "改过的标题"}, base_rev=case["rev"])])
    assert r.status_code == 200, r.text
    res = r.json()["results"][0]
    secrets = [h.phone(8, 0), h.id_number(8, 0)]
    _assert_push_outcome(world, short, res, exp, "mediation_case", case["id"], secrets if exp != "ok" else [], r.text)
    stored = h.row(world.engine, "mediation_case", case["id"])
    if exp == "ok":
        assert stored["rev"] == case["rev"] + 1 and stored["title"] == "改过的标题"
        assert_parties(res["record"]["parties"], *secrets, unmasked=HOME[short] in UNMASKED[short])
    else:
        assert stored["rev"] == case["rev"] and stored["title"] == case["title"]


def cell_push_case_delete(world: World, short: str, scope: str, exp: str) -> None:
    org = _target_org(world, short, scope)
    case = _fresh_case(world, org)
    r = push(world.c(short), [mutation("mediation_case", case["id"], {}, base_rev=case["rev"], op="delete")])
    assert r.status_code == 200, r.text
    res = r.json()["results"][0]
    _assert_push_outcome(world, short, res, exp, "mediation_case", case["id"], [h.phone(8, 0), h.id_number(8, 0)],
                         r.text)
    stored = h.row(world.engine, "mediation_case", case["id"])
    assert bool(stored["deleted"]) is (exp == "ok")
    if exp == "ok":
        assert res["record"]["deleted"] is True


def cell_push_event_create(world: World, short: str, scope: str, exp: str) -> None:
    seed = world.seeds[HOME[short] if scope == "own" else OTHER[short]]
    eid = h.new_id()
    r = push(world.c(short), [mutation("case_event", eid, {"case_id": seed.case_id, "kind": "follow_up",
                                                          "occurred_at": "2026-11-22T09:00:00+08:00",
                                                          "fulfilled": True, "satisfaction": 5})])
    assert r.status_code == 200, r.text
    res = r.json()["results"][0]
    _assert_push_outcome(world, short, res, exp, "case_event", eid, [], r.text)
    stored = h.row(world.engine, "case_event", eid)
    if exp == "ok":
        assert res["record"]["org_code"] == seed.org and stored["org_code"] == seed.org
    else:
        assert stored is None


def cell_push_event_update(world: World, short: str, scope: str, exp: str) -> None:
    seed = world.seeds[HOME[short] if scope == "own" else OTHER[short]]
    before = h.row(world.engine, "case_event", seed.event_id)
    r = push(world.c(short), [mutation("case_event", seed.event_id, {"content": "篡改"}, base_rev=before["rev"])])
    assert r.status_code == 200, r.text
    res = r.json()["results"][0]
    _assert_push_outcome(world, short, res, exp, "case_event", seed.event_id, [], r.text)
    after = h.row(world.engine, "case_event", seed.event_id)
    assert (after["rev"], after["content"]) == (before["rev"], before["content"])


def cell_pull(world: World, short: str, scope: str, exp: str) -> None:
    audit = Audit(world, short)
    changes, _ = pull_all(world.c(short))
    raw = str(changes)
    assert_not_revealed(world, short, raw)
    for ch in changes:
        assert in_scope(short, ch["record"]["org_code"]), ch
    if scope == "own":
        got = {ch["record"]["id"] for ch in changes}
        for name, seed in world.seeds.items():
            assert (seed.case_id in got) is (name in VISIBLE[short]), name
            assert (seed.event_id in got) is (name in VISIBLE[short]), name
        for ch in changes:
            rec = ch["record"]
            for name, seed in world.seeds.items():
                if rec["id"] == seed.case_id:
                    assert_parties(rec["parties"], seed.phones[1], seed.id_number, name in UNMASKED[short])
        audit.expect(seed_cases(world, UNMASKED[short]))


def cell_conflicts_list(world: World, short: str, scope: str, exp: str) -> None:
    r = world.c(short).get("/api/v1/conflicts", params={"status": "all", "limit": 500})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert_not_revealed(world, short, r.text)
    if scope == "own":
        got = {i["id"]: i for i in items}
        for name, seed in world.seeds.items():
            assert (seed.conflict_id in got) is (name in VISIBLE[short]), name
            if seed.conflict_id in got:
                (f,) = got[seed.conflict_id]["fields"]
                assert f["field"] == "parties"
                assert_parties(f["client_value"], seed.phones[2], seed.id_number, name in UNMASKED[short])
                assert_parties(f["server_value"], seed.phones[1], seed.id_number, name in UNMASKED[short])


def cell_conflict_get(world: World, short: str, scope: str, exp: str) -> None:
    seed = world.seeds[HOME[short] if scope == "own" else OTHER[short]]
    r = world.c(short).get(f"/api/v1/conflicts/{seed.conflict_id}")
    assert_not_revealed(world, short, r.text)
    if exp == "200":
        assert r.status_code == 200, r.text
        (f,) = r.json()["fields"]
        assert_parties(f["client_value"], seed.phones[2], seed.id_number, seed.name in UNMASKED[short])
        assert_parties(f["server_value"], seed.phones[1], seed.id_number, seed.name in UNMASKED[short])
    else:
        h.assert_error(r, 404, "not_found")
        assert h.error_body(r) == h.error_body(world.c(short).get(f"/api/v1/conflicts/{h.new_id()}"))


def cell_conflict_resolve(world: World, short: str, scope: str, exp: str) -> None:
    org = _target_org(world, short, scope)
    case = _fresh_case(world, org)
    creator = next(c for o, c, _ in SEEDS.values() if o == org)
    cid = make_conflict(world, creator, case, "title", "甲方案", "乙方案")
    r = world.c(short).post(f"/api/v1/conflicts/{cid}/resolve",
                            json={"base_rev": case["rev"] + 1, "choices": {"title": "client"}})
    assert h.phone(8, 0) not in r.text or HOME[short] in UNMASKED[short]
    status = h.row(world.engine, "sync_conflict", cid)["status"]
    if exp == "200":
        assert r.status_code == 200, r.text
        assert r.json()["title"] == "乙方案" and r.json()["rev"] == case["rev"] + 2
        assert status == "resolved"
    else:
        h.assert_error(r, int(exp), {"403": "forbidden", "404": "not_found"}[exp])
        assert status == "open"
        assert h.row(world.engine, "mediation_case", case["id"])["title"] == "甲方案"


def cell_cases_list(world: World, short: str, scope: str, exp: str) -> None:
    audit = Audit(world, short)
    r = world.c(short).get("/api/v1/mediation-cases", params={"limit": 500})
    assert r.status_code == 200, r.text
    assert_not_revealed(world, short, r.text)
    items = r.json()["items"]
    for i in items:
        assert in_scope(short, i["org_code"])
    if scope == "own":
        got = {i["id"]: i for i in items}
        for name, seed in world.seeds.items():
            assert (seed.case_id in got) is (name in VISIBLE[short]), name
            if seed.case_id in got:
                assert_parties(got[seed.case_id]["parties"], seed.phones[1], seed.id_number, name in UNMASKED[short])
        audit.expect(seed_cases(world, UNMASKED[short]))


def cell_case_get(world: World, short: str, scope: str, exp: str) -> None:
    seed = world.seeds[HOME[short] if scope == "own" else OTHER[short]]
    audit = Audit(world, short)
    r = world.c(short).get(f"/api/v1/mediation-cases/{seed.case_id}")
    assert_not_revealed(world, short, r.text)
    if exp == "200":
        assert r.status_code == 200, r.text
        body = r.json()
        assert seed.event_id in {e["id"] for e in body["events"]}
        unmasked = seed.name in UNMASKED[short]
        assert_parties(body["parties"], seed.phones[1], seed.id_number, unmasked)
        audit.expect({seed.case_id} if unmasked else set())
    else:
        h.assert_error(r, 404, "not_found")
        # the same answer as for a case that does not exist: no existence leak
        assert h.error_body(r) == h.error_body(world.c(short).get(f"/api/v1/mediation-cases/{h.new_id()}"))
        audit.expect(set())


def cell_case_history(world: World, short: str, scope: str, exp: str) -> None:
    seed = world.seeds[HOME[short] if scope == "own" else OTHER[short]]
    audit = Audit(world, short)
    r = world.c(short).get(f"/api/v1/mediation-cases/{seed.case_id}/history")
    assert_not_revealed(world, short, r.text)
    if exp == "200":
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert [i["op"] for i in items][:2] == ["create", "update"]
        unmasked = seed.name in UNMASKED[short]
        assert_parties(items[0]["changes"]["parties"], seed.phones[0], seed.id_number, unmasked)
        assert_parties(items[1]["changes"]["parties"], seed.phones[1], seed.id_number, unmasked)
        audit.expect({seed.case_id} if unmasked else set())
    else:
        h.assert_error(r, 404, "not_found")
        assert h.error_body(r) == h.error_body(world.c(short).get(f"/api/v1/mediation-cases/{h.new_id()}/history"))


def cell_attachment_put(world: World, short: str, scope: str, exp: str) -> None:
    seed = world.seeds[HOME[short] if scope == "own" else OTHER[short]]
    aid, data = h.new_id(), h.image_bytes("PNG")
    r = h.upload(world.c(short), aid, data, seed.case_id, name="a.png")
    stored = h.row(world.engine, "attachment", aid)
    if exp == "200":
        assert r.status_code == 200, r.text
        assert r.json()["content_type"] == "image/png" and stored is not None
    elif exp == "404":  # out of scope answers exactly like an absent record
        h.assert_error(r, 404, "not_found")
        assert stored is None
        assert h.error_body(r) == h.error_body(h.upload(world.c(short), h.new_id(), data, h.new_id(), name="a.png"))
    else:
        h.assert_error(r, 403, "forbidden")
        assert stored is None


def cell_attachment_get(world: World, short: str, scope: str, exp: str) -> None:
    seed = world.seeds[HOME[short] if scope == "own" else OTHER[short]]
    audit = Audit(world, short)
    r = world.c(short).get(f"/api/v1/attachments/{seed.attachment_id}")
    if exp == "200":
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "image/jpeg" and r.content[:3] == b"\xff\xd8\xff"
        assert r.headers["cache-control"] == "no-store" and r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["content-disposition"].startswith("inline; filename=")
        assert any(row["action"] == "attachment_download" and seed.case_id in row["record_ids"]
                   for row in audit.new())
    else:
        h.assert_error(r, 404, "not_found")
        assert h.error_body(r) == h.error_body(world.c(short).get(f"/api/v1/attachments/{h.new_id()}"))
        assert audit.new() == []


def cell_health(world: World, short: str, scope: str, exp: str) -> None:
    c = world.c(short) if scope == "own" else world.anon()
    r = c.get("/api/v1/health")
    assert r.status_code == 200, r.text
    if exp == "full":  # signed-in admins: version, database, migrations
        assert r.json()["status"] == "ok" and {"status", "version", "database", "migration",
                                               "migration_head"} <= set(r.json())
        assert r.json()["migration"] == r.json()["migration_head"]
    else:  # anyone else: up or not, nothing more
        assert {k for k, v in r.json().items() if v is not None} == {"status"} and r.json()["status"] == "ok"


# --- user administration ---------------------------------------------------------------------------------
_LEVEL_ROLE = {12: "mediator", 9: "township_viewer", 6: "county_admin"}


def _throwaway_user(world: World, org: str) -> str:
    """A new account at ``org`` for the cells that change accounts (the matrix's own users stay as they are)."""
    from cunzhi.users.service import create_user

    with world.engine.begin() as conn:
        return create_user(conn, f"tmp.{uuid.uuid4().hex[:10]}", PASSWORD, _LEVEL_ROLE[len(org)], org)["id"]


def cell_users_list(world: World, short: str, scope: str, exp: str) -> None:
    r = world.c(short).get("/api/v1/users")
    if exp == "403":
        h.assert_error(r, 403, "forbidden")
        return
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert items and all(in_scope(short, u["org_code"]) for u in items)
    assert "password_hash" not in r.text
    names = {u["username"] for u in items}
    if scope == "own":
        assert USERS[short] in names
    else:
        assert not names & {u for s, u in USERS.items() if not in_scope(short, ORG[s])}


def cell_users_create(world: World, short: str, scope: str, exp: str) -> None:
    org = _target_org(world, short, scope)
    name = f"new.{uuid.uuid4().hex[:10]}"
    body = {"username": name, "display_name": "新账号", "role": _LEVEL_ROLE[len(org)], "org_code": org,
            "password": "a-new-password-for-tmp"}
    r = world.c(short).post("/api/v1/users", json=body)
    if exp == "403":
        h.assert_error(r, 403, "forbidden")
    elif exp == "422":
        err = h.assert_error(r, 422, "validation_error")
        assert [(d["field"], d["code"]) for d in err["details"]] == [("org_code", "unknown_org")]
        assert h.error_body(r) == h.error_body(world.c(short).post("/api/v1/users", json={
            **body, "org_code": "340399100200"}))  # outside the scope reads as no such unit
    else:
        assert r.status_code == 201, r.text
        out = r.json()
        assert (out["username"], out["org_code"], out["manageable"]) == (name, org, True)
        assert "password" not in r.text.replace('"password_changed_at"', "")
        ref = world.c(short).get("/api/v1/reference").json()
        assert out["id"] in {u["id"] for u in ref["users"]}
    assert h.count(world.engine, "app_user", "WHERE username = :n", n=name) == (1 if exp == "201" else 0)


def _user_admin_cell(world: World, short: str, scope: str, exp: str, call) -> str:
    org = _target_org(world, short, scope)
    uid = _throwaway_user(world, org)
    victim = world.login(h.row(world.engine, "app_user", uid)["username"])
    r = call(world.c(short), uid)
    if exp == "403":
        h.assert_error(r, 403, "forbidden")
    elif exp == "404":
        h.assert_error(r, 404, "not_found")
        assert h.error_body(r) == h.error_body(call(world.c(short), h.new_id()))
    else:
        assert r.status_code == 200, r.text
        assert r.json()["id"] == uid and "password_hash" not in r.text
    return exp, victim


def cell_users_password(world: World, short: str, scope: str, exp: str) -> None:
    exp, victim = _user_admin_cell(world, short, scope, exp, lambda c, uid: c.put(
        f"/api/v1/users/{uid}/password", json={"password": "a-new-password-for-tmp"}))
    if exp == "200":  # the account's sessions end with the old password
        h.assert_error(victim.get("/api/v1/me"), 401, "session_revoked")
    else:
        assert victim.get("/api/v1/me").status_code == 200


def cell_users_deactivate(world: World, short: str, scope: str, exp: str) -> None:
    exp, victim = _user_admin_cell(world, short, scope, exp,
                                   lambda c, uid: c.post(f"/api/v1/users/{uid}/deactivate"))
    if exp == "200":
        assert victim.get("/api/v1/me").status_code == 401
    else:
        assert victim.get("/api/v1/me").status_code == 200


def cell_users_activate(world: World, short: str, scope: str, exp: str) -> None:
    _user_admin_cell(world, short, scope, exp, lambda c, uid: c.post(f"/api/v1/users/{uid}/activate"))


# ---- dashboard (i9) ----------------------------------------------------------------------------------
def _dashboard_cell(path: str, world: World, short: str, scope: str, exp: str) -> None:
    org = ORG[short] if scope == "own" else world.seeds[OTHER[short]].org
    audit = Audit(world, short)
    r = world.c(short).get(f"/api/v1/dashboard{path}", params={"org_code": org})
    if exp == "403":
        h.assert_error(r, 403, "dashboard_forbidden")
        audit.expect(set())
        return
    if exp == "404":
        h.assert_error(r, 404, "not_found")
        assert h.error_body(r) == h.error_body(world.c(short).get(f"/api/v1/dashboard{path}", params={"org_code": "340399"}))
        audit.expect(set())
        return
    assert r.status_code == 200, r.text
    text = r.content.decode("utf-8", "replace") if path != "/export" else _xlsx_text(r.content)
    assert_not_revealed(world, short, text)
    for seed in world.seeds.values():  # no phone or ID number in any dashboard output, masked or not
        for secret in seed.phones + [seed.id_number]:
            assert secret not in text and h.mask_phone(secret) not in text and h.mask_id(secret) not in text
    if path == "":
        body = r.json()
        assert body["org_code"] == org
        visible = sum(1 for name in VISIBLE[short] if world.seeds[name].org.startswith(org))
        assert body["figures"]["disputes_received"]["value"] >= visible


def _xlsx_text(data: bytes) -> str:
    import io

    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data))
    return "\n".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None)


def cell_dashboard(world: World, short: str, scope: str, exp: str) -> None:
    _dashboard_cell("", world, short, scope, exp)


def cell_dashboard_compare(world: World, short: str, scope: str, exp: str) -> None:
    _dashboard_cell("/compare", world, short, scope, exp)


def cell_dashboard_export(world: World, short: str, scope: str, exp: str) -> None:
    _dashboard_cell("/export", world, short, scope, exp)


def cell_dashboard_units(world: World, short: str, scope: str, exp: str) -> None:
    _dashboard_cell("/units", world, short, scope, exp)


def cell_dashboard_mediators(world: World, short: str, scope: str, exp: str) -> None:
    _dashboard_cell("/mediators", world, short, scope, exp)


# ---- grid work (issue 7): grids, household import, households, patrols, incidents --------------------
# Every grid-work record belongs to a village: "own" is the user's village (万福村 for the township and county
# users), "other" a village outside the user's scope.
GW_W, GW_Z, GW_T, GW_X = "340321108200", "340321108201", "340321109200", "340322100200"
GW_OWN = {"M": GW_W, "G": GW_W, "VA": GW_W, "ZM": GW_Z, "ZA": GW_Z, "TA": GW_W, "TV": GW_W, "TM": GW_W,
          "OA": GW_T, "CA": GW_W}
GW_OTHER = {"M": GW_Z, "G": GW_Z, "VA": GW_Z, "ZM": GW_W, "ZA": GW_W, "TA": GW_X, "TV": GW_X, "TM": GW_X,
            "OA": GW_W, "CA": GW_X}
GW_UNMASKED = {"M", "VA", "ZM", "ZA", "TA", "OA"}  # see their own village's household phone/ID in full
GW_ADMIN = {GW_W: "wanfucun.admin", GW_Z: "zhendong.admin"}
PERMISSIONS["grid_worker"].update({"incident": ["create", "update"], "patrol": ["create", "update"]})
PERMISSIONS["mediator"].update({"incident": ["create", "update"]})
for _role in ("village_admin", "township_admin"):
    PERMISSIONS[_role].update({"household": ["create", "delete", "update"], "incident": ["create", "update"]})
PERMISSIONS["village_admin"]["patrol"] = ["create", "update"]
ADMINS_OWN = "F    F    ok   F    ok   ok   F    F    ok   F"
#                                M    G    VA   ZM   ZA   TA   TV   TM   OA   CA
EXPECT.update({
    "grids_list": {"own": _row(ALL("ok")), "other": _row(ALL("hidden"))},
    "grid_create": {"own": _row("403  403  201  403  201  201  403  403  201  403"), "other": _row(ALL("403"))},
    "grid_get": {"own": _row(ALL("200")), "other": _row(ALL("404"))},
    "grid_update": {"own": _row("403  403  200  403  200  200  403  403  200  403"),
                    "other": _row("403  403  404  403  404  404  403  403  404  403")},
    "household_import": {"own": _row("403  403  200  403  200  200  403  403  200  403"), "other": _row(ALL("403"))},
    "households_list": {"own": _row(ALL("ok")), "other": _row(ALL("hidden"))},
    "household_get": {"own": _row(ALL("200")), "other": _row(ALL("404"))},
    "household_history": {"own": _row(ALL("200")), "other": _row(ALL("404"))},
    "patrols_list": {"own": _row(ALL("ok")), "other": _row(ALL("hidden"))},
    "patrol_get": {"own": _row(ALL("200")), "other": _row(ALL("404"))},
    "patrol_history": {"own": _row(ALL("200")), "other": _row(ALL("404"))},
    "incidents_list": {"own": _row(ALL("ok")), "other": _row(ALL("hidden"))},
    "incident_get": {"own": _row(ALL("200")), "other": _row(ALL("404"))},
    "incident_history": {"own": _row(ALL("200")), "other": _row(ALL("404"))},
    "push_household_create": {"own": _row(ADMINS_OWN), "other": _row(ALL("F"))},
    # another unit's record answers exactly like an absent one (U: unknown_record), as push_case_update (issue 6/11)
    "push_household_update": {"own": _row(ADMINS_OWN), "other": _row(ALL("U"))},
    "push_household_delete": {"own": _row(ADMINS_OWN), "other": _row(ALL("U"))},
    "push_patrol_create": {"own": _row("F    ok   ok   F    ok   F    F    F    F    F"), "other": _row(ALL("F"))},
    "push_patrol_update": {"own": _row("F    ok   ok   F    ok   F    F    F    F    F"), "other": _row(ALL("U"))},
    "push_incident_create": {"own": _row("ok   ok   ok   ok   ok   ok   F    ok   ok   F"), "other": _row(ALL("F"))},
    "push_incident_update": {"own": _row(ADMINS_OWN), "other": _row(ALL("U"))},
})
ROUTES.update({
    ("GET", "/api/v1/grids"): ["grids_list"],
    ("POST", "/api/v1/grids"): ["grid_create"],
    ("GET", "/api/v1/grids/{code}"): ["grid_get"],
    ("PATCH", "/api/v1/grids/{code}"): ["grid_update"],
    ("POST", "/api/v1/households/import"): ["household_import"],
    ("GET", "/api/v1/households"): ["households_list"],
    ("GET", "/api/v1/households/{record_id}"): ["household_get"],
    ("GET", "/api/v1/households/{record_id}/history"): ["household_history"],
    ("GET", "/api/v1/patrols"): ["patrols_list"],
    ("GET", "/api/v1/patrols/{record_id}"): ["patrol_get"],
    ("GET", "/api/v1/patrols/{record_id}/history"): ["patrol_history"],
    ("GET", "/api/v1/incidents"): ["incidents_list"],
    ("GET", "/api/v1/incidents/{record_id}"): ["incident_get"],
    ("GET", "/api/v1/incidents/{record_id}/history"): ["incident_history"],
})
ROUTES[("POST", "/api/v1/sync/push")] += ["push_household_create", "push_household_update", "push_household_delete",
                                          "push_patrol_create", "push_patrol_update", "push_incident_create",
                                          "push_incident_update"]
PUSH_CELLS.update({("household", "create"): "push_household_create", ("household", "update"): "push_household_update",
                   ("household", "delete"): "push_household_delete", ("patrol", "create"): "push_patrol_create",
                   ("patrol", "update"): "push_patrol_update", ("incident", "create"): "push_incident_create",
                   ("incident", "update"): "push_incident_update"})


def _gw_write(world: World, org: str, entity: str, fields: dict, who: str | None = None,
              rid: str | None = None, base_rev: int = 0) -> dict:
    """A grid-work record written through the engine as that village's admin (or ``who``)."""
    import sqlalchemy as sa

    from cunzhi.core.scope import Scope
    from cunzhi.sync.engine import Mutation, Push

    rid = rid or h.new_id()
    with world.engine.begin() as conn:
        if who:
            uid, role = conn.execute(sa.text("SELECT id, role FROM app_user WHERE username = :u"), {"u": who}).one()
        else:
            uid, role = str(uuid.uuid5(uuid.NAMESPACE_URL, f"gw-admin-{org}")), "village_admin"
        res = Push(conn, Scope(uid, who or "gw.admin", role, org, uid)).run(
            [Mutation(h.new_id(), entity, "upsert", rid, base_rev, {"org_code": org, **fields} if not base_rev else fields)])[0]
    assert res.status == "applied", res
    return dict(res.row)


def _gw(world: World) -> dict:
    """Per village: a grid, a household with phone and ID, a patrol, an incident (made once per world)."""
    if getattr(world, "gw", None):
        return world.gw
    import sqlalchemy as sa

    from cunzhi.core.clock import utcnow
    from cunzhi.grid.models import Grid
    from cunzhi.orgs.service import import_units

    now = utcnow()
    with world.engine.begin() as conn:
        for org in (GW_W, GW_Z, GW_T, GW_X):
            if org == GW_X:
                import_units(conn, [{"code": GW_X, "name": "城关村", "level": "village", "parent_code": "340322100"}])
            import_units(conn, [{"code": org + "001", "name": "一组网格", "level": "grid", "parent_code": org}])
            if conn.execute(sa.select(Grid.__table__.c.code).where(Grid.__table__.c.code == org + "001")).first():
                continue  # the test template has the demo grids of 万福村
            conn.execute(Grid.__table__.insert().values(code=org + "001", village_code=org, worker_ids=[],
                                                        retired=False, created_at=now, updated_at=now,
                                                        updated_by=h.new_id()))
    gw = {}
    for i, org in enumerate((GW_W, GW_Z, GW_T, GW_X)):
        ph, idn = h.phone(9, i), h.id_number(9, i)
        hh = _gw_write(world, org, "household", {"head_name": "网格户主", "address": f"{i} 号", "members": 3,
                                                 "grid_code": org + "001", "phone": ph, "head_id_number": idn})
        _gw_write(world, org, "household", {"address": f"{i} 号（新）"}, rid=hh["id"], base_rev=1)
        pt = _gw_write(world, org, "patrol", {"grid_code": org + "001", "started_at": "2026-11-20T09:00:00+08:00"})
        inc = _gw_write(world, org, "incident", {"grid_code": org + "001", "type": "dispute", "severity": "general",
                                                 "title": "网格矩阵事件", "occurred_at": "2026-11-20T10:00:00+08:00",
                                                 "household_id": hh["id"]})
        gw[org] = {"grid": org + "001", "household": hh["id"], "patrol": pt["id"], "incident": inc["id"],
                   "secrets": [ph, idn]}
    world.gw = gw  # type: ignore[attr-defined]
    return gw


def _gw_target(world: World, short: str, scope: str) -> tuple[str, dict]:
    org = GW_OWN[short] if scope == "own" else GW_OTHER[short]
    return org, _gw(world)[org]


def _gw_not_revealed(world: World, short: str, text: str) -> None:
    for org, seed in _gw(world).items():
        if not in_scope(short, org):
            for key in ("household", "patrol", "incident"):
                assert seed[key] not in text, f"{USERS[short]} sees a {key} of {org}"
        sees = in_scope(short, org) and (ROLE[short] == "township_admin" or (
            ROLE[short] in ("mediator", "village_admin") and org == ORG[short]))
        if not sees:
            for secret in seed["secrets"]:
                assert secret not in text, f"{USERS[short]} sees personal data of {org} unmasked"


def cell_grids_list(world: World, short: str, scope: str, exp: str) -> None:
    org, seed = _gw_target(world, short, scope)
    r = world.c(short).get("/api/v1/grids")
    assert r.status_code == 200, r.text
    codes = {g["code"] for g in r.json()["items"]}
    assert all(in_scope(short, c) for c in codes)
    assert (seed["grid"] in codes) is (exp == "ok")


def cell_grid_create(world: World, short: str, scope: str, exp: str) -> None:
    org, _ = _gw_target(world, short, scope)
    name = "矩阵网格" + h.new_id()[:8]
    r = world.c(short).post("/api/v1/grids", json={"village_code": org, "name": name})
    made = h.count(world.engine, "org_unit", "WHERE name = :n", n=name)
    if exp == "201":
        assert r.status_code == 201, r.text
        assert r.json()["village_code"] == org and r.json()["name"] == name and made == 1
    else:
        h.assert_error(r, 403, "forbidden")
        assert made == 0


def cell_grid_get(world: World, short: str, scope: str, exp: str) -> None:
    _, seed = _gw_target(world, short, scope)
    r = world.c(short).get(f"/api/v1/grids/{seed['grid']}")
    if exp == "200":
        assert r.status_code == 200 and r.json()["code"] == seed["grid"], r.text
    else:
        h.assert_error(r, 404, "not_found")


def cell_grid_update(world: World, short: str, scope: str, exp: str) -> None:
    _, seed = _gw_target(world, short, scope)
    name = "改名" + h.new_id()[:8]
    r = world.c(short).patch(f"/api/v1/grids/{seed['grid']}", json={"name": name})
    if exp == "200":
        assert r.status_code == 200 and r.json()["name"] == name, r.text
    else:
        h.assert_error(r, int(exp), {"403": "forbidden", "404": "not_found"}[exp])
        assert name not in world.c("CA").get("/api/v1/grids").text


def cell_household_import(world: World, short: str, scope: str, exp: str) -> None:
    org, _ = _gw_target(world, short, scope)
    head = "导入" + h.new_id()[:6]
    data = f"户主姓名,住址,人口,联系电话\n{head},东庄 1 号,3,{h.phone(9, 9)}\n".encode()
    r = world.c(short).post("/api/v1/households/import", files={"file": ("roster.csv", data, "text/csv")},
                            data={"org_code": org, "dry_run": "false"})
    n = h.count(world.engine, "household", "WHERE head_name = :n", n=head)
    if exp == "200":
        assert r.status_code == 200 and r.json()["created"] == 1, r.text
        assert n == 1
    else:
        h.assert_error(r, 403, "forbidden")
        assert n == 0 and h.phone(9, 9) not in r.text


def _gw_list(world: World, short: str, scope: str, exp: str, path: str, key: str) -> None:
    org, seed = _gw_target(world, short, scope)
    audit = Audit(world, short)
    r = world.c(short).get(path, params={"limit": 500})
    assert r.status_code == 200, r.text
    _gw_not_revealed(world, short, r.text)
    items = {i["id"]: i for i in r.json()["items"]}
    assert all(in_scope(short, i["org_code"]) for i in items.values())
    assert (seed[key] in items) is (exp == "ok")
    if key == "household" and scope == "own":
        rec = items[seed["household"]]
        unmasked = short in GW_UNMASKED
        ph, idn = seed["secrets"]
        assert (rec["phone"], rec["head_id_number"]) == ((ph, idn) if unmasked else (h.mask_phone(ph), h.mask_id(idn)))
        if unmasked:
            assert seed["household"] in {rid for a in audit.new() for rid in a["record_ids"]}
        else:
            assert seed["household"] not in {rid for a in audit.new() for rid in a["record_ids"]}


def _gw_get(world: World, short: str, scope: str, exp: str, path: str, key: str) -> None:
    _, seed = _gw_target(world, short, scope)
    audit = Audit(world, short)
    r = world.c(short).get(path.format(id=seed[key]))
    _gw_not_revealed(world, short, r.text)
    if exp == "200":
        assert r.status_code == 200, r.text
        if key == "household":
            audited = seed["household"] in {rid for a in audit.new() for rid in a["record_ids"]}
            assert audited is (short in GW_UNMASKED)


# ---- six-no, nominations, points (issue 8) ------------------------------------------------------------
# An update of a record outside the caller's scope answers as for a record that does not exist (U).
# Village records only: seeds in 万福村 (W), 镇东村 (Z), 唐集村 (T8, 唐集镇) and 城关村 (X8, another county), each
# with a household, a six-no report, a nomination in its notice (and one awarded), an objection and a points
# entry, carrying phone and ID numbers. "own" is the village the user works in or above; "other" one it may not see.
I8_ORG = {"W": "340321108200", "Z": "340321108201", "T8": "340321109200", "X8": "340322100200"}
I8_ADMIN = {"W": "wanfucun.admin", "Z": "zhendong.admin", "T8": "tangjicun.admin", "X8": "wuhe.admin"}
I8_HOME = {"M": "W", "G": "W", "VA": "W", "ZM": "Z", "ZA": "Z", "TA": "W", "TV": "W", "TM": "W", "OA": "T8",
           "CA": "W"}
I8_OTHER = {"M": "Z", "G": "Z", "VA": "Z", "ZM": "W", "ZA": "W", "TA": "T8", "TV": "T8", "TM": "T8", "OA": "W",
            "CA": "X8"}
I8_VISIBLE = {"M": {"W"}, "G": {"W"}, "VA": {"W"}, "ZM": {"Z"}, "ZA": {"Z"}, "TA": {"W", "Z"}, "TV": {"W", "Z"},
              "TM": {"W", "Z"}, "OA": {"T8"}, "CA": {"W", "Z", "T8"}}
I8_UNMASKED = {"M": {"W"}, "G": set(), "VA": {"W"}, "ZM": {"Z"}, "ZA": {"Z"}, "TA": {"W", "Z"}, "TV": set(),
               "TM": set(), "OA": {"T8"}, "CA": set()}
I8_SEEDS: dict[int, dict[str, dict]] = {}
# mediators and grid workers add points entries only where the county allows (points_field_writers, 0 by default)
for _role, _perms in (("mediator", {"nomination": ["create"]}),
                      ("grid_worker", {"nomination": ["create"]}),
                      ("village_admin", {"nomination": ["create", "update"], "nomination_objection": ["create", "update"],
                                         "points_entry": ["create"], "six_no_report": ["create", "update"]}),
                      ("township_admin", {"nomination": ["create", "update"],
                                          "nomination_objection": ["create", "update"], "points_entry": ["create"],
                                          "six_no_report": ["create", "update"]})):
    PERMISSIONS[_role].update(_perms)

EXPECT.update({
    "six_no_list": {"own": _row(ALL("ok")), "other": _row(ALL("hidden"))},
    "six_no_get": {"own": _row(ALL("200")), "other": _row(ALL("404"))},
    "six_no_history": {"own": _row(ALL("200")), "other": _row(ALL("404"))},
    "nominations_list": {"own": _row(ALL("ok")), "other": _row(ALL("hidden"))},
    "nomination_get": {"own": _row(ALL("200")), "other": _row(ALL("404"))},
    "nomination_history": {"own": _row(ALL("200")), "other": _row(ALL("404"))},
    "objections_list": {"own": _row(ALL("ok")), "other": _row(ALL("hidden"))},
    "objection_get": {"own": _row(ALL("200")), "other": _row(ALL("404"))},
    "objection_history": {"own": _row(ALL("200")), "other": _row(ALL("404"))},
    "points_list": {"own": _row(ALL("ok")), "other": _row(ALL("hidden"))},
    "points_get": {"own": _row(ALL("200")), "other": _row(ALL("404"))},
    "points_history": {"own": _row(ALL("200")), "other": _row(ALL("404"))},
    "honours": {"own": _row(ALL("ok")), "other": _row(ALL("hidden"))},
    "points_balances": {"own": _row(ALL("ok")), "other": _row(ALL("hidden"))},
    "points_rankings": {"own": _row(ALL("ok")), "other": _row(ALL("hidden"))},
    "points_household": {"own": _row(ALL("200")), "other": _row(ALL("404"))},
    "safe_rate": {"own": _row(ALL("ok")), "other": _row(ALL("hidden"))},
    #                                    M    G    VA   ZM   ZA   TA   TV   TM   OA   CA
    "safe_certify": {"own": _row("F    F    ok   F    ok   ok   F    F    ok   F"), "other": _row(ALL("404"))},
    "push_six_no_create": {"own": _row("F    F    ok   F    ok   ok   F    F    ok   F"), "other": _row(ALL("F"))},
    "push_six_no_update": {"own": _row("F    F    ok   F    ok   ok   F    F    ok   F"), "other": _row(ALL("U"))},
    "push_nomination_create": {"own": _row("ok   ok   ok   ok   ok   ok   F    ok   ok   F"), "other": _row(ALL("F"))},
    "push_nomination_update": {"own": _row("F    F    ok   F    ok   ok   F    F    ok   F"), "other": _row(ALL("U"))},
    "push_objection_create": {"own": _row("F    F    ok   F    ok   ok   F    F    ok   F"),
                              "other": _row("F    F    U    F    U    U    F    F    U    F")},
    "push_objection_update": {"own": _row("F    F    ok   F    ok   ok   F    F    ok   F"), "other": _row(ALL("U"))},
    "push_points_create": {"own": _row("F    F    ok   F    ok   ok   F    F    ok   F"), "other": _row(ALL("F"))},
    "push_points_update": {"own": _row("A    A    A    A    A    A    F    A    A    F"), "other": _row(ALL("U"))},
})
ROUTES.update({
    ("GET", "/api/v1/six-no-reports"): ["six_no_list"],
    ("GET", "/api/v1/six-no-reports/{report_id}"): ["six_no_get"],
    ("GET", "/api/v1/six-no-reports/{report_id}/history"): ["six_no_history"],
    ("GET", "/api/v1/nominations"): ["nominations_list"],
    ("GET", "/api/v1/nominations/{nomination_id}"): ["nomination_get"],
    ("GET", "/api/v1/nominations/{nomination_id}/history"): ["nomination_history"],
    ("GET", "/api/v1/nomination-objections"): ["objections_list"],
    ("GET", "/api/v1/nomination-objections/{objection_id}"): ["objection_get"],
    ("GET", "/api/v1/nomination-objections/{objection_id}/history"): ["objection_history"],
    ("GET", "/api/v1/points-entries"): ["points_list"],
    ("GET", "/api/v1/points-entries/{entry_id}"): ["points_get"],
    ("GET", "/api/v1/points-entries/{entry_id}/history"): ["points_history"],
    ("GET", "/api/v1/honours"): ["honours"],
    ("GET", "/api/v1/points/balances"): ["points_balances"],
    ("GET", "/api/v1/points/rankings"): ["points_rankings"],
    ("GET", "/api/v1/points/households/{household_id}"): ["points_household"],
    ("GET", "/api/v1/safe-households"): ["safe_rate"],
    ("POST", "/api/v1/safe-households/certify"): ["safe_certify"],
})
ROUTES[("POST", "/api/v1/sync/push")] += ["push_six_no_create", "push_six_no_update", "push_nomination_create",
                                         "push_nomination_update", "push_objection_create", "push_objection_update",
                                         "push_points_create", "push_points_update"]
PUSH_CELLS.update({("six_no_report", "create"): "push_six_no_create", ("six_no_report", "update"): "push_six_no_update",
                   ("nomination", "create"): "push_nomination_create", ("nomination", "update"): "push_nomination_update",
                   ("nomination_objection", "create"): "push_objection_create",
                   ("nomination_objection", "update"): "push_objection_update",
                   ("points_entry", "create"): "push_points_create", ("points_entry", "update"): "push_points_update"})


def _i8_push(world: World, who: str | httpx.Client, entity: str, rid: str, fields: dict, base_rev: int = 0) -> dict:
    c = world.login(who) if isinstance(who, str) else who
    r = push(c, [mutation(entity, rid, fields, base_rev=base_rev)])
    assert r.status_code == 200, r.text
    res = r.json()["results"][0]
    assert res["status"] == "applied", res
    return res["record"]


def _i8_seed(world: World, name: str, i: int) -> dict:
    from datetime import timedelta

    from cunzhi.core import clock
    from cunzhi.six_no.rules import report_id

    org, admin = I8_ORG[name], world.login(I8_ADMIN[name])
    secrets = [f"159{i:02d}001234", h.id_number(20 + i, 0), f"159{i:02d}011234", h.id_number(20 + i, 1),
               f"159{i:02d}021234"]  # distinct from every other value of the matrix
    hh = _i8_push(world, admin, "household", h.new_id(), {"org_code": org, "head_name": f"户主{i}", "members": 3,
                                                          "phone": secrets[0], "head_id_number": secrets[1]})
    rid = report_id(org, h.today().year)
    rep = _i8_push(world, admin, "six_no_report", rid, {"org_code": org, "year": h.today().year})
    rep = _i8_push(world, admin, "six_no_report", rid, {"self_assessment": "说明"}, rep["rev"])
    check = {"criminal_record": False, "vice": False, "cult": False, "checked_by": "核查人", "checked_on": h.days_ago(0)}

    def nomination_in_notice(nm: str) -> dict:
        n = _i8_push(world, admin, "nomination", h.new_id(), {
            "org_code": org, "category": "honesty", "nominee_name": nm, "deeds": "拾金不昧", "source": "villagers",
            "nominee_phone": secrets[2], "nominee_id_number": secrets[3]})
        n = _i8_push(world, admin, "nomination", n["id"], {"state": "village_reviewed", "disqualifiers": check},
                     n["rev"])
        return _i8_push(world, admin, "nomination", n["id"], {"state": "public_notice"}, n["rev"])

    nom = nomination_in_notice(f"推荐{i}")
    awarded = nomination_in_notice(f"获奖{i}")
    township = world.login({"W": "wanfu.admin", "Z": "wanfu.admin", "T8": "tangji.admin", "X8": "wuhe.admin"}[name])
    if name != "X8":  # another county's village has no township admin here: its nomination stays in notice
        with clock.moved(timedelta(days=8)):
            awarded = _i8_push(world, township, "nomination", awarded["id"], {"state": "township_approved"},
                               awarded["rev"])
            awarded = _i8_push(world, township, "nomination", awarded["id"], {"state": "awarded",
                                                                              "award_title": "好人"}, awarded["rev"])
    obj = _i8_push(world, admin, "nomination_objection", h.new_id(), {"nomination_id": nom["id"], "content": "异议",
                                                                      "contact": secrets[4]})
    obj = _i8_push(world, admin, "nomination_objection", obj["id"], {"objector_name": "匿名"}, obj["rev"])
    pts = _i8_push(world, admin, "points_entry", h.new_id(), {"org_code": org, "household_id": hh["id"],
                                                              "rule": "volunteer", "reason": "清扫"})
    return {"org": org, "household": hh["id"], "six_no_report": rep["id"], "nomination": nom["id"],
            "awarded": awarded["id"], "nomination_objection": obj["id"], "points_entry": pts["id"],
            "secrets": secrets}


def i8_seeds(world: World) -> dict[str, dict]:
    if id(world) not in I8_SEEDS:
        from cunzhi.core.db import write_tx
        from cunzhi.users.service import create_user

        with write_tx() as conn:
            for username, org in (("wuhe.admin", I8_ORG["X8"]), ("tangjicun.admin", I8_ORG["T8"])):
                if not conn.execute(sa.text("SELECT 1 FROM app_user WHERE username = :u"), {"u": username}).first():
                    create_user(conn, username, PASSWORD, "village_admin", org, username)
        I8_SEEDS[id(world)] = {name: _i8_seed(world, name, i) for i, name in enumerate(I8_ORG)}
    return I8_SEEDS[id(world)]


def _i8_not_revealed(world: World, short: str, text: str) -> None:
    for name, seed in i8_seeds(world).items():
        if name not in I8_VISIBLE[short]:
            for key in ("household", "six_no_report", "nomination", "awarded", "nomination_objection", "points_entry"):
                assert seed[key] not in text, f"{USERS[short]} sees {key} of {name}"
        if name not in I8_UNMASKED[short]:
            for secret in seed["secrets"]:
                assert secret not in text, f"{USERS[short]} sees personal data of {name} unmasked"


def _i8_target(world: World, short: str, scope: str) -> dict:
    return i8_seeds(world)[I8_HOME[short] if scope == "own" else I8_OTHER[short]]


def _i8_list(world, short, scope, path: str, key: str, params: dict | None = None, items_key: str = "id") -> None:
    seeds = i8_seeds(world)
    target = _i8_target(world, short, scope)
    r = world.c(short).get(path, params=(params or {}) | ({"org_code": target["org"]} if scope == "other" else {}))
    assert r.status_code == 200, r.text
    _i8_not_revealed(world, short, r.text)
    body = r.json()
    items = body["items"] if "items" in body else body["villages"]
    for i in items:
        assert in_scope(short, i["org_code"]), i
    if scope == "own":
        got = {i[items_key] for i in items}
        for name, seed in seeds.items():
            if key in seed:
                assert (seed[key] in got) is (name in I8_VISIBLE[short]), (name, key)
    else:
        assert items == []


def cell_six_no_list(world, short, scope, exp):
    _i8_list(world, short, scope, "/api/v1/six-no-reports", "six_no_report")


def cell_nominations_list(world, short, scope, exp):
    _i8_list(world, short, scope, "/api/v1/nominations", "nomination", {"state": "public_notice"})


def cell_objections_list(world, short, scope, exp):
    _i8_list(world, short, scope, "/api/v1/nomination-objections", "nomination_objection")


def cell_points_list(world, short, scope, exp):
    _i8_list(world, short, scope, "/api/v1/points-entries", "points_entry")


def cell_honours(world, short, scope, exp):
    _i8_list(world, short, scope, "/api/v1/honours", "awarded")


def cell_points_balances(world, short, scope, exp):
    _i8_list(world, short, scope, "/api/v1/points/balances", "household", items_key="household_id")


def cell_points_rankings(world, short, scope, exp):
    _i8_list(world, short, scope, "/api/v1/points/rankings", "household", items_key="household_id")


def cell_safe_rate(world, short, scope, exp):
    seeds = i8_seeds(world)
    target = _i8_target(world, short, scope)
    r = world.c(short).get("/api/v1/safe-households", params={"org_code": target["org"]} if scope == "other" else {})
    assert r.status_code == 200, r.text
    orgs = {v["org_code"] for v in r.json()["villages"]}
    assert all(in_scope(short, o) for o in orgs)
    if scope == "own":
        assert orgs >= {seeds[n]["org"] for n in I8_VISIBLE[short]}
    else:
        assert r.json()["households"] == 0 and orgs == set()


def _i8_one(world, short, scope, exp, path: str, key: str, audit_unmasked: bool) -> None:
    target = _i8_target(world, short, scope)
    audit = Audit(world, short)
    r = world.c(short).get(path.format(id=target[key]))
    _i8_not_revealed(world, short, r.text)
    if exp == "200":
        assert r.status_code == 200, r.text
        name = I8_HOME[short]
        if audit_unmasked:
            audit.expect({target[key]} if name in I8_UNMASKED[short] else set())
    else:
        h.assert_error(r, 404, "not_found")
        assert h.error_body(r) == h.error_body(world.c(short).get(path.format(id=h.new_id())))
        audit.expect(set())


def cell_households_list(world, short, scope, exp):
    _gw_list(world, short, scope, exp, "/api/v1/households", "household")


def cell_household_get(world, short, scope, exp):
    _gw_get(world, short, scope, exp, "/api/v1/households/{id}", "household")


def cell_household_history(world, short, scope, exp):
    _gw_get(world, short, scope, exp, "/api/v1/households/{id}/history", "household")


def cell_patrols_list(world, short, scope, exp):
    _gw_list(world, short, scope, exp, "/api/v1/patrols", "patrol")


def cell_patrol_get(world, short, scope, exp):
    _gw_get(world, short, scope, exp, "/api/v1/patrols/{id}", "patrol")


def cell_patrol_history(world, short, scope, exp):
    _gw_get(world, short, scope, exp, "/api/v1/patrols/{id}/history", "patrol")


def cell_incidents_list(world, short, scope, exp):
    _gw_list(world, short, scope, exp, "/api/v1/incidents", "incident")


def cell_incident_get(world, short, scope, exp):
    _gw_get(world, short, scope, exp, "/api/v1/incidents/{id}", "incident")


def cell_incident_history(world, short, scope, exp):
    _gw_get(world, short, scope, exp, "/api/v1/incidents/{id}/history", "incident")


def _gw_push(world: World, short: str, exp: str, entity: str, rid: str, fields: dict, base_rev: int = 0,
             op: str = "upsert", secrets: list[str] = ()) -> dict:
    r = push(world.c(short), [mutation(entity, rid, fields, base_rev=base_rev, op=op)])
    assert r.status_code == 200, r.text
    res = r.json()["results"][0]
    if exp == "ok":
        assert res["status"] == "applied", res
        assert res["record"]["id"] == rid
    else:
        code = "unknown_record" if exp == "U" else "forbidden"
        assert res["status"] == "rejected" and res["error"]["code"] == code, res
        assert "record" not in res, res
        assert not any(s in r.text for s in secrets), "a rejected answer echoes personal data"
    return res


def cell_push_household_create(world, short, scope, exp):
    org, seed = _gw_target(world, short, scope)
    rid, ph = h.new_id(), h.phone(9, 8)
    _gw_push(world, short, exp, "household", rid, {"org_code": org, "head_name": "矩阵户", "members": 2,
                                                    "phone": ph}, secrets=[ph])
    assert (h.row(world.engine, "household", rid) is not None) is (exp == "ok")


def cell_push_household_update(world, short, scope, exp):
    org, seed = _gw_target(world, short, scope)
    hh = _gw_write(world, org, "household", {"head_name": "待改户", "members": 2, "phone": h.phone(9, 7)})
    _gw_push(world, short, exp, "household", hh["id"], {"members": 5}, base_rev=1, secrets=[h.phone(9, 7)])
    assert h.row(world.engine, "household", hh["id"])["members"] == (5 if exp == "ok" else 2)


def cell_push_household_delete(world, short, scope, exp):
    org, seed = _gw_target(world, short, scope)
    hh = _gw_write(world, org, "household", {"head_name": "误录户", "members": 1})
    _gw_push(world, short, exp, "household", hh["id"], {}, base_rev=1, op="delete")
    assert bool(h.row(world.engine, "household", hh["id"])["deleted"]) is (exp == "ok")


def cell_push_patrol_create(world, short, scope, exp):
    org, seed = _gw_target(world, short, scope)
    rid = h.new_id()
    _gw_push(world, short, exp, "patrol", rid, {"org_code": org, "grid_code": seed["grid"],
                                                 "started_at": "2026-11-21T09:00:00+08:00"})
    assert (h.row(world.engine, "patrol", rid) is not None) is (exp == "ok")


def cell_push_patrol_update(world, short, scope, exp):
    org, seed = _gw_target(world, short, scope)
    # the patrol is the user's own when they are a grid worker (grid workers edit only their own)
    who = USERS[short] if ROLE[short] == "grid_worker" and scope == "own" else GW_ADMIN.get(org)
    pt = _gw_write(world, org, "patrol", {"grid_code": seed["grid"], "started_at": "2026-11-21T09:00:00+08:00"},
                   who=who)
    _gw_push(world, short, exp, "patrol", pt["id"], {"notes": "矩阵备注"}, base_rev=1)
    assert (h.row(world.engine, "patrol", pt["id"])["notes"] == "矩阵备注") is (exp == "ok")


def cell_push_incident_create(world, short, scope, exp):
    org, seed = _gw_target(world, short, scope)
    rid = h.new_id()
    _gw_push(world, short, exp, "incident", rid, {"org_code": org, "type": "other", "severity": "general",
                                                   "title": "矩阵上报", "occurred_at": "2026-11-21T09:00:00+08:00"})
    assert (h.row(world.engine, "incident", rid) is not None) is (exp == "ok")


def cell_push_incident_update(world, short, scope, exp):
    """An incident reported by the village admin: its reporter, assignee and admins edit it, nobody else."""
    org, seed = _gw_target(world, short, scope)
    inc = _gw_write(world, org, "incident", {"type": "other", "severity": "general", "title": "待改事件",
                                             "occurred_at": "2026-11-21T09:00:00+08:00"})
    _gw_push(world, short, exp, "incident", inc["id"], {"description": "矩阵补充"}, base_rev=1)
    assert (h.row(world.engine, "incident", inc["id"])["description"] == "矩阵补充") is (exp == "ok")


def cell_six_no_get(world, short, scope, exp):
    _i8_one(world, short, scope, exp, "/api/v1/six-no-reports/{id}", "six_no_report", False)


def cell_six_no_history(world, short, scope, exp):
    _i8_one(world, short, scope, exp, "/api/v1/six-no-reports/{id}/history", "six_no_report", False)


def cell_nomination_get(world, short, scope, exp):
    _i8_one(world, short, scope, exp, "/api/v1/nominations/{id}", "nomination", True)
    if exp == "200":
        body = world.c(short).get(f"/api/v1/nominations/{_i8_target(world, short, scope)['nomination']}").json()
        secrets = _i8_target(world, short, scope)["secrets"]
        unmasked = I8_HOME[short] in I8_UNMASKED[short]
        assert (body["nominee_phone"], body["nominee_id_number"]) == (
            (secrets[2], secrets[3]) if unmasked else (h.mask_phone(secrets[2]), h.mask_id(secrets[3])))


def cell_nomination_history(world, short, scope, exp):
    _i8_one(world, short, scope, exp, "/api/v1/nominations/{id}/history", "nomination", True)


def cell_objection_get(world, short, scope, exp):
    _i8_one(world, short, scope, exp, "/api/v1/nomination-objections/{id}", "nomination_objection", True)


def cell_objection_history(world, short, scope, exp):
    _i8_one(world, short, scope, exp, "/api/v1/nomination-objections/{id}/history", "nomination_objection", True)


def cell_points_get(world, short, scope, exp):
    _i8_one(world, short, scope, exp, "/api/v1/points-entries/{id}", "points_entry", False)


def cell_points_history(world, short, scope, exp):
    _i8_one(world, short, scope, exp, "/api/v1/points-entries/{id}/history", "points_entry", False)


def cell_points_household(world, short, scope, exp):
    _i8_one(world, short, scope, exp, "/api/v1/points/households/{id}", "household", False)


def cell_safe_certify(world, short, scope, exp):
    target = _i8_target(world, short, scope)
    r = world.c(short).post("/api/v1/safe-households/certify",
                            json={"year": h.today().year - 1, "household_ids": [target["household"]]})
    _i8_not_revealed(world, short, r.text)
    if exp == "404":
        h.assert_error(r, 404, "not_found")
        return
    assert r.status_code == 200, r.text
    res = r.json()["results"][0]
    if exp == "ok":
        assert res["status"] in ("applied", "merged") and h.today().year - 1 in res["record"]["safe_certified_years"]
    else:
        assert res["status"] == "rejected" and res["error"]["code"] == "forbidden" and "record" not in res


_I8_YEARS: dict[int, int] = {}


def _i8_push_cell(world, short, scope, exp, entity: str, rid: str, fields: dict, base_rev: int = 0) -> None:
    r = push(world.c(short), [mutation(entity, rid, fields, base_rev=base_rev)])
    assert r.status_code == 200, r.text
    res = r.json()["results"][0]
    _i8_not_revealed(world, short, r.text) if exp != "ok" else None
    if exp == "ok":
        assert res["status"] == "applied", res
    else:
        assert res["status"] == "rejected" and "record" not in res, res
        assert res["error"]["code"] == {"F": "forbidden", "V": "validation_error", "A": "append_only",
                                        "U": "unknown_record"}[exp], res


def cell_push_six_no_create(world, short, scope, exp):
    from cunzhi.six_no.rules import report_id

    org = _i8_target(world, short, scope)["org"]
    _I8_YEARS[id(world)] = year = _I8_YEARS.get(id(world), 2000) + 1
    _i8_push_cell(world, short, scope, exp, "six_no_report", report_id(org, year), {"org_code": org, "year": year})
    stored = h.row(world.engine, "six_no_report", report_id(org, year))
    assert (stored is not None) is (exp == "ok")


def cell_push_six_no_update(world, short, scope, exp):
    target = _i8_target(world, short, scope)
    row = h.row(world.engine, "six_no_report", target["six_no_report"])
    field = "decision_note" if ROLE[short] == "township_admin" else "self_assessment"
    _i8_push_cell(world, short, scope, exp, "six_no_report", row["id"], {field: f"矩阵 {short}"}, row["rev"])
    assert (h.row(world.engine, "six_no_report", row["id"])[field] == f"矩阵 {short}") is (exp == "ok")


def cell_push_nomination_create(world, short, scope, exp):
    org, rid = _i8_target(world, short, scope)["org"], h.new_id()
    _i8_push_cell(world, short, scope, exp, "nomination", rid, {
        "org_code": org, "category": "bravery", "nominee_name": "矩阵", "deeds": "救人", "source": "villagers",
        "nominee_phone": "15999991234"})
    assert (h.row(world.engine, "nomination", rid) is not None) is (exp == "ok")


def cell_push_nomination_update(world, short, scope, exp):
    row = h.row(world.engine, "nomination", _i8_target(world, short, scope)["nomination"])
    _i8_push_cell(world, short, scope, exp, "nomination", row["id"], {"review_note": f"矩阵 {short}"}, row["rev"])
    assert (h.row(world.engine, "nomination", row["id"])["review_note"] == f"矩阵 {short}") is (exp == "ok")


def cell_push_objection_create(world, short, scope, exp):
    target, rid = _i8_target(world, short, scope), h.new_id()
    _i8_push_cell(world, short, scope, exp, "nomination_objection", rid,
                  {"nomination_id": target["nomination"], "content": "矩阵异议"})
    assert (h.row(world.engine, "nomination_objection", rid) is not None) is (exp == "ok")


def cell_push_objection_update(world, short, scope, exp):
    row = h.row(world.engine, "nomination_objection", _i8_target(world, short, scope)["nomination_objection"])
    _i8_push_cell(world, short, scope, exp, "nomination_objection", row["id"], {"content": f"矩阵 {short}"},
                  row["rev"])
    assert (h.row(world.engine, "nomination_objection", row["id"])["content"] == f"矩阵 {short}") is (exp == "ok")


def cell_push_points_create(world, short, scope, exp):
    target, rid = _i8_target(world, short, scope), h.new_id()
    _i8_push_cell(world, short, scope, exp, "points_entry", rid, {
        "org_code": target["org"], "household_id": target["household"], "rule": "clean_yard", "reason": "矩阵"})
    assert (h.row(world.engine, "points_entry", rid) is not None) is (exp == "ok")


def cell_push_points_update(world, short, scope, exp):
    target = _i8_target(world, short, scope)
    _i8_push_cell(world, short, scope, exp, "points_entry", target["points_entry"], {"points": 7}, 1)
    assert h.row(world.engine, "points_entry", target["points_entry"])["points"] == 5


# ---- cells of other domains (each keeps its rows in its own module) --------------------------------------
from tests.api.cells_integrations import *  # noqa: E402,F403
from tests.api.cells_integrations import EXPECT_INTEGRATIONS, ROUTES_INTEGRATIONS  # noqa: E402

EXPECT.update(EXPECT_INTEGRATIONS)
ROUTES.update(ROUTES_INTEGRATIONS)
# county settings and code tables (finding 5)
from tests.api.cells_settings import *  # noqa: E402,F403
from tests.api.cells_settings import EXPECT_SETTINGS, ROUTES_SETTINGS  # noqa: E402

EXPECT.update(EXPECT_SETTINGS)
ROUTES.update(ROUTES_SETTINGS)

CELLS = {name[len("cell_"):]: fn for name, fn in globals().items() if name.startswith("cell_")}


def test_every_cell_has_a_check():
    assert set(CELLS) == set(EXPECT)


@pytest.mark.parametrize("cell", sorted(EXPECT))
@pytest.mark.parametrize("scope", ["own", "other"])
@pytest.mark.parametrize("short", ORDER)
def test_matrix(world, cell, scope, short):
    CELLS[cell](world, short, scope, EXPECT[cell][scope][short])


# ---- masking rules beyond the matrix -----------------------------------------------------------------
def test_masked_writer_cannot_change_personal_fields_but_may_echo_them(world):
    """wanfu.mediator (township-level) sees 万福村 cases masked: may edit other fields, not phone/ID."""
    seed_case = new_case(world.c("M"), "340321108200", idx=6)
    tm = world.c("TM")
    r = tm.get(f"/api/v1/mediation-cases/{seed_case['id']}")
    masked = r.json()["parties"]
    assert masked[0]["phone"] == h.mask_phone(h.phone(6, 0))
    # echoing the masked value back with another change leaves the stored value intact
    echo = [dict(masked[0], address="村东组"), masked[1]]
    r = push(tm, [mutation("mediation_case", seed_case["id"], {"parties": echo, "title": "镇调委会接手"},
                           base_rev=seed_case["rev"])])
    res = r.json()["results"][0]
    assert res["status"] == "applied", res
    assert_parties(res["record"]["parties"], h.phone(6, 0), h.id_number(6, 0), unmasked=False)
    assert h.phone(6, 0) not in r.text and h.id_number(6, 0) not in r.text
    stored = h.row(world.engine, "mediation_case", seed_case["id"])
    import json

    parties = stored["parties"] if isinstance(stored["parties"], list) else json.loads(stored["parties"])
    assert parties[0]["phone"] == h.phone(6, 0) and parties[0]["id_number"] == h.id_number(6, 0)
    assert parties[0]["address"] == "村东组"
    # changing them is refused, and the refusal echoes nothing
    for key, value in (("phone", "13911112222"), ("id_number", h.id_number(6, 5))):
        changed = [dict(echo[0], **{key: value}), echo[1]]
        r = push(tm, [mutation("mediation_case", seed_case["id"], {"parties": changed}, base_rev=stored["rev"])])
        res = r.json()["results"][0]
        assert res["status"] == "rejected" and res["error"]["code"] == "validation_error", res
        assert res["error"]["details"][0]["code"] == "masked_field_readonly"
        assert res["error"]["details"][0]["field"] == f"parties.0.{key}"
        assert value not in r.text and h.phone(6, 0) not in r.text and h.id_number(6, 0) not in r.text
        assert "record" not in res or res["record"]["parties"][0]["phone"] == h.mask_phone(h.phone(6, 0))
    assert h.row(world.engine, "mediation_case", seed_case["id"])["rev"] == stored["rev"]
    # the village's own mediator sees the full values (and the change is audited)
    r = world.c("M").get(f"/api/v1/mediation-cases/{seed_case['id']}")
    assert_parties(r.json()["parties"], h.phone(6, 0), h.id_number(6, 0), unmasked=True)


def test_grid_worker_intake_then_cannot_change_phone(world):
    g = world.c("G")
    case = new_case(g, "340321108200", idx=5)
    assert_parties(case["parties"], h.phone(5, 0), h.id_number(5, 0), unmasked=False)
    r = world.c("VA").get(f"/api/v1/mediation-cases/{case['id']}")
    assert_parties(r.json()["parties"], h.phone(5, 0), h.id_number(5, 0), unmasked=True)
    # a grid worker may not update cases at all (forbidden before anything else)
    r = push(g, [mutation("mediation_case", case["id"], {"parties": [{"name": "张三", "role": "applicant"}]},
                          base_rev=1)])
    assert r.json()["results"][0]["error"]["code"] == "forbidden"


def test_validation_error_details_never_echo_personal_data(world):
    bad_phone, bad_id = "1381234567X", "34032119800101123Y"
    rid = h.new_id()
    fields = {"org_code": "340321108200", "title": "x", "category": "neighbor", "source": "patrol",
              "received_on": h.days_ago(1), "risk_level": "blue", "escalation_flag": False,
              "parties": [{"name": "王五", "role": "applicant", "phone": bad_phone, "id_number": bad_id}]}
    for lang in ("zh-CN", "en"):
        c = world.login("wanfucun.mediator", lang=lang)
        r = push(c, [mutation("mediation_case", rid, fields)])
        res = r.json()["results"][0]
        assert res["status"] == "rejected" and res["error"]["details"][0]["code"] == "invalid_phone"
        assert bad_phone not in r.text and bad_id not in r.text and "王五" not in r.text
        h.assert_lang(res["error"], "en" if lang == "en" else "zh")
    assert h.row(world.engine, "mediation_case", rid) is None


def test_conflict_values_masked_in_push_answer(world):
    """The conflict a masked writer's push causes shows client and server values masked."""
    case = new_case(world.c("M"), "340321108200", idx=4)
    tm1, tm2 = world.login("wanfu.mediator"), world.login("wanfu.mediator")
    rec = tm1.get(f"/api/v1/mediation-cases/{case['id']}").json()
    p1 = [dict(rec["parties"][0], address="甲地"), rec["parties"][1]]
    p2 = [dict(rec["parties"][0], address="乙地"), rec["parties"][1]]
    assert push(tm1, [mutation("mediation_case", case["id"], {"parties": p1}, base_rev=1)]).json()[
        "results"][0]["status"] == "applied"
    r = push(tm2, [mutation("mediation_case", case["id"], {"parties": p2}, base_rev=1)])
    res = r.json()["results"][0]
    assert res["status"] == "conflict", res
    (f,) = res["conflicts"]
    assert_parties(f["client_value"], h.phone(4, 0), h.id_number(4, 0), unmasked=False)
    assert_parties(f["server_value"], h.phone(4, 0), h.id_number(4, 0), unmasked=False)
    assert h.phone(4, 0) not in r.text
    # the village mediator sees the same conflict unmasked
    got = world.c("M").get(f"/api/v1/conflicts/{res['conflict_id']}").json()
    assert_parties(got["fields"][0]["client_value"], h.phone(4, 0), h.id_number(4, 0), unmasked=True)


def test_unmasked_conflicts_are_audited(world):
    seed = world.seeds["W"]
    audit = Audit(world, "M")
    r = world.c("M").get(f"/api/v1/conflicts/{seed.conflict_id}")
    assert seed.phones[2] in r.text
    audit.expect({seed.case_id})
    audit = Audit(world, "M")
    r = world.c("M").get("/api/v1/conflicts", params={"status": "all"})
    assert seed.phones[2] in r.text
    audit.expect({seed.case_id})
    # a masked viewer's conflict reads write none
    audit = Audit(world, "TV")
    r = world.c("TV").get(f"/api/v1/conflicts/{seed.conflict_id}")
    assert r.status_code == 200 and seed.phones[2] not in r.text
    audit.expect(set())


def test_read_only_roles_push_nothing_stored(world):
    for short in ("TV", "CA"):
        before = h.count(world.engine, "mediation_case")
        case_rid, ev_rid = h.new_id(), h.new_id()
        seed = world.seeds["W"]
        muts = [mutation("mediation_case", case_rid, {"org_code": "340321108200", "title": "只读", "category": "neighbor",
                                                      "source": "patrol", "received_on": h.days_ago(2),
                                                      "risk_level": "blue", "escalation_flag": False,
                                                      "parties": [{"name": "甲", "role": "applicant"}]}),
                mutation("mediation_case", seed.case_id, {"title": "只读改"}, base_rev=5),
                mutation("mediation_case", seed.case_id, {}, base_rev=5, op="delete"),
                mutation("case_event", ev_rid, {"case_id": seed.case_id, "kind": "note",
                                                "occurred_at": "2026-11-22T09:00:00+08:00"})]
        r = push(world.c(short), muts)
        for res in r.json()["results"]:
            assert res["status"] == "rejected" and res["error"]["code"] == "forbidden", res
            assert "record" not in res
        assert h.count(world.engine, "mediation_case") == before
        assert h.row(world.engine, "case_event", ev_rid) is None
        assert h.row(world.engine, "mediation_case", seed.case_id)["title"] != "只读改"


def test_township_admin_manages_sessions_only_in_its_township(world):
    # tangji.admin cannot see nor revoke a 万福镇 session; wanfu.admin cannot revoke a 唐集镇 one
    victim, sid, _ = _login_with_session(world, "wanfu.viewer")
    h.assert_error(world.c("OA").delete(f"/api/v1/sessions/{sid}"), 404, "not_found")
    assert sid not in {i["id"] for i in world.c("OA").get("/api/v1/sessions").json()["items"]}
    assert victim.get("/api/v1/me").status_code == 200
    victim2, sid2, _ = _login_with_session(world, "tangji.admin")
    h.assert_error(world.c("TA").delete(f"/api/v1/sessions/{sid2}"), 404, "not_found")
    assert victim2.get("/api/v1/me").status_code == 200
    # bad ids in the path are a 422 in the one shape
    h.assert_error(world.c("TA").delete("/api/v1/sessions/not-a-uuid"), 422, "validation_error")
    _ = uuid
