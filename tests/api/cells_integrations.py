"""Permission-matrix cells of the integration routes (API keys, webhooks, notices).

Township and county admins manage what lies in their scope; everyone else is 403; a key or endpoint of
another scope answers 404 exactly like one that does not exist. Notices are each person's own."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from tests.api import helpers as h
from tests.api.conftest import ORDER, World

MANAGES = {"TA", "OA", "CA"}


def _row(text: str) -> dict[str, str]:
    vals = text.split()
    assert len(vals) == len(ORDER), text
    return dict(zip(ORDER, vals, strict=True))


_MANAGERS_OK = _row("403  403  403  403  403  ok   403  403  ok   ok")
_MANAGERS_404 = _row("403  403  403  403  403  404  403  403  404  404")
_MANAGERS_HIDDEN = _row("403  403  403  403  403  hidden 403  403  hidden hidden")
EXPECT_INTEGRATIONS: dict[str, dict[str, dict[str, str]]] = {
    cell: {"own": _MANAGERS_OK, "other": _MANAGERS_404}
    for cell in ("api_key_create", "api_key_revoke", "webhook_create", "webhook_get", "webhook_patch",
                 "webhook_delete", "webhook_deliveries", "webhook_replay")
} | {cell: {"own": _MANAGERS_OK, "other": _MANAGERS_HIDDEN} for cell in ("api_key_list", "webhook_list")} | {"notices_list": {"own": _row(" ".join(["ok"] * 10)), "other": _row(" ".join(["hidden"] * 10))},
     "notice_read": {"own": _row(" ".join(["ok"] * 10)), "other": _row(" ".join(["404"] * 10))}}
ROUTES_INTEGRATIONS: dict[tuple[str, str], list[str]] = {
    ("POST", "/api/v1/api-keys"): ["api_key_create"],
    ("GET", "/api/v1/api-keys"): ["api_key_list"],
    ("DELETE", "/api/v1/api-keys/{key_id}"): ["api_key_revoke"],
    ("POST", "/api/v1/webhooks"): ["webhook_create"],
    ("GET", "/api/v1/webhooks"): ["webhook_list"],
    ("GET", "/api/v1/webhooks/{endpoint_id}"): ["webhook_get"],
    ("PATCH", "/api/v1/webhooks/{endpoint_id}"): ["webhook_patch"],
    ("DELETE", "/api/v1/webhooks/{endpoint_id}"): ["webhook_delete"],
    ("GET", "/api/v1/webhooks/{endpoint_id}/deliveries"): ["webhook_deliveries"],
    ("POST", "/api/v1/webhooks/{endpoint_id}/replay"): ["webhook_replay"],
    ("GET", "/api/v1/notices"): ["notices_list"],
    ("POST", "/api/v1/notices/{notice_id}/read"): ["notice_read"],
}
# the unit whose keys/endpoints a manager reaches ("own") and one it does not ("other")
_ORG = {"TA": "340321108", "OA": "340321109", "CA": "340321"}
_OTHER_ORG = {"TA": "340321109", "OA": "340321108200", "CA": "340322100200"}
_NOT_MANAGER_ORG = "340321108200"


def _units(short: str) -> tuple[str, str]:
    return _ORG.get(short, _NOT_MANAGER_ORG), _OTHER_ORG.get(short, "340321109")


def _key_in(world: World, org: str) -> dict:
    from cunzhi.integrations.keys import create_key

    with world.engine.begin() as conn:
        return create_key(conn, name="矩阵", org_code=org, entities=None, expires_on=None, unmasked=False,
                          creator=None)


def _endpoint_in(world: World, org: str) -> dict:
    ep = {"id": str(uuid.uuid4()), "url": "https://hooks.example.org/cunzhi", "org_code": org,
          "entities": ["mediation_case"], "events": ["created"], "secret": "whsec_" + "A" * 32,
          "created_by": None, "created_at": sa.func.now(), "paused": True}
    with world.engine.begin() as conn:
        conn.execute(sa.text("insert into webhook_endpoint (id, url, org_code, entities, events, secret, "
                             "created_at, paused) values (:id, :url, :org, :ent, :ev, :s, CURRENT_TIMESTAMP, :p)"),
                     {"id": ep["id"], "url": ep["url"], "org": org, "ent": '["mediation_case"]',
                      "ev": '["created"]', "s": ep["secret"], "p": True})  # paused: the worker sends nothing
    return ep


def _expect(r, exp: str, ok_status: int = 200) -> dict | None:
    if exp in ("ok", "hidden"):
        assert r.status_code == ok_status, r.text
        return r.json() if r.status_code != 204 else None
    h.assert_error(r, int(exp), "forbidden" if exp == "403" else "not_found")
    return None


def cell_api_key_create(world: World, short: str, scope: str, exp: str) -> None:
    own, other = _units(short)
    r = world.c(short).post("/api/v1/api-keys", json={"name": "矩阵", "org_code": own if scope == "own" else other})
    body = _expect(r, exp, 201)
    if body:
        assert body["secret"].startswith("czk_") and body["org_code"] == own
    else:
        assert "czk_" not in r.text


def cell_api_key_list(world: World, short: str, scope: str, exp: str) -> None:
    own, other = _units(short)
    key = _key_in(world, own if scope == "own" else other)
    r = world.c(short).get("/api/v1/api-keys")
    body = _expect(r, exp)
    if body is not None:
        assert (key["id"] in {k["id"] for k in body["items"]}) is (exp == "ok")
        assert all(k["org_code"].startswith(own) for k in body["items"])
        assert key["secret"] not in r.text and '"secret"' not in r.text


def cell_api_key_revoke(world: World, short: str, scope: str, exp: str) -> None:
    own, other = _units(short)
    key = _key_in(world, own if scope == "own" else other)
    r = world.c(short).delete(f"/api/v1/api-keys/{key['id']}")
    body = _expect(r, exp)
    with world.engine.connect() as conn:
        revoked = conn.execute(sa.text("select revoked_at from api_key where id = :i"), {"i": key["id"]}).scalar()
    assert (revoked is not None) is (body is not None)
    h.assert_error(world.c(short).delete(f"/api/v1/api-keys/{h.new_id()}"), 403 if exp == "403" else 404)


def cell_webhook_create(world: World, short: str, scope: str, exp: str) -> None:
    own, other = _units(short)
    r = world.c(short).post("/api/v1/webhooks", json={"url": "https://hooks.example.org/cunzhi", "entities": ["mediation_case"],
                                                      "events": ["created"], "org_code": own if scope == "own" else other})
    body = _expect(r, exp, 201)
    if body:
        assert body["secret"].startswith("whsec_")
        # gone at once: the shared world's later pushes must not send anything anywhere
        assert world.c(short).delete(f"/api/v1/webhooks/{body['id']}").status_code == 204
    else:
        assert "whsec_" not in r.text


def _endpoint_cell(world: World, short: str, scope: str, exp: str, method: str, suffix: str = "",
                   json: dict | None = None, ok_status: int = 200) -> dict | None:
    own, other = _units(short)
    ep = _endpoint_in(world, own if scope == "own" else other)
    r = world.c(short).request(method, f"/api/v1/webhooks/{ep['id']}{suffix}", json=json)
    body = _expect(r, exp, ok_status)
    assert ep["secret"] not in r.text
    return body if body is not None or (exp == "ok" and ok_status == 204) else None


def cell_webhook_list(world: World, short: str, scope: str, exp: str) -> None:
    own, other = _units(short)
    ep = _endpoint_in(world, own if scope == "own" else other)
    r = world.c(short).get("/api/v1/webhooks")
    body = _expect(r, exp)
    if body is not None:
        assert (ep["id"] in {e["id"] for e in body["items"]}) is (exp == "ok")
        assert "whsec_" not in r.text


def cell_webhook_get(world: World, short: str, scope: str, exp: str) -> None:
    body = _endpoint_cell(world, short, scope, exp, "GET")
    if body:
        assert body["url"] == "https://hooks.example.org/cunzhi"


def cell_webhook_patch(world: World, short: str, scope: str, exp: str) -> None:
    body = _endpoint_cell(world, short, scope, exp, "PATCH", json={"paused": True})
    if body:
        assert body["paused"] is True


def cell_webhook_delete(world: World, short: str, scope: str, exp: str) -> None:
    _endpoint_cell(world, short, scope, exp, "DELETE", ok_status=204)


def cell_webhook_deliveries(world: World, short: str, scope: str, exp: str) -> None:
    body = _endpoint_cell(world, short, scope, exp, "GET", "/deliveries")
    if body is not None:
        assert body["items"] == []


def cell_webhook_replay(world: World, short: str, scope: str, exp: str) -> None:
    body = _endpoint_cell(world, short, scope, exp, "POST", "/replay", json={"since": "2026-01-01T00:00:00+08:00"})
    if body is not None:
        assert body == {"replayed": 0}


def _notice_for(world: World, username: str) -> str:
    nid = str(uuid.uuid4())
    with world.engine.begin() as conn:
        uid = conn.execute(sa.text("select id from app_user where username = :u"), {"u": username}).scalar_one()
        conn.execute(sa.text("insert into user_notice (id, user_id, code, params, created_at) "
                             "values (:i, :u, 'webhook_disabled', :p, CURRENT_TIMESTAMP)"),
                     {"i": nid, "u": uid, "p": '{"url": "https://example.com/x", "endpoint_id": "e"}'})
    return nid


def _someone_else(short: str) -> str:
    from tests.api.conftest import USERS

    return USERS["M" if short != "M" else "G"]


def cell_notices_list(world: World, short: str, scope: str, exp: str) -> None:
    from tests.api.conftest import USERS

    nid = _notice_for(world, USERS[short] if scope == "own" else _someone_else(short))
    r = world.c(short).get("/api/v1/notices")
    assert r.status_code == 200, r.text
    assert (nid in {n["id"] for n in r.json()["items"]}) is (exp == "ok")


def cell_notice_read(world: World, short: str, scope: str, exp: str) -> None:
    from tests.api.conftest import USERS

    nid = _notice_for(world, USERS[short] if scope == "own" else _someone_else(short))
    r = world.c(short).post(f"/api/v1/notices/{nid}/read")
    body = _expect(r, exp)
    if body:
        assert body["read_at"]
