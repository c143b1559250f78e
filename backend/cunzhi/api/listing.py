"""The list machinery every read API shares: filters on wire names, keyset cursor pagination, one record by
id in scope, and a record's history — through the one output layer (masking) with the audit row for personal
data returned unmasked. Used by the mediation, grid-work and later read APIs."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import date, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Query
from pydantic import BaseModel

from cunzhi.core.jsonx import JSONResponse
from cunzhi.api.deps import audit
from cunzhi.core.clock import today_shanghai
from cunzhi.core.db import read_tx
from cunzhi.core.errors import AppError, FieldError
from cunzhi.core.scope import Scope
from cunzhi.sync.history import record_history
from cunzhi.sync.present import present_record
from cunzhi.sync.registry import EntitySpec
from cunzhi.sync.schemas import ErrorOut

ERRORS: dict[int | str, dict[str, Any]] = {400: {"model": ErrorOut}, 401: {"model": ErrorOut}, 404: {"model": ErrorOut}, 422: {"model": ErrorOut}}


class Page(BaseModel):
    items: list[dict]
    next_cursor: str | None = None


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


def codes(value: str | None, allowed: tuple[str, ...] | None, name: str) -> list[str] | None:
    """A comma-separated filter of codes (``status=a,b``); a code outside ``allowed`` names the filter."""
    if not value:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    if allowed is not None and any(v not in allowed for v in items):
        raise AppError(422, "validation_error", [FieldError(name, "invalid_choice")])
    return items


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


# every list answers ``updated_since`` (integrations.md: incremental loads without the feed)
UpdatedSince = Annotated[datetime | None, Query(description="only records changed after this time "
                                                            "(ISO 8601 with offset)")]


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
    query = query.order_by(order_col.desc(), table.c.id.desc()).limit(limit + 1)
    with read_tx() as conn:
        rows = conn.execute(query).mappings().all()
    nxt = None
    if len(rows) > limit:
        last = rows[limit - 1]
        nxt = encode_cursor(last[order_col.name], last["id"])
    today = today_shanghai()
    items = [present_record(spec, r, scope, today) for r in rows[:limit]]
    audit(scope, action)
    return JSONResponse({"items": items, "next_cursor": nxt})


def load_in_scope(conn, scope: Scope, spec: EntitySpec, record_id: uuid.UUID | str) -> dict:
    """One record by id; 404 when absent or outside the caller's scope (the same answer: no existence leak)."""
    table = spec.table
    row = conn.execute(sa.select(table).where(table.c.id == str(record_id))).mappings().first()
    if row is None or not scope.contains(row["org_code"]) or not scope.may_read(spec.name):
        raise AppError(404, "not_found")
    return dict(row)


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
