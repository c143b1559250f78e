"""Integrations: read-only API keys, webhook endpoints, their durable deliveries and attempt log,
and the in-app notices that tell an admin about an endpoint the server disabled."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cunzhi.core.db import JSONType, OrgCodeType, UUIDStr


class ApiKey(SQLModel, table=True):
    """A read-only key: its scope is ``org_code``'s subtree (never wider than its creator's)."""

    __tablename__ = "api_key"

    id: str = Field(sa_type=UUIDStr, primary_key=True)
    name: str = Field(max_length=100)
    org_code: str = Field(sa_type=OrgCodeType, index=True)
    entities: list | None = Field(default=None, sa_type=JSONType)  # None: every record type
    unmasked: bool = False
    secret_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=12)  # the first characters of the secret, to tell keys apart
    expires_on: date | None = None
    created_by: str | None = Field(default=None, sa_type=UUIDStr)  # None: made with the CLI
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class WebhookEndpoint(SQLModel, table=True):
    __tablename__ = "webhook_endpoint"

    id: str = Field(sa_type=UUIDStr, primary_key=True)
    url: str = Field(max_length=2000)
    org_code: str = Field(sa_type=OrgCodeType, index=True)
    entities: list = Field(sa_type=JSONType)
    events: list = Field(sa_type=JSONType)
    # the signing secret (whsec_…): kept, because signing needs it; shown to the admin once
    secret: str = Field(max_length=100)
    created_by: str | None = Field(default=None, sa_type=UUIDStr)
    created_at: datetime
    paused: bool = False
    disabled_at: datetime | None = None
    failing_since: datetime | None = None
    deleted_at: datetime | None = None


class WebhookDelivery(SQLModel, table=True):
    """One message for one endpoint, written in the transaction of the change it announces.

    ``seq`` orders the deliveries of a record (a later one waits until the earlier is done);
    ``claimed_until`` lets one worker of several take a delivery without a second sending it."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        sa.Index("ix_webhook_delivery_due", "state", "next_attempt_at"),
        sa.Index("ix_webhook_delivery_record", "endpoint_id", "entity", "record_id", "seq"),
    )

    id: str = Field(sa_type=UUIDStr, primary_key=True)  # the webhook-id header (msg_…)
    seq: int = Field(sa_type=sa.BigInteger().with_variant(sa.Integer, "sqlite"), index=True)
    endpoint_id: str = Field(sa_type=UUIDStr, foreign_key="webhook_endpoint.id")
    type: str = Field(max_length=80)
    entity: str = Field(max_length=40)
    record_id: str = Field(sa_type=UUIDStr)
    rev: int
    payload: dict = Field(sa_type=JSONType)
    state: str = Field(max_length=16, default="pending")  # pending | delivered | failed
    attempts: int = 0
    next_attempt_at: datetime
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = None
    created_at: datetime
    delivered_at: datetime | None = None


class WebhookAttempt(SQLModel, table=True):
    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, sa_type=sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                           primary_key=True)
    delivery_id: str = Field(sa_type=UUIDStr, foreign_key="webhook_delivery.id", index=True)
    endpoint_id: str = Field(sa_type=UUIDStr, index=True)
    at: datetime
    status_code: int | None = None
    duration_ms: int
    error: str | None = Field(default=None, max_length=200)
    response: str | None = Field(default=None, max_length=1024)


class UserNotice(SQLModel, table=True):
    """A message for one person in the app (e.g. "your webhook endpoint was disabled")."""

    __tablename__ = "user_notice"

    id: str = Field(sa_type=UUIDStr, primary_key=True)
    user_id: str = Field(sa_type=UUIDStr, index=True)
    code: str = Field(max_length=60)
    params: dict = Field(sa_type=JSONType)
    created_at: datetime
    read_at: datetime | None = None
