"""Housekeeping the server runs daily (and ``cunzhi maintain`` on demand)."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import sqlalchemy as sa

from cunzhi.attachments.models import Attachment
from cunzhi.attachments.service import path_for
from cunzhi.core.clock import utcnow
from cunzhi.core.config import get_settings
from cunzhi.core.db import write_tx
from cunzhi.sync.engine import purge_expired
from cunzhi.sync.registry import entities

log = logging.getLogger("cunzhi")
att_t = Attachment.__table__


def referenced_attachment_ids(conn) -> set[str]:
    """Attachment ids any record refers to: every ``f.attachment_ids`` field, wherever it sits (top level,
    inside nested objects and list items), of every registered entity — found by field type."""
    from cunzhi.sync.fields import attachment_refs

    found: set[str] = set()
    for spec in entities().values():
        names = [n for n in spec.attachment_fields if n in spec.table.c]
        if not names:
            continue
        for row in conn.execute(sa.select(*[spec.table.c[n] for n in names])):
            for name, value in zip(names, row, strict=True):
                found |= attachment_refs(spec.fields[name], value)
    return found


def purge_unreferenced_attachments() -> int:
    """Attachments no record refers to, 30 days after upload, are deleted (file and row)."""
    cutoff = utcnow() - timedelta(days=get_settings().attachment_purge_days)
    with write_tx() as conn:
        old = [r.id for r in conn.execute(sa.select(att_t.c.id).where(att_t.c.created_at < cutoff))]
        if not old:
            return 0
        keep = referenced_attachment_ids(conn)
        doomed = [a for a in old if a not in keep]
        for chunk in range(0, len(doomed), 500):
            conn.execute(att_t.delete().where(att_t.c.id.in_(doomed[chunk:chunk + 500])))
    for a in doomed:
        path_for(a).unlink(missing_ok=True)
    return len(doomed)


def run_once() -> dict:
    from cunzhi.privacy.erasure import run_retention  # security (issue 11): retention, login counters

    from cunzhi.dashboard.summary import drop_empty

    with write_tx() as conn:
        answers = purge_expired(conn)
        empty = drop_empty(conn)
    return {"stored_answers_forgotten": answers, "empty_summary_rows_dropped": empty,
            "attachments_purged": purge_unreferenced_attachments(),
            **run_retention()}


def start_daily() -> threading.Event:
    """Daemon threads: housekeeping now and every 24 hours; the feed's high-water mark every few seconds."""
    stop = threading.Event()

    def watermark_loop() -> None:
        from cunzhi.sync import watermark

        while not stop.is_set():
            try:
                watermark.record()
            except Exception:  # noqa: BLE001
                log.exception("recording the feed high-water mark failed")
            stop.wait(get_settings().watermark_seconds)

    threading.Thread(target=watermark_loop, name="cunzhi-watermark", daemon=True).start()

    def loop() -> None:
        while not stop.is_set():
            try:
                log.info("maintenance: %s", run_once())
            except Exception:  # noqa: BLE001 - housekeeping must never take the server down
                log.exception("maintenance failed")
            stop.wait(86400)

    threading.Thread(target=loop, name="cunzhi-maintenance", daemon=True).start()
    return stop
