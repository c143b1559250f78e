"""道德模范 / 最美家庭 / 好人 nominations (nomination) and the objections filed during their notice."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlmodel import Field

from cunzhi.core.db import JSONType, UUIDStr
from cunzhi.sync.record import SyncedRecord


class Nomination(SyncedRecord, table=True):
    __tablename__ = "nomination"
    # its index by org_code: the dashboard's (migration 0006), which also serves the lists

    category: str = Field(max_length=40)
    nominee_name: str = Field(max_length=50)
    household_id: str | None = Field(default=None, sa_type=UUIDStr)
    nominee_phone: str | None = Field(default=None, max_length=20)
    nominee_id_number: str | None = Field(default=None, max_length=18)
    deeds: str
    source: str = Field(max_length=20)
    nominator_name: str | None = Field(default=None, max_length=50)
    attachment_ids: list = Field(default_factory=list, sa_type=JSONType)
    state: str = Field(max_length=20)
    notice_starts_on: date | None = None
    notice_ends_on: date | None = None
    paused: bool = False
    disqualifiers: dict | None = Field(default=None, sa_type=JSONType)
    review_note: str | None = None
    award_title: str | None = Field(default=None, max_length=100)
    awarded_on: date | None = None


class NominationObjection(SyncedRecord, table=True):
    __tablename__ = "nomination_objection"
    __table_args__ = (sa.Index("ix_nomination_objection_org_code", "org_code"),)

    nomination_id: str = Field(sa_type=UUIDStr, foreign_key="nomination.id", index=True)
    content: str
    objector_name: str | None = Field(default=None, max_length=50)
    contact: str | None = Field(default=None, max_length=20)
    state: str = Field(max_length=20)
    decision_note: str | None = None
