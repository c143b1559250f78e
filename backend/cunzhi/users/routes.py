"""Login, the caller's profile, and sessions (a lost phone is cut off by revoking its session)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Form, Query, Request
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from cunzhi.core.jsonx import JSONResponse
from cunzhi.api.deps import CurrentScope
from cunzhi.core.clock import iso, utcnow
from cunzhi.core.db import read_tx, write_tx
from cunzhi.core.errors import AppError, FieldError
from cunzhi.orgs.models import OrgUnit
from cunzhi.points import rules as points_rules
from cunzhi.reference.service import county_settings
from cunzhi.sync.registry import entities
from cunzhi.sync.schemas import ErrorOut
from cunzhi.users import service
from cunzhi.users.models import ROLES, AuthSession, User

public_router = APIRouter(tags=["auth"])
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
router = APIRouter(tags=["auth"])
ERRORS = {401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}, 422: {"model": ErrorOut}}
LOGIN_ERRORS = {**ERRORS, 429: {"model": ErrorOut}}


class TokenOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"access_token": "q3Jx…(43 characters)", "token_type": "bearer", "expires_at": "2026-12-20T02:00:00Z", "session_id": "3f2e1d0c-9b8a-4c7d-8e6f-5a4b3c2d1e0f"}]})
    access_token: str = Field(description="the bearer token: send it as Authorization: Bearer <access_token>")
    token_type: str = Field(description="always bearer")
    expires_at: str
    session_id: str = Field(description="the id of the session opened (see GET /sessions)")


class MeOut(BaseModel):
    id: str
    username: str
    display_name: str
    role: str
    org_code: str
    org_name: str
    permissions: dict[str, list[str]] = Field(description="record type → the operations (create, update, delete) the role may push")
    unmasked_org_prefixes: list[str] = Field(description="org code prefixes where the caller sees ID and phone numbers in full")
    personal_fields: dict[str, list[str]] = Field(description="record type → where personal data sits (field or field.key), masked elsewhere")
    manages_users: bool = Field(default=False, description="whether the caller administers accounts (GET /users)")


class SessionOut(BaseModel):
    id: str
    user_id: str
    username: str
    client_id: str
    user_agent: str = Field(description="the User-Agent of the device that signed in")
    created_at: str
    last_seen_at: str = Field(description="when the session was used last (updated at most once a minute)")
    expires_at: str
    revoked_at: str | None


class SessionPage(BaseModel):
    items: list[SessionOut]
    next_cursor: str | None = None


@public_router.post("/auth/token", response_model=TokenOut, responses=LOGIN_ERRORS,
                    summary="Sign in: a session token bound to this device")
def token(request: Request,
          username: Annotated[str, Form(min_length=1, max_length=64, description="the login name", examples=["wanfu.admin"])],
          password: Annotated[str, Form(min_length=1, max_length=200, description="the password", examples=["(the account's password)"])],
          client_id: Annotated[str, WithJsonSchema({"type": "string", "pattern": UUID_PATTERN}), Form(description="the device's id: a UUID the app makes once "
                                                                           "per installation; the session is bound to it",
                                         examples=["5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"])],
          grant_type: Annotated[str | None, Form(max_length=20, description="OAuth2's grant type: password (optional)",
                                                 examples=["password"])] = None) -> JSONResponse:
    """OAuth2 password login plus the device's ``client_id``: opens a session bound to that device."""
    if not re.fullmatch(UUID_PATTERN, client_id):  # a UUID written 8-4-4-4-12, as declared
        raise AppError(422, "validation_error", [FieldError("client_id", "invalid_uuid")])
    client_id = str(uuid.UUID(client_id))
    if "\x00" in username or "\x00" in password:  # no account has one (and PostgreSQL text cannot hold it)
        raise AppError(401, "invalid_credentials")
    address = request.client.host if request.client else "unknown"
    # 1. a read: refused at once while the username or address is locked (no hashing, no write)
    with read_tx() as conn:
        candidate = service.login_precheck(conn, username, address)
    # 2. argon2 outside any transaction: a flood of bad logins never holds the write lock pushes need
    ok = service.check_password(candidate, password)
    # 3. a short write: the session, or the failure count and its audit row
    with write_tx() as conn:
        if not ok:
            service.record_failure(conn, candidate, username, address)
        else:
            out = service.open_session(conn, candidate.user, client_id, request.headers.get("user-agent", ""))
    if not ok:
        raise AppError(401, "invalid_credentials")
    return JSONResponse({**out, "expires_at": iso(out["expires_at"])})


def permissions_of(role: str, settings: Mapping[str, Any] | None = None) -> dict[str, list[str]]:
    """What the role may write: the entities' writers, less what the county's settings take away (mediators and
    grid workers add points entries only where ``points_field_writers`` is 1, as the server checks on push)."""
    out = {name: sorted(op for op, roles in spec.writers.items() if role in roles)
           for name, spec in entities().items() if any(role in r for r in spec.writers.values())}
    if role in points_rules.FIELD_WRITERS and not points_rules.field_writers_allowed(settings or {}):
        out.pop("points_entry", None)
    return out


@router.get("/me", response_model=MeOut, responses=ERRORS,
            summary="Who the caller is, and what the role may do")
def me(scope: CurrentScope) -> JSONResponse:
    """Who the caller is, what the role may write, where it sees personal data unmasked. Not for API keys (403:
    a key is no account)."""
    _require_person(scope)
    with read_tx() as conn:
        user = conn.execute(sa.select(User.__table__).where(User.__table__.c.id == scope.user_id)).mappings().one()
        org_name = conn.execute(sa.select(OrgUnit.__table__.c.name).where(
            OrgUnit.__table__.c.code == scope.org_code)).scalar() or ""
        settings = county_settings(conn, scope.org_code[:6]) if len(scope.org_code) >= 6 else {}
    unmasked = [scope.org_code] if scope.role in ("township_admin", "mediator", "village_admin") else []
    personal = {name: spec.personal_paths() for name, spec in entities().items() if spec.personal_fields}
    return JSONResponse({"id": user["id"], "username": user["username"], "display_name": user["display_name"],
                         "role": user["role"], "org_code": user["org_code"], "org_name": org_name,
                         "permissions": permissions_of(scope.role, settings), "unmasked_org_prefixes": unmasked,
                         "personal_fields": personal, "manages_users": service.can_manage_sessions(scope)})


def _session_out(r) -> dict:
    return {"id": r["id"], "user_id": r["user_id"], "username": r["username"], "client_id": r["client_id"],
            "user_agent": r["user_agent"], "created_at": iso(r["created_at"]), "last_seen_at": iso(r["last_seen_at"]),
            "expires_at": iso(r["expires_at"]), "revoked_at": iso(r["revoked_at"])}


def _require_person(scope) -> None:
    """Routes about the caller's own account and sessions: an API key has neither (403, like /users)."""
    if scope.is_api_key:
        raise AppError(403, "forbidden")


def _managed_roles(scope) -> list[str]:
    """The roles of the accounts the caller administers (county_admin > township_admin > every other role);
    integration accounts are the county's."""
    return [r for r in ROLES if service.may_manage(scope.role, r)
            and (r != "integration" or scope.role == "county_admin")]


_SESSIONS = sa.select(AuthSession.__table__, User.__table__.c.username).join(
    User.__table__, User.__table__.c.id == AuthSession.__table__.c.user_id)


@router.get("/sessions", response_model=SessionPage, responses=ERRORS,
            summary="List sessions (one's own; an admin's: also those of the accounts it manages)")
def list_sessions(scope: CurrentScope,
                  active_only: Annotated[bool, Query(description="only sessions not revoked or expired")] = True,
                  user_id: Annotated[uuid.UUID | None, Query(description="only this account's sessions: one's own, "
                                                                          "or (admins) an account it manages")] = None
                  ) -> JSONResponse:
    """One's own sessions; for township and county admins also every session of the accounts they manage (ranked
    below their own role, in their scope). ``user_id``: one account's (403 for an account in scope the caller may
    not manage, 404 outside the scope)."""
    _require_person(scope)
    s, u = AuthSession.__table__, User.__table__
    q = _SESSIONS.order_by(s.c.last_seen_at.desc()).limit(1000)
    if active_only:
        q = q.where(s.c.revoked_at.is_(None), s.c.expires_at > utcnow())
    with read_tx() as conn:
        if user_id is not None:
            if str(user_id) != scope.user_id:
                _require_admin(scope)
                _managed_user(conn, scope, str(user_id))
            q = q.where(s.c.user_id == str(user_id))
        elif service.can_manage_sessions(scope):
            q = q.where(sa.or_(s.c.user_id == scope.user_id,
                               sa.and_(scope.clause(u.c.org_code), u.c.role.in_(_managed_roles(scope)))))
        else:
            q = q.where(s.c.user_id == scope.user_id)
        rows = conn.execute(q).mappings().all()
    return JSONResponse({"items": [_session_out(r) for r in rows], "next_cursor": None})


@router.delete("/sessions/{session_id}", response_model=SessionOut, responses=ERRORS,
               summary="Revoke a session (its device is signed out)")
def revoke_session(session_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    """Revoke a session: the device answers 401 session_revoked next time and wipes that user's data. One's own,
    or (admins) one of an account it manages; an account in scope it may not manage: 403."""
    s = AuthSession.__table__
    with write_tx() as conn:
        row = conn.execute(_SESSIONS.where(s.c.id == str(session_id))).mappings().first()
        if row is None or row["user_id"] != scope.user_id and not service.can_manage_sessions(scope):
            raise AppError(404, "not_found")  # a non-admin sees only its own sessions
        if row["user_id"] != scope.user_id:
            _managed_user(conn, scope, row["user_id"])
        if row["revoked_at"] is None:
            now = utcnow()
            conn.execute(s.update().where(s.c.id == row["id"]).values(revoked_at=now, revoked_by=scope.user_id))
            row = {**row, "revoked_at": now}
    return JSONResponse(_session_out(row))


# --- user administration: township and county admins, for the accounts in their scope -------------------

class UserOut(BaseModel):
    id: str
    username: str
    display_name: str
    role: str
    org_code: str
    active: bool
    password_changed_at: str | None = Field(description="when the password was set last; null: never since the account was made")
    manageable: bool = Field(default=False, description="whether the caller may set its password, deactivate or "
                                                        "activate it and revoke its sessions (ranked below the "
                                                        "caller's role); one's own account: false (its password "
                                                        "and sessions are one's own to change)")


class UserPage(BaseModel):
    items: list[UserOut]
    next_cursor: str | None = None


class PasswordIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"password": "a-long-passphrase-2026"}]})
    password: str = Field(min_length=1, max_length=200, description="the new password: at least 12 characters, not a common one")


CREATABLE_ROLES = Literal["mediator", "grid_worker", "village_admin", "township_admin", "township_viewer", "county_admin"]


class UserIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "username": "wanfucun.tj2", "display_name": "张桂兰", "role": "mediator", "org_code": "340321108200",
        "password": "a-long-passphrase-2026"}]})
    username: Annotated[str, Field(min_length=1, max_length=64), WithJsonSchema({
        "type": "string", "minLength": 2, "maxLength": 64, "pattern": service.USERNAME_PATTERN,
        "description": "the login name: letters, digits and . _ - @; unique (in any letter case)"})]
    display_name: str = Field(min_length=1, max_length=100, description="the name colleagues see, e.g. 张桂兰")
    role: CREATABLE_ROLES = Field(description="a role ranked below the caller's, at a fitting level: mediator, "
                                              "grid_worker, village_admin at a village (a county admin: a mediator "
                                              "also at a township); township_admin (county admins), "
                                              "township_viewer at a township")
    org_code: str = Field(min_length=6, max_length=24, pattern=r"^[0-9]+$", description="the account's unit, "
                          "in the caller's scope")
    password: str = Field(min_length=1, max_length=200, description="the first password: at least 12 characters, "
                                                                  "not a common one, not containing the username")


def _user_out(r, scope) -> dict:
    manageable = r["id"] != scope.user_id and service.may_manage(scope.role, r["role"])
    return {"id": r["id"], "username": r["username"], "display_name": r["display_name"], "role": r["role"],
            "org_code": r["org_code"], "active": bool(r["active"]), "password_changed_at": iso(r["password_changed_at"]),
            "manageable": manageable}


def _managed_user(conn, scope, user_id: str, allow_self: bool = False) -> dict:
    """An account the caller administers: outside its scope (or none) the same 404; in scope but of the caller's
    own rank or above 403 (one's own account too, unless ``allow_self``)."""
    u = User.__table__
    row = conn.execute(sa.select(u).where(u.c.id == user_id, scope.clause(u.c.org_code))).mappings().first()
    if row is None or row["role"] == "integration" and scope.role != "county_admin":
        raise AppError(404, "not_found")
    if not (allow_self and row["id"] == scope.user_id) and not service.may_manage(scope.role, row["role"]):
        raise AppError(403, "forbidden")
    return dict(row)


def _require_admin(scope) -> None:
    if not service.can_manage_sessions(scope):
        raise AppError(403, "forbidden")


@router.get("/users", response_model=UserPage, responses=ERRORS,
            summary="List the accounts in an admin's scope")
def list_users(scope: CurrentScope) -> JSONResponse:
    """Accounts in the caller's scope (township and county admins), each saying whether the caller manages it."""
    _require_admin(scope)
    u = User.__table__
    q = sa.select(u).where(scope.clause(u.c.org_code)).order_by(u.c.org_code, u.c.username).limit(5000)
    if scope.role != "county_admin":
        q = q.where(u.c.role != "integration")
    with read_tx() as conn:
        rows = conn.execute(q).mappings().all()
    return JSONResponse({"items": [_user_out(r, scope) for r in rows], "next_cursor": None})


@router.post("/users", response_model=UserOut, status_code=201, responses={**ERRORS, 409: {"model": ErrorOut}},
             summary="Create an account")
def create_user(body: UserIn, scope: CurrentScope) -> JSONResponse:
    """Create an account in the caller's scope: a county admin any role below its own at a fitting unit; a township
    admin mediators, grid workers and village admins in its villages and viewers at its township. A role of the
    caller's rank or above: 403; a unit outside the scope: 422 ``unknown_org``; a role at the wrong level: 422
    ``role_org_mismatch``; a username taken: 409 ``username_taken``; the password rules of
    ``PUT /users/{id}/password``."""
    _require_admin(scope)
    with write_tx() as conn:
        row = service.create_user(conn, body.username, body.password, body.role, body.org_code, body.display_name,
                                  creator=scope)
    return JSONResponse(_user_out(row, scope), status_code=201)


@router.put("/users/{user_id}/password", response_model=UserOut, responses=ERRORS,
            summary="Set an account's password (its sessions end)")
def set_user_password(user_id: uuid.UUID, body: PasswordIn, scope: CurrentScope) -> JSONResponse:
    """Set the password (at least 12 characters, not a common one) of one's own account or of one the caller
    manages (ranked below its role; else 403); its sessions end."""
    _require_admin(scope)
    with write_tx() as conn:
        _managed_user(conn, scope, str(user_id), allow_self=True)
        service.set_password(conn, str(user_id), body.password, by=scope.user_id)
        row = _managed_user(conn, scope, str(user_id), allow_self=True)
    return JSONResponse(_user_out(row, scope))


@router.post("/users/{user_id}/deactivate", response_model=UserOut, responses=ERRORS,
             summary="Deactivate an account")
def deactivate_user(user_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    """Deactivate an account the caller manages: its sessions end at once and it cannot sign in."""
    _require_admin(scope)
    if str(user_id) == scope.user_id:
        raise AppError(422, "validation_error", [FieldError("user_id", "invalid_choice")])
    with write_tx() as conn:
        _managed_user(conn, scope, str(user_id))
        service.set_active(conn, str(user_id), False, by=scope.user_id)
        row = _managed_user(conn, scope, str(user_id))
    return JSONResponse(_user_out(row, scope))


@router.post("/users/{user_id}/activate", response_model=UserOut, responses=ERRORS,
             summary="Reactivate an account")
def activate_user(user_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    """Let a deactivated account the caller manages sign in again."""
    _require_admin(scope)
    with write_tx() as conn:
        _managed_user(conn, scope, str(user_id))
        service.set_active(conn, str(user_id), True, by=scope.user_id)
        row = _managed_user(conn, scope, str(user_id))
    return JSONResponse(_user_out(row, scope))
