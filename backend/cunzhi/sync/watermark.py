"""A high-water mark of the change feed kept outside the database, to notice a restore by itself.

A restored backup brings back its own epoch, so a restore shows only as phones' cursors being ahead of the
feed — until new writes carry the feed past them. The server therefore notes the feed's top position (and
the epoch) in ``DATA_DIR/feed_high_water.json`` while it runs; at start-up, a database whose feed is *behind*
that mark (same epoch) was restored, and the server marks it restored itself (new epoch, serials moved
forward) before any phone syncs — the same as ``cunzhi db mark-restored``.
"""

from __future__ import annotations

import json
import logging
import os

from cunzhi.core.config import get_settings
from cunzhi.core.db import read_tx, write_tx
from cunzhi.sync import state

log = logging.getLogger("cunzhi")


def _path():
    return get_settings().data_dir / "feed_high_water.json"


def record() -> None:
    """Write the current epoch and feed top (atomically)."""
    with read_tx() as conn:
        mark = {"epoch": state.current_epoch(conn), "seq": state.read_counter(conn, "seq"),
                "database": get_settings().resolved_database_url.rsplit("@", 1)[-1]}
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(mark))
    os.replace(tmp, path)


def check_on_start() -> bool:
    """Mark the database restored if its feed is behind the recorded mark; returns True if it did."""
    path = _path()
    try:
        mark = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    if mark.get("database") != get_settings().resolved_database_url.rsplit("@", 1)[-1]:
        return False  # the mark is of another database
    with write_tx() as conn:
        epoch, top = state.current_epoch(conn), state.read_counter(conn, "seq")
        if epoch != mark.get("epoch") or top >= int(mark.get("seq", 0)):
            return False
        new_epoch = state.mark_restored(conn)
    log.warning("the database's change feed (%s) is behind the last recorded position (%s): it was restored "
                "from a backup; new server epoch %s, every phone will reset and re-send", top, mark["seq"], new_epoch)
    return True
