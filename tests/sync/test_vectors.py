"""Replays the shared JSON vectors (tests/vectors/sync/*.json) against the real server; the PWA replays
the same files, so the two sides cannot drift apart. Format: tests/vectors/sync/README.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.sync.util import get_case, login, push

VECTOR_DIR = Path(__file__).resolve().parents[1] / "vectors" / "sync"
VECTORS = sorted(VECTOR_DIR.glob("*.json"))
PLACEHOLDER = "$conflict_id:"


def test_there_are_vectors():
    names = {p.stem for p in VECTORS}
    assert len(names) >= 8
    assert {"create", "lost_answer_duplicate", "batch_with_one_invalid", "merge_different_fields",
            "conflict_same_field", "resolve_via_push", "delete_vs_edit", "unknown_record_then_create"} <= names
    for p in VECTORS:
        v = json.loads(p.read_text())
        assert set(v) == {"name", "description", "users", "steps", "expect_server"}, p.name
        assert v["name"] == p.stem
        for step in v["steps"]:
            assert set(step) == {"as", "push", "answer"} and step["as"] in v["users"]
            assert len(step["push"]) == len(step["answer"])


def _substitute(value, conflict_ids: dict[str, str]):
    if isinstance(value, str) and value.startswith(PLACEHOLDER):
        return conflict_ids[value[len(PLACEHOLDER):]]
    if isinstance(value, dict):
        return {k: _substitute(v, conflict_ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, conflict_ids) for v in value]
    return value


def _subset(expected: dict, got: dict | None, where: str) -> None:
    assert got is not None, f"{where}: no record"
    for k, v in expected.items():
        assert k in got, f"{where}: no field {k}"
        assert got[k] == v, f"{where}: {k} = {got[k]!r}, expected {v!r}"


# the read API of each entity a vector may name (grid work, issue 7: patrol, incident, household)
READ_PATHS = {"patrol": "/api/v1/patrols", "incident": "/api/v1/incidents", "household": "/api/v1/households"}


def _read(client, v: dict, rid: str) -> dict:
    entity = next((m["entity"] for s in v["steps"] for m in s["push"] if m["record_id"] == rid), "mediation_case")
    if entity not in READ_PATHS:
        return get_case(client, rid)
    r = client.get(f"{READ_PATHS[entity]}/{rid}")
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.stem)
def test_vector(path, server):
    v = json.loads(path.read_text())
    clients = {key: login(server.base, u["username"], u["client_id"]) for key, u in v["users"].items()}
    conflict_ids: dict[str, str] = {}
    try:
        for i, step in enumerate(v["steps"]):
            mutations = _substitute(step["push"], conflict_ids)
            r = push(clients[step["as"]], mutations)
            assert r.status_code == 200, f"step {i}: {r.text}"
            results = r.json()["results"]
            assert len(results) == len(step["answer"])
            for j, (exp, got) in enumerate(zip(step["answer"], results, strict=True)):
                where = f"{v['name']} step {i} result {j}"
                assert got["mutation_id"] == exp["mutation_id"], where
                assert got["status"] == exp["status"], f"{where}: {got}"
                assert got.get("original_status") == exp.get("original_status"), f"{where}: {got}"
                assert (got.get("error") or {}).get("code") == exp.get("error_code"), f"{where}: {got}"
                assert (got.get("conflicts") or []) == exp.get("conflicts", []), f"{where}: {got}"
                if got["status"] == "conflict":
                    assert got.get("conflict_id"), where
                if got.get("conflict_id"):
                    conflict_ids[got["mutation_id"]] = got["conflict_id"]
                if "record" in exp:
                    _subset(exp["record"], got.get("record"), where)
                if got["status"] == "rejected" or (got.get("original_status") == "rejected"):
                    assert not got.get("record") or got["error"]["code"] != "forbidden", where
        reader = clients[next(iter(v["users"]))]
        for rid, exp in v["expect_server"].items():
            _subset(exp, _read(reader, v, rid), f"{v['name']} expect_server {rid}")
    finally:
        for c in clients.values():
            c.close()
