"""Read API for integrations and the dashboard: list, get, history of mediation cases."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import date
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from cunzhi.api.deps import CurrentScope, audit
from cunzhi.core.clock import today_shanghai
from cunzhi.core.db import read_tx, scope_clause
from cunzhi.core.errors import AppError, FieldError
from cunzhi.mediation import rules
from cunzhi.mediation.entities import case_event, mediation_case
from cunzhi.sync.history import record_history
from cunzhi.sync.present import present_record
from cunzhi.sync.schemas import ErrorOut

router = APIRouter(prefix="/mediation-cases", tags=["mediation"])
ERRORS = {400: {"model": ErrorOut}, 401: {"model": ErrorOut}, 404: {"model": ErrorOut}, 422: {"model": ErrorOut}}
case_t = mediation_case.table
event_t = case_event.table


class Page(BaseModel):
    items: list[dict]
    next_cursor: str | None = None


class CaseDetail(BaseModel):
    model_config = {"extra": "allow"}
    id: str
    events: list[dict]


class HistoryEntry(BaseModel):
    rev: int
    op: str
    at: str
    user_id: str
    client_id: str
    mutation_id: str | None
    fields: list[str]
    changes: dict


class HistoryOut(BaseModel):
    items: list[HistoryEntry]


def _codes(value: str | None, allowed: tuple[str, ...] | None, name: str) -> list[str] | None:
    if not value:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    if allowed is not None and any(v not in allowed for v in items):
        raise AppError(422, "validation_error", [FieldError(name, "invalid_choice")])
    return items


def _encode(received_on: date, rid: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([received_on.isoformat(), rid]).encode()).decode()


def _decode(cursor: str) -> tuple[date, str]:
    try:
        d, rid = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=="))
        return date.fromisoformat(d), str(uuid.UUID(rid))
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
        raise AppError(400, "invalid_cursor") from None


@router.get("", response_model=Page, responses=ERRORS)
def list_cases(
    scope: CurrentScope,
    status: Annotated[str | None, Query(description="comma-separated states", max_length=200)] = None,
    category: Annotated[str | None, Query(max_length=400)] = None,
    risk_level: Annotated[str | None, Query(max_length=100)] = None,
    source: Annotated[str | None, Query(max_length=400)] = None,
    overdue: bool | None = None,
    escalation_flag: bool | None = None,
    org_code: Annotated[str | None, Query(pattern=r"^\d{2,12}$")] = None,
    received_from: date | None = None,
    received_to: date | None = None,
    updated_since: Annotated[str | None, Query(max_length=40)] = None,
    q: Annotated[str | None, Query(max_length=100, description="search in the title")] = None,
    include_deleted: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> JSONResponse:
    """Cases in the caller's scope, newest intake first; filters use the wire names of the fields."""
    if not scope.may_read(mediation_case.name):
        raise AppError(404, "not_found")
    query = sa.select(case_t).where(scope.clause(case_t.c.org_code))
    if org_code:
        query = query.where(scope_clause(case_t.c.org_code, org_code))
    if not include_deleted:
        query = query.where(case_t.c.deleted.is_(False))
    for col, value, allowed, name in ((case_t.c.status, status, rules.STATUSES, "status"),
                                      (case_t.c.risk_level, risk_level, rules.RISK_LEVELS, "risk_level"),
                                      (case_t.c.category, category, None, "category"),
                                      (case_t.c.source, source, None, "source")):
        codes = _codes(value, allowed, name)
        if codes:
            query = query.where(col.in_(codes))
    today = today_shanghai()
    if overdue is not None:
        is_overdue = sa.and_(case_t.c.status.in_(rules.OPEN), case_t.c.deadline < today)
        query = query.where(is_overdue if overdue else sa.not_(is_overdue))
    if escalation_flag is not None:
        query = query.where(case_t.c.escalation_flag.is_(escalation_flag))
    if received_from:
        query = query.where(case_t.c.received_on >= received_from)
    if received_to:
        query = query.where(case_t.c.received_on <= received_to)
    if q:
        query = query.where(case_t.c.title.contains(q, autoescape=True))
    if cursor:
        d, rid = _decode(cursor)
        query = query.where(sa.or_(case_t.c.received_on < d, sa.and_(case_t.c.received_on == d, case_t.c.id < rid)))
    query = query.order_by(case_t.c.received_on.desc(), case_t.c.id.desc()).limit(limit + 1)
    with read_tx() as conn:
        rows = conn.execute(query).mappings().all()
    nxt = _encode(rows[limit - 1]["received_on"], rows[limit - 1]["id"]) if len(rows) > limit else None
    items = [present_record(mediation_case, r, scope, today) for r in rows[:limit]]
    audit(scope, "mediation_cases.list")
    return JSONResponse({"items": items, "next_cursor": nxt})


def _load_case(conn, scope, case_id: uuid.UUID) -> dict:
    row = conn.execute(sa.select(case_t).where(case_t.c.id == str(case_id))).mappings().first()
    if row is None or not scope.contains(row["org_code"]) or not scope.may_read(mediation_case.name):
        raise AppError(404, "not_found")
    return dict(row)


@router.get("/{case_id}", response_model=CaseDetail, responses=ERRORS)
def get_case(case_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    """One case with its events (sessions, follow-ups, referrals), oldest event first."""
    with read_tx() as conn:
        row = _load_case(conn, scope, case_id)
        events = conn.execute(sa.select(event_t).where(event_t.c.case_id == row["id"], event_t.c.deleted.is_(False))
                              .order_by(event_t.c.occurred_at)).mappings().all()
    out = present_record(mediation_case, row, scope)
    out["events"] = [present_record(case_event, e, scope) for e in events] if scope.may_read(case_event.name) else []
    audit(scope, "mediation_cases.get")
    return JSONResponse(out)


@router.get("/{case_id}/history", response_model=HistoryOut, responses=ERRORS)
def case_history(case_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    """Every change of the case: who, when, which device, which fields (personal data masked by role)."""
    with read_tx() as conn:
        _load_case(conn, scope, case_id)
        items = record_history(conn, mediation_case, str(case_id), scope)
    audit(scope, "mediation_cases.history")
    return JSONResponse({"items": items})
