"""GET /health: for probes. Anonymous callers learn only whether the service is up; signed-in township and
county admins also see the version, the database kind and the migration state."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import text

from cunzhi import __version__
from cunzhi.core.jsonx import JSONResponse
from cunzhi.core.config import get_settings
from cunzhi.core.db import get_engine, read_tx
from cunzhi.core.errors import AppError
from cunzhi.migrate import script_head

router = APIRouter(tags=["health"])


class HealthOut(BaseModel):
    status: str = Field(description="ok, or degraded (the database is unreachable or its schema not current: 503)")
    version: str | None = Field(default=None, description="(admins) the server's version")
    database: str | None = Field(default=None, description="(admins) sqlite or postgresql")
    migration: str | None = Field(default=None, description="(admins) the database's migration revision")
    migration_head: str | None = Field(default=None, description="(admins) the revision this server expects")
    demo: bool | None = Field(default=None, description="(admins) whether the demo data is loaded")


def _is_admin(request: Request) -> bool:
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("bearer ") or len(auth) > 220:
        return False
    from cunzhi.users.service import authenticate, can_manage_sessions

    try:
        with read_tx() as conn:
            scope, _ = authenticate(conn, auth[7:].strip())
    except AppError:
        return False
    except Exception:  # noqa: BLE001 - a probe reports, it does not raise
        return False
    return can_manage_sessions(scope)


@router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}},
            summary="Is the service up (for probes)")
def health(request: Request) -> JSONResponse:
    """200 when the database is reachable and its schema current, else 503 degraded. Anonymous callers learn only that; township and county admins also see the version, the database kind and the migration state."""
    engine = get_engine()
    try:
        with engine.connect() as conn:
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # noqa: BLE001 - a probe reports, it does not raise
        current = None
    head = script_head()
    ok = current is not None and current == head
    body: dict = {"status": "ok" if ok else "degraded"}
    if _is_admin(request):
        body |= {"version": __version__, "database": engine.dialect.name, "migration": current,
                 "migration_head": head, "demo": get_settings().demo}
    return JSONResponse(body, status_code=200 if ok else 503)
