"""Noticing a restored database by itself, in all three cases (sync-protocol.md, Pull; issue 6, defect 12).

A restored backup brings back its own epoch, so the database alone cannot tell it was restored. What the
server keeps *outside* the database tells it:

- **Under a running server**: every process remembers, per database, the highest feed position it has seen
  committed in each epoch, and the epochs it has seen replaced. Every push and pull compares the database's
  (epoch, feed top) with that — one primary-key read — and a feed *behind* what was seen (or an epoch already
  left behind) is a restore.
- **At start-up**: the same mark, written to ``DATA_DIR/feed_high_water.json`` every few seconds, is checked
  before serving (:func:`check_on_start`).
- **Onto another host** (no mark there): the phones carry the evidence — a pull cursor of the current epoch
  *ahead* of the feed, or a push whose ``base_rev`` is ahead of the stored record's.

Either way the server marks the database restored itself, in a write transaction, before answering: a new
epoch (every phone resets and re-sends) and every serial counter moved past the high-water mark
(:func:`cunzhi.sync.state.mark_restored`) — the same as ``cunzhi db mark-restored``.
"""

from __future__ import annotations

import json
from typing import Any
import logging
import os
import threading
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cunzhi.core.config import get_settings
from cunzhi.core.db import read_tx, write_tx
from cunzhi.sync import state

log = logging.getLogger("cunzhi")


@dataclass
class _Seen:
    current: str | None = None
    high: dict[str, int] = field(default_factory=dict)  # epoch -> highest feed position seen committed
    retired: set[str] = field(default_factory=set)  # epochs replaced since (a database back in one: restored)


_LOCK = threading.Lock()
_SEEN: dict[str, _Seen] = {}


class RestoreDetected(Exception):
    def __init__(self, epoch: str, high_water: int):
        super().__init__(epoch)
        self.epoch = epoch
        self.high_water = high_water


def _db_key(conn: Connection | None = None) -> str:
    url = conn.engine.url.render_as_string(hide_password=True) if conn is not None else \
        get_settings().resolved_database_url
    return url.rsplit("@", 1)[-1]


def observe(conn: Connection, epoch: str, top: int) -> None:
    """Note a committed (epoch, feed top) of this database."""
    with _LOCK:
        seen = _SEEN.setdefault(_db_key(conn), _Seen())
        if seen.current is not None and seen.current != epoch:
            seen.retired.add(seen.current)
        seen.retired.discard(epoch)
        seen.current = epoch
        seen.high[epoch] = max(seen.high.get(epoch, 0), top)


def seen(conn: Connection) -> _Seen:
    """What this process has seen of this database so far: take it *before* reading the database's (epoch, top).

    A mark is noted after its push committed, so anything taken here was committed before a read that starts
    afterwards: that read can only be behind it if the database went back. Compared with a mark taken after the
    read, a push committing in between would look like a restore (it did, under the API mix: a new epoch, and
    every phone reset)."""
    with _LOCK:
        s = _SEEN.get(_db_key(conn))
        return _Seen(s.current, dict(s.high), set(s.retired)) if s is not None else _Seen()


def behind(conn: Connection, epoch: str, top: int, before: _Seen | None = None) -> int | None:
    """The high-water mark if the database's (epoch, top), read after ``before`` was taken, shows it was
    restored under us, else None."""
    s = before if before is not None else seen(conn)
    if epoch in s.retired:
        return s.high.get(epoch, top)
    high = s.high.get(epoch)
    return high if high is not None and top < high else None


def mark(conn: Connection, seen_epoch: str, high_water: int, recheck: bool = False) -> str:
    """Mark the database restored (inside the caller's write transaction) unless another request already did.
    ``recheck``: the evidence is the feed's position, so read it again under the lock first."""
    lock_state_row(conn)
    if state.get_state(conn, "epoch") != seen_epoch:
        return state.current_epoch(conn)
    top = state.read_counter(conn, "seq")
    if recheck and top >= high_water and seen_epoch not in seen(conn).retired:
        return seen_epoch  # read again under the lock, the feed is not behind: nothing was restored
    epoch = state.mark_restored(conn, high_water)
    log.warning("the database was restored from a backup (feed at %s, %s had been seen): new server epoch %s; "
                "serial counters moved past the high-water mark; every phone will reset and re-send",
                top, high_water, epoch)
    observe(conn, epoch, top)
    return epoch


def check(conn: Connection, epoch: str, before: _Seen) -> tuple[str, int]:
    """On every push (in its write transaction): (epoch, top), marking the database restored if it was.
    ``epoch`` was read by the caller after :func:`seen` gave ``before``."""
    top = state.read_counter(conn, "seq")
    high = behind(conn, epoch, top, before)
    if high is not None:
        epoch = mark(conn, epoch, high, recheck=True)
        top = state.read_counter(conn, "seq")
    return epoch, top


def settle(detected: RestoreDetected) -> None:
    """A read noticed a restore: mark it in a write transaction of its own."""
    with write_tx() as conn:
        mark(conn, detected.epoch, detected.high_water, recheck=True)


# ---- the mark outside the database (for start-up) --------------------------------------------------
def _path():
    return get_settings().data_dir / "feed_high_water.json"


def record() -> None:
    """Write the current epoch and feed top (atomically)."""
    with read_tx() as conn:
        mark_: dict[str, Any] = {"epoch": state.current_epoch(conn), "seq": state.read_counter(conn, "seq"),
                 "database": get_settings().resolved_database_url.rsplit("@", 1)[-1]}
        with _LOCK:
            seen = _SEEN.get(_db_key(conn))
            if seen is not None:
                mark_["seq"] = max(mark_["seq"], seen.high.get(mark_["epoch"], 0))
                mark_["retired"] = sorted(seen.retired)
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(mark_))
    os.replace(tmp, path)


def recorded_high_water() -> int | None:
    """The feed position recorded outside the database (for ``cunzhi db mark-restored``), if it is this one's."""
    try:
        mark_ = json.loads(_path().read_text())
    except (OSError, ValueError):
        return None
    if mark_.get("database") != get_settings().resolved_database_url.rsplit("@", 1)[-1]:
        return None
    return int(mark_.get("seq", 0))


def check_on_start() -> bool:
    """Mark the database restored if its feed is behind the recorded mark; returns True if it did."""
    path = _path()
    try:
        mark_ = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    if mark_.get("database") != get_settings().resolved_database_url.rsplit("@", 1)[-1]:
        return False  # the mark is of another database
    with write_tx() as conn:
        epoch, top = state.current_epoch(conn), state.read_counter(conn, "seq")
        high = int(mark_.get("seq", 0))
        if epoch in (mark_.get("retired") or []):
            mark(conn, epoch, high)
            return True
        if epoch != mark_.get("epoch") or top >= high:
            observe(conn, epoch, top)
            return False
        mark(conn, epoch, high)
    return True


def lock_state_row(conn: Connection) -> None:
    """PostgreSQL: serialise concurrent restore marks on the epoch row."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT value FROM server_state WHERE key = 'epoch' FOR UPDATE"))
