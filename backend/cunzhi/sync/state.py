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


# the reads every pull and push make, built once (a statement built per call is coerced and cache-keyed again:
# a fifth of a small pull's CPU in cProfile)
_GET_STATE = sa.select(state_t.c.value).where(state_t.c.key == sa.bindparam("key"))
_READ_COUNTER = sa.select(counter_t.c.value).where(counter_t.c.name == sa.bindparam("name"))


def get_state(conn: Connection, key: str) -> str | None:
    return conn.execute(_GET_STATE, {"key": key}).scalar()


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


SERIAL_FLOOR = "serial_floor"  # where a counter created after a restore starts (moved by mark_restored)


def next_values(conn: Connection, name: str, n: int = 1) -> int:
    """Add ``n`` to a counter and return its new value (row-locked until commit).

    A serial counter that does not exist yet starts at the serial floor: after a restore, a counter the backup
    did not have (a village's first case, a new year) must still start past anything issued before it.
    """
    key = (conn.dialect.name, name == "seq")
    if key not in _NEXT_VALUES:  # built once, reused with bound parameters (one per case create)
        if name == "seq":
            start = sa.bindparam("c_n", type_=sa.BigInteger)
        else:
            floor = sa.select(sa.func.coalesce(sa.func.max(counter_t.c.value), 0)).where(
                counter_t.c.name == SERIAL_FLOOR).scalar_subquery()
            start = floor + sa.bindparam("c_n", type_=sa.BigInteger)  # type: ignore[assignment]
        stmt = _insert(conn, counter_t).values(name=sa.bindparam("c_name"), value=start)
        stmt = stmt.on_conflict_do_update(index_elements=["name"],
                                          set_={"value": counter_t.c.value + sa.bindparam("c_add", type_=sa.BigInteger)})
        _NEXT_VALUES[key] = stmt.returning(counter_t.c.value)
    return int(conn.execute(_NEXT_VALUES[key], {"c_name": name, "c_n": n, "c_add": n}).scalar_one())


_NEXT_VALUES: dict[tuple, sa.sql.Executable] = {}


def read_counter(conn: Connection, name: str) -> int:
    return int(conn.execute(_READ_COUNTER, {"name": name}).scalar() or 0)


def mark_restored(conn: Connection, high_water: int | None = None) -> str:
    """After a restore: a new epoch (every phone resets) and serials moved past anything maybe issued.

    Every serial taken after the backup came with at least one feed position, so no counter advanced by more
    than ``high_water - top`` (the feed's high-water mark before the restore minus the restored feed's top):
    every counter — and the floor that counters created later start from — moves by that plus a margin.
    """
    top = read_counter(conn, "seq")
    gap = SERIAL_GAP_AFTER_RESTORE + max(0, (high_water or 0) - top)
    conn.execute(counter_t.update().where(counter_t.c.name != "seq").values(value=counter_t.c.value + gap))
    if read_counter(conn, SERIAL_FLOOR) == 0:
        conn.execute(_insert(conn, counter_t).values(name=SERIAL_FLOOR, value=gap).on_conflict_do_nothing())
    return rotate_epoch(conn)


# ---- the cursor-signing key: kept with the data it signs (a restore onto a new host keeps cursors valid) ----
CURSOR_KEY = "cursor_key"


def cursor_key(conn: Connection) -> str:
    key = get_state(conn, CURSOR_KEY)
    if key is None:  # a database older than migration 20261130_0002 that was not upgraded: the old key
        from cunzhi.core.config import get_settings

        key = get_settings().resolved_secret_key
    return key
