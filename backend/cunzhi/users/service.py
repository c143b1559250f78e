"""Accounts and sessions: argon2 password hashes, opaque bearer tokens stored as SHA-256 hashes."""

from __future__ import annotations

import hashlib
from functools import lru_cache
import math
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from cunzhi.core.clock import utcnow
from cunzhi.core.config import get_settings
from cunzhi.core.errors import AppError, FieldError
from cunzhi.core.scope import Scope
from cunzhi.orgs.models import OrgUnit
from cunzhi.users.models import ROLES, AuditEntry, AuthSession, LoginAttempt, User
from cunzhi.users.passwords import password_problem

user_t = User.__table__
session_t = AuthSession.__table__
audit_t = AuditEntry.__table__
attempt_t = LoginAttempt.__table__
org_t = OrgUnit.__table__

# The public password of the demo accounts (README, login page in demo mode). Never valid outside demo mode.
DEMO_PASSWORD = "cunzhi-demo"
NOBODY = "00000000-0000-0000-0000-000000000000"  # audit rows about no known account (a failed login)



@lru_cache
def _argon2(time_cost: int, memory_kib: int) -> tuple[PasswordHasher, str]:
    """The hasher for these costs, and a hash to verify against when the username is unknown (so timing does not
    reveal which usernames exist)."""
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    return hasher, hasher.hash("not-a-real-password")


def _hasher() -> tuple[PasswordHasher, str]:
    settings = get_settings()
    return _argon2(settings.password_hash_time_cost, settings.password_hash_memory_kib)

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
    return _hasher()[0].hash(password)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Account administration (run-and-config.md "Roles and scope"): an admin manages only accounts ranked below
# its own role, in its scope — county_admin > township_admin > every other role.
ADMIN_ROLES = ("township_admin", "county_admin")
_RANK = {"county_admin": 3, "township_admin": 2}

# What each admin may create: role → the levels of unit in its scope it may put that role at.
# A county admin: any role below its own at a fitting level; a township admin: the village roles in its
# villages and viewers at its township (a township-level mediator is the county's to create).
CREATES: dict[str, dict[str, tuple[str, ...]]] = {
    "county_admin": {"mediator": ("village", "township"), "grid_worker": ("village",),
                     "village_admin": ("village",), "township_admin": ("township",),
                     "township_viewer": ("township",)},
    "township_admin": {"mediator": ("village",), "grid_worker": ("village",), "village_admin": ("village",),
                       "township_viewer": ("township",)},
}
# letters, digits and . _ - @ (what a phone keyboard types without a second thought), 2 to 64 of them
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$"
_USERNAME = re.compile(USERNAME_PATTERN)


def rank(role: str) -> int:
    return _RANK.get(role, 1)


def may_manage(actor_role: str, target_role: str) -> bool:
    """Whether an account of ``actor_role`` may administer one of ``target_role`` (scope checked apart)."""
    return actor_role in ADMIN_ROLES and rank(target_role) < rank(actor_role)


def create_user(conn: Connection, username: str, password: str, role: str, org_code: str,
                display_name: str | None = None, user_id: str | None = None, *, exist_ok: bool = False,
                demo: bool = False, creator: Scope | None = None) -> dict:
    """Create an account: the one path of the CLI (``creator`` None: the server's operator), the API (an
    admin's scope: what it may create, where) and the demo loader. An existing username (in any letter case)
    is a 409 ``username_taken``, unless ``exist_ok`` (the demo loader, idempotent) returns it unchanged. Only
    ``demo`` accounts may have the demo password."""
    levels = CREATES.get(creator.role, {}) if creator is not None else ROLE_LEVELS
    if creator is not None and role in ROLES and not may_manage(creator.role, role):
        raise AppError(403, "forbidden")  # an account of its own rank or above
    errors = []
    if role not in levels:  # unknown (or, through the API, an integration account: keys are made on /api-keys)
        errors.append(FieldError("role", "invalid_choice"))
    level = conn.execute(sa.select(org_t.c.level).where(org_t.c.code == org_code)).scalar()
    if level is None or creator is not None and not creator.contains(org_code):  # out of scope: as unknown
        errors.append(FieldError("org_code", "unknown_org"))
    elif role in levels and level not in levels[role]:  # a mediator belongs to a village, a viewer to a township…
        errors.append(FieldError("org_code", "role_org_mismatch"))
    if not username or len(username) > 64:
        errors.append(FieldError("username", "too_short" if not username else "too_long"))
    elif not _USERNAME.match(username):
        errors.append(FieldError("username", "invalid_username"))
    if display_name is not None and (not display_name.strip() or len(display_name) > 100):
        errors.append(FieldError("display_name", "too_long" if display_name.strip() else "required"))
    elif display_name is not None and any(ord(c) < 32 or ord(c) == 127 for c in display_name):
        errors.append(FieldError("display_name", "invalid_type"))  # control characters (NUL: PostgreSQL can't hold it)
    if not demo and (problem := password_problem(password, username)):
        errors.append(FieldError("password", problem))
    if errors:
        raise AppError(422, "validation_error", errors)
    existing = conn.execute(sa.select(user_t).where(user_t.c.username == username)).mappings().first()
    if existing and exist_ok:
        return dict(existing)
    if existing or conn.execute(sa.select(user_t.c.id).where(
            sa.func.lower(user_t.c.username) == username.lower()).limit(1)).first():
        raise AppError(409, "username_taken", [FieldError("username", "username_taken")])
    now = utcnow()
    new_id = user_id or str(uuid.uuid4())
    row = {"id": new_id, "username": username,
           "display_name": (display_name or "").strip() or username,
           "role": role, "org_code": org_code, "password_hash": hash_password(password), "active": True,
           "created_at": now, "password_changed_at": now, "demo_password": password == DEMO_PASSWORD}
    conn.execute(user_t.insert().values(**row))
    if not demo:
        audit_event(conn, creator.user_id if creator else new_id, "user_created", [new_id],
                    {"role": role, "org_code": org_code})
    return row


def find_user(conn: Connection, username: str) -> dict:
    user = conn.execute(sa.select(user_t).where(user_t.c.username == username)).mappings().first()
    if user is None:
        raise AppError(404, "not_found")
    return dict(user)


def set_password(conn: Connection, user_id: str, password: str, by: str | None = None) -> None:
    """A new password (checked against the rules); every session of the account ends."""
    user = conn.execute(sa.select(user_t.c.username).where(user_t.c.id == user_id)).scalar()
    if user is None:
        raise AppError(404, "not_found")
    if problem := password_problem(password, user):
        raise AppError(422, "validation_error", [FieldError("password", problem)])
    now = utcnow()
    conn.execute(user_t.update().where(user_t.c.id == user_id).values(
        password_hash=hash_password(password), password_changed_at=now, demo_password=False))
    revoke_all_sessions(conn, user_id, by or user_id)
    conn.execute(attempt_t.delete().where(attempt_t.c.key == _user_key(user)))
    audit_event(conn, by or user_id, "user_password_set", [user_id])


def set_active(conn: Connection, user_id: str, active: bool, by: str | None = None) -> None:
    """Deactivate (every session ends, login refused) or reactivate an account."""
    found = conn.execute(sa.select(user_t.c.id).where(user_t.c.id == user_id)).scalar()
    if found is None:
        raise AppError(404, "not_found")
    conn.execute(user_t.update().where(user_t.c.id == user_id).values(
        active=active, deactivated_at=None if active else utcnow()))
    if not active:
        revoke_all_sessions(conn, user_id, by or user_id)
    audit_event(conn, by or user_id, "user_activated" if active else "user_deactivated", [user_id])


def revoke_all_sessions(conn: Connection, user_id: str, by: str) -> int:
    return conn.execute(session_t.update().where(session_t.c.user_id == user_id, session_t.c.revoked_at.is_(None))
                        .values(revoked_at=utcnow(), revoked_by=by)).rowcount


def audit_event(conn: Connection, user_id: str, action: str, record_ids: list[str],
                detail: dict | None = None) -> None:
    conn.execute(audit_t.insert().values(user_id=user_id, at=utcnow(), action=action[:80], record_ids=record_ids,
                                         detail=detail))


def demo_password_accounts(conn: Connection) -> list[str]:
    """Active accounts that still accept the public demo password."""
    return list(conn.execute(sa.select(user_t.c.username).where(user_t.c.demo_password.is_(True),
                                                                 user_t.c.active.is_(True))
                             .order_by(user_t.c.username)).scalars())


def non_demo_accounts(conn: Connection, demo_usernames: set[str]) -> list[str]:
    """Accounts that are neither the demo's by name nor made by the demo (still on the demo password)."""
    names = conn.execute(sa.select(user_t.c.username).where(user_t.c.demo_password.is_(False))).scalars()
    return sorted(n for n in names if n not in demo_usernames)


# --- login: throttled, the password checked outside any transaction ---------------------------------

@dataclass
class LoginCandidate:
    user: dict | None
    keys: tuple[str, str]


def _user_key(username: str) -> str:
    return "u:" + username[:190]


def _ip_key(address: str) -> str:
    return "ip:" + address[:190]


def login_precheck(conn: Connection, username: str, address: str) -> LoginCandidate:
    """Refuse (429, Retry-After) while the username or the client address is locked; else the account row.

    A read: it takes no write lock, so a flood of logins never queues the pushes behind it."""
    keys = (_user_key(username), _ip_key(address))
    now = utcnow()
    locks = conn.execute(sa.select(attempt_t.c.locked_until).where(attempt_t.c.key.in_(keys),
                                                                     attempt_t.c.locked_until.is_not(None))).scalars()
    wait = max((( _aware(t) - now).total_seconds() for t in locks), default=0)
    if wait > 0:
        raise AppError(429, "too_many_attempts", headers={"Retry-After": str(math.ceil(wait))})
    user = conn.execute(sa.select(user_t).where(user_t.c.username == username)).mappings().first()
    return LoginCandidate(dict(user) if user else None, keys)


def check_password(candidate: LoginCandidate, password: str) -> bool:
    """The argon2 check (tens of milliseconds of CPU): call it with no transaction open."""
    user = candidate.user
    try:
        hasher, dummy = _hasher()
        hasher.verify(user["password_hash"] if user else dummy, password)
    except (VerificationError, InvalidHashError):
        return False
    if user is None or not user["active"]:
        return False
    if user["demo_password"] and not get_settings().demo:
        return False  # the public demo password never opens a session outside demo mode
    return True


def record_failure(conn: Connection, candidate: LoginCandidate, username: str, address: str) -> None:
    """Count the failure per username and per address (locking them for longer each time) and audit it."""
    s = get_settings()
    now = utcnow()
    limits = {candidate.keys[0]: s.login_max_failures, candidate.keys[1]: s.login_ip_max_failures}
    insert = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(attempt_t)
    for key in sorted(limits):  # concurrent failures on the same key: create once, then update under a row lock
        conn.execute(insert.values(key=key, failures=0, first_failed_at=now, last_failed_at=now)
                     .on_conflict_do_nothing(index_elements=["key"]))
    rows = {r["key"]: r for r in conn.execute(sa.select(attempt_t).where(attempt_t.c.key.in_(sorted(limits)))
                                              .order_by(attempt_t.c.key).with_for_update()).mappings()}
    for key, limit in limits.items():
        row = rows[key]
        fresh = (now - _aware(row["last_failed_at"])).total_seconds() > s.login_window_seconds
        failures = 1 if fresh else row["failures"] + 1
        locked = None
        if failures >= limit:
            delay = min(s.login_lock_max_seconds, s.login_lock_seconds * 2 ** (failures - limit))
            locked = now + timedelta(seconds=delay)
        values = {"failures": failures, "last_failed_at": now, "locked_until": locked}
        if fresh:
            values["first_failed_at"] = now
        conn.execute(attempt_t.update().where(attempt_t.c.key == key).values(**values))
    user = candidate.user
    # the username is recorded only when it names an account (a mistyped password is often typed as a name)
    audit_event(conn, user["id"] if user else NOBODY, "login_failed", [user["id"]] if user else [],
                {"username": user["username"] if user else None, "address": address[:64]})


def open_session(conn: Connection, user: dict, client_id: str, user_agent: str = "") -> dict:
    """A new session bound to this device's client_id; the username's failure count starts again."""
    now = utcnow()
    token = secrets.token_urlsafe(32)
    session = {"id": str(uuid.uuid4()), "user_id": user["id"], "client_id": client_id, "token_hash": token_hash(token),
               "org_code": user["org_code"], "user_agent": user_agent[:300], "created_at": now, "last_seen_at": now,
               "expires_at": _expiry(now, now)}
    conn.execute(session_t.insert().values(**session))
    conn.execute(attempt_t.delete().where(attempt_t.c.key == _user_key(user["username"])))
    return {"access_token": token, "token_type": "bearer", "expires_at": session["expires_at"],
            "session_id": session["id"]}


def _expiry(created_at: datetime, now: datetime) -> datetime:
    """Sliding expiry, never past the absolute lifetime counted from sign-in."""
    s = get_settings()
    return min(now + timedelta(days=s.session_days), _aware(created_at) + timedelta(days=s.session_max_days))


def purge_login_attempts(conn: Connection) -> int:
    """Forget failure counters nobody added to for a day (housekeeping)."""
    cutoff = utcnow() - timedelta(days=1)
    return conn.execute(attempt_t.delete().where(attempt_t.c.last_failed_at < cutoff)).rowcount


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
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


# built once: every request runs it (a statement built per request is coerced and cache-keyed again each time)
_BY_TOKEN = (sa.select(session_t, user_t.c.username, user_t.c.role, user_t.c.org_code.label("user_org"), user_t.c.active)
             .join(user_t, user_t.c.id == session_t.c.user_id)
             .where(session_t.c.token_hash == sa.bindparam("token_hash")))


def authenticate(conn: Connection, token: str) -> tuple[Scope, bool]:
    """The caller behind a bearer token, or 401 with why (unknown, expired, revoked).

    Also says whether the sliding expiry is due for a refresh (written by :func:`touch_session`, rarely,
    so that reads never need the write lock)."""
    found = conn.execute(_BY_TOKEN, {"token_hash": token_hash(token)}).mappings().first()
    if found is None or not found["active"]:
        raise AppError(401, "not_authenticated", headers={"WWW-Authenticate": "Bearer"})
    if found["revoked_at"] is not None:
        raise AppError(401, "session_revoked", headers={"WWW-Authenticate": "Bearer"})
    now = utcnow()
    api_key = found["user_agent"] == "api-key"
    absolute = _aware(found["created_at"]) + timedelta(days=get_settings().session_max_days)
    if _aware(found["expires_at"]) <= now or (not api_key and absolute <= now):
        raise AppError(401, "session_expired", headers={"WWW-Authenticate": "Bearer"})
    # sliding expiry for device sessions (API keys keep their fixed expiry)
    stale = not api_key and now - _aware(found["last_seen_at"]) > timedelta(minutes=10)
    scope = Scope(user_id=found["user_id"], username=found["username"], role=found["role"],
                  org_code=found["user_org"], client_id=found["client_id"], session_id=found["id"])
    return scope, stale


def touch_session(conn: Connection, session_id: str) -> None:
    now = utcnow()
    created = conn.execute(sa.select(session_t.c.created_at).where(session_t.c.id == session_id)).scalar()
    if created is None:
        return
    conn.execute(session_t.update().where(session_t.c.id == session_id, session_t.c.revoked_at.is_(None)).values(
        last_seen_at=now, expires_at=_expiry(created, now)))


def write_audit(conn: Connection, scope: Scope, action: str) -> None:
    if scope.unmasked_ids:
        conn.execute(audit_t.insert().values(user_id=scope.user_id, at=utcnow(), action=action[:80],
                                             record_ids=sorted(scope.unmasked_ids)))
        scope.unmasked_ids.clear()


def can_manage_sessions(scope: Scope) -> bool:
    return scope.role in ("township_admin", "county_admin")
