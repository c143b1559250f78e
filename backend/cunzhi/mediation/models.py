"""人民调解案件 (mediation_case) and its append-only events (case_event)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field

from cunzhi.core.db import JSONType, UUIDStr
from cunzhi.sync.record import SyncedRecord


class MediationCase(SyncedRecord, table=True):
    __tablename__ = "mediation_case"
    __table_args__ = (
        # a prefix of the dashboard's (org_code, status, deleted, …) and kept: SQLite's planner prefers the narrower
        # list index to the wider one for a village's cases by status, and then reads every row (migration 0010)
        sa.Index("ix_mediation_case_org_status", "org_code", "status"),
        # the case list's page of ids, sorted from the index alone (migration 0009); the dashboard's indexes are
        # in migrations 0006 and 0008
        sa.Index("ix_mediation_case_list", "org_code", "received_on", "id", "deleted"),
    )

    case_number: str | None = Field(default=None, max_length=40, unique=True)
    title: str = Field(max_length=200)
    description: str | None = None
    category: str = Field(max_length=40)
    source: str = Field(max_length=40)
    received_on: date
    place: str | None = Field(default=None, max_length=200)
    parties: list = Field(default_factory=list, sa_type=JSONType)
    people_involved: int | None = None
    amount_in_dispute: str | None = Field(default=None, max_length=20)
    mediator_ids: list = Field(default_factory=list, sa_type=JSONType)
    risk_level: str = Field(max_length=10)
    escalation_flag: bool = False
    escalation_note: str | None = None
    status: str = Field(max_length=16)
    deadline: date
    deadline_extensions: list = Field(default_factory=list, sa_type=JSONType)
    agreement: dict | None = Field(default=None, sa_type=JSONType)
    outcome_note: str | None = None
    incident_id: str | None = Field(default=None, sa_type=UUIDStr)
    ended_on: date | None = None
    ended_as: str | None = Field(default=None, max_length=16)


class CaseEvent(SyncedRecord, table=True):
    __tablename__ = "case_event"
    __table_args__ = (sa.Index("ix_case_event_org_code", "org_code"),)

    case_id: str = Field(sa_type=UUIDStr, foreign_key="mediation_case.id", index=True)
    kind: str = Field(max_length=20)
    occurred_at: datetime
    participants: str | None = None
    content: str | None = None
    outcome: str | None = None
    fulfilled: bool | None = None
    satisfaction: int | None = None
    escalation_signs: bool | None = None
    attachment_ids: list = Field(default_factory=list, sa_type=JSONType)
