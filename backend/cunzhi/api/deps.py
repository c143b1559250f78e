"""Dependency aliases every route uses: the caller's scope, the request language."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cunzhi.core.db import get_engine, read_tx, write_tx
from cunzhi.core.errors import AppError, lang_of
from cunzhi.core.scope import Scope
from cunzhi.integrations import keys
from cunzhi.users.service import authenticate, touch_session

_bearer = HTTPBearer(auto_error=False, description="The access_token from POST /api/v1/auth/token")


def current_scope(request: Request,
                  creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Scope:
    """Every route but login and health: a valid, unexpired, unrevoked session (else 401 with why)."""
    if creds is None or not creds.credentials or len(creds.credentials) > 200:
        raise AppError(401, "not_authenticated", headers={"WWW-Authenticate": "Bearer"})
    if creds.credentials.startswith(keys.PREFIX):
        with read_tx(get_engine()) as conn:
            scope, stale = keys.authenticate_key(conn, creds.credentials)
        if request.method not in ("GET", "HEAD"):
            raise AppError(403, "forbidden")  # keys are read-only
        keys.check_rate(scope)
        if stale:
            with write_tx(get_engine()) as conn:
                keys.touch_key(conn, scope.user_id)
        request.state.scope = scope
        return scope
    with read_tx(get_engine()) as conn:
        scope, stale = authenticate(conn, creds.credentials)
    if stale:
        with write_tx(get_engine()) as conn:
            touch_session(conn, scope.session_id)
    request.state.scope = scope
    return scope


async def language(request: Request) -> str:
    """The request's language. ``async``: FastAPI calls it on the event loop; a plain ``def`` dependency costs a
    hand-off to the thread pool and back for a header lookup."""
    return lang_of(request)


CurrentScope = Annotated[Scope, Depends(current_scope)]
Lang = Annotated[str, Depends(language)]


from cunzhi.api.audit import audit  # noqa: E402,F401  (group commit: routes import it from here)


def reads(*entities: str):
    """A route dependency: the route shows records of these types (none named: of every type, e.g. the dashboard).
    A key limited to other record types finds the route absent — 404, as a list of a type it may not read answers
    (``api/listing.list_page``) — not forbidden: what a key may not read looks exactly like what does not exist."""
    def check(scope: CurrentScope) -> None:
        from cunzhi.sync.registry import entities as every_type

        if scope.entities is not None and not all(scope.may_read(e) for e in entities or every_type()):
            raise AppError(404, "not_found")
    return Depends(check)


def require(scope: Scope, *roles: str) -> None:
    if scope.role not in roles:
        raise AppError(403, "forbidden")
