"""/counties/{county}/settings and /counties/{county}/code-tables: the county admin changes the county's settings
and code tables (finding 5). Others of the county: 403; another county: 404 (as if absent)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field, StrictBool, WithJsonSchema
from sqlalchemy.exc import IntegrityError

from cunzhi.api.deps import CurrentScope
from cunzhi.core.clock import iso
from cunzhi.core.db import read_tx, write_tx
from cunzhi.core.errors import AppError
from cunzhi.core.jsonx import JSONResponse
from cunzhi.core.scope import Scope
from cunzhi.reference import admin
from cunzhi.sync.schemas import ErrorOut, JsonInt

router = APIRouter(tags=["settings"])
# 403: anyone of the county but its admin; 404: another county, an unknown table or code
ERRORS: dict[int | str, dict[str, Any]] = {403: {"model": ErrorOut}, 404: {"model": ErrorOut}}

County = Annotated[str, Path(pattern=r"^[0-9]{6}$", description="the county's division code (6 digits)",
                             examples=["340321"])]
Table = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,39}$", max_length=40,
                            description="a code table's name, e.g. case_category", examples=["case_category"])]
Code = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,39}$", max_length=40,
                           description="a code of the table, e.g. neighbor", examples=["neighbor"])]
Name = Annotated[str, Field(min_length=1, max_length=admin.NAME_MAX, pattern=r"\S")]  # not blank

# JSON integers in a range, declared as such in the schema (also inside `| None`, where Field(ge, le) alone is not)
Days = Annotated[JsonInt, Field(ge=1, le=365), WithJsonSchema({"type": "integer", "minimum": 1, "maximum": 365})]
WarnDays = Annotated[JsonInt, Field(ge=0, le=60), WithJsonSchema({"type": "integer", "minimum": 0, "maximum": 60})]
NoticeDays = Annotated[JsonInt, Field(ge=1, le=60), WithJsonSchema({"type": "integer", "minimum": 1, "maximum": 60})]
Points = Annotated[JsonInt, Field(ge=admin.POINTS_MIN, le=admin.POINTS_MAX),
                   WithJsonSchema({"type": "integer", "minimum": admin.POINTS_MIN, "maximum": admin.POINTS_MAX})]

_TABLE_EXAMPLE: dict[str, Any] = {"table": "case_category", "own": True, "has_points": False, "entries": [
    {"code": "marriage_family", "name_zh": "婚姻家庭", "name_en": "Marriage and family", "active": True},
    {"code": "village_affairs", "name_zh": "村务管理", "name_en": "Village affairs", "active": False}]}
_SETTING_EXAMPLE: dict[str, Any] = {"key": "deadline_days", "kind": "int", "value": 30, "own": False, "min": 1, "max": 365}


class CodeEntryOut(BaseModel):
    code: str = Field(description="the code records carry (never changes)")
    name_zh: str = Field(description="label in Chinese")
    name_en: str = Field(description="label in English")
    active: bool = Field(description="offered for new records; a deactivated code stays readable on old ones")
    points: int | None = Field(default=None, description="points_rule only: the rule's default points (null: "
                                                         "entered by hand)")


class CodeTableOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_TABLE_EXAMPLE]})
    table: str = Field(description="the table's name")
    own: bool = Field(description="whether the county has its own rows (else the defaults are in effect)")
    has_points: bool = Field(description="whether its codes carry default points")
    entries: list[CodeEntryOut] = Field(description="the codes in order, deactivated ones included")


class SettingOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_SETTING_EXAMPLE]})
    key: str = Field(description="the setting's name")
    kind: str = Field(description="int or bool")
    value: int | bool = Field(description="the value in effect for the county")
    own: bool = Field(description="whether the county set it itself (else the default)")
    min: int | None = Field(default=None, description="int: the smallest value allowed")
    max: int | None = Field(default=None, description="int: the largest value allowed")


class CountyConfigOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "county_code": "340321", "settings_version": "3f9a0c1d2e4b5a69", "settings": [_SETTING_EXAMPLE],
        "code_tables": [_TABLE_EXAMPLE], "fixed_tables": ["case_status", "risk_level"]}]})
    county_code: str = Field(description="the county")
    settings_version: str = Field(description="the stamp /reference and the pull carry; changes with every edit")
    settings: list[SettingOut] = Field(description="every setting a county may change, with its value")
    code_tables: list[CodeTableOut] = Field(description="every code table a county may change")
    fixed_tables: list[str] = Field(description="tables fixed by the protocol (not editable)")


class SettingsIn(BaseModel):
    """The settings to change (absent: unchanged)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"deadline_days": 45,
                                                                              "points_field_writers": True}]})
    deadline_days: Days | None = Field(default=None, description="a case's deadline: received + days")
    deadline_warn_days: WarnDays | None = Field(default=None, description="a case is yellow this many "
                                                                                 "days before its deadline")
    notice_days: NoticeDays | None = Field(default=None, description="a nomination's public notice, days")
    points_field_writers: StrictBool | None = Field(default=None, description="mediators and grid workers may add "
                                                                              "points entries")
    incident_deadline_days_major: Days | None = Field(default=None, description="a major incident's "
                                                                                            "deadline, days")
    incident_deadline_days_serious: Days | None = Field(default=None, description="a serious "
                                                                                              "incident's deadline")
    incident_deadline_days_general: Days | None = Field(default=None, description="a general "
                                                                                              "incident's deadline")
    incident_deadline_warn_days: WarnDays | None = Field(default=None, description="an open incident is "
                                                                                          "yellow this many days "
                                                                                          "before its deadline")


class CodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"code": "water_use", "name_zh": "用水纠纷", "name_en": "Water use"}]})
    code: str = Field(max_length=40, pattern=r"^[a-z][a-z0-9_]{0,39}$",
                      description="the new code: lower-case letters, digits and _; never changes afterwards")
    name_zh: Name = Field(description="label in Chinese")
    name_en: Name = Field(description="label in English")
    points: Points | None = Field(default=None,
                               description="points_rule only: the default points (not 0; null: entered by hand)")


class CodeChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name_zh": "邻里纠纷"}, {"active": False}]})
    name_zh: Name | None = Field(default=None, description="a new label in Chinese")
    name_en: Name | None = Field(default=None, description="a new label in English")
    active: StrictBool | None = Field(default=None, description="false: no longer offered for new records; "
                                                                 "true: offered again")
    points: Points | None = Field(default=None,
                               description="points_rule only: the default points (null: entered by hand)")


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"codes": ["neighbor", "marriage_family", "homestead"]}]})
    codes: list[Annotated[str, Field(max_length=40)]] = Field(
        max_length=500, description="every code of the table (deactivated ones too), once, in the new order")


class CountyHistoryItem(BaseModel):
    at: str = Field(description="when")
    user_id: str = Field(description="who (the county admin's id)")
    display_name: str = Field(description="who, by name")
    action: str = Field(description="setting, code_added, code_changed, code_deactivated, code_activated or "
                                    "codes_reordered")
    table: str | None = Field(default=None, description="the code table changed")
    code: str | None = Field(default=None, description="the code changed")
    key: str | None = Field(default=None, description="the setting changed")
    before: Any = Field(default=None, description="what it was")
    after: Any = Field(default=None, description="what it became")


class CountyHistoryOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [{
        "at": "2026-12-01T02:00:00Z", "user_id": "9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f", "display_name": "县管理员",
        "action": "setting", "table": None, "code": None, "key": "deadline_days", "before": "30", "after": "45"}]}]})
    items: list[CountyHistoryItem] = Field(description="the county's changes, newest first")


def _admin_of(scope: Scope, county: str) -> None:
    """The county's own admin; anyone else of the county 403, another county 404."""
    if scope.org_code[:6] != county:
        raise AppError(404, "not_found")
    if scope.role != "county_admin" or scope.org_code != county:
        raise AppError(403, "forbidden")


def _write(fn, *args) -> Any:
    try:
        with write_tx() as conn:
            return fn(conn, *args)
    except IntegrityError:  # two admins' first change of one table at once: the other copy won
        raise AppError(409, "conflict_stale") from None


@router.get("/counties/{county}/settings", response_model=CountyConfigOut, responses=ERRORS,
            summary="The county's settings and code tables, as its admin edits them")
def get_settings(county: County, scope: CurrentScope) -> JSONResponse:
    """Every setting a county may change with its value (the county's own or the default), and every editable code
    table with its codes in order, deactivated ones included. County admins of that county only."""
    _admin_of(scope, county)
    with read_tx() as conn:
        return JSONResponse(admin.county_view(conn, county))


@router.patch("/counties/{county}/settings", response_model=CountyConfigOut, responses=ERRORS,
              summary="Change some of the county's settings")
def patch_settings(county: County, body: SettingsIn, scope: CurrentScope) -> JSONResponse:
    """Set the settings the body names (the others stay). Each change is kept in the audit trail; phones get the new
    values with their next /reference (the pull's `settings_version` changes), and the next push uses them."""
    _admin_of(scope, county)
    values = body.model_dump(exclude_none=True)

    def run(conn):
        for key, value in values.items():
            admin.set_setting(conn, county, key, value, scope.user_id)
        return admin.county_view(conn, county)
    return JSONResponse(_write(run))


@router.post("/counties/{county}/code-tables/{table}/codes", response_model=CodeTableOut, responses=ERRORS, status_code=201,
             summary="Add a code to one of the county's code tables")
def add_code(county: County, table: Table, body: CodeIn, scope: CurrentScope) -> JSONResponse:
    """Add a code at the end of the table (the table's first change copies the defaults into the county's own rows).
    A code that exists, deactivated or not, → 422 `code_exists`; a fixed table → 403 `table_fixed`."""
    _admin_of(scope, county)
    out = _write(admin.add_code, county, table, body.model_dump(), scope.user_id)
    return JSONResponse(out, status_code=201)


@router.patch("/counties/{county}/code-tables/{table}/codes/{code}", response_model=CodeTableOut, responses=ERRORS,
              summary="Rename, deactivate or reactivate a code, or set its default points")
def change_code(county: County, table: Table, code: Code, body: CodeChangeIn, scope: CurrentScope) -> JSONResponse:
    """Change a code's labels, whether it is offered (`active`), or (points_rule) its default points. A code is never
    deleted nor renamed as a code: records keep it. Deactivating the table's last active code → 422
    `last_active_code`."""
    _admin_of(scope, county)
    out = _write(admin.change_code, county, table, code, body.model_dump(exclude_unset=True), scope.user_id)
    return JSONResponse(out)


@router.put("/counties/{county}/code-tables/{table}/order", response_model=CodeTableOut, responses=ERRORS,
            summary="Put a code table's codes in a new order")
def reorder_codes(county: County, table: Table, body: OrderIn, scope: CurrentScope) -> JSONResponse:
    """The order the app offers the codes in. The body lists every code of the table once (deactivated ones too),
    else 422 `code_order_mismatch`."""
    _admin_of(scope, county)
    return JSONResponse(_write(admin.reorder, county, table, body.codes, scope.user_id))


@router.get("/counties/{county}/settings/history", response_model=CountyHistoryOut, responses=ERRORS,
            summary="Who changed the county's settings and code tables, and when")
def settings_history(county: County, scope: CurrentScope,
                     limit: Annotated[int, Query(ge=1, le=500, description="how many changes at most")] = 100
                     ) -> JSONResponse:
    """The county's changes, newest first, from the audit trail: who, when, what it was and what it became."""
    _admin_of(scope, county)
    with read_tx() as conn:
        items = admin.history(conn, county, limit)
    return JSONResponse({"items": [{**i, "at": iso(i["at"])} for i in items]})
