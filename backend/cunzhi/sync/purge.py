"""Forgetting what the retention window lets go: stored answers (ids and statuses stay for good)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from cunzhi.core.clock import utcnow
from cunzhi.core.config import get_settings
from cunzhi.sync.models import SyncMutation

mutation_t = SyncMutation.__table__


def purge_expired(conn: Connection, now: datetime | None = None) -> int:
    """Forget stored answers older than the retention window (ids and statuses stay for good)."""
    cutoff = (now or utcnow()) - timedelta(days=get_settings().retention_days)
    res = conn.execute(mutation_t.update().where(mutation_t.c.created_at < cutoff, mutation_t.c.result.is_not(None))
                       .values(result=None))
    return res.rowcount or 0
