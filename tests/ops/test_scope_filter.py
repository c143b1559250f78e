""""One scope" cannot be forgotten: every query the API runs on a registered entity's table for a caller is
filtered by that caller's scope, or is a key lookup checked afterwards (tests/ops/scope_audit.py). Every GET
route of the API (read from its OpenAPI schema, so a new record type's routes are covered without a new row),
pushes and pulls are driven as users of a village, a township, another township and the county; and the audit
itself is shown to fail on a deliberately unscoped query."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.ops.scope_audit import auditing, unscoped_route
from tests.support.device import login, mutation, new_case_fields, pull_all, push
from tests.support.server import ThreadServer
from tests.sync.util import upd

USERS = ["wanfucun.mediator", "zhendong.mediator", "wanfu.admin", "tangji.admin", "county.admin"]


@pytest.fixture
def db_kind() -> str:
    return "sqlite"  # the statements' shape is the same on both databases


def _seed(base: str) -> dict[str, str]:
    """A case (with an event and a conflict) in 万福村 and a case in 镇东村; returns ids by kind."""
    m = login(base, "wanfucun.mediator")
    va = login(base, "wanfucun.admin")
    z = login(base, "zhendong.mediator")
    w_case, z_case = str(uuid.uuid4()), str(uuid.uuid4())
    res = push(m, [mutation("mediation_case", w_case, new_case_fields()),
                   mutation("case_event", str(uuid.uuid4()), {"case_id": w_case, "kind": "session",
                                                              "occurred_at": "2026-11-21T09:00:00+08:00",
                                                              "content": "第一次调解"})]).json()["results"]
    assert [r["status"] for r in res] == ["applied", "applied"], res
    assert push(z, [mutation("mediation_case", z_case, new_case_fields("340321108201"))]).json()["results"][0][
        "status"] == "applied"
    assert push(m, [upd(w_case, 1, title="甲改")]).json()["results"][0]["status"] == "applied"
    conflict = push(va, [upd(w_case, 1, title="乙改")]).json()["results"][0]
    assert conflict["status"] == "conflict"
    for c in (m, va, z):
        c.close()
    return {"w_case": w_case, "z_case": z_case, "conflict": conflict["conflict_id"]}


def _get_paths(base: str, ids: dict[str, str]) -> list[str]:
    import httpx

    schema = httpx.get(base + "/api/v1/openapi.json").json()
    paths = []
    for path, ops in schema["paths"].items():
        if "get" not in ops:
            continue
        if "{case_id}" in path:
            paths += [path.replace("{case_id}", ids["w_case"]), path.replace("{case_id}", ids["z_case"])]
        elif "{conflict_id}" in path:
            paths.append(path.replace("{conflict_id}", ids["conflict"]))
        else:
            paths.append(re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path))  # any other record: an id lookup
    paths += ["/api/v1/mediation-cases?status=registered&risk_level=blue", "/api/v1/mediation-cases?org_code=340321108200",
              "/api/v1/mediation-cases?q=%E7%BA%A0%E7%BA%B7&include_deleted=true", "/api/v1/conflicts?status=all"]
    return paths


def test_every_query_on_an_entity_table_is_scoped(server):
    ids = _seed(server.base)
    paths = _get_paths(server.base, ids)
    with auditing() as audit:
        for username in USERS:
            client = login(server.base, username)
            org = client.get("/api/v1/me").json()["org_code"]
            audit.caller = (username, org)
            for path in paths:
                r = client.get(path)
                assert r.status_code < 500, (username, path, r.status_code)
            pull_all(client)
            # a write in and one out of scope, an update by id, a replay
            own = mutation("mediation_case", str(uuid.uuid4()), new_case_fields(org if len(org) == 12 else "340321108200"))
            push(client, [own, upd(ids["w_case"], 2, place="某地"), upd(ids["z_case"], 1, place="某地")])
            push(client, [own])
            audit.caller = None
            client.close()
    assert audit.checked > 50, audit.checked  # the audit saw the entity queries
    assert audit.violations == [], "\n".join(map(str, audit.violations))


def test_the_audit_catches_an_unscoped_query(database, monkeypatch):
    import cunzhi.main

    real = cunzhi.main.create_app

    def with_a_leak():
        app = real()
        app.include_router(unscoped_route())
        app.router.routes.insert(0, app.router.routes.pop())  # before the PWA's catch-all
        return app

    monkeypatch.setattr(cunzhi.main, "create_app", with_a_leak)
    with ThreadServer() as srv:
        _seed(srv.base)
        client = login(srv.base, "zhendong.mediator")
        with auditing() as audit:
            audit.caller = ("zhendong.mediator", "340321108201")
            assert client.get("/api/v1/mediation-cases").status_code == 200  # the real list: scoped
            assert audit.violations == []
            r = client.get("/api/v1/leaky-open-cases")
            assert r.status_code == 200 and r.json()["ids"], r.text  # it did leak 万福村's case to 镇东村
        assert [(v.caller, v.table) for v in audit.violations] == [("zhendong.mediator", "mediation_case")]
        assert "mediation_case.deleted" in audit.violations[0].statement
