"""道德银行 (points_entry): an append-only points ledger per household; corrections reverse, never edit."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlmodel import Field

from cunzhi.core.db import JSONType, UUIDStr
from cunzhi.sync.record import SyncedRecord


class PointsEntry(SyncedRecord, table=True):
    __tablename__ = "points_entry"
    __table_args__ = (
        sa.Index("ix_points_entry_org_occurred", "org_code", "occurred_on"),
        sa.Index("ix_points_entry_household", "household_id"),
        # one reversal per entry (a second correction of the same entry is refused)
        sa.Index("uq_points_entry_reverses_id", "reverses_id", unique=True),
    )

    household_id: str = Field(sa_type=UUIDStr)
    rule: str = Field(max_length=40)
    points: int
    reason: str
    occurred_on: date
    attachment_ids: list = Field(default_factory=list, sa_type=JSONType)
    reverses_id: str | None = Field(default=None, sa_type=UUIDStr)
