"""Server state kept inside the database: the epoch and monotonic counters.

The epoch comes back with a restored backup (it lives in the database), so a restore is caught by a
cursor that is ahead of the feed; ``cunzhi db mark-restored`` rotates the epoch and moves every serial
counter forward, so case numbers are never reused.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from cunzhi.core.clock import iso, utcnow
from cunzhi.sync.models import Counter, ServerState

counter_t = Counter.__table__
state_t = ServerState.__table__

SERIAL_GAP_AFTER_RESTORE = 1000


def _insert(conn: Connection, table):
    return (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)


def get_state(conn: Connection, key: str) -> str | None:
    return conn.execute(sa.select(state_t.c.value).where(state_t.c.key == key)).scalar()


def set_state(conn: Connection, key: str, value: str) -> None:
    stmt = _insert(conn, state_t).values(key=key, value=value)
    conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value}))


def current_epoch(conn: Connection) -> str:
    epoch = get_state(conn, "epoch")
    if epoch is None:
        epoch = rotate_epoch(conn)
    return epoch


def rotate_epoch(conn: Connection) -> str:
    epoch = str(uuid.uuid4())
    set_state(conn, "epoch", epoch)
    set_state(conn, "epoch_started_at", iso(utcnow()) or "")
    return epoch


def next_values(conn: Connection, name: str, n: int = 1) -> int:
    """Add ``n`` to a counter and return its new value (row-locked until commit)."""
    key = conn.dialect.name
    if key not in _NEXT_VALUES:  # built once, reused with bound parameters (one per case create)
        stmt = _insert(conn, counter_t).values(name=sa.bindparam("c_name"), value=sa.bindparam("c_n"))
        stmt = stmt.on_conflict_do_update(index_elements=["name"],
                                          set_={"value": counter_t.c.value + sa.bindparam("c_add", type_=sa.BigInteger)})
        _NEXT_VALUES[key] = stmt.returning(counter_t.c.value)
    return int(conn.execute(_NEXT_VALUES[key], {"c_name": name, "c_n": n, "c_add": n}).scalar_one())


_NEXT_VALUES: dict[str, sa.sql.Executable] = {}


def read_counter(conn: Connection, name: str) -> int:
    return int(conn.execute(sa.select(counter_t.c.value).where(counter_t.c.name == name)).scalar() or 0)


def mark_restored(conn: Connection) -> str:
    """After a restore: new epoch (every phone resets), serials moved past anything maybe issued."""
    conn.execute(
        counter_t.update().where(counter_t.c.name != "seq").values(value=counter_t.c.value + SERIAL_GAP_AFTER_RESTORE)
    )
    return rotate_epoch(conn)
