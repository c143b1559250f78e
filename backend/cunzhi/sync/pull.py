"""The change feed: everything in the caller's scope after the cursor, each record once at its latest state."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cunzhi.core.clock import today_shanghai
from cunzhi.core.config import get_settings
from cunzhi.core.db import dicts, scope_codes
from cunzhi.core.errors import AppError
from cunzhi.core.scope import Scope
from cunzhi.sync import state, watermark
from cunzhi.sync.cursor import Cursor, decode_cursor, encode_cursor, now_ts
from cunzhi.sync.models import SyncFeed
from cunzhi.sync.mutation import _chunks
from cunzhi.sync.present import present_records
from cunzhi.sync.record import by_ids
from cunzhi.sync.registry import entities

feed_t = SyncFeed.__table__


@functools.cache
def _feed_stmt(some_entities: bool, codes: int = 0) -> sa.Select:
    """The feed after a position, oldest first, built once per shape (run per pull). ``codes`` 0: over a scope's
    range of org codes (``lo``, ``hi``), sorted; n ≥ 1: the first rows of each of n org codes (``code0``…) read in
    the (org_code, seq) index's order and merged — the same rows in the same order, without reading and sorting
    the whole scope's feed for every page (``codes_in_scope``)."""
    def first_rows(where: Any) -> sa.Select:
        q = sa.select(feed_t.c.entity, feed_t.c.record_id, feed_t.c.seq).where(feed_t.c.seq > sa.bindparam("start"),
                                                                               where)
        if some_entities:
            q = q.where(feed_t.c.entity.in_(sa.bindparam("entities", expanding=True)))
        return q.order_by(feed_t.c.seq).limit(sa.bindparam("limit", type_=sa.Integer))

    oc = feed_t.c.org_code
    if codes == 0:
        return first_rows(sa.and_(oc >= sa.bindparam("lo"), oc < sa.bindparam("hi")))
    if codes == 1:
        return first_rows(oc == sa.bindparam("code0"))
    merged = sa.union_all(*[sa.select(first_rows(oc == sa.bindparam(f"code{i}")).subquery())
                            for i in range(codes)]).subquery()
    return sa.select(merged).order_by(merged.c.seq).limit(sa.bindparam("limit", type_=sa.Integer))


def _feed(conn: Connection, viewer: Scope, params: dict[str, Any]) -> Sequence[Any]:
    lo, hi = viewer.bounds()
    codes = scope_codes(conn, feed_t, lo, hi)
    some = viewer.entities is not None
    if codes is None:
        return conn.execute(_feed_stmt(some), {**params, "lo": lo, "hi": hi}).all()
    if not codes:
        return []
    return conn.execute(_feed_stmt(some, len(codes)), params | {f"code{i}": c for i, c in enumerate(codes)}).all()


def pull(conn: Connection, viewer: Scope, cursor_text: str | None, limit: int) -> dict:
    """Changes in the viewer's scope after the cursor, each record once at its latest state, in order."""
    before = watermark.seen(conn)  # before the first read (a push committing meanwhile is not a restore)
    epoch = state.current_epoch(conn)
    top = state.read_counter(conn, "seq")
    high = watermark.behind(conn, epoch, top, before)
    if high is not None:
        raise watermark.RestoreDetected(epoch, high)  # the route marks it restored, then pulls again
    key = state.cursor_key(conn)
    start = 0
    if cursor_text:
        c = decode_cursor(cursor_text, key)
        if c.epoch == epoch and c.seq > top:
            # a cursor of this epoch ahead of the feed: the database was restored (also onto another host)
            raise watermark.RestoreDetected(epoch, c.seq)
        retention = get_settings().retention_days * 86400
        if c.epoch != epoch or c.scope != viewer.signature or now_ts() - c.issued > retention:
            raise AppError(409, "reset_required")
        start = c.seq
    params: dict[str, Any] = {"start": start, "limit": limit + 1}
    if viewer.entities is not None:  # an API key limited to some record types
        params["entities"] = sorted(viewer.entities)
    feed = _feed(conn, viewer, params)
    has_more = len(feed) > limit
    feed = feed[:limit]
    by_entity: dict[str, list[str]] = {}
    for e, rid, _ in feed:
        by_entity.setdefault(e, []).append(rid)
    rows: dict[tuple[str, str], Any] = {}
    registry = entities()
    for e, ids in by_entity.items():
        stmt = by_ids(conn.dialect.name, registry[e].table)
        for chunk in _chunks(ids, 500):
            for r in dicts(conn.execute(stmt, {"ids": chunk})):
                rows[(e, r["id"])] = r
    today = today_shanghai()
    found = [(e, r) for e, rid, _ in feed if (r := rows.get((e, rid))) is not None]
    # each entity's records rendered together (through the render cache), then taken in feed order
    shown = {e: iter(present_records(registry[e], [r for x, r in found if x == e], viewer, today)) for e in by_entity}
    changes = [{"entity": e, "record": next(shown[e])} for e, _ in found]
    position = feed[-1][2] if has_more else max(top, start)
    return {"changes": changes, "cursor": encode_cursor(Cursor(epoch, position, viewer.signature, now_ts()), key),
            "has_more": has_more, "server_epoch": epoch, "top": top}
