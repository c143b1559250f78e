"""The audit promise under group commit (api/audit.py): an answer with personal data in full leaves only after the
transaction holding its audit row has committed — also when concurrent requests share that transaction — and a
batch whose commit fails fails every request that waited on it (503 busy, the one error shape), storing nothing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from cunzhi.api import audit as audit_mod
from cunzhi.core.db import get_engine
from tests.mediation.support import Case


def _rows(action: str) -> list[dict]:
    with get_engine().connect() as conn:  # a connection of its own: only committed rows
        return [dict(r) for r in conn.execute(sa.text("SELECT user_id, action, record_ids FROM audit_entry "
                                                      "WHERE action = :a ORDER BY id"), {"a": action}).mappings()]


@contextmanager
def _held_writer(monkeypatch, fail: bool = False):
    """Every batch waits at its commit until ``release`` is set (and then fails, with ``fail``); ``batches`` holds
    the rows of each batch that reached its commit."""
    real = audit_mod.write_tx
    entered, release, batches = threading.Event(), threading.Event(), []

    @contextmanager
    def held_tx(*a, **kw):
        with real(*a, **kw) as conn:
            yield conn
            batches.append(conn.execute(sa.text("SELECT count(*) FROM audit_entry")).scalar())
            entered.set()
            assert release.wait(30)
            if fail:
                raise OperationalError("COMMIT", {}, Exception("database is locked"))

    monkeypatch.setattr(audit_mod, "write_tx", held_tx)
    try:
        yield entered, release, batches
    finally:
        release.set()
        monkeypatch.setattr(audit_mod, "write_tx", real)


def test_the_answer_leaves_after_its_audit_row_is_committed(as_user, monkeypatch):
    m = as_user("wanfucun.mediator")
    case = Case(m)
    before = len(_rows("mediation_cases.get"))
    with _held_writer(monkeypatch) as (entered, release, _), ThreadPoolExecutor(1) as pool:
        answer = pool.submit(m.get, f"/api/v1/mediation-cases/{case.id}")
        assert entered.wait(30)
        # the row is written but its transaction has not committed: the answer does not leave meanwhile
        with pytest.raises(FutureTimeout):
            answer.result(0.5)
        assert len(_rows("mediation_cases.get")) == before
        release.set()
        r = answer.result(30)
    assert r.status_code == 200 and "*" not in r.json()["parties"][0]["phone"]  # in full: audited
    rows = _rows("mediation_cases.get")[before:]
    assert [(row["action"], row["record_ids"]) for row in rows] in ([("mediation_cases.get", [case.id])],
                                                                    [("mediation_cases.get", f'["{case.id}"]')])


def test_concurrent_reads_share_a_commit_and_none_answers_before_it(as_user, monkeypatch):
    m = as_user("wanfucun.mediator")
    case = Case(m)
    clients = [as_user("wanfucun.mediator") for _ in range(5)]
    before = len(_rows("mediation_cases.get"))
    with _held_writer(monkeypatch) as (entered, release, batches), ThreadPoolExecutor(6) as pool:
        first = pool.submit(m.get, f"/api/v1/mediation-cases/{case.id}")
        assert entered.wait(30)  # the first read's batch is at its commit; the others queue behind it
        rest = [pool.submit(c.get, f"/api/v1/mediation-cases/{case.id}") for c in clients]
        deadline = threading.Event()
        for _ in range(100):  # until the five rows wait in the writer's queue
            with audit_mod._writer._cv:
                if len(audit_mod._writer._queue) == 5:
                    break
            deadline.wait(0.05)
        assert not first.done() and not any(f.done() for f in rest)
        assert len(_rows("mediation_cases.get")) == before
        entered.clear()
        release.set()
        answers = [first.result(30)] + [f.result(30) for f in rest]
    assert [a.status_code for a in answers] == [200] * 6
    assert len(_rows("mediation_cases.get")) == before + 6
    # two commits for six reads: the first alone, the five that queued meanwhile together
    assert len(batches) == 2 and batches[1] - batches[0] == 5, batches


def test_a_failed_batch_fails_every_request_that_waited_on_it(as_user, monkeypatch):
    m = as_user("wanfucun.mediator")
    case = Case(m)
    clients = [as_user("wanfucun.mediator") for _ in range(3)]
    before = len(_rows("mediation_cases.get"))
    with _held_writer(monkeypatch, fail=True) as (entered, release, _), ThreadPoolExecutor(4) as pool:
        first = pool.submit(m.get, f"/api/v1/mediation-cases/{case.id}")
        assert entered.wait(30)
        rest = [pool.submit(c.get, f"/api/v1/mediation-cases/{case.id}") for c in clients]
        for _ in range(100):
            with audit_mod._writer._cv:
                if len(audit_mod._writer._queue) == 3:
                    break
            threading.Event().wait(0.05)
        release.set()
        answers = [first.result(30)] + [f.result(30) for f in rest]
    for a in answers:  # no personal data without its audit row: the one error shape, never a 500
        assert a.status_code == 503, a.text
        body = a.json()
        assert body["code"] == "busy" and set(body) >= {"code", "message", "details"}
        assert "parties" not in body
    assert len(_rows("mediation_cases.get")) == before  # nothing half-stored
    # the writer lives on: the next read is answered and audited
    r = m.get(f"/api/v1/mediation-cases/{case.id}")
    assert r.status_code == 200 and len(_rows("mediation_cases.get")) == before + 1


def test_a_read_waiting_for_its_commit_holds_no_request_thread(database, monkeypatch):
    """The wait happens on the event loop (AuditGate), not on a handler thread: with one request thread, four
    reads still all reach the writer's queue while the first commit is held, and are answered after it."""
    from cunzhi.core.config import get_settings
    from tests.support.device import login
    from tests.support.server import ThreadServer

    monkeypatch.setenv("CUNZHI_REQUEST_THREADS", "1")
    get_settings.cache_clear()
    try:
        with ThreadServer() as srv:
            clients = [login(srv.base, "wanfucun.mediator") for _ in range(4)]
            case = Case(clients[0])
            before = len(_rows("mediation_cases.get"))
            with _held_writer(monkeypatch) as (entered, release, batches), ThreadPoolExecutor(4) as pool:
                first = pool.submit(clients[0].get, f"/api/v1/mediation-cases/{case.id}")
                assert entered.wait(30)
                rest = [pool.submit(c.get, f"/api/v1/mediation-cases/{case.id}") for c in clients[1:]]
                queued = 0
                for _ in range(200):
                    with audit_mod._writer._cv:
                        queued = len(audit_mod._writer._queue)
                    if queued == 3:
                        break
                    threading.Event().wait(0.05)
                assert queued == 3  # a handler that waited on its thread would have kept the only one
                assert not first.done() and not any(f.done() for f in rest)
                release.set()
                answers = [first.result(30)] + [f.result(30) for f in rest]
            for c in clients:
                c.close()
    finally:
        get_settings.cache_clear()
    assert [a.status_code for a in answers] == [200] * 4
    assert len(_rows("mediation_cases.get")) == before + 4 and len(batches) == 2


def test_a_push_writes_its_audit_row_in_its_own_transaction(as_user, monkeypatch):
    """A push answers records in full to a mediator: their audit row commits with the push itself (no second
    transaction behind other writers), so a push answers even while the group writer is stuck at its commit."""
    import uuid

    from tests.support.device import mutation, new_case_fields, push

    m = as_user("wanfucun.mediator")
    rid = str(uuid.uuid4())
    before = len(_rows("sync.push"))
    with _held_writer(monkeypatch) as (entered, _release, batches):
        r = push(m, [mutation("mediation_case", rid, new_case_fields())], timeout=20)
        assert r.status_code == 200, r.text
        assert "*" not in r.json()["results"][0]["record"]["parties"][0]["phone"]  # in full: audited
        assert not entered.is_set() and batches == []  # the group writer was not needed
        rows = _rows("sync.push")[before:]  # committed, seen from a connection of its own
    assert [(row["action"], row["record_ids"]) for row in rows] in ([("sync.push", [rid])],
                                                                    [("sync.push", f'["{rid}"]')])


@pytest.fixture(autouse=True)
def _writer_queue_empty():
    yield
    with audit_mod._writer._cv:
        assert not audit_mod._writer._queue
