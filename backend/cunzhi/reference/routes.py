"""GET /reference: what a device needs to work offline (code tables, settings, orgs and people in scope)."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter
from pydantic import BaseModel, Field

from cunzhi.core.jsonx import JSONResponse
from cunzhi.api.deps import CurrentScope
from cunzhi.core.db import read_tx
from cunzhi.grid import rules as grid_rules
from cunzhi.grid.grids import list_grids
from cunzhi.mediation.rules import TRANSITIONS
from cunzhi.orgs.models import OrgUnit
from cunzhi.reference.service import code_tables, county_settings, inactive_codes, settings_version, version_of
from cunzhi.users.models import User

router = APIRouter(tags=["reference"])


class ReferenceOut(BaseModel):
    version: str = Field(description="a hash of this answer: the app refetches when it changes")
    code_tables: dict[str, list[dict]] = Field(description="table name → its codes ({code, label, …}) for the caller's county")
    case_transitions: dict[str, list[str]] = Field(description="case status → the statuses it may move to")
    settings: dict[str, int | str] = Field(description="the county's settings (deadline days, rates…)")
    # county settings (finding 5): deactivated codes keep their labels; the stamp the pull carries too
    inactive_codes: dict[str, list[dict]] = Field(default={}, description="table name → its deactivated codes ({code, name_zh, name_en}): labels for old records, never offered for new ones")
    settings_version: str = Field(default="", description="a hash of the county's settings and code tables; the pull carries the current one, and the app refetches /reference when they differ")
    orgs: list[dict] = Field(description="the org units the caller sees: its own, its ancestors and those below ({code, name, level, parent_code})")
    users: list[dict] = Field(description="active users in the caller's scope ({id, display_name, role, org_code})")
    # grid work (issue 7): the grids in scope with their workers, and the state machines of patrol and incident
    grids: list[dict] = Field(default=[], description="the grids in the caller's scope with their workers")
    patrol_transitions: dict[str, list[str]] = Field(default={}, description="patrol state → the states it may move to")
    incident_transitions: dict[str, list[str]] = Field(default={}, description="incident state → the states it may move to")


@router.get("/reference", response_model=ReferenceOut,
            summary="Code tables, settings, units, users and grids of the caller's county")
def reference(scope: CurrentScope) -> JSONResponse:
    """What the app needs offline: the county's code tables (with zh-CN labels), settings, the state machines of cases, patrols and incidents, the org units and active users the caller sees, and the grids in scope. ``version`` changes when any of it does."""
    county = scope.org_code[:6]
    org_t, user_t = OrgUnit.__table__, User.__table__
    with read_tx() as conn:
        tables = code_tables(conn, county)
        settings = {k: v for k, v in county_settings(conn, county).items() if k != "codes"}
        inactive, stamp = inactive_codes(conn, county), settings_version(conn, county)  # county settings (finding 5)
        # the caller's own unit, its ancestors, and (up to a township's worth) the units below it
        ancestors = [scope.org_code[:n] for n in (2, 4, 6, 9, 12) if n < len(scope.org_code)]
        orgs = conn.execute(sa.select(org_t).where(sa.or_(scope.clause(org_t.c.code), org_t.c.code.in_(ancestors)))
                            .where(org_t.c.level.in_(("county", "township", "village", "grid")))
                            .order_by(org_t.c.code).limit(5000)).mappings().all()
        users = conn.execute(sa.select(user_t.c.id, user_t.c.display_name, user_t.c.role, user_t.c.org_code)
                             .where(scope.clause(user_t.c.org_code), user_t.c.active.is_(True))
                             .order_by(user_t.c.org_code, user_t.c.display_name).limit(5000)).mappings().all()
        grids = list_grids(conn, scope)  # grid work (issue 7)
    payload = {
        "code_tables": tables,
        "case_transitions": {k: list(v) for k, v in TRANSITIONS.items()},
        "settings": settings,
        "inactive_codes": inactive, "settings_version": stamp,  # county settings (finding 5)
        "orgs": [{"code": o["code"], "name": o["name"], "level": o["level"], "parent_code": o["parent_code"]} for o in orgs],
        "users": [dict(u) for u in users],
        # grid work (issue 7)
        "grids": grids,
        "patrol_transitions": {k: list(v) for k, v in grid_rules.PATROL_TRANSITIONS.items()},
        "incident_transitions": {k: list(v) for k, v in grid_rules.INCIDENT_TRANSITIONS.items()},
    }
    return JSONResponse({"version": version_of(payload), **payload})


# county settings and code tables, changed by the county's admin (finding 5)
from cunzhi.reference.settings_routes import router as _settings_router  # noqa: E402

router.include_router(_settings_router)
