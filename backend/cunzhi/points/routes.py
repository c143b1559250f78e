"""Read API of the morality bank: entries, balances, monthly rankings, a household's history, and the
public ranking page."""

from __future__ import annotations

import html
import re
import uuid
from datetime import date
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, WithJsonSchema
from fastapi.responses import HTMLResponse

from cunzhi.core.jsonx import JSONResponse
from cunzhi.api.deps import CurrentScope, audit, reads
from cunzhi.api.listing import (IsoDate, ERRORS, UpdatedSince, filter_codes, get_doc, get_one, history, history_doc, list_doc,
                                list_page, load_in_scope, record_model)
from cunzhi.core.clock import today_shanghai
from cunzhi.core.db import read_tx, scope_clause
from cunzhi.core.errors import AppError, FieldError
from cunzhi.nominations.routes import NoSuchVillage, page, public_page_404, village_or_404
from cunzhi.points.entities import points_entry
from cunzhi.sync.present import present_record
from cunzhi.sync.registry import get_entity

router = APIRouter(tags=["points"])
public_router = APIRouter(include_in_schema=False)
entry_t = points_entry.table


def _households():
    spec = get_entity("household")
    if spec is None:  # pragma: no cover - the grid domain is always loaded in the app
        raise AppError(404, "not_found")
    return spec


MONTH_PATTERN = r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])$"


def _month(value: str | None) -> tuple[date, date]:
    if value is None:
        t = today_shanghai()
        value = f"{t.year:04d}-{t.month:02d}"
    if not re.fullmatch(MONTH_PATTERN, value):
        raise AppError(422, "validation_error", [FieldError("month", "invalid_month")])
    y, m = int(value[:4]), int(value[5:])
    return date(y, m, 1), date(y + (m == 12), m % 12 + 1, 1)


@router.get("/points-entries", **list_doc(points_entry, "points entries"))
def list_entries(
    scope: CurrentScope,
    updated_since: UpdatedSince = None,
    org_code: Annotated[str | None, Query(pattern=r"^[0-9]{2,12}$")] = None,
    household_id: uuid.UUID | None = None,
    rule: Annotated[str | None, Query(max_length=400)] = None,
    occurred_from: IsoDate | None = None,
    occurred_to: IsoDate | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> JSONResponse:
    """Points entries in the caller's scope, newest ``occurred_on`` first."""
    q = sa.select(entry_t).where(scope.clause(entry_t.c.org_code), entry_t.c.deleted.is_(False))
    if org_code:
        q = q.where(scope_clause(entry_t.c.org_code, org_code))
    if household_id:
        q = q.where(entry_t.c.household_id == str(household_id))
    if occurred_from:
        q = q.where(entry_t.c.occurred_on >= occurred_from)
    if occurred_to:
        q = q.where(entry_t.c.occurred_on <= occurred_to)
    q = filter_codes(q, [(entry_t.c.rule, rule, None, "rule")])
    return list_page(points_entry, scope, q, entry_t.c.occurred_on, limit=limit, cursor=cursor,
                     action="points_entries.list", updated_since=updated_since)


@router.get("/points-entries/{entry_id}", **get_doc(points_entry, "points entry"))
def get_entry(entry_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    """One points entry (道德银行): the household, the rule, the points and why."""
    return get_one(points_entry, scope, entry_id, "points_entries.get")


@router.get("/points-entries/{entry_id}/history", **history_doc(points_entry, "points entry"))
def entry_history(entry_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    """Every change of the entry: who, when, which device, which fields."""
    return history(points_entry, scope, entry_id, "points_entries.history")


def balances_of(conn, scope, org_code: str | None, start: date | None = None, end: date | None = None) -> list[dict]:
    """Per active household in scope (under ``org_code``): head name and the sum of its entries (in the period)."""
    hh = _households().table
    cond = [entry_t.c.household_id == hh.c.id, entry_t.c.deleted.is_(False)]
    if start:
        cond += [entry_t.c.occurred_on >= start, entry_t.c.occurred_on < end]
    total = sa.func.coalesce(sa.func.sum(entry_t.c.points), 0).label("points")
    q = (sa.select(hh.c.id, hh.c.org_code, hh.c.head_name, total, sa.func.count(entry_t.c.id).label("entries"))
         .select_from(hh.outerjoin(entry_t, sa.and_(*cond)))
         .where(scope.clause(hh.c.org_code), hh.c.deleted.is_(False), hh.c.active.is_(True))
         .group_by(hh.c.id, hh.c.org_code, hh.c.head_name))
    if org_code:
        q = q.where(scope_clause(hh.c.org_code, org_code))
    return [{"household_id": r.id, "org_code": r.org_code, "head_name": r.head_name, "points": int(r.points),
             "entries": int(r.entries)} for r in conn.execute(q)]


def ranked(rows: list[dict]) -> list[dict]:
    """Highest points first; equal points share a rank (1, 2, 2, 4); ties ordered by head name."""
    rows = sorted(rows, key=lambda r: (-r["points"], r["head_name"], r["household_id"]))
    out, rank = [], 0
    for i, r in enumerate(rows):
        if i == 0 or r["points"] != rows[i - 1]["points"]:
            rank = i + 1
        out.append({"rank": rank, **r})
    return out


class Balance(BaseModel):
    household_id: str = Field(description="the household's id")
    org_code: str = Field(description="the household's village")
    head_name: str = Field(description="the head of the household")
    points: int = Field(description="the sum of its entries (reversals included)")
    entries: int = Field(description="how many entries")


class Balances(BaseModel):
    items: list[Balance] = Field(description="active households in scope, highest balance first")


class Ranked(Balance):
    rank: int = Field(description="the rank: equal points share one (1, 2, 2, 4)")


class Ranking(BaseModel):
    month: str = Field(description="the month ranked (YYYY-MM)")
    items: list[Ranked] = Field(description="households by points earned in the month, highest first")


HouseholdEntry = record_model(points_entry, name="PointsEntryWithBalance", extra={
    "balance": {"type": "integer", "description": "the household's balance after this entry"}})


class HouseholdPoints(BaseModel):
    household_id: str = Field(description="the household's id")
    org_code: str = Field(description="the household's village")
    head_name: str = Field(description="the head of the household")
    balance: int = Field(description="the household's balance now")
    items: list[HouseholdEntry] = Field(description="every entry, oldest first, with the running balance")  # type: ignore[valid-type]


@router.get("/points/balances", response_model=Balances, responses=ERRORS,
            dependencies=[reads("points_entry", "household")],
            summary="Points balances of households")
def balances(scope: CurrentScope,
             org_code: Annotated[str | None, Query(pattern=r"^[0-9]{2,12}$")] = None) -> JSONResponse:
    """Each household's balance = the sum of all its entries (reversals included), highest first."""
    with read_tx() as conn:
        rows = ranked(balances_of(conn, scope, org_code))
    return JSONResponse({"items": rows})


@router.get("/points/rankings", response_model=Ranking, responses=ERRORS,
            dependencies=[reads("points_entry", "household")],
            summary="The month's points ranking")
def rankings(scope: CurrentScope,
             org_code: Annotated[str | None, Query(pattern=r"^[0-9]{2,12}$")] = None,
             month: Annotated[str | None, Query(description="YYYY-MM (default: this month)"),
                              WithJsonSchema({"type": "string", "pattern": MONTH_PATTERN})] = None,
             limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> JSONResponse:
    """The month's ranking: points earned in the month (entries whose ``occurred_on`` falls in it)."""
    start, end = _month(month)
    with read_tx() as conn:
        rows = ranked([r for r in balances_of(conn, scope, org_code, start, end) if r["entries"]])
    return JSONResponse({"month": start.strftime("%Y-%m"), "items": rows[:limit]})


@router.get("/points/households/{household_id}", response_model=HouseholdPoints, responses=ERRORS,
            dependencies=[reads("points_entry", "household")],
            summary="A household's points entries with the running balance")
def household_points(household_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    """Why a household's points changed: every entry, oldest first, with the running balance."""
    spec = _households()
    with read_tx() as conn:
        hh = load_in_scope(conn, scope, spec, household_id)
        rows = conn.execute(sa.select(entry_t).where(entry_t.c.household_id == hh["id"], entry_t.c.deleted.is_(False))
                            .order_by(entry_t.c.occurred_on, entry_t.c.created_at, entry_t.c.id)).mappings().all()
    balance, items = 0, []
    today = today_shanghai()
    for r in rows:
        balance += r["points"]
        items.append(present_record(points_entry, r, scope, today) | {"balance": balance})
    audit(scope, "points.household")
    return JSONResponse({"household_id": hh["id"], "org_code": hh["org_code"], "head_name": hh["head_name"],
                         "balance": balance, "items": items})


@public_router.get("/points/{village_code}", response_class=HTMLResponse)
def public_ranking(village_code: str) -> HTMLResponse:
    """道德银行 积分榜: household head names and points only (this month, and all-time balances)."""
    from cunzhi.core.scope import Scope

    e = html.escape
    start, end = _month(None)
    with read_tx() as conn:
        try:
            village = village_or_404(conn, village_code)
        except NoSuchVillage:
            return public_page_404()
        viewer = Scope(user_id="", username="public", role="public", org_code=village_code)
        month = ranked([r for r in balances_of(conn, viewer, village_code, start, end) if r["entries"]])
        total = ranked(balances_of(conn, viewer, village_code))

    def rows(items: list[dict]) -> str:
        return "".join(f"<tr><td>{r['rank']}</td><td>{e(r['head_name'])}</td><td>{r['points']}</td></tr>"
                       for r in items[:100]) or '<tr><td colspan="3">暂无记录</td></tr>'

    head = "<thead><tr><th>名次</th><th>户主</th><th>积分</th></tr></thead>"
    name = f"{village['township'] or ''}{village['name']}"
    body = (f"<h1>{e(name)}道德银行积分榜</h1><p class=\"sub\">统计日期：{e(today_shanghai().isoformat())}</p>"
            f"<h2>{start.year}年{start.month}月积分</h2><table>{head}<tbody>{rows(month)}</tbody></table>"
            f"<h2>累计积分</h2><table>{head}<tbody>{rows(total)}</tbody></table>")
    return page(f"{name} 道德银行积分榜", body)
