"""Small helpers shared by the sync tests (all over real HTTP)."""

from __future__ import annotations

import uuid

import httpx

from tests.support.device import login, mutation, new_case_fields, pull_all, push

__all__ = ["login", "mutation", "new_case_fields", "pull_all", "push", "uid", "create_case", "one", "get_case",
           "records", "conflict_list", "get_conflict", "resolve", "is_push", "history", "upd", "delete"]


def uid() -> str:
    return str(uuid.uuid4())


def is_push(method: str, path: str) -> bool:
    return method == "POST" and path.startswith("/api/v1/sync/push")


def one(client: httpx.Client, m: dict) -> dict:
    """Push one mutation; its result."""
    r = push(client, [m])
    assert r.status_code == 200, r.text
    return r.json()["results"][0]


def create_case(client: httpx.Client, **over) -> dict:
    """Create a case in 万福村 and return its record (rev 1)."""
    rid = uid()
    res = one(client, mutation("mediation_case", rid, new_case_fields(**over)))
    assert res["status"] == "applied", res
    return res["record"]


ENVELOPE = ("resolves_conflict", "client_time", "base_epoch", "mutation_id")


def upd(record_id: str, base_rev: int, **fields) -> dict:
    """An update of a case; ``resolves_conflict``, ``client_time``, ``base_epoch`` go on the mutation."""
    extra = {k: fields.pop(k) for k in ENVELOPE if k in fields}
    return mutation("mediation_case", record_id, fields, base_rev=base_rev, **extra)


def delete(record_id: str, base_rev: int, **extra) -> dict:
    return mutation("mediation_case", record_id, {}, base_rev=base_rev, op="delete", **extra)


def get_case(client: httpx.Client, record_id: str) -> dict:
    r = client.get(f"/api/v1/mediation-cases/{record_id}")
    assert r.status_code == 200, r.text
    return r.json()


def history(client: httpx.Client, record_id: str) -> list[dict]:
    r = client.get(f"/api/v1/mediation-cases/{record_id}/history")
    assert r.status_code == 200, r.text
    return r.json()["items"]


def records(client: httpx.Client, cursor: str | None = None, limit: int = 500) -> dict[str, dict]:
    """Everything the caller's scope holds (a fresh pull unless ``cursor``), by record id; checks once-only."""
    changes, _ = pull_all(client, cursor, limit)
    ids = [c["record"]["id"] for c in changes]
    assert len(ids) == len(set(ids)), "a record came twice in one pull"
    return {c["record"]["id"]: c["record"] for c in changes}


def conflict_list(client: httpx.Client, **params) -> list[dict]:
    r = client.get("/api/v1/conflicts", params=params)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def get_conflict(client: httpx.Client, conflict_id: str) -> dict:
    r = client.get(f"/api/v1/conflicts/{conflict_id}")
    assert r.status_code == 200, r.text
    return r.json()


def resolve(client: httpx.Client, conflict_id: str, base_rev: int, choices: dict) -> httpx.Response:
    return client.post(f"/api/v1/conflicts/{conflict_id}/resolve", json={"base_rev": base_rev, "choices": choices})
