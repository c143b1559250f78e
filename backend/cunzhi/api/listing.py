"""The list machinery every read API shares: filters on wire names, keyset cursor pagination, one record by
id in scope, and a record's history — through the one output layer (masking) with the audit row for personal
data returned unmasked. Used by the mediation, grid-work and later read APIs."""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Query
from pydantic import BaseModel, BeforeValidator, Field, RootModel, WithJsonSchema, create_model
from pydantic_core import PydanticCustomError

from cunzhi.core.jsonx import JSONResponse
from cunzhi.api.deps import audit
from cunzhi.core.clock import today_shanghai
from cunzhi.core.db import dicts, read_tx, scope_codes
from cunzhi.core.errors import AppError, FieldError
from cunzhi.core.scope import Scope
from cunzhi.sync.history import record_history
from cunzhi.sync.record import by_ids
from cunzhi.sync.present import present_record, present_records
from cunzhi.sync.registry import EntitySpec, record_title
from cunzhi.sync.schemas import ErrorOut

ERRORS: dict[int | str, dict[str, Any]] = {400: {"model": ErrorOut}, 401: {"model": ErrorOut}, 404: {"model": ErrorOut}, 422: {"model": ErrorOut}}


NEXT_CURSOR = "the cursor of the next page (pass it as ``cursor``); null on the last page"


class Page(BaseModel):
    items: list[dict] = Field(description="the records of this page")
    next_cursor: str | None = Field(default=None, description=NEXT_CURSOR)


class _RecordBase(RootModel[dict[str, Any]]):
    pass


_MODELS: dict[str, Any] = {}


def record_model(spec: EntitySpec, extra: dict[str, Any] | None = None, name: str | None = None) -> Any:
    """The OpenAPI model of a record type, generated from its registration (``EntitySpec.json_schema``):
    the routes answer JSONResponse, this only documents (and schemathesis checks) the shape."""
    name = name or record_title(spec.name)
    if name not in _MODELS:
        schema = spec.json_schema()
        if extra:
            schema = {**schema, "title": name, "properties": {**schema["properties"], **extra}}
        example = spec.json_example()

        def hook(cls, core_schema, handler) -> dict:
            return {**schema, "examples": [example]}

        _MODELS[name] = type(name, (_RecordBase,), {"__get_pydantic_json_schema__": classmethod(hook),
                                                    "__module__": __name__, "__doc__": schema["description"]})
    return _MODELS[name]


def page_model(spec: EntitySpec) -> Any:
    """``{items: [<Type>Record], next_cursor}`` of a record type's list."""
    name = record_title(spec.name).removesuffix("Record") + "Page"
    if name not in _MODELS:
        items: Any = list[record_model(spec)]  # type: ignore[misc]
        _MODELS[name] = create_model(
            name, __doc__=f"A page of {spec.name} records, newest first.",
            items=(items, Field(description="the records of this page")),
            next_cursor=(str | None, Field(default=None, description=NEXT_CURSOR)))
        _MODELS[name].model_config["json_schema_extra"] = {
            "examples": [{"items": [spec.json_example()], "next_cursor": "WyIyMDI2LTExLTIwIiwgIjBiNmYzYzFlIl0="}]}
    return _MODELS[name]


class HistoryEntry(BaseModel):
    rev: int = Field(description="the record's revision after this change")
    op: str = Field(description="create, update or delete")
    at: str = Field(description="when the server stored the change (ISO 8601, UTC)")
    user_id: str = Field(description="who made the change (the system user for a change the server derived)")
    client_id: str = Field(description="the device that sent it")
    mutation_id: str | None = Field(description="the mutation that made it (null for a derived change)")
    fields: list[str] = Field(description="the wire fields the change set")
    changes: dict = Field(description="field → its value after the change (wire form; personal data masked by role)")
    cause: dict | None = Field(default=None, description="a change the server derived: the change that caused it "
                                                         "({entity, record_id, mutation_id}); else null")


class HistoryOut(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"items": [{
        "rev": 2, "op": "update", "at": "2026-11-21T02:00:00Z", "user_id": "9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f",
        "client_id": "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "mutation_id": "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b",
        "fields": ["status"], "changes": {"status": "mediating"}, "cause": None}]}]}}
    items: list[HistoryEntry] = Field(description="every change of the record, oldest first")


def codes_pattern(allowed: tuple[str, ...]) -> str:
    """The pattern of a comma-separated filter of codes out of ``allowed`` (``status=a,b``), empty allowed."""
    one = "(" + "|".join(re.escape(a) for a in allowed) + ")"
    return f"^({one}(,{one})*)?$"


def codes_schema(allowed: tuple[str, ...], max_length: int) -> WithJsonSchema:
    """The schema of a query parameter filtering by codes out of ``allowed``: its pattern declared, the value
    judged by ``codes`` (a wrong one answers ``invalid_choice`` naming the filter)."""
    return WithJsonSchema({"type": "string", "maxLength": max_length, "pattern": codes_pattern(allowed)})


def codes(value: str | None, allowed: tuple[str, ...] | None, name: str) -> list[str] | None:
    """A comma-separated filter of codes (``status=a,b``); with ``allowed``, exactly ``codes_pattern(allowed)``
    (no spaces, no empty items) or 422 ``invalid_choice`` naming the filter."""
    if not value:
        return None
    if allowed is not None:
        items = value.split(",")
        if any(v not in allowed for v in items):
            raise AppError(422, "validation_error", [FieldError(name, "invalid_choice")])
        return items
    return [v.strip() for v in value.split(",") if v.strip()]


def filter_codes(query, filters: list[tuple[Any, str | None, tuple[str, ...] | None, str]]):
    """``[(column, value, allowed, wire name)]`` → the query with an ``IN`` per given filter."""
    for col, value, allowed, name in filters:
        items = codes(value, allowed, name)
        if items:
            query = query.where(col.in_(items))
    return query


def encode_cursor(key: date | datetime, rid: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([key.isoformat(), rid]).encode()).decode()


def decode_cursor(cursor: str, kind: type = date) -> tuple[Any, str]:
    try:
        k, rid = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=="))
        key: date = datetime.fromisoformat(k) if kind is datetime else date.fromisoformat(k)
        if isinstance(key, datetime) and key.tzinfo is None:
            raise ValueError
        return key, str(uuid.UUID(rid))
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
        raise AppError(400, "invalid_cursor") from None


# Dates and times a client sends: ISO 8601 text only (pydantic alone would also take a number as a Unix time),
# years 1900–2999, a time with its offset — the same rule the schema declares (pattern + format)
DATE_PATTERN = r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
DATETIME_PATTERN = (r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]"
                    r":[0-5][0-9](\.[0-9]{1,6})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$")


def _iso(pattern: str, code: str):
    compiled = re.compile(pattern)
    # the same shape with any year: a year outside 1900–2999 is out_of_range, not a malformed value
    any_year = re.compile("^[0-9]{4}" + pattern.removeprefix("^(19|2[0-9])[0-9]{2}"))

    def check(value: Any) -> Any:
        if isinstance(value, date):
            return value
        if not isinstance(value, str) or not compiled.fullmatch(value):
            wrong = "out_of_range" if isinstance(value, str) and any_year.fullmatch(value) else code
            raise PydanticCustomError(wrong, "not an ISO 8601 value in range")
        return value

    return BeforeValidator(check)


IsoDate = Annotated[date, _iso(DATE_PATTERN, "invalid_date"),
                    WithJsonSchema({"type": "string", "format": "date", "pattern": DATE_PATTERN})]
IsoDateTime = Annotated[datetime, _iso(DATETIME_PATTERN, "invalid_datetime"),
                        WithJsonSchema({"type": "string", "format": "date-time", "pattern": DATETIME_PATTERN})]

# every list answers ``updated_since`` (integrations.md: incremental loads without the feed)
UpdatedSince = Annotated[IsoDateTime | None, Query(description="only records changed after this time "
                                                               "(ISO 8601 with offset)")]


def _walks_in_order(table: sa.Table, order_col) -> bool:
    """Whether an index starts with (org_code, ``order_col``): within one org code it is the page's order."""
    return any([c.name for c in ix.columns][:2] == ["org_code", order_col.name] for ix in table.indexes)


def _page_ids(conn, scope: Scope, table: sa.Table, ids_query, order_col, limit: int) -> list:
    """The page's (id, order value) rows, newest first.

    A scope is a range of org codes, and neither database can walk an (org_code, order_col, id) index in
    ``order_col`` order across a range: both read every id in scope and sort them, which grows with the village
    (under the API mix, whose pushes add 250 cases a second, PostgreSQL scanned the whole table for each list).
    Where such an index exists, the org codes that occur in scope are found by skipping through it (a recursive
    ``min``, one index probe per code), and each code's first page is read in index order: the page is the
    newest ``limit + 1`` of those, the same rows in the same order as the single sorted query."""
    if not _walks_in_order(table, order_col):
        return conn.execute(ids_query).all()
    oc = table.c.org_code
    lo, hi = scope.bounds()
    codes = scope_codes(conn, table, lo, hi)
    if codes is None:
        return conn.execute(ids_query).all()
    if not codes:
        return []
    if len(codes) == 1:
        return conn.execute(ids_query.where(oc == codes[0])).all()
    branches = sa.union_all(*[sa.select(ids_query.where(oc == code).subquery()) for code in codes]).subquery()
    return conn.execute(sa.select(branches).order_by(branches.c[order_col.name].desc(), branches.c.id.desc())
                        .limit(limit + 1)).all()


def list_page(spec: EntitySpec, scope: Scope, query, order_col, *, limit: int, cursor: str | None,
              kind: type = date, action: str, updated_since: datetime | None = None) -> JSONResponse:
    """Run ``query`` (already scoped and filtered) newest ``order_col`` first, one page after ``cursor``."""
    table = spec.table
    if not scope.may_read(spec.name):  # an API key limited to other record types: absent, not forbidden
        raise AppError(404, "not_found")
    if updated_since is not None:
        if updated_since.tzinfo is None:
            raise AppError(422, "validation_error", [FieldError("updated_since", "invalid_datetime")])
        query = query.where(table.c.updated_at > updated_since)
    if cursor:
        key, rid = decode_cursor(cursor, kind)
        query = query.where(sa.or_(order_col < key, sa.and_(order_col == key, table.c.id < rid)))
    # two steps: the page's ids in order (a sort of narrow tuples, from a covering index where there is one),
    # then those rows — sorting whole rows of a big village cost ten times more (docs/performance.md, API mix)
    ids_query = query.with_only_columns(table.c.id, order_col).order_by(order_col.desc(), table.c.id.desc()) \
        .limit(limit + 1)
    with read_tx() as conn:
        page = _page_ids(conn, scope, table, ids_query, order_col, limit)
        found = {r["id"]: r for r in dicts(conn.execute(by_ids(conn.dialect.name, table),
                                                        {"ids": [p[0] for p in page]}))} if page else {}
    rows = [found[p[0]] for p in page if p[0] in found]
    nxt = None
    if len(rows) > limit:
        last = rows[limit - 1]
        nxt = encode_cursor(last[order_col.name], last["id"])
    items = present_records(spec, rows[:limit], scope, today_shanghai())
    audit(scope, action)
    return JSONResponse({"items": items, "next_cursor": nxt})


def load_in_scope(conn, scope: Scope, spec: EntitySpec, record_id: uuid.UUID | str) -> dict:
    """One record by id; 404 when absent or outside the caller's scope (the same answer: no existence leak)."""
    table = spec.table
    found = dicts(conn.execute(by_ids(conn.dialect.name, table), {"ids": [str(record_id)]}))
    row = found[0] if found else None
    if row is None or not scope.contains(row["org_code"]) or not scope.may_read(spec.name):
        raise AppError(404, "not_found")
    return row


def get_one(spec: EntitySpec, scope: Scope, record_id: uuid.UUID, action: str) -> JSONResponse:
    with read_tx() as conn:
        row = load_in_scope(conn, scope, spec, record_id)
    out = present_record(spec, row, scope)
    audit(scope, action)
    return JSONResponse(out)


def history(spec: EntitySpec, scope: Scope, record_id: uuid.UUID, action: str) -> JSONResponse:
    """Every change of the record: who, when, which device, which fields (personal data masked by role)."""
    with read_tx() as conn:
        load_in_scope(conn, scope, spec, record_id)
        items = record_history(conn, spec, str(record_id), scope)
    audit(scope, action)
    return JSONResponse({"items": items})


# ---- the decorator arguments of a record type's read routes (summary, documented answer, errors) ------
def list_doc(spec: EntitySpec, plural: str) -> dict[str, Any]:
    return {"response_model": page_model(spec), "responses": ERRORS, "openapi_extra": {"x-record-type": spec.name},
            "summary": f"List {plural} in your scope (filters, updated_since, cursor pages)"}


def get_doc(spec: EntitySpec, singular: str) -> dict[str, Any]:
    return {"response_model": record_model(spec), "responses": ERRORS, "summary": f"One {singular} by id",
            "openapi_extra": {"x-record-type": spec.name}}


def history_doc(spec: EntitySpec, singular: str) -> dict[str, Any]:
    return {"response_model": HistoryOut, "responses": ERRORS, "openapi_extra": {"x-record-type": spec.name},
            "summary": f"The change history of one {singular}"}
