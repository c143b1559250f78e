"""Accounts, server-side sessions (one per device login) and the personal-data audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from cunzhi.core.db import JSONType, OrgCodeType, UUIDStr

ROLES = ("mediator", "grid_worker", "village_admin", "township_admin", "township_viewer", "county_admin", "integration")


class User(SQLModel, table=True):
    __tablename__ = "app_user"

    id: str = Field(sa_type=UUIDStr, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=100)
    role: str = Field(max_length=32)
    org_code: str = Field(sa_type=OrgCodeType, foreign_key="org_unit.code", index=True)
    password_hash: str = Field(max_length=200)
    active: bool = True
    created_at: datetime
    # True while the password is the public demo password (set only by the demo loader; cleared by any
    # password change): a server outside demo mode refuses to start while one such account is active.
    demo_password: bool = False
    password_changed_at: datetime | None = None
    deactivated_at: datetime | None = None


class AuthSession(SQLModel, table=True):
    __tablename__ = "auth_session"

    id: str = Field(sa_type=UUIDStr, primary_key=True)
    user_id: str = Field(sa_type=UUIDStr, foreign_key="app_user.id", index=True)
    client_id: str = Field(sa_type=UUIDStr)
    token_hash: str = Field(max_length=64, unique=True)
    org_code: str = Field(sa_type=OrgCodeType, index=True)  # the user's unit at login, for admins' lists
    user_agent: str = Field(default="", max_length=300)
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = Field(default=None, sa_type=UUIDStr)


class AuditEntry(SQLModel, table=True):
    """A request that returned personal data unmasked: who, when, which records."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(sa_type=UUIDStr, index=True)
    at: datetime
    action: str = Field(max_length=80)
    record_ids: list = Field(sa_type=JSONType)
    # what else the auditor needs (failed logins: the username tried and the client address)
    detail: dict | None = Field(default=None, sa_type=JSONType)


class LoginAttempt(SQLModel, table=True):
    """Failed-login counters per username (``u:<name>``) and per client address (``ip:<addr>``)."""

    __tablename__ = "login_attempt"

    key: str = Field(max_length=200, primary_key=True)
    failures: int = 0
    first_failed_at: datetime
    last_failed_at: datetime = Field(index=True)
    locked_until: datetime | None = None
