"""Read-only API keys: made by township and county admins (or the CLI), scoped to an org unit's subtree,
optionally to some record types, masked unless their creator may see personal data and chose otherwise.

The secret (``czk_`` + 32 random bytes in base32) is shown once and stored only as a SHA-256 hash.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
import uuid
from datetime import date, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cunzhi.core.clock import iso, today_shanghai, utcnow
from cunzhi.core.config import get_settings
from cunzhi.core.errors import AppError, FieldError
from cunzhi.core.scope import Scope
from cunzhi.integrations.models import ApiKey
from cunzhi.orgs.models import OrgUnit

key_t = ApiKey.__table__
org_t = OrgUnit.__table__
PREFIX = "czk_"
MANAGERS = ("township_admin", "county_admin")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return PREFIX + base64.b32encode(secrets.token_bytes(32)).decode().rstrip("=").lower()


def create_key(conn: Connection, *, name: str, org_code: str, entities: list[str] | None,
               expires_on: date | None, unmasked: bool, creator: Scope | None) -> dict:
    """Store a new key and answer it with its secret (the only time the secret is shown)."""
    from cunzhi.sync.registry import entities as registered

    errors: list[FieldError] = []
    name = (name or "").strip()
    if not name or len(name) > 100 or "\x00" in name:
        errors.append(FieldError("name", "required" if not name else "too_long"))
    if entities is not None:
        if not entities or any(e not in registered() for e in entities):
            errors.append(FieldError("entities", "invalid_choice"))
    if expires_on is not None and expires_on <= today_shanghai():
        errors.append(FieldError("expires_on", "out_of_range"))
    if conn.execute(sa.select(org_t.c.code).where(org_t.c.code == org_code)).first() is None:
        raise AppError(404, "not_found")  # an unknown unit looks like one outside the caller's scope
    if creator is not None:
        if not creator.contains(org_code):
            raise AppError(404, "not_found")
        if unmasked and not creator.sees_personal_data(org_code):
            errors.append(FieldError("unmasked", "forbidden"))
    if errors:
        raise AppError(422, "validation_error", errors)
    secret = new_secret()
    row = {"id": str(uuid.uuid4()), "name": name, "org_code": org_code,
           "entities": sorted(set(entities)) if entities is not None else None, "unmasked": bool(unmasked),
           "secret_hash": _hash(secret), "prefix": secret[:10], "expires_on": expires_on,
           "created_by": creator.user_id if creator else None, "created_at": utcnow()}
    conn.execute(key_t.insert().values(**row))
    return {**present_key(row), "secret": secret}


def present_key(row) -> dict:
    return {"id": row["id"], "name": row["name"], "org_code": row["org_code"], "entities": row["entities"],
            "unmasked": bool(row["unmasked"]), "prefix": row["prefix"],
            "expires_on": row["expires_on"].isoformat() if row["expires_on"] else None,
            "created_by": row["created_by"], "created_at": iso(row["created_at"]),
            "last_used_at": iso(row.get("last_used_at")), "revoked_at": iso(row.get("revoked_at"))}


def visible_keys(scope: Scope):
    """The keys a manager sees: those whose unit is in the manager's scope."""
    return sa.select(key_t).where(scope.clause(key_t.c.org_code))


def revoke_key(conn: Connection, scope: Scope, key_id: str) -> dict:
    found = conn.execute(visible_keys(scope).where(key_t.c.id == key_id)).mappings().first()
    if found is None:
        raise AppError(404, "not_found")
    row = dict(found)
    if row["revoked_at"] is None:
        row["revoked_at"] = utcnow()
        conn.execute(key_t.update().where(key_t.c.id == key_id).values(revoked_at=row["revoked_at"]))
    return present_key(row)


def authenticate_key(conn: Connection, secret: str) -> tuple[Scope, bool]:
    """The scope of a key, or 401 (unknown, revoked or expired: at once, no cache). Also says whether
    ``last_used_at`` is due for a write (at most once a minute, so reads rarely need the write lock)."""
    row = conn.execute(sa.select(key_t).where(key_t.c.secret_hash == _hash(secret))).mappings().first()
    if row is None:
        raise AppError(401, "not_authenticated", headers={"WWW-Authenticate": "Bearer"})
    if row["revoked_at"] is not None:
        raise AppError(401, "key_revoked", headers={"WWW-Authenticate": "Bearer"})
    if row["expires_on"] is not None and row["expires_on"] <= today_shanghai():
        raise AppError(401, "key_expired", headers={"WWW-Authenticate": "Bearer"})
    scope = Scope(user_id=row["id"], username=f"key:{row['name']}", role="integration", org_code=row["org_code"],
                  client_id=row["id"], entities=frozenset(row["entities"]) if row["entities"] is not None else None,
                  key_unmasked=bool(row["unmasked"]))
    last = row["last_used_at"]
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=timezone.utc)
    return scope, last is None or utcnow() - last > timedelta(seconds=60)


def touch_key(conn: Connection, key_id: str) -> None:
    conn.execute(key_t.update().where(key_t.c.id == key_id).values(last_used_at=utcnow()))


class RateLimiter:
    """A token bucket per key, in this process: ``rate`` requests a minute, bursts up to ``burst``."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, rate_per_minute: int, burst: int) -> float:
        """0 when the request may go ahead, else the seconds to wait."""
        rate = rate_per_minute / 60.0
        now = time.monotonic()
        with self._lock:
            tokens, at = self._buckets.get(key, (float(burst), now))
            tokens = min(float(burst), tokens + (now - at) * rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / rate


limiter = RateLimiter()


def check_rate(scope: Scope) -> None:
    settings = get_settings()
    wait = limiter.take(scope.user_id, settings.api_key_rate_per_minute, settings.api_key_burst)
    if wait > 0:
        raise AppError(429, "rate_limited", headers={"Retry-After": str(max(1, int(wait + 0.999)))})


