"""Read API of six-no reports, and the safe-household (平安家庭) rate and bulk certification."""

from __future__ import annotations

import uuid
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from cunzhi.core.jsonx import JSONResponse
from cunzhi.api.deps import CurrentScope, Lang, audit, reads
from cunzhi.api.listing import (codes_schema, ERRORS, UpdatedSince, filter_codes, get_doc, get_one, history, history_doc, list_doc,
                                list_page)
from cunzhi.core.clock import iso, today_shanghai, utcnow
from cunzhi.core.db import read_tx, scope_clause, write_tx
from cunzhi.core.errors import AppError, FieldError
from cunzhi.orgs.models import OrgUnit
from cunzhi.six_no import rules
from cunzhi.six_no.entities import six_no_report
from cunzhi.sync import engine
from cunzhi.sync.registry import get_entity
from cunzhi.sync.schemas import JsonInt, MutationResultOut

router = APIRouter(tags=["six-no"])
report_t = six_no_report.table
org_t = OrgUnit.__table__
SAFE_TARGET = 0.97


@router.get("/six-no-reports", **list_doc(six_no_report, "six-no reports"))
def list_reports(
    scope: CurrentScope,
    updated_since: UpdatedSince = None,
    org_code: Annotated[str | None, Query(pattern=r"^[0-9]{2,12}$")] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="only reports of this year")] = None,
    state: Annotated[str | None, Query(max_length=200), codes_schema(rules.STATES, 200)] = None,
    include_deleted: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> JSONResponse:
    """Six-no reports in the caller's scope, most recently changed first."""
    q = sa.select(report_t).where(scope.clause(report_t.c.org_code))
    if org_code:
        q = q.where(scope_clause(report_t.c.org_code, org_code))
    if year:
        q = q.where(report_t.c.year == year)
    if not include_deleted:
        q = q.where(report_t.c.deleted.is_(False))
    q = filter_codes(q, [(report_t.c.state, state, rules.STATES, "state")])
    from datetime import datetime

    return list_page(six_no_report, scope, q, report_t.c.updated_at, limit=limit, cursor=cursor, kind=datetime,
                     action="six_no_reports.list", updated_since=updated_since)


@router.get("/six-no-reports/{report_id}", **get_doc(six_no_report, "six-no report"))
def get_report(report_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    """One report with its indicators (status and linked incidents derived by the server)."""
    return get_one(six_no_report, scope, report_id, "six_no_reports.get")


@router.get("/six-no-reports/{report_id}/history", **history_doc(six_no_report, "six-no report"))
def report_history(report_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    """Every change: the village's evidence, the township's decisions, and the server's derived changes
    (user ``system``, with the incident that caused them)."""
    return history(six_no_report, scope, report_id, "six_no_reports.history")


# ---- safe households (平安家庭) ---------------------------------------------------------------------
def _household_table():
    spec = get_entity("household")
    if spec is None:  # pragma: no cover - the grid domain is always loaded in the app
        raise AppError(404, "not_found")
    return spec, spec.table


def safe_rates(conn, scope, org_code: str | None, year: int) -> dict:
    """Per village in scope (under ``org_code``): active households, those certified for ``year``, the rate."""
    _, hh = _household_table()
    q = sa.select(hh.c.org_code, hh.c.safe_certified_years).where(
        scope.clause(hh.c.org_code), hh.c.deleted.is_(False), hh.c.active.is_(True))
    if org_code:
        q = q.where(scope_clause(hh.c.org_code, org_code))
    per: dict[str, list[int]] = {}
    for org, years in conn.execute(q):
        counts = per.setdefault(org, [0, 0])
        counts[0] += 1
        if year in (years or []):
            counts[1] += 1
    names = dict(conn.execute(sa.select(org_t.c.code, org_t.c.name).where(org_t.c.code.in_(list(per) or [""]))).all())
    villages = [{"org_code": org, "name": names.get(org), "households": n, "certified": c,
                 "rate": round(c / n, 4) if n else None, "meets_target": bool(n) and c / n >= SAFE_TARGET}
                for org, (n, c) in sorted(per.items())]
    total, certified = sum(v["households"] for v in villages), sum(v["certified"] for v in villages)
    return {"year": year, "target": SAFE_TARGET, "households": total, "certified": certified,
            "rate": round(certified / total, 4) if total else None,
            "meets_target": bool(total) and certified / total >= SAFE_TARGET, "villages": villages}


class SafeVillage(BaseModel):
    org_code: str = Field(description="the village's code")
    name: str | None = Field(description="the village's name")
    households: int = Field(description="active households")
    certified: int = Field(description="of them, certified safe for the year")
    rate: float | None = Field(description="certified ÷ households (4 decimals); null without households")
    meets_target: bool = Field(description="rate ≥ target")


class SafeRates(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{
        "year": 2026, "target": 0.97, "households": 120, "certified": 117, "rate": 0.975, "meets_target": True,
        "villages": [{"org_code": "340321108200", "name": "万福村", "households": 120, "certified": 117, "rate": 0.975,
                      "meets_target": True}]}]}}
    year: int = Field(description="the year")
    target: float = Field(description="the target rate (0.97)")
    households: int = Field(description="active households in all the villages")
    certified: int = Field(description="of them, certified safe for the year")
    rate: float | None = Field(description="certified ÷ households (4 decimals); null without households")
    meets_target: bool = Field(description="rate ≥ target")
    villages: list[SafeVillage] = Field(description="per village in scope")


class CertifyResult(MutationResultOut):
    household_id: str = Field(description="the household this result is for")


class CertifyOut(BaseModel):
    results: list[CertifyResult] = Field(description="one result per household, in order (as a push answers)")
    server_time: str = Field(description="the server's clock (ISO 8601, UTC)")


@router.get("/safe-households", response_model=SafeRates, responses=ERRORS, dependencies=[reads("household")],
            summary="Safe-household (平安家庭) rates per village")
def safe_households(
    scope: CurrentScope,
    org_code: Annotated[str | None, Query(pattern=r"^[0-9]{2,12}$")] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="the year (default: this year)")] = None,
) -> JSONResponse:
    """平安家庭: certified ÷ active households per village, against the 97% target (formula on screen)."""
    with read_tx() as conn:
        return JSONResponse(safe_rates(conn, scope, org_code, year or today_shanghai().year))


class CertifyIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"year": 2026, "household_ids": ["0b6f3c1e-8a55-4d0e-9a53-5c2f0b0e7a11"], "certified": True}]})
    year: JsonInt = Field(ge=2000, le=2100, description="the year certified (not in the future)")
    household_ids: list[uuid.UUID] = Field(min_length=1, max_length=500, description="the households (1–500 ids, in scope)")
    certified: StrictBool = Field(default=True, description="true: certify; false: withdraw the certification")


@router.post("/safe-households/certify", response_model=CertifyOut, responses=ERRORS,
             summary="Certify households safe for a year, in bulk")
def certify_households(body: CertifyIn, scope: CurrentScope, lang: Lang) -> JSONResponse:
    """Mark households certified (or not) for a year in bulk, from the roster list (online).

    Each household is one ordinary change of its ``safe_certified_years``, written through the sync engine
    as the caller (permission, merge, history, feed): the answer has one result per household, as a push
    does. Offline, the PWA sends the same change as one push mutation per household.
    """
    from cunzhi.sync.routes import render_result

    spec, hh = _household_table()
    if body.year > today_shanghai().year:
        raise AppError(422, "validation_error", [FieldError("year", "future_date")])
    ids = list(dict.fromkeys(str(i) for i in body.household_ids))
    with write_tx() as conn:
        rows = {r["id"]: r for r in conn.execute(sa.select(hh.c.id, hh.c.rev, hh.c.org_code, hh.c.safe_certified_years)
                                                 .where(hh.c.id.in_(ids))).mappings()}
        muts: list[engine.Mutation] = []
        for hid in ids:
            row = rows.get(hid)
            if row is None or not scope.contains(row["org_code"]):
                raise AppError(404, "not_found")
            years = set(row["safe_certified_years"] or [])
            years = years | {body.year} if body.certified else years - {body.year}
            muts.append(engine.Mutation(str(uuid.uuid4()), spec.name, "upsert", hid, row["rev"],
                                        {"safe_certified_years": sorted(years)}))
        results = engine.Push(conn, scope).run(muts)
    rendered = [render_result(r, scope, lang) | {"household_id": m.record_id} for r, m in zip(results, muts, strict=True)]
    audit(scope, "safe_households.certify")
    return JSONResponse({"results": rendered, "server_time": iso(utcnow())})
