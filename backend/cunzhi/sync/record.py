"""Columns every synced entity table carries (the common fields of sync-protocol.md + merge metadata)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from cunzhi.core.db import JSONType, OrgCodeType, UUIDStr


class SyncedRecord(SQLModel):
    id: str = Field(sa_type=UUIDStr, primary_key=True)
    org_code: str = Field(sa_type=OrgCodeType, index=True)
    rev: int = 1
    deleted: bool = False
    created_at: datetime
    updated_at: datetime
    created_by: str = Field(sa_type=UUIDStr)
    updated_by: str = Field(sa_type=UUIDStr)
    # Per field group: [last_rev, last_sender, last_foreign_rev, last_epoch, last_foreign_epoch]
    # (see sync/merge.py). Never leaves the server.
    field_meta: dict = Field(default_factory=dict, sa_type=JSONType)
