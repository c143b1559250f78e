"""Read API for integrations and the dashboard: list, get, history of mediation cases."""

from __future__ import annotations

import uuid
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Query


from cunzhi.core.jsonx import JSONResponse
from cunzhi.api.deps import CurrentScope, audit
from cunzhi.api.listing import (codes_schema, IsoDate, ERRORS, UpdatedSince, filter_codes, history, history_doc, list_doc, list_page,
                                load_in_scope, record_model)
from cunzhi.core.clock import today_shanghai
from cunzhi.core.db import dicts, get_engine, read_tx, scope_clause
from cunzhi.mediation import rules
from cunzhi.mediation.entities import case_event, mediation_case
from cunzhi.sync.present import present_record
from cunzhi.sync.record import wire_columns

router = APIRouter(prefix="/mediation-cases", tags=["mediation"])
case_t = mediation_case.table
event_t = case_event.table


CaseDetail = record_model(mediation_case, name="CaseDetail", extra={"events": {
    "type": "array", "items": {"$ref": "#/components/schemas/CaseEventRecord"},
    "description": "调解记录 — the case's events (sessions, follow-ups, referrals…), oldest first; empty for an "
                   "API key that may not read case_event"}})


@router.get("", **list_doc(mediation_case, "mediation cases"))
def list_cases(
    scope: CurrentScope,
    status: Annotated[str | None, Query(max_length=200), codes_schema(rules.STATUSES, 200)] = None,
    category: Annotated[str | None, Query(max_length=400)] = None,
    risk_level: Annotated[str | None, Query(max_length=100), codes_schema(rules.RISK_LEVELS, 100)] = None,
    source: Annotated[str | None, Query(max_length=400)] = None,
    overdue: bool | None = None,
    escalation_flag: bool | None = None,
    org_code: Annotated[str | None, Query(pattern=r"^[0-9]{2,12}$")] = None,
    received_from: IsoDate | None = None,
    received_to: IsoDate | None = None,
    ended_from: IsoDate | None = None,
    ended_to: IsoDate | None = None,
    ended_as: Annotated[str | None, Query(max_length=100), codes_schema(rules.ENDING, 100)] = None,
    on_time: Annotated[bool | None, Query(description="ended on or before the deadline")] = None,
    perform_from: Annotated[IsoDate | None, Query(description="agreement due (perform_by, else signed_on) from")] = None,
    perform_to: Annotated[IsoDate | None, Query(description="agreement due (perform_by, else signed_on) until")] = None,
    updated_since: UpdatedSince = None,
    q: Annotated[str | None, Query(max_length=100, description="search in the title")] = None,
    include_deleted: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> JSONResponse:
    """Cases in the caller's scope, newest intake first; filters use the wire names of the fields."""
    query = sa.select(case_t).where(scope.clause(case_t.c.org_code))
    if org_code:
        query = query.where(scope_clause(case_t.c.org_code, org_code))
    if not include_deleted:
        query = query.where(case_t.c.deleted.is_(False))
    query = filter_codes(query, [(case_t.c.status, status, rules.STATUSES, "status"),
                                 (case_t.c.risk_level, risk_level, rules.RISK_LEVELS, "risk_level"),
                                 (case_t.c.category, category, None, "category"),
                                 (case_t.c.source, source, None, "source")])
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
    query = _dashboard_filters(query, ended_from, ended_to, ended_as, on_time, perform_from, perform_to)
    if q:
        query = query.where(case_t.c.title.contains(q, autoescape=True))
    return list_page(mediation_case, scope, query, case_t.c.received_on, limit=limit, cursor=cursor,
                     action="mediation_cases.list", updated_since=updated_since)


def _dashboard_filters(query, ended_from, ended_to, ended_as, on_time, perform_from, perform_to):
    """The dashboard's drill filters (i9): ended in a period, how, on time; agreements due in a period."""
    query = filter_codes(query, [(case_t.c.ended_as, ended_as, rules.ENDING, "ended_as")])
    if ended_from:
        query = query.where(case_t.c.ended_on >= ended_from)
    if ended_to:
        query = query.where(case_t.c.ended_on <= ended_to)
    if on_time is not None:
        ok = sa.and_(case_t.c.ended_on.is_not(None), case_t.c.ended_on <= case_t.c.deadline)
        query = query.where(ok if on_time else sa.not_(ok))
    if perform_from or perform_to:
        from cunzhi.dashboard.service import performance_date

        due = performance_date(get_engine())
        query = query.where(due >= perform_from.isoformat()) if perform_from else query.where(due.is_not(None))
        if perform_to:
            query = query.where(due <= perform_to.isoformat())
    return query


# built once (a statement built per request is coerced and cache-keyed again each time)
_EVENTS_OF_CASE = (sa.select(*wire_columns(event_t))
                   .where(event_t.c.case_id == sa.bindparam("case_id"), event_t.c.deleted.is_(False))
                   .order_by(event_t.c.occurred_at))


@router.get("/{case_id}", response_model=CaseDetail, responses=ERRORS,
            summary="One mediation case by id, with its events")
def get_case(case_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    """One case with its events (sessions, follow-ups, referrals), oldest event first."""
    with read_tx() as conn:
        row = load_in_scope(conn, scope, mediation_case, case_id)
        events = dicts(conn.execute(_EVENTS_OF_CASE, {"case_id": row["id"]}))
    out = present_record(mediation_case, row, scope)
    out["events"] = [present_record(case_event, e, scope) for e in events] if scope.may_read(case_event.name) else []
    audit(scope, "mediation_cases.get")
    return JSONResponse(out)


@router.get("/{case_id}/history", **history_doc(mediation_case, "mediation case"))
def case_history(case_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    """Every change of the case: who, when, which device, which fields (personal data masked by role)."""
    return history(mediation_case, scope, case_id, "mediation_cases.history")
