"""The sync engine's own tables: stored mutation results, conflicts, the change feed, history, state."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cunzhi.core.db import JSONType, OrgCodeType, UUIDStr


class SyncMutation(SQLModel, table=True):
    """Every mutation ever accepted for judgement: the idempotency key (per user: another user's id is simply
    new for them), what it stands for (entity, record, op) and its first answer."""

    __tablename__ = "sync_mutation"

    user_id: str = Field(sa_type=UUIDStr, primary_key=True)
    mutation_id: str = Field(sa_type=UUIDStr, primary_key=True)
    client_id: str = Field(sa_type=UUIDStr)
    entity: str = Field(max_length=40)
    record_id: str = Field(sa_type=UUIDStr)
    op: str | None = Field(default=None, max_length=8)  # null for answers stored before 2026-11-30
    status: str = Field(max_length=16)
    # conflicts / conflict_id / error of the first answer; purged (set NULL) after the retention window
    result: dict | None = Field(default=None, sa_type=JSONType)
    created_at: datetime = Field(index=True)


class SyncConflict(SQLModel, table=True):
    __tablename__ = "sync_conflict"

    id: str = Field(sa_type=UUIDStr, primary_key=True)
    entity: str = Field(max_length=40)
    record_id: str = Field(sa_type=UUIDStr, index=True)
    org_code: str = Field(sa_type=OrgCodeType, index=True)
    client_id: str = Field(sa_type=UUIDStr)
    created_by: str = Field(sa_type=UUIDStr)
    mutation_id: str = Field(sa_type=UUIDStr)
    base_rev: int
    fields: list = Field(sa_type=JSONType)
    status: str = Field(max_length=16, default="open", index=True)
    created_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str | None = Field(default=None, sa_type=UUIDStr)


class SyncFeed(SQLModel, table=True):
    """One row per record: its latest change's position in the feed (``seq``). Pull reads this."""

    __tablename__ = "sync_feed"
    __table_args__ = (
        sa.Index("ix_sync_feed_org_code_seq", "org_code", "seq"),
    )

    entity: str = Field(max_length=40, primary_key=True)
    record_id: str = Field(sa_type=UUIDStr, primary_key=True)
    org_code: str = Field(sa_type=OrgCodeType)
    seq: int = Field(sa_type=sa.BigInteger, unique=True)


class RecordHistory(SQLModel, table=True):
    """Every accepted change: who, when, from which device, which fields (with their new values)."""

    __tablename__ = "record_history"
    __table_args__ = (sa.Index("ix_record_history_record", "entity", "record_id", "rev"),)

    id: int | None = Field(default=None, sa_type=sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    entity: str = Field(max_length=40)
    record_id: str = Field(sa_type=UUIDStr)
    org_code: str = Field(sa_type=OrgCodeType)
    rev: int
    op: str = Field(max_length=16)
    user_id: str = Field(sa_type=UUIDStr)
    client_id: str = Field(sa_type=UUIDStr)
    mutation_id: str | None = Field(default=None, sa_type=UUIDStr)
    at: datetime
    changes: dict = Field(sa_type=JSONType)
    # a write the server derived (user_id is the system actor): the change that caused it (with mutation_id)
    cause_entity: str | None = Field(default=None, max_length=40)
    cause_record_id: str | None = Field(default=None, sa_type=UUIDStr)


class Counter(SQLModel, table=True):
    """Monotonic counters: the change-feed sequence (``seq``) and case-number serials."""

    __tablename__ = "counter"

    name: str = Field(max_length=80, primary_key=True)
    value: int = Field(sa_type=sa.BigInteger, default=0)


class ServerState(SQLModel, table=True):
    __tablename__ = "server_state"

    key: str = Field(max_length=40, primary_key=True)
    value: str = Field(max_length=200)
