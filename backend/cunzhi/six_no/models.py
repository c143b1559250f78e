"""六无村创建 (six_no_report): one per village per year, its id derived from (village, year)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Field

from cunzhi.core.db import JSONType
from cunzhi.sync.record import SyncedRecord


class SixNoReport(SyncedRecord, table=True):
    __tablename__ = "six_no_report"
    __table_args__ = (sa.Index("ix_six_no_report_org_year", "org_code", "year"),)

    year: int
    # [{code, status, incident_ids, evidence, attachment_ids}]; status and incident_ids derived by the server
    indicators: list = Field(default_factory=list, sa_type=JSONType)
    self_assessment: str | None = None
    state: str = Field(max_length=20)
    decision_note: str | None = None
