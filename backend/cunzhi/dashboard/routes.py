"""GET /api/v1/dashboard (figures, breakdowns, lists), /dashboard/compare (townships side by side),
/dashboard/export (XLSX, CSV) and the two drill lists the figures about units and mediators open."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field, WithJsonSchema

from cunzhi.core.jsonx import JSONResponse
from cunzhi.api.deps import CurrentScope, Lang, audit
from cunzhi.api.listing import IsoDate
from cunzhi.core.db import read_tx
from cunzhi.core.errors import AppError, FieldError
from cunzhi.dashboard import export, service
from cunzhi.dashboard import formulas as F
from cunzhi.sync.schemas import ErrorOut

router = APIRouter(prefix="/dashboard", tags=["dashboard"])
ERRORS: dict[int | str, dict[str, Any]] = {401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}, 422: {"model": ErrorOut}}
OrgCode = Annotated[str | None, Query(pattern=r"^[0-9]{6,12}$", description="county, township or village code; "
                                      "default: the caller's unit")]
From = Annotated[IsoDate | None, Query(alias="from", description="first day (inclusive); default 1 January")]
To = Annotated[IsoDate | None, Query(alias="to", description="last day (inclusive); default today")]


class Dashboard(BaseModel):
    model_config = {"extra": "allow"}
    org_code: str
    org_name: str
    figures: dict = Field(description="figure key → {value, numerator, denominator, formula, target, drill}")
    breakdowns: dict = Field(description="breakdown key → rows by category, source, unit…")
    lists: dict = Field(description="list key → rows (overdue cases, major incidents…) with links to the records")


class Rows(BaseModel):
    items: list[dict] = Field(description="the rows")


@router.get("", response_model=Dashboard, responses=ERRORS,
            summary="The dashboard of a unit for a period")
def dashboard(scope: CurrentScope, lang: Lang, org_code: OrgCode = None, from_: From = None,
              to: To = None) -> JSONResponse:
    """Every figure of the unit for the period, with formula, numerator/denominator, target and drill links;
    the breakdowns; the follow-up lists (names masked unless the role sees the unit's personal data)."""
    with read_tx() as conn:
        p = service.resolve_period(conn, scope, org_code, from_, to, lang)
        data = service.compute(conn, scope, p)
    audit(scope, "dashboard.get")
    return JSONResponse(data)


class Compare(BaseModel):
    model_config = {"extra": "allow"}
    org_code: str = Field(description="the county's (or township's) code")
    org_name: str = Field(description="its name")
    from_: str = Field(alias="from", description="the period's first day")
    to: str = Field(description="the period's last day")
    as_of: str = Field(description="when the figures were computed (ISO 8601, UTC)")
    keys: list[str] = Field(description="the figures compared, in order")
    labels: dict[str, str] = Field(description="figure key → its label in the request's language")
    townships: list[dict] = Field(description="per township: org_code, org_name and figure key → {value, numerator, "
                                              "denominator}")


@router.get("/compare", response_model=Compare, responses=ERRORS,
            summary="Townships of a county side by side")
def compare(scope: CurrentScope, lang: Lang, org_code: OrgCode = None, from_: From = None,
            to: To = None) -> JSONResponse:
    """The townships of a county side by side (a township compares itself alone)."""
    with read_tx() as conn:
        p = service.resolve_period(conn, scope, org_code, from_, to, lang)
        data = service.compare(conn, scope, p)
    return JSONResponse(data)


TABLES = ["figures", *F.BREAKDOWNS, *F.LISTS, "compare"]  # what an export may name


@router.get("/export", response_class=Response, responses={**ERRORS, 200: {"description": "the file (Content-Disposition: attachment)", "content": {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}, "text/csv": {}}}},
            summary="Export the dashboard (XLSX or CSV)")
def export_file(scope: CurrentScope, lang: Lang, org_code: OrgCode = None, from_: From = None, to: To = None,
                format: Annotated[Literal["xlsx", "csv"], Query(description="xlsx (every table) or csv (one table)")] = "xlsx",
                table: Annotated[str | None, Query(description="figures, a breakdown or list key, or compare (a county's "
                                                               "townships); default: every table (XLSX) or figures (CSV)"),
                                 WithJsonSchema({"type": "string", "enum": TABLES})] = None
                ) -> Response:
    """The whole dashboard (XLSX: one sheet per table after a sheet with unit, period, time and formulas) or
    one table (XLSX or CSV, UTF-8 with BOM)."""
    with read_tx() as conn:
        p = service.resolve_period(conn, scope, org_code, from_, to, lang)
        data = service.compute(conn, scope, p)
        if p.level == "county" and (table in (None, "compare")):
            data["compare"] = service.compare(conn, scope, p)
        labels = service.period_labels(conn, p)
    names = export.table_names(data)
    if table is not None and table not in TABLES:
        raise AppError(422, "validation_error", [FieldError("table", "invalid_choice")])
    if table is not None and table not in names:  # compare: a county's only; points ranking: a village's only
        raise AppError(422, "validation_error", [FieldError("table", "table_not_available")])
    ext = "csv" if format == "csv" else "xlsx"
    if format == "csv":
        body, mime = export.to_csv(data, table or "figures", lang, labels), "text/csv; charset=utf-8"
    else:
        body = export.to_xlsx(data, [table] if table else names, lang, labels)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    audit(scope, "dashboard.export")
    # an ASCII name for old clients, and the one in the request's language (filename*): 万福镇看板-…-超期案件.csv
    period = f"{p.start.isoformat()}-{p.end.isoformat()}"
    fname = f"dashboard-{p.org_code}-{period}" + (f"-{table}" if table else "") + f".{ext}"
    if lang == "en":
        local = fname
    else:
        what = export.table(data, table, lang)[0] if table else None
        local = f"{p.org_name}看板-{period}" + (f"-{what}" if what else "") + f".{ext}"
        local = re.sub(r'[\\/:*?"<>|]', "", local)
    disp = f"attachment; filename=\"{fname}\"; filename*=UTF-8''{quote(local)}"
    return Response(body, media_type=mime, headers={"Content-Disposition": disp, "Cache-Control": "no-store"})


@router.get("/units", response_model=Rows, responses=ERRORS,
            summary="Villages or townships of a unit (a dashboard drill)")
def units(scope: CurrentScope, lang: Lang, org_code: OrgCode = None,
          level: Annotated[Literal["village", "township"], Query(description="list villages or townships")] = "village",
          has_mediator: Annotated[bool | None, Query(description="true: only units with an active mediator; false: only those without")] = None) -> JSONResponse:
    """Villages (or townships) of the unit with their count of active mediators: the drill of
    six_no_village_rate's and mediators_villages' denominators, and of mediators_villages."""
    with read_tx() as conn:
        p = service.resolve_period(conn, scope, org_code, None, None, lang)
        items = service.unit_rows(conn, p, level, has_mediator)
    return JSONResponse({"items": items})


@router.get("/mediators", response_model=Rows, responses=ERRORS,
            summary="Active mediators of a unit (a dashboard drill)")
def mediators(scope: CurrentScope, lang: Lang, org_code: OrgCode = None,
              level: Annotated[Literal["village", "township"], Query(description="mediators of the township or of villages")] = "township") -> JSONResponse:
    """Active mediator accounts of the unit at township (or village) level: the drill of mediators_township."""
    with read_tx() as conn:
        p = service.resolve_period(conn, scope, org_code, None, None, lang)
        items = service.mediator_rows(conn, p, level)
    return JSONResponse({"items": items})
