"""Shared by the six-no, nomination and points tests: a fresh database and real server per test, fast
logins of the demo accounts, and records made the way phones make them (pushes)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import httpx
import pytest

from tests.api import helpers as h
from tests.api.conftest import fast_login
from tests.support.device import mutation, push

W, Z = "340321108200", "340321108201"  # 万福村, 镇东村
USERS = {"VA": "wanfucun.admin", "M": "wanfucun.mediator", "G": "wanfucun.grid", "TA": "wanfu.admin",
         "TV": "wanfu.viewer", "ZA": "zhendong.admin", "OA": "tangji.admin", "CA": "county.admin",
         "TM": "wanfu.mediator"}
YEAR = h.today().year


@dataclass
class Town:
    base: str
    engine: object
    clients: dict[str, httpx.Client] = field(default_factory=dict)

    def c(self, short: str) -> httpx.Client:
        if short not in self.clients:
            self.clients[short] = fast_login(self.engine, self.base, USERS.get(short, short))
        return self.clients[short]

    def phone(self, short: str) -> httpx.Client:
        """Another device of the same user."""
        return fast_login(self.engine, self.base, USERS.get(short, short))

    def push1(self, short_or_client, entity: str, rid: str, fields: dict, base_rev: int = 0, **kw) -> dict:
        c = self.c(short_or_client) if isinstance(short_or_client, str) else short_or_client
        r = push(c, [mutation(entity, rid, fields, base_rev=base_rev, **kw)])
        assert r.status_code == 200, r.text
        return r.json()["results"][0]

    def ok(self, who, entity: str, rid: str, fields: dict, base_rev: int = 0) -> dict:
        res = self.push1(who, entity, rid, fields, base_rev)
        assert res["status"] in ("applied", "merged"), res
        return res["record"]

    def household(self, org: str = W, who: str = "VA", **over) -> dict:
        fields = {"org_code": org, "head_name": "王建国", "address": "东庄 12 号", "members": 4,
                  "phone": h.phone(7, 1), "head_id_number": h.id_number(7, 1)} | over
        return self.ok(who, "household", str(uuid.uuid4()), fields)

    def incident(self, org: str = W, typ: str = "criminal_case", at: str | None = None, who: str = "G") -> dict:
        fields = {"org_code": org, "type": typ, "severity": "serious", "title": "盗窃耕牛",
                  "occurred_at": at or f"{YEAR}-{min(h.today().month, 11):02d}-01T10:00:00+08:00"}
        return self.ok(who, "incident", str(uuid.uuid4()), fields)

    def cancel(self, incident: dict, who: str = "VA") -> dict:
        return self.ok(who, "incident", incident["id"], {"state": "cancelled"}, base_rev=incident["rev"])

    def get(self, who: str, path: str, **params) -> dict:
        r = self.c(who).get(path, params=params)
        assert r.status_code == 200, r.text
        return r.json()

    def close(self) -> None:
        for cl in self.clients.values():
            cl.close()


@pytest.fixture
def town(server, database):
    engine = h.engine_for(database)
    t = Town(server.base, engine)
    yield t
    t.close()
    engine.dispose()


def rejected(res: dict, code: str = "validation_error", field: str | None = None, detail: str | None = None) -> None:
    assert res["status"] == "rejected", res
    assert res["error"]["code"] == code, res
    if code == "forbidden":
        assert "record" not in res
    if field or detail:
        pairs = {(d["field"], d["code"]) for d in res["error"]["details"]}
        assert any((field is None or f == field) and (detail is None or c == detail) for f, c in pairs), (pairs, res)
