"""Grid work: grids (org units below a village), the household roster, patrols and incidents.

A grid is an org unit (``org_unit`` row, level ``grid``, code = village code + 3 digits, its name) with
its working data in ``grid`` (workers, retired). ``household``, ``patrol`` and ``incident`` are synced
records (wire names: ../shared/spec/records.md); their ``org_code`` is the 12-digit village.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cunzhi.core.db import JSONType, OrgCodeType, UUIDStr
from cunzhi.sync.record import SyncedRecord


class Grid(SQLModel, table=True):
    """The working data of a grid; its code, name and parent live in ``org_unit`` (level ``grid``)."""

    __tablename__ = "grid"

    code: str = Field(sa_type=OrgCodeType, primary_key=True, foreign_key="org_unit.code")
    village_code: str = Field(sa_type=OrgCodeType, index=True)
    worker_ids: list = Field(default_factory=list, sa_type=JSONType)
    retired: bool = False
    created_at: datetime
    updated_at: datetime
    updated_by: str = Field(sa_type=UUIDStr)


class Household(SyncedRecord, table=True):
    """户: the village roster (the unit of 平安家庭 and of the morality bank)."""

    __tablename__ = "household"
    __table_args__ = (
        # re-importing a roster finds a household by head name + address within its village
        sa.Index("ix_household_org_head_address", "org_code", "head_name", "address"),
    )

    grid_code: str | None = Field(default=None, sa_type=OrgCodeType)
    head_name: str = Field(max_length=50)
    address: str | None = Field(default=None, max_length=200)
    members: int
    phone: str | None = Field(default=None, max_length=20)
    head_id_number: str | None = Field(default=None, max_length=18)
    tags: list = Field(default_factory=list, sa_type=JSONType)
    safe_certified_years: list = Field(default_factory=list, sa_type=JSONType)
    active: bool = True


class Patrol(SyncedRecord, table=True):
    """网格巡查: one patrol of a grid by a grid worker."""

    __tablename__ = "patrol"
    __table_args__ = (
        sa.Index("ix_patrol_org_started", "org_code", "started_at"),
        sa.Index("ix_patrol_grid_started", "grid_code", "started_at"),
    )

    grid_code: str = Field(sa_type=OrgCodeType)
    state: str = Field(max_length=16)
    started_at: datetime
    ended_at: datetime | None = None
    route: list = Field(default_factory=list, sa_type=JSONType)
    places_visited: list = Field(default_factory=list, sa_type=JSONType)
    checklist: list = Field(default_factory=list, sa_type=JSONType)
    notes: str | None = None
    attachment_ids: list = Field(default_factory=list, sa_type=JSONType)


class Incident(SyncedRecord, table=True):
    """事件: reported on or off a patrol; assigned, handled, resolved, verified (or cancelled)."""

    __tablename__ = "incident"
    # its indexes by org_code: the dashboard's (migration 0006), which also serve the lists

    grid_code: str | None = Field(default=None, sa_type=OrgCodeType)
    patrol_id: str | None = Field(default=None, sa_type=UUIDStr, index=True)
    household_id: str | None = Field(default=None, sa_type=UUIDStr, index=True)
    type: str = Field(max_length=40)
    severity: str = Field(max_length=16)
    title: str = Field(max_length=200)
    description: str | None = None
    place: str | None = Field(default=None, max_length=200)
    location: dict | None = Field(default=None, sa_type=JSONType)
    occurred_at: datetime
    state: str = Field(max_length=16)
    assignee_id: str | None = Field(default=None, sa_type=UUIDStr, index=True)
    deadline: date
    resolution: str | None = None
    case_id: str | None = Field(default=None, sa_type=UUIDStr)
    attachment_ids: list = Field(default_factory=list, sa_type=JSONType)
    # server: the day it reached resolved (the deadline colour judges it on time or late)
    resolved_on: date | None = None
