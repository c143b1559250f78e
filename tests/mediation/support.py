"""A case as a device holds it: create, update with the rev it last saw, and read back."""

from __future__ import annotations

import uuid
from datetime import timedelta

from tests.api import helpers as h
from tests.support.device import mutation, new_case_fields, push

AGREEMENT = {"form": "written", "terms": "甲方修复排水沟，乙方不再堵塞", "amount": "1200.00",
             "performance": "一次性", "signed_on": None}


class Case:
    def __init__(self, client, org: str = "340321108200", **over):
        self.client = client
        self.id = str(uuid.uuid4())
        fields = new_case_fields(org, **{"received_on": h.days_ago(2), **over})
        res = push(client, [mutation("mediation_case", self.id, fields)]).json()["results"][0]
        assert res["status"] == "applied", res
        self.record = res["record"]
        self.rev = self.record["rev"]

    def update(self, client=None, **fields) -> dict:
        c = client or self.client
        res = push(c, [mutation("mediation_case", self.id, fields, base_rev=self.rev)]).json()["results"][0]
        if res["status"] in ("applied", "merged"):
            self.record = res["record"]
            self.rev = self.record["rev"]
        return res

    def ok(self, client=None, **fields) -> dict:
        res = self.update(client, **fields)
        assert res["status"] == "applied", res
        return res["record"]

    def rejected(self, code: str, field: str | None = None, client=None, **fields) -> dict:
        before = self.rev
        res = self.update(client, **fields)
        assert res["status"] == "rejected", res
        assert res["error"]["code"] == "validation_error", res
        pairs = {(d["field"], d["code"]) for d in res["error"]["details"]}
        assert any(c == code and (field is None or f == field) for f, c in pairs), (code, field, res)
        assert self.rev == before
        return res

    def get(self, client=None) -> dict:
        r = (client or self.client).get(f"/api/v1/mediation-cases/{self.id}")
        assert r.status_code == 200, r.text
        return r.json()

    def to(self, status: str) -> None:
        """Drive the case to ``status`` through allowed transitions."""
        for step in PATHS[status]:
            extra = {}
            if step == "agreed":
                extra["agreement"] = dict(AGREEMENT, signed_on=h.today().isoformat())
            if step in ("declined", "terminated", "referred"):
                extra["outcome_note"] = "已告知当事人可向法院起诉"
            self.ok(status=step, **extra)


PATHS = {
    "registered": [],
    "mediating": ["mediating"],
    "agreed": ["mediating", "agreed"],
    "fulfilling": ["mediating", "agreed", "fulfilling"],
    "fulfilled": ["mediating", "agreed", "fulfilled"],
    "archived": ["mediating", "agreed", "fulfilled", "archived"],
    "declined": ["declined"],
    "terminated": ["mediating", "terminated"],
    "referred": ["referred"],
}


def plus_days(iso: str, n: int) -> str:
    from datetime import date

    return (date.fromisoformat(iso) + timedelta(days=n)).isoformat()
