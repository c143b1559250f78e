"""GET /health: for probes — version, database kind, migration head."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from cunzhi import __version__
from cunzhi.core.config import get_settings
from cunzhi.core.db import get_engine
from cunzhi.migrate import script_head

router = APIRouter(tags=["health"])


class HealthOut(BaseModel):
    status: str
    version: str
    database: str
    migration: str | None
    migration_head: str | None
    demo: bool


@router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
def health() -> JSONResponse:
    engine = get_engine()
    try:
        with engine.connect() as conn:
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # noqa: BLE001 - a probe reports, it does not raise
        current = None
    head = script_head()
    ok = current is not None and current == head
    return JSONResponse({"status": "ok" if ok else "degraded", "version": __version__, "database": engine.dialect.name,
                         "migration": current, "migration_head": head, "demo": get_settings().demo}, status_code=200 if ok else 503)
