"""Grid work over HTTP: grids (/grids), the roster import, and the read API of households, patrols and
incidents (filters on wire names, cursor pagination, one by id, history) — the shared list machinery of
``cunzhi.api.listing``, the one output layer (masking) and the audit of unmasked personal data."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Body, File, Form, Path, Query, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from cunzhi.core.jsonx import JSONResponse
from cunzhi.api.deps import CurrentScope
from cunzhi.api.listing import (codes_schema, IsoDate, ERRORS, UpdatedSince, filter_codes, get_doc, get_one, history, history_doc, list_doc,
                                list_page)
from cunzhi.core.clock import today_shanghai
from cunzhi.core.db import read_tx, scope_clause, write_tx
from cunzhi.core.errors import AppError, lang_of
from cunzhi.core.i18n import message
from cunzhi.grid import grids as grid_service
from cunzhi.grid import rules
from cunzhi.grid.entities import household, incident, patrol
from cunzhi.grid.importer import import_roster

router = APIRouter(tags=["grid"])
household_t, patrol_t, incident_t = household.table, patrol.table, incident.table
OrgCode = Annotated[str | None, Query(pattern=r"^[0-9]{2,15}$")]
Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(max_length=400)]


# ---- grids -----------------------------------------------------------------------------------------
class GridOut(BaseModel):
    code: str = Field(description="the grid's code: the village code + a 3-digit serial")
    name: str
    level: str = Field(description="always grid")
    village_code: str = Field(description="the village the grid belongs to")
    worker_ids: list[str] = Field(description="ids of the grid workers assigned")
    retired: bool = Field(description="true once retired (kept for history)")
    created_at: str
    updated_at: str


class GridList(BaseModel):
    items: list[GridOut] = Field(description="the grids")


# a grid's name: 1–50 characters with one that is not blank (what str.strip() keeps), no NUL
GRID_NAME = {"type": "string", "minLength": 1, "maxLength": 50, "pattern": r"^[^\x00]*[^\s\x00\x1c-\x1f\x85][^\x00]*$"}
WORKER_IDS = {"type": ["array", "null"], "items": {"type": "string", "format": "uuid"}, "maxItems": 50}
GRID_PATCH = {"type": "object", "additionalProperties": False, "description": "only the keys given change", "properties": {
    "name": {**GRID_NAME, "description": "a new name (unique among the village's grids)"},
    "worker_ids": {**WORKER_IDS, "description": "the grid workers, replacing the list"},
    "retired": {"type": "boolean", "description": "retire the grid (true) or bring it back (false)"}}}


class GridCreate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"village_code": "340321108200", "name": "三组网格", "worker_ids": ["9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f"]}]})
    # judged by the grid service (its codes); the schema says what it accepts
    model_config["json_schema_extra"]["required"] = ["village_code", "name"]  # type: ignore[index]
    village_code: Annotated[Any, WithJsonSchema({"type": "string", "pattern": r"^[0-9]{12}$"})] = Field(
        default=None, description="the village (12 digits) the grid belongs to, in the caller's scope")
    name: Annotated[Any, WithJsonSchema(GRID_NAME)] = Field(
        default=None, description="the grid's name (1–50 characters, not blank; unique among the village's grids)")
    worker_ids: Annotated[Any, WithJsonSchema(WORKER_IDS)] = Field(
        default=None, description="ids of grid workers of that village (active, role grid_worker)")


@router.get("/grids", response_model=GridList, responses=ERRORS,
            summary="List grids in your scope")
def list_grids(scope: CurrentScope,
               village_code: Annotated[str | None, Query(pattern=r"^[0-9]{12}$", description="only this village's grids")] = None,
               include_retired: Annotated[bool, Query(description="also retired grids")] = True) -> JSONResponse:
    """Grids in the caller's scope (a village's grids for its people; a township's for the township)."""
    with read_tx() as conn:
        return JSONResponse({"items": grid_service.list_grids(conn, scope, village_code, include_retired)})


@router.post("/grids", response_model=GridOut, status_code=201, responses=ERRORS,
             summary="Create a grid in a village")
def create_grid(scope: CurrentScope, body: GridCreate) -> JSONResponse:
    """Village and township admins: a new grid of a village in scope (code = village code + next serial)."""
    with write_tx() as conn:
        out = grid_service.create_grid(conn, scope, body.village_code, body.name, body.worker_ids)
    return JSONResponse(out, status_code=201)


@router.get("/grids/{code}", response_model=GridOut, responses=ERRORS,
            summary="One grid by code")
def get_grid(code: Annotated[str, Path(pattern=r"^[0-9]{15}$")], scope: CurrentScope) -> JSONResponse:
    """One grid in the caller's scope, with its workers."""
    with read_tx() as conn:
        return JSONResponse(grid_service.get_grid(conn, scope, code))


@router.patch("/grids/{code}", response_model=GridOut, responses=ERRORS,
              summary="Rename, re-assign or retire a grid")
def update_grid(code: Annotated[str, Path(pattern=r"^[0-9]{15}$")], scope: CurrentScope,
                body: Annotated[dict, Body(examples=[{"name": "一组网格", "worker_ids": [], "retired": False}]),
                                WithJsonSchema(GRID_PATCH)]) -> JSONResponse:
    """Village and township admins: rename (``name``), re-assign (``worker_ids``), retire (``retired``)."""
    with write_tx() as conn:
        return JSONResponse(grid_service.update_grid(conn, scope, code, body))


# ---- households ------------------------------------------------------------------------------------
class ImportError_(BaseModel):
    row: int = Field(description="the row number in the file (1: the first data row)")
    field: str = Field(description="the wire name of the field")
    column: str = Field(description="the column's header")
    code: str = Field(description="what is wrong (an error code)")
    message: str = Field(description="the message in the request's language")


class ImportOut(BaseModel):
    dry_run: bool = Field(description="true: nothing was written")
    rows: int = Field(description="rows read")
    valid: int = Field(description="rows without an error")
    invalid: int = Field(description="rows with an error")
    created: int = Field(description="households created")
    updated: int = Field(description="households updated (same head name and address)")
    unchanged: int = Field(description="rows that changed nothing")
    errors: list[ImportError_] = Field(description="one entry per wrong field of a row")


@router.post("/households/import", response_model=ImportOut, responses=ERRORS,
             summary="Import a household roster (XLSX or CSV)")
def import_households(request: Request, scope: CurrentScope,
                      file: Annotated[UploadFile, File(description="the roster: XLSX or CSV (UTF-8), headers in the first row")],
                      org_code: Annotated[str, Form(pattern=r"^[0-9]{12}$", description="the village the households belong to",
                                                    examples=["340321108200"])],
                      dry_run: Annotated[bool, Form(description="true: check only, write nothing", examples=[True])] = True
                      ) -> JSONResponse:
    """Village and township admins: a roster (XLSX or CSV; headers 户主姓名, 住址, 人口, 联系电话, 身份证号, 网格;
    at most 10,000 rows). ``dry_run`` (default true) answers an error per row and writes nothing; otherwise the
    valid rows are written through the sync engine as the caller (same head name + address → an update)."""
    data = file.file.read()
    lang = lang_of(request)
    with write_tx() as conn:
        out = import_roster(conn, scope, org_code, data, dry_run)
    return JSONResponse(out.answer(lambda code: message(code, lang)))


@router.get("/households", **list_doc(household, "households"))
def list_households(
    scope: CurrentScope,
    updated_since: UpdatedSince = None,
    org_code: OrgCode = None,
    grid_code: Annotated[str | None, Query(max_length=400, description="comma-separated grid codes")] = None,
    tags: Annotated[str | None, Query(max_length=400, description="any of these tags")] = None,
    active: bool | None = None,
    safe_certified_year: Annotated[int | None, Query(ge=2000, le=2999, description="only households certified safe in this year")] = None,
    q: Annotated[str | None, Query(max_length=100, description="search in head name and address")] = None,
    include_deleted: bool = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> JSONResponse:
    """Households in the caller's scope, newest first (by ``created_at``)."""
    t = household_t
    query = _base(t, scope, org_code, include_deleted)
    query = filter_codes(query, [(t.c.grid_code, grid_code, None, "grid_code")])
    if active is not None:
        query = query.where(t.c.active.is_(active))
    if q:
        query = query.where(sa.or_(t.c.head_name.contains(q, autoescape=True), t.c.address.contains(q, autoescape=True)))
    wanted_tags = [v.strip() for v in (tags or "").split(",") if v.strip()]
    if wanted_tags or safe_certified_year is not None:
        # JSON list membership differs by database: filter those two in Python over the scoped page source
        return _json_filtered(household, scope, query, t.c.created_at, limit, cursor, "households.list",
                              lambda r: (not wanted_tags or set(wanted_tags) & set(r["tags"] or []))
                              and (safe_certified_year is None or safe_certified_year in (r["safe_certified_years"] or [])))
    return list_page(household, scope, query, t.c.created_at, limit=limit, cursor=cursor, kind=datetime,
                     action="households.list", updated_since=updated_since)


@router.get("/households/{record_id}", **get_doc(household, "household"))
def get_household(record_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    """One household of the roster (the head's phone and ID number masked by role)."""
    return get_one(household, scope, record_id, "households.get")


@router.get("/households/{record_id}/history", **history_doc(household, "household"))
def household_history(record_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    """Every change of the household: who, when, which device, which fields (personal data masked by role)."""
    return history(household, scope, record_id, "households.history")


# ---- patrols ---------------------------------------------------------------------------------------
@router.get("/patrols", **list_doc(patrol, "patrols"))
def list_patrols(
    scope: CurrentScope,
    updated_since: UpdatedSince = None,
    org_code: OrgCode = None,
    grid_code: Annotated[str | None, Query(max_length=400)] = None,
    state: Annotated[str | None, Query(max_length=100), codes_schema(rules.PATROL_STATES, 100)] = None,
    created_by: uuid.UUID | None = None,
    started_from: IsoDate | None = None,
    started_to: IsoDate | None = None,
    include_deleted: bool = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> JSONResponse:
    """Patrols in scope, newest start first; ``distance_m`` and ``duration_s`` computed on read."""
    t = patrol_t
    query = _base(t, scope, org_code, include_deleted)
    query = filter_codes(query, [(t.c.grid_code, grid_code, None, "grid_code"),
                                 (t.c.state, state, rules.PATROL_STATES, "state")])
    if created_by:
        query = query.where(t.c.created_by == str(created_by))
    query = _day_range(query, t.c.started_at, started_from, started_to)
    return list_page(patrol, scope, query, t.c.started_at, limit=limit, cursor=cursor, kind=datetime,
                     action="patrols.list", updated_since=updated_since)


@router.get("/patrols/{record_id}", **get_doc(patrol, "patrol"))
def get_patrol(record_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    """One patrol with its route and checklist; ``distance_m`` and ``duration_s`` computed on read."""
    return get_one(patrol, scope, record_id, "patrols.get")


@router.get("/patrols/{record_id}/history", **history_doc(patrol, "patrol"))
def patrol_history(record_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    """Every change of the patrol: who, when, which device, which fields."""
    return history(patrol, scope, record_id, "patrols.history")


# ---- incidents -------------------------------------------------------------------------------------
@router.get("/incidents", **list_doc(incident, "incidents"))
def list_incidents(
    scope: CurrentScope,
    updated_since: UpdatedSince = None,
    org_code: OrgCode = None,
    grid_code: Annotated[str | None, Query(max_length=400)] = None,
    state: Annotated[str | None, Query(max_length=200), codes_schema(rules.INCIDENT_STATES, 200)] = None,
    type: Annotated[str | None, Query(max_length=400)] = None,  # noqa: A002 - the wire name
    severity: Annotated[str | None, Query(max_length=100), codes_schema(rules.SEVERITIES, 100)] = None,
    assignee_id: uuid.UUID | None = None,
    patrol_id: uuid.UUID | None = None,
    household_id: uuid.UUID | None = None,
    overdue: bool | None = None,
    occurred_from: IsoDate | None = None,
    occurred_to: IsoDate | None = None,
    q: Annotated[str | None, Query(max_length=100, description="search in the title")] = None,
    include_deleted: bool = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> JSONResponse:
    """Incidents in scope, newest first (by ``occurred_at``), with ``deadline_color``."""
    t = incident_t
    query = _base(t, scope, org_code, include_deleted)
    query = filter_codes(query, [(t.c.grid_code, grid_code, None, "grid_code"),
                                 (t.c.state, state, rules.INCIDENT_STATES, "state"),
                                 (t.c.type, type, None, "type"),
                                 (t.c.severity, severity, rules.SEVERITIES, "severity")])
    for col, value in ((t.c.assignee_id, assignee_id), (t.c.patrol_id, patrol_id), (t.c.household_id, household_id)):
        if value:
            query = query.where(col == str(value))
    if overdue is not None:
        is_overdue = sa.and_(t.c.state.in_(rules.INCIDENT_OPEN), t.c.deadline < today_shanghai())
        query = query.where(is_overdue if overdue else sa.not_(is_overdue))
    if q:
        query = query.where(t.c.title.contains(q, autoescape=True))
    query = _day_range(query, t.c.occurred_at, occurred_from, occurred_to)
    return list_page(incident, scope, query, t.c.occurred_at, limit=limit, cursor=cursor, kind=datetime,
                     action="incidents.list", updated_since=updated_since)


@router.get("/incidents/{record_id}", **get_doc(incident, "incident"))
def get_incident(record_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    """One incident with ``deadline_color`` (computed on read) and the case opened from it, if any."""
    return get_one(incident, scope, record_id, "incidents.get")


@router.get("/incidents/{record_id}/history", **history_doc(incident, "incident"))
def incident_history(record_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    """Every change of the incident: who, when, which device, which fields (and changes the server derived)."""
    return history(incident, scope, record_id, "incidents.history")


# ---- helpers ---------------------------------------------------------------------------------------
def _base(t, scope, org_code: str | None, include_deleted: bool):
    query = sa.select(t).where(scope.clause(t.c.org_code))
    if org_code:
        query = query.where(scope_clause(t.c.org_code, org_code[:12]))
    if not include_deleted:
        query = query.where(t.c.deleted.is_(False))
    return query


def _day_range(query, col, start: date | None, end: date | None):
    from datetime import time, timedelta

    from cunzhi.core.clock import SHANGHAI

    if start:
        query = query.where(col >= datetime.combine(start, time(), tzinfo=SHANGHAI))
    if end:
        query = query.where(col < datetime.combine(end + timedelta(days=1), time(), tzinfo=SHANGHAI))
    return query


def _json_filtered(spec, scope, query, order_col, limit, cursor, action, keep) -> JSONResponse:
    """A page over rows kept by ``keep`` (a test on JSON lists), read in chunks in the list's order."""
    from cunzhi.api.deps import audit
    from cunzhi.api.listing import decode_cursor, encode_cursor
    from cunzhi.sync.present import present_record

    if not scope.may_read(spec.name):  # as list_page: a key limited to other record types finds it absent
        raise AppError(404, "not_found")
    t = spec.table
    found: list[dict] = []
    after = decode_cursor(cursor, datetime) if cursor else None
    with read_tx() as conn:
        while len(found) <= limit:
            q = query
            if after:
                q = q.where(sa.or_(order_col < after[0], sa.and_(order_col == after[0], t.c.id < after[1])))
            chunk = conn.execute(q.order_by(order_col.desc(), t.c.id.desc()).limit(1000)).mappings().all()
            found += [dict(r) for r in chunk if keep(r)]
            if len(chunk) < 1000:
                break
            after = (chunk[-1][order_col.name], chunk[-1]["id"])
    nxt = encode_cursor(found[limit - 1][order_col.name], found[limit - 1]["id"]) if len(found) > limit else None
    today = today_shanghai()
    items = [present_record(spec, r, scope, today) for r in found[:limit]]
    audit(scope, action)
    return JSONResponse({"items": items, "next_cursor": nxt})

