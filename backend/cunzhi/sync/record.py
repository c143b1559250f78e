"""Columns every synced entity table carries (the common fields of sync-protocol.md + merge metadata)."""

from __future__ import annotations

import functools
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cunzhi.core.db import JSONType, OrgCodeType, UUIDStr, among_param


class SyncedRecord(SQLModel):
    id: str = Field(sa_type=UUIDStr, primary_key=True)
    # every query of a record table filters by org_code (the scope): each table's indexes start with it (an index
    # of org_code alone only where no longer one does: migration 0010)
    org_code: str = Field(sa_type=OrgCodeType)
    rev: int = 1
    deleted: bool = False
    created_at: datetime
    updated_at: datetime
    created_by: str = Field(sa_type=UUIDStr)
    updated_by: str = Field(sa_type=UUIDStr)
    # Per field group: [last_rev, last_sender, last_foreign_rev, last_epoch, last_foreign_epoch]
    # (see sync/merge.py). Never leaves the server.
    field_meta: dict = Field(default_factory=dict, sa_type=JSONType)


def wire_columns(table: sa.Table) -> list[sa.Column]:
    """A record's columns without ``field_meta``: the merge bookkeeping never leaves the server, so the pull and the
    read APIs neither read nor JSON-decode it (under the API mix, decoding it was most of a list's CPU)."""
    return [c for c in table.columns if c.name != "field_meta"]


@functools.cache
def by_ids(dialect: str, table: sa.Table) -> sa.Select:
    """Records by id (run with ``{"ids": [...]}``), their wire columns, built once per table: a statement built per
    request is coerced and cache-keyed again each time (the biggest single cost of a get in py-spy)."""
    return sa.select(*wire_columns(table)).where(among_param(dialect, table.c.id, "ids"))
