"""Accounts and sessions: argon2 password hashes, opaque bearer tokens stored as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection

from cunzhi.core.clock import utcnow
from cunzhi.core.config import get_settings
from cunzhi.core.errors import AppError, FieldError
from cunzhi.core.scope import Scope
from cunzhi.orgs.models import OrgUnit
from cunzhi.users.models import ROLES, AuditEntry, AuthSession, User

user_t = User.__table__
session_t = AuthSession.__table__
audit_t = AuditEntry.__table__
org_t = OrgUnit.__table__

_hasher = PasswordHasher()
# a hash to verify against when the username is unknown, so timing does not reveal which usernames exist
_DUMMY_HASH = _hasher.hash("not-a-real-password")

# Which role may work at which level of the tree
ROLE_LEVELS = {
    "mediator": ("village", "township"),
    "grid_worker": ("village",),
    "village_admin": ("village",),
    "township_admin": ("township",),
    "township_viewer": ("township",),
    "county_admin": ("county",),
    "integration": ("province", "city", "county", "township", "village"),  # read-only API keys
}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(conn: Connection, username: str, password: str, role: str, org_code: str,
                display_name: str | None = None, user_id: str | None = None) -> dict:
    """Create an account (or return the existing one with this username: idempotent for the demo)."""
    errors = []
    if role not in ROLES:
        errors.append(FieldError("role", "invalid_choice"))
    level = conn.execute(sa.select(org_t.c.level).where(org_t.c.code == org_code)).scalar()
    if level is None:
        errors.append(FieldError("org_code", "unknown_org"))
    elif role in ROLE_LEVELS and level not in ROLE_LEVELS[role]:
        errors.append(FieldError("org_code", "invalid_choice"))
    if not username or len(username) > 64 or len(password) < 8:
        errors.append(FieldError("username" if not username else "password", "too_short"))
    if errors:
        raise AppError(422, "validation_error", errors)
    existing = conn.execute(sa.select(user_t).where(user_t.c.username == username)).mappings().first()
    if existing:
        return dict(existing)
    row = {"id": user_id or str(uuid.uuid4()), "username": username, "display_name": display_name or username,
           "role": role, "org_code": org_code, "password_hash": hash_password(password), "active": True,
           "created_at": utcnow()}
    conn.execute(user_t.insert().values(**row))
    return row


def login(conn: Connection, username: str, password: str, client_id: str, user_agent: str = "") -> dict:
    """Check the password and open a session bound to this device's client_id."""
    user = conn.execute(sa.select(user_t).where(user_t.c.username == username)).mappings().first()
    try:
        _hasher.verify(user["password_hash"] if user else _DUMMY_HASH, password)
        ok = user is not None and user["active"]
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        raise AppError(401, "invalid_credentials")
    now = utcnow()
    token = secrets.token_urlsafe(32)
    session = {"id": str(uuid.uuid4()), "user_id": user["id"], "client_id": client_id, "token_hash": token_hash(token),
               "org_code": user["org_code"], "user_agent": user_agent[:300], "created_at": now, "last_seen_at": now,
               "expires_at": now + timedelta(days=get_settings().session_days)}
    conn.execute(session_t.insert().values(**session))
    return {"access_token": token, "token_type": "bearer", "expires_at": session["expires_at"],
            "session_id": session["id"]}


def create_api_key(conn: Connection, username: str, days: int = 365) -> dict:
    """A read-only key for an integration account: a long-lived session with its own client id."""
    user = conn.execute(sa.select(user_t).where(user_t.c.username == username)).mappings().first()
    if user is None:
        raise AppError(404, "not_found")
    if user["role"] != "integration":
        raise AppError(422, "validation_error", [FieldError("role", "invalid_choice")])
    now = utcnow()
    token = "ck_" + secrets.token_urlsafe(32)
    session = {"id": str(uuid.uuid4()), "user_id": user["id"], "client_id": str(uuid.uuid4()),
               "token_hash": token_hash(token), "org_code": user["org_code"], "user_agent": "api-key",
               "created_at": now, "last_seen_at": now, "expires_at": now + timedelta(days=days)}
    conn.execute(session_t.insert().values(**session))
    return {"key": token, "session_id": session["id"], "expires_at": session["expires_at"]}


def _aware(dt: datetime) -> datetime:
    from datetime import timezone

    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def authenticate(conn: Connection, token: str) -> tuple[Scope, bool]:
    """The caller behind a bearer token, or 401 with why (unknown, expired, revoked).

    Also says whether the sliding expiry is due for a refresh (written by :func:`touch_session`, rarely,
    so that reads never need the write lock)."""
    found = conn.execute(
        sa.select(session_t, user_t.c.username, user_t.c.role, user_t.c.org_code.label("user_org"), user_t.c.active)
        .join(user_t, user_t.c.id == session_t.c.user_id)
        .where(session_t.c.token_hash == token_hash(token))).mappings().first()
    if found is None or not found["active"]:
        raise AppError(401, "not_authenticated", headers={"WWW-Authenticate": "Bearer"})
    if found["revoked_at"] is not None:
        raise AppError(401, "session_revoked", headers={"WWW-Authenticate": "Bearer"})
    now = utcnow()
    if _aware(found["expires_at"]) <= now:
        raise AppError(401, "session_expired", headers={"WWW-Authenticate": "Bearer"})
    # sliding expiry for device sessions (API keys keep their fixed expiry)
    stale = found["user_agent"] != "api-key" and now - _aware(found["last_seen_at"]) > timedelta(minutes=10)
    scope = Scope(user_id=found["user_id"], username=found["username"], role=found["role"],
                  org_code=found["user_org"], client_id=found["client_id"], session_id=found["id"])
    return scope, stale


def touch_session(conn: Connection, session_id: str) -> None:
    now = utcnow()
    conn.execute(session_t.update().where(session_t.c.id == session_id, session_t.c.revoked_at.is_(None)).values(
        last_seen_at=now, expires_at=now + timedelta(days=get_settings().session_days)))


def write_audit(conn: Connection, scope: Scope, action: str) -> None:
    if scope.unmasked_ids:
        conn.execute(audit_t.insert().values(user_id=scope.user_id, at=utcnow(), action=action[:80],
                                             record_ids=sorted(scope.unmasked_ids)))
        scope.unmasked_ids.clear()


def can_manage_sessions(scope: Scope) -> bool:
    return scope.role in ("township_admin", "county_admin")
