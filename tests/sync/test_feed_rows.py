"""The feed holds each record once, at its latest change: a push replaces the feed rows of the records it changes
— and one that only creates records (none can have a feed row yet) spends no statement on replacing any."""

from __future__ import annotations

import sqlalchemy as sa

from cunzhi.core.db import get_engine, read_tx
from cunzhi.sync.models import SyncFeed
from tests.sync.util import mutation, new_case_fields, push, uid, upd


def _pushed(client, mutations: list[dict]) -> tuple[list[str], list[str]]:
    deletes: list[str] = []

    def watch(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("DELETE FROM SYNC_FEED"):
            deletes.append(statement)

    engine = get_engine()
    sa.event.listen(engine, "before_cursor_execute", watch)
    try:
        res = push(client, mutations).json()["results"]
    finally:
        sa.event.remove(engine, "before_cursor_execute", watch)
    return [r["status"] for r in res], deletes


def _feed(ids: list[str]) -> dict[str, int]:
    t = SyncFeed.__table__
    with read_tx() as conn:
        rows = conn.execute(sa.select(t.c.record_id, t.c.seq).where(t.c.record_id.in_(ids))).all()
    assert len(rows) == len({r[0] for r in rows})  # once each
    return dict(rows)


def test_creates_replace_no_feed_rows_and_changes_do(as_user):
    m = as_user("wanfucun.mediator")
    ids = [uid() for _ in range(3)]
    statuses, deletes = _pushed(m, [mutation("mediation_case", i, new_case_fields()) for i in ids])
    assert statuses == ["applied"] * 3 and deletes == []
    first = _feed(ids)
    assert set(first) == set(ids)
    # an edit of one of them, with a create and a create-then-edit in the same push
    fresh, again = uid(), uid()
    statuses, deletes = _pushed(m, [upd(ids[0], 1, title="改"), mutation("mediation_case", fresh, new_case_fields()),
                                    mutation("mediation_case", again, new_case_fields()), upd(again, 1, title="再改")])
    assert statuses == ["applied"] * 4 and len(deletes) == 1
    now = _feed(ids + [fresh, again])
    assert now[ids[0]] > max(first.values()) and now[ids[1]] == first[ids[1]]
    assert {fresh, again} <= set(now)


def test_a_record_created_and_changed_in_one_isolated_push_keeps_one_feed_row(as_user):
    """The slow path (each mutation in its own savepoint, after a constraint error) flushes per mutation: a record
    created by one mutation already has its feed row when the next one changes it."""
    with get_engine().begin() as conn:  # a rule only the database knows: the push is judged again, isolated
        conn.execute(sa.text("CREATE UNIQUE INDEX ux_case_place ON mediation_case (place)"))
    m = as_user("wanfucun.mediator")
    rid = uid()
    statuses, deletes = _pushed(m, [mutation("mediation_case", rid, new_case_fields(place="一处")),
                                    upd(rid, 1, title="改"),
                                    mutation("mediation_case", uid(), new_case_fields(place="一处"))])
    assert statuses == ["applied", "applied", "rejected"]
    assert deletes  # the edit replaced the feed row its create had written
    assert set(_feed([rid])) == {rid}
