"""The change feed: everything in the caller's scope after the cursor, each record once at its latest state."""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cunzhi.core.clock import today_shanghai
from cunzhi.core.config import get_settings
from cunzhi.core.db import dicts
from cunzhi.core.errors import AppError
from cunzhi.core.scope import Scope
from cunzhi.sync import state, watermark
from cunzhi.sync.cursor import Cursor, decode_cursor, encode_cursor, now_ts
from cunzhi.sync.models import SyncFeed
from cunzhi.sync.mutation import _chunks
from cunzhi.sync.present import present_record
from cunzhi.sync.record import by_ids
from cunzhi.sync.registry import entities

feed_t = SyncFeed.__table__


@functools.cache
def _feed_stmt(some_entities: bool) -> sa.Select:
    """The feed after a position in a scope (org codes in [lo, hi)), oldest first; built once (run per pull)."""
    q = (sa.select(feed_t.c.entity, feed_t.c.record_id, feed_t.c.seq)
         .where(feed_t.c.seq > sa.bindparam("start"), feed_t.c.org_code >= sa.bindparam("lo"),
                feed_t.c.org_code < sa.bindparam("hi"))
         .order_by(feed_t.c.seq).limit(sa.bindparam("limit", type_=sa.Integer)))
    return q.where(feed_t.c.entity.in_(sa.bindparam("entities", expanding=True))) if some_entities else q


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
    lo, hi = viewer.bounds()
    params: dict[str, Any] = {"start": start, "lo": lo, "hi": hi, "limit": limit + 1}
    if viewer.entities is not None:  # an API key limited to some record types
        params["entities"] = sorted(viewer.entities)
    feed = conn.execute(_feed_stmt(viewer.entities is not None), params).all()
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
    changes = []
    for e, rid, _ in feed:
        r = rows.get((e, rid))
        if r is not None:
            changes.append({"entity": e, "record": present_record(registry[e], r, viewer, today)})
    position = feed[-1][2] if has_more else max(top, start)
    return {"changes": changes, "cursor": encode_cursor(Cursor(epoch, position, viewer.signature, now_ts()), key),
            "has_more": has_more, "server_epoch": epoch, "top": top}
