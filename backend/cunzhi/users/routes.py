"""Login, the caller's profile, and sessions (a lost phone is cut off by revoking its session)."""

from __future__ import annotations

import uuid
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from cunzhi.api.deps import CurrentScope
from cunzhi.core.clock import iso, utcnow
from cunzhi.core.db import read_tx, write_tx
from cunzhi.core.errors import AppError, FieldError
from cunzhi.orgs.models import OrgUnit
from cunzhi.sync.registry import entities
from cunzhi.sync.schemas import ErrorOut
from cunzhi.users import service
from cunzhi.users.models import AuthSession, User

public_router = APIRouter(tags=["auth"])
router = APIRouter(tags=["auth"])
ERRORS = {401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}, 422: {"model": ErrorOut}}


class TokenOut(BaseModel):
    access_token: str
    token_type: str
    expires_at: str
    session_id: str


class MeOut(BaseModel):
    id: str
    username: str
    display_name: str
    role: str
    org_code: str
    org_name: str
    permissions: dict[str, list[str]]
    unmasked_org_prefixes: list[str]
    personal_fields: dict[str, list[str]]


class SessionOut(BaseModel):
    id: str
    user_id: str
    username: str
    client_id: str
    user_agent: str
    created_at: str
    last_seen_at: str
    expires_at: str
    revoked_at: str | None


class SessionPage(BaseModel):
    items: list[SessionOut]
    next_cursor: str | None = None


@public_router.post("/auth/token", response_model=TokenOut, responses=ERRORS)
def token(request: Request, username: Annotated[str, Form(max_length=64)], password: Annotated[str, Form(max_length=200)],
          client_id: Annotated[str, Form(max_length=64)], grant_type: Annotated[str | None, Form()] = None) -> JSONResponse:
    """OAuth2 password login plus the device's ``client_id``: opens a session bound to that device."""
    try:
        client_id = str(uuid.UUID(client_id))
    except ValueError:
        raise AppError(422, "validation_error", [FieldError("client_id", "invalid_uuid")]) from None
    if "\x00" in username or "\x00" in password:  # no account has one (and PostgreSQL text cannot hold it)
        raise AppError(401, "invalid_credentials")
    with write_tx() as conn:
        out = service.login(conn, username, password, client_id, request.headers.get("user-agent", ""))
    return JSONResponse({**out, "expires_at": iso(out["expires_at"])})


def permissions_of(role: str) -> dict[str, list[str]]:
    return {name: sorted(op for op, roles in spec.writers.items() if role in roles)
            for name, spec in entities().items() if any(role in r for r in spec.writers.values())}


@router.get("/me", response_model=MeOut, responses=ERRORS)
def me(scope: CurrentScope) -> JSONResponse:
    """Who the caller is, what the role may write, where it sees personal data unmasked."""
    with read_tx() as conn:
        user = conn.execute(sa.select(User.__table__).where(User.__table__.c.id == scope.user_id)).mappings().one()
        org_name = conn.execute(sa.select(OrgUnit.__table__.c.name).where(
            OrgUnit.__table__.c.code == scope.org_code)).scalar() or ""
    unmasked = [scope.org_code] if scope.role in ("township_admin", "mediator", "village_admin") else []
    personal = {name: spec.personal_paths() for name, spec in entities().items() if spec.personal_fields}
    return JSONResponse({"id": user["id"], "username": user["username"], "display_name": user["display_name"],
                         "role": user["role"], "org_code": user["org_code"], "org_name": org_name,
                         "permissions": permissions_of(scope.role), "unmasked_org_prefixes": unmasked,
                         "personal_fields": personal})


def _session_out(r) -> dict:
    return {"id": r["id"], "user_id": r["user_id"], "username": r["username"], "client_id": r["client_id"],
            "user_agent": r["user_agent"], "created_at": iso(r["created_at"]), "last_seen_at": iso(r["last_seen_at"]),
            "expires_at": iso(r["expires_at"]), "revoked_at": iso(r["revoked_at"])}


def _visible_sessions(scope):
    s, u = AuthSession.__table__, User.__table__
    q = sa.select(s, u.c.username).join(u, u.c.id == s.c.user_id)
    if service.can_manage_sessions(scope):
        return q.where(scope.clause(u.c.org_code))
    return q.where(s.c.user_id == scope.user_id)


@router.get("/sessions", response_model=SessionPage, responses=ERRORS)
def list_sessions(scope: CurrentScope, active_only: bool = True) -> JSONResponse:
    """One's own sessions; for township and county admins, every session of users in their scope."""
    s = AuthSession.__table__
    q = _visible_sessions(scope).order_by(s.c.last_seen_at.desc()).limit(1000)
    if active_only:
        q = q.where(s.c.revoked_at.is_(None), s.c.expires_at > utcnow())
    with read_tx() as conn:
        rows = conn.execute(q).mappings().all()
    return JSONResponse({"items": [_session_out(r) for r in rows], "next_cursor": None})


@router.delete("/sessions/{session_id}", response_model=SessionOut, responses=ERRORS)
def revoke_session(session_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    """Revoke a session: the device answers 401 session_revoked next time and wipes that user's data."""
    s = AuthSession.__table__
    with write_tx() as conn:
        row = conn.execute(_visible_sessions(scope).where(s.c.id == str(session_id))).mappings().first()
        if row is None:
            raise AppError(404, "not_found")
        if row["revoked_at"] is None:
            now = utcnow()
            conn.execute(s.update().where(s.c.id == row["id"]).values(revoked_at=now, revoked_by=scope.user_id))
            row = {**row, "revoked_at": now}
    return JSONResponse(_session_out(row))
