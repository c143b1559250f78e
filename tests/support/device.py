"""A simulated phone: a logged-in HTTP client with its own client_id, outbox and local replica."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

# The test databases' accounts (demo usernames) get this password, not the public demo password: the
# servers under test run outside demo mode, where the demo password never opens a session.
PASSWORD = "harness-only-password-2026"


def login(base: str, username: str, client_id: str | None = None, transport: httpx.BaseTransport | None = None,
          lang: str = "zh-CN") -> httpx.Client:
    client_id = client_id or str(uuid.uuid4())
    c = httpx.Client(base_url=base, timeout=30, transport=transport, headers={"Accept-Language": lang})
    r = c.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD, "client_id": client_id})
    r.raise_for_status()
    c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    c.client_id = client_id  # type: ignore[attr-defined]
    c.username = username  # type: ignore[attr-defined]
    return c


def mutation(entity: str, record_id: str, fields: dict, base_rev: int = 0, op: str = "upsert",
             **extra: Any) -> dict:
    return {"mutation_id": str(uuid.uuid4()), "entity": entity, "op": op, "record_id": record_id,
            "base_rev": base_rev, "fields": fields, **extra}


def new_case_fields(org_code: str = "340321108200", **over: Any) -> dict:
    fields = {"org_code": org_code, "title": "邻里排水纠纷", "category": "neighbor", "source": "party_request",
              "received_on": "2026-11-20", "risk_level": "blue", "escalation_flag": False,
              "parties": [{"name": "张三", "role": "applicant", "phone": "13812345678",
                           "id_number": "340321199001011236"},
                          {"name": "李四", "role": "respondent"}]}
    fields.update(over)
    return fields


def push(client: httpx.Client, mutations: list[dict], **kw) -> httpx.Response:
    return client.post("/api/v1/sync/push", json={"client_id": client.client_id, "mutations": mutations}, **kw)


def pull_all(client: httpx.Client, cursor: str | None = None, limit: int = 500) -> tuple[list[dict], str]:
    changes: list[dict] = []
    while True:
        params = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        r = client.get("/api/v1/sync/pull", params=params)
        r.raise_for_status()
        body = r.json()
        changes += body["changes"]
        cursor = body["cursor"]
        if not body["has_more"]:
            return changes, cursor


@dataclass
class Device:
    """Keeps an outbox and a replica the way the PWA does, for convergence tests."""

    client: httpx.Client
    replica: dict[tuple[str, str], dict] = field(default_factory=dict)
    outbox: list[dict] = field(default_factory=list)
    acked: list[dict] = field(default_factory=list)
    cursor: str | None = None

    def sync(self) -> list[dict]:
        results: list[dict] = []
        if self.outbox:
            r = push(self.client, self.outbox)
            r.raise_for_status()
            results = r.json()["results"]
            keep = []
            for m, res in zip(self.outbox, results, strict=True):
                if res["status"] == "rejected" and res["error"]["code"] == "unknown_record":
                    keep.append(m)
                else:
                    self.acked.append(m)
            self.outbox = keep
        self.pull()
        return results

    def pull(self) -> None:
        r = self.client.get("/api/v1/sync/pull", params={"cursor": self.cursor} if self.cursor else {})
        if r.status_code == 409 and r.json()["code"] == "reset_required":
            self.replica.clear()
            self.cursor = None
            self.outbox = self.acked + self.outbox
            self.acked = []
            return self.sync() and None
        r.raise_for_status()
        while True:
            body = r.json()
            for ch in body["changes"]:
                self.replica[(ch["entity"], ch["record"]["id"])] = ch["record"]
            self.cursor = body["cursor"]
            if not body["has_more"]:
                return
            r = self.client.get("/api/v1/sync/pull", params={"cursor": self.cursor})
            r.raise_for_status()
