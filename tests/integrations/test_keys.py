"""API keys over real HTTP: scope, record types, masking and audit, revocation and expiry at once, 429."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx
import pytest
import sqlalchemy as sa

from tests.support.device import mutation, new_case_fields, pull_all, push

W, Z = "340321108200", "340321108201"
PHONE, ID_NUMBER = "13812345678", "340321199001011236"


def _key_client(server, secret: str) -> httpx.Client:
    return httpx.Client(base_url=server.base, timeout=30, headers={"Authorization": f"Bearer {secret}"})


def _seed(as_user) -> dict[str, str]:
    """A case in 万福村 (with a phone and an ID number) and one in 镇东村."""
    ids = {"W": str(uuid.uuid4()), "Z": str(uuid.uuid4())}
    for who, org, key in (("wanfucun.mediator", W, "W"), ("zhendong.mediator", Z, "Z")):
        c = as_user(who)
        r = push(c, [mutation("mediation_case", ids[key], new_case_fields(org))])
        assert r.json()["results"][0]["status"] == "applied", r.text
    return ids


def _create(client: httpx.Client, **body) -> httpx.Response:
    return client.post("/api/v1/api-keys", json={"name": "县综治平台", **body})


def test_key_reads_its_subtree_masked_and_never_writes(server, as_user, database):
    ids = _seed(as_user)
    admin = as_user("wanfu.admin")
    r = _create(admin, org_code=W)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["secret"].startswith("czk_") and len(created["secret"]) > 40
    listed = admin.get("/api/v1/api-keys").json()["items"]
    assert [k["id"] for k in listed] == [created["id"]]
    assert "secret" not in listed[0] and listed[0]["last_used_at"] is None

    with _key_client(server, created["secret"]) as key:
        items = key.get("/api/v1/mediation-cases").json()["items"]
        assert [i["id"] for i in items] == [ids["W"]]  # 镇东村's case is outside the key's unit
        assert items[0]["parties"][0]["phone"] == "138****5678"
        assert items[0]["parties"][0]["id_number"] == "340321********1236"
        assert key.get(f"/api/v1/mediation-cases/{ids['Z']}").status_code == 404
        changes, _ = pull_all(key)
        assert {c["record"]["id"] for c in changes} == {ids["W"]}
        assert PHONE not in str(changes) and ID_NUMBER not in str(changes)
        # read-only: a push is refused before anything is judged
        r = key.post("/api/v1/sync/push", json={"client_id": str(uuid.uuid4()), "mutations": []})
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
    listed = admin.get("/api/v1/api-keys").json()["items"]
    assert listed[0]["last_used_at"] is not None
    engine = sa.create_engine(database)
    with engine.connect() as conn:
        audited = conn.execute(sa.text("select count(*) from audit_entry where user_id = :k"),
                               {"k": created["id"]}).scalar()
    engine.dispose()
    assert audited == 0  # a masked key returns no personal data


def test_unmasked_key_sees_and_is_audited(server, as_user, database):
    ids = _seed(as_user)
    admin = as_user("wanfu.admin")
    created = _create(admin, org_code="340321108", unmasked=True).json()
    with _key_client(server, created["secret"]) as key:
        got = key.get(f"/api/v1/mediation-cases/{ids['W']}").json()
        assert got["parties"][0]["phone"] == PHONE
    engine = sa.create_engine(database)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select record_ids from audit_entry where user_id = :k"),
                            {"k": created["id"]}).all()
    engine.dispose()
    assert len(rows) == 1 and ids["W"] in str(rows[0][0])


def test_who_may_create_what(server, as_user):
    assert _create(as_user("wanfucun.mediator"), org_code=W).status_code == 403
    county = as_user("county.admin")
    r = _create(county, org_code="340321108", unmasked=True)  # a county admin sees personal data masked
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "unmasked"
    assert _create(county, org_code="340321108").status_code == 201
    tangji = as_user("tangji.admin")
    r = _create(tangji, org_code=W)  # another township: looks absent
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert _create(tangji, org_code="999999999999").status_code == 404
    r = _create(tangji, org_code="340321109", entities=["no_such_type"])
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "entities"
    r = _create(tangji, org_code="340321109", expires_on=date.today().isoformat())
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "expires_on"
    # a key of another township is not listed, and revoking it looks like revoking nothing
    mine = _create(tangji, org_code="340321109").json()
    admin = as_user("wanfu.admin")
    assert mine["id"] not in {k["id"] for k in admin.get("/api/v1/api-keys").json()["items"]}
    assert admin.delete(f"/api/v1/api-keys/{mine['id']}").status_code == 404


def test_record_types_limit_what_a_key_sees(server, as_user):
    ids = _seed(as_user)
    mediator = as_user("wanfucun.mediator")
    event_id = str(uuid.uuid4())
    r = push(mediator, [mutation("case_event", event_id, {"case_id": ids["W"], "kind": "note",
                                                          "occurred_at": "2026-11-21T10:00:00+08:00"})])
    assert r.json()["results"][0]["status"] == "applied", r.text
    created = _create(as_user("wanfu.admin"), org_code=W, entities=["case_event"]).json()
    with _key_client(server, created["secret"]) as key:
        assert key.get("/api/v1/mediation-cases").status_code == 404
        assert key.get(f"/api/v1/mediation-cases/{ids['W']}").status_code == 404
        changes, _ = pull_all(key)
        assert [(c["entity"], c["record"]["id"]) for c in changes] == [("case_event", event_id)]


def test_revoked_and_expired_keys_are_refused_at_once(server, as_user, database):
    admin = as_user("wanfu.admin")
    created = _create(admin, org_code=W).json()
    with _key_client(server, created["secret"]) as key:
        assert key.get("/api/v1/mediation-cases").status_code == 200
        r = admin.delete(f"/api/v1/api-keys/{created['id']}")
        assert r.status_code == 200 and r.json()["revoked_at"]
        r = key.get("/api/v1/mediation-cases")
        assert r.status_code == 401 and r.json()["code"] == "key_revoked"
    other = _create(admin, org_code=W).json()
    engine = sa.create_engine(database)
    with engine.begin() as conn:
        conn.execute(sa.text("update api_key set expires_on = :d where id = :k"),
                     {"d": date.today() - timedelta(days=1), "k": other["id"]})
    engine.dispose()
    with _key_client(server, other["secret"]) as key:
        r = key.get("/api/v1/mediation-cases")
        assert r.status_code == 401 and r.json()["code"] == "key_expired"
        assert key.get("/api/v1/sync/pull").status_code == 401
    with _key_client(server, "czk_" + "a" * 52) as key:
        assert key.get("/api/v1/mediation-cases").json()["code"] == "not_authenticated"


@pytest.fixture
def slow_rate(monkeypatch):
    from cunzhi.core.config import get_settings

    monkeypatch.setenv("CUNZHI_API_KEY_RATE_PER_MINUTE", "60")
    monkeypatch.setenv("CUNZHI_API_KEY_BURST", "3")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_too_fast_answers_429_with_retry_after(server, as_user, slow_rate):
    created = _create(as_user("wanfu.admin"), org_code=W).json()
    with _key_client(server, created["secret"]) as key:
        codes = [key.get("/api/v1/mediation-cases").status_code for _ in range(6)]
        assert codes[:3] == [200, 200, 200] and 429 in codes[3:]
        r = key.get("/api/v1/mediation-cases")
        assert r.status_code == 429 and r.json()["code"] == "rate_limited"
        assert 1 <= int(r.headers["Retry-After"]) <= 2


def test_a_key_limited_to_some_record_types_finds_every_other_route_absent(server, as_user):
    """A key limited to cases reads no household, nomination, points or dashboard figure through any route (the
    roster's JSON filters, the archives, the balances, the dashboard and its export): each answers 404 as a list of
    a type it may not read does, and no answer carries the household. A key with every type still reads them."""
    household_id = str(uuid.uuid4())
    r = push(as_user("wanfucun.admin"), [mutation("household", household_id, {
        "org_code": W, "grid_code": W + "001", "head_name": "钟离守田", "address": "东庄 12 号", "members": 3,
        "tags": ["low_income"], "safe_certified_years": [date.today().year]})])
    assert r.json()["results"][0]["status"] == "applied", r.text
    admin = as_user("wanfu.admin")
    limited = _create(admin, org_code=W, entities=["mediation_case"]).json()["secret"]
    every = _create(admin, org_code=W).json()["secret"]
    year = date.today().year
    routes = ["/api/v1/households", "/api/v1/households?tags=low_income",
              f"/api/v1/households?safe_certified_year={year}", f"/api/v1/households/{household_id}",
              f"/api/v1/points/households/{household_id}", "/api/v1/points/balances", "/api/v1/points/rankings",
              "/api/v1/honours", f"/api/v1/safe-households?year={year}", "/api/v1/dashboard",
              "/api/v1/dashboard/units", "/api/v1/dashboard/mediators", "/api/v1/dashboard/compare",
              "/api/v1/dashboard/export?format=csv"]
    with _key_client(server, limited) as key:
        assert key.get("/api/v1/mediation-cases").status_code == 200
        for route in routes:
            r = key.get(route)
            assert (r.status_code, r.json()["code"]) == (404, "not_found"), (route, r.text[:300])
            assert "钟离守田" not in r.text
    with _key_client(server, every) as key:
        for route in routes:
            assert key.get(route).status_code == 200, route
        found = key.get("/api/v1/households?tags=low_income").json()["items"]
        assert [h["head_name"] for h in found] == ["钟离守田"]
        assert [h["household_id"] for h in key.get("/api/v1/points/balances").json()["items"]] == [household_id]


def test_a_key_reads_a_photo_only_of_a_record_type_it_holds(server, as_user):
    """An unmasked key limited to case events finds a case's photo absent (the 404 of a missing file); the same key
    with cases reads it."""
    from tests.api import helpers as h

    ids = _seed(as_user)
    aid = str(uuid.uuid4())
    assert h.upload(as_user("wanfucun.mediator"), aid, h.jpeg_bytes(), ids["W"]).status_code == 200
    admin = as_user("wanfu.admin")
    events_only = _create(admin, org_code=W, entities=["case_event"], unmasked=True).json()["secret"]
    with_cases = _create(admin, org_code=W, entities=["mediation_case"], unmasked=True).json()["secret"]
    with _key_client(server, events_only) as key:
        r = key.get(f"/api/v1/attachments/{aid}")
        assert r.status_code == 404
        assert h.error_body(r) == h.error_body(key.get(f"/api/v1/attachments/{uuid.uuid4()}"))
    with _key_client(server, with_cases) as key:
        r = key.get(f"/api/v1/attachments/{aid}")
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
