"""Registers household, patrol and incident with the sync engine (fields, writers, rules), and the derived
write a mediation case makes on the incident it came from."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from cunzhi.core.errors import FieldError
from cunzhi.grid import rules
from cunzhi.grid.models import Grid, Household, Incident, Patrol
from cunzhi.sync import fields as f
from cunzhi.sync.registry import DerivedWrite, EntitySpec, WriteContext, register, register_derivation
from cunzhi.users.models import User

grid_t = Grid.__table__
household_t = Household.__table__
patrol_t = Patrol.__table__
incident_t = Incident.__table__
user_t = User.__table__

ADMINS = set(rules.ADMINS)


class _AnyCode(set):
    """Codes are checked against the county's code table in the cross-field rules (county-specific)."""

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and 0 < len(item) <= 40


_ANY = _AnyCode()

# ---- shared checks ---------------------------------------------------------------------------------
_GRID = sa.select(grid_t.c.village_code, grid_t.c.retired).where(grid_t.c.code == sa.bindparam("code"))
_VILLAGE_USERS = sa.select(user_t.c.id).where(user_t.c.org_code == sa.bindparam("org"), user_t.c.active.is_(True))


def _grid_errors(ctx: WriteContext, field: str = "grid_code") -> list[FieldError]:
    """A grid named by a record: a grid of the record's village, not retired (checked when it changes)."""
    code = ctx.row.get(field)
    if field not in ctx.changed or code is None:
        return []
    key = ("grid", code)
    if key not in ctx.cache:
        found = ctx.conn.execute(_GRID, {"code": code}).first()
        ctx.cache[key] = (found.village_code, found.retired) if found else None
    found = ctx.cache[key]
    if found is None or found[0] != ctx.row["org_code"]:
        return [FieldError(field, "unknown_grid")]
    if found[1]:
        return [FieldError(field, "grid_retired")]
    return []


def _codes_errors(ctx: WriteContext, field: str, table: str, values: list[str]) -> list[FieldError]:
    allowed = ctx.settings["codes"].get(table, set())
    kept = set((ctx.current or {}).get(field) or ())  # a deactivated code the record already holds stays valid
    return [FieldError(f"{field}.{i}", "invalid_choice") for i, v in enumerate(values)
            if v not in allowed and v not in kept][:5]


def _village_users(ctx: WriteContext, org: str) -> set[str]:
    key = ("village_users", org)
    if key not in ctx.cache:
        ctx.cache[key] = set(ctx.conn.execute(_VILLAGE_USERS, {"org": org}).scalars())
    return ctx.cache[key]


# ---- household -------------------------------------------------------------------------------------
def _validate_household(ctx: WriteContext) -> list[FieldError]:
    row, ch = ctx.row, ctx.changed
    errors = _grid_errors(ctx)
    if "tags" in ch and row.get("tags"):
        errors += _codes_errors(ctx, "tags", "household_tag", row["tags"])
    if "safe_certified_years" in ch:
        errors += [FieldError(f"safe_certified_years.{i}", "future_date")
                   for i, y in enumerate(row.get("safe_certified_years") or []) if y > ctx.today.year][:5]
    return errors


_INCIDENTS_OF_HOUSEHOLD = sa.select(sa.func.count()).select_from(incident_t).where(
    incident_t.c.household_id == sa.bindparam("hid"), incident_t.c.deleted.is_(False))


def _household_delete_rule(ctx: WriteContext) -> str | None:
    """Deleting is for a mistaken entry: a household an incident names stays (mark it inactive instead)."""
    n = ctx.conn.execute(_INCIDENTS_OF_HOUSEHOLD, {"hid": ctx.current["id"]}).scalar()
    return "household_referenced" if n else None


# what each wire field means (OpenAPI, generated from this registration: docs/api.md)
HOUSEHOLD_DESCRIPTIONS = {
    "grid_code": "网格 — the code of the household's grid",
    "head_name": "户主姓名 — the head of the household",
    "address": "住址 — the household's address",
    "members": "人口 — how many people live in the household",
    "phone": "联系电话 — the household's phone number",
    "head_id_number": "户主身份证号 — the head's resident ID number",
    "tags": "标签 — codes of the household_tag table (e.g. 留守老人, 重点关注)",
    "safe_certified_years": "平安家庭年份 — the years the household was certified a safe household",
    "active": "有效 — false once the household moved away or merged",
}


household = register(EntitySpec(
    name="household",
    model=Household,
    fields={
        "org_code": f.text(24),
        "grid_code": f.text(24),
        "head_name": f.text(50, required=True),
        "address": f.text(200),
        "members": f.integer(rules.MEMBERS_MIN, rules.MEMBERS_MAX),
        "phone": f.phone(),
        "head_id_number": f.id_number(),
        "tags": rules.TAGS,
        "safe_certified_years": rules.YEARS,
        "active": f.boolean(),
    },
    required_on_create={"head_name", "members"},
    writers={"create": ADMINS, "update": ADMINS, "delete": ADMINS},
    org_levels=("village",),
    validate=_validate_household,
    delete_rule=_household_delete_rule,
    descriptions=HOUSEHOLD_DESCRIPTIONS,
))


# ---- patrol ----------------------------------------------------------------------------------------
PATROL_WRITERS = {"grid_worker", "village_admin"}


def _authorize_patrol(ctx: WriteContext) -> str | None:
    """Grid workers write their own patrols; village admins any patrol of their village."""
    if ctx.current is not None and ctx.actor.role == "grid_worker" and ctx.current["created_by"] != ctx.actor.user_id:
        return "not_own_patrol"
    return None


def _prepare_patrol(ctx: WriteContext) -> None:
    if ctx.op == "create" and not ctx.row.get("state"):
        ctx.row["state"] = "in_progress"


def _validate_patrol(ctx: WriteContext) -> list[FieldError]:
    row, cur, ch = ctx.row, ctx.current or {}, ctx.changed
    errors = _grid_errors(ctx)
    if "state" in ch:
        if ctx.op == "create":
            if row["state"] not in rules.PATROL_INITIAL:
                errors.append(FieldError("state", "invalid_initial_status"))
        elif row["state"] != cur.get("state") and row["state"] not in rules.PATROL_TRANSITIONS.get(cur.get("state"), ()):
            errors.append(FieldError("state", "invalid_transition"))
    if ch & {"state", "ended_at"} and row.get("state") == "completed" and row.get("ended_at") is None:
        errors.append(FieldError("ended_at", "ended_at_required"))
    if ch & {"started_at", "ended_at"} and row.get("ended_at") is not None and row.get("started_at") is not None \
            and row["ended_at"] < row["started_at"]:
        errors.append(FieldError("ended_at", "ended_before_started"))
    if "started_at" in ch and row.get("started_at") and row["started_at"] > ctx.now + timedelta(minutes=10):
        errors.append(FieldError("started_at", "future_date"))
    if "checklist" in ch:
        allowed = ctx.settings["codes"].get("patrol_checklist_item", set())
        # an item the patrol already holds stays valid after its code is deactivated
        kept = {c.get("item") for c in cur.get("checklist") or [] if isinstance(c, dict)}
        seen: set[str] = set()
        for i, item in enumerate(row.get("checklist") or []):
            if item["item"] not in allowed and item["item"] not in kept:
                errors.append(FieldError(f"checklist.{i}.item", "unknown_checklist_item"))
            elif item["item"] in seen:
                errors.append(FieldError(f"checklist.{i}.item", "duplicate_checklist_item"))
            seen.add(item["item"])
    return errors


def _patrol_computed(row: dict, today: date) -> dict:
    return {"distance_m": rules.route_distance_m(row.get("route")),
            "duration_s": rules.patrol_duration_s(row.get("started_at"), row.get("ended_at"))}


# what each wire field means (OpenAPI, generated from this registration: docs/api.md)
PATROL_DESCRIPTIONS = {
    "grid_code": "网格 — the code of the grid patrolled",
    "state": "状态 — in_progress, completed or cancelled",
    "started_at": "开始时间 — when the patrol started",
    "ended_at": "结束时间 — when the patrol ended",
    "route": "轨迹 — the GPS points recorded on the way",
    "route.lat": "纬度 — latitude (WGS 84)",
    "route.lon": "经度 — longitude (WGS 84)",
    "route.at": "时间 — when the point was recorded",
    "route.accuracy": "精度 — the point's accuracy in metres",
    "places_visited": "走访地点 — the places visited",
    "checklist": "巡查清单 — the items checked",
    "checklist.item": "项目 — what was checked (a code of the patrol_checklist table)",
    "checklist.ok": "正常 — whether it was found in order",
    "checklist.note": "备注 — what was found",
    "notes": "巡查记录 — notes of the patrol",
    "attachment_ids": "附件 — ids of photos (attachments)",
    "distance_m": "里程 — computed on read: the route's length in metres",
    "duration_s": "时长 — computed on read: seconds from start to end",
}


patrol = register(EntitySpec(
    name="patrol",
    model=Patrol,
    fields={
        "org_code": f.text(24),
        "grid_code": f.text(24, required=True),
        "state": f.choice(rules.PATROL_STATES, required=True),
        "started_at": f.a_datetime(required=True),
        "ended_at": f.a_datetime(),
        "route": rules.ROUTE,
        "places_visited": rules.PLACES,
        "checklist": rules.CHECKLIST,
        "notes": f.text(5000),
        "attachment_ids": f.attachment_ids(),
    },
    required_on_create={"grid_code", "started_at"},
    groups=[("state", "ended_at")],
    writers={"create": PATROL_WRITERS, "update": PATROL_WRITERS},
    org_levels=("village",),
    authorize=_authorize_patrol,
    prepare=_prepare_patrol,
    validate=_validate_patrol,
    computed=_patrol_computed,
    descriptions=PATROL_DESCRIPTIONS,
))


# ---- incident --------------------------------------------------------------------------------------
INCIDENT_CREATORS = {"grid_worker", "mediator", "village_admin", "township_admin"}
ADMIN_FIELDS = {"assignee_id", "deadline"}


def _authorize_incident(ctx: WriteContext) -> str | None:
    """Per change: admins assign, verify, cancel (and set the deadline); only the assignee starts handling
    and resolves; the reporter, the assignee and admins edit the rest."""
    actor, sent, cur = ctx.actor, ctx.sent, ctx.current
    admin = actor.role in ADMINS
    if cur is None:
        if admin:
            return None
        if sent.get("state") not in (None, "reported") or ADMIN_FIELDS & set(sent):
            return "admins_only"
        return None
    if sent.get("state") not in (None, cur["state"]) and sent["state"] in rules.INCIDENT_TRANSITIONS.get(cur["state"], ()):
        # (a state change the machine does not have is a validation_error for everyone, after the merge)
        who = rules.incident_transition_actor(cur["state"], sent["state"])
        if who == "admin" and not admin:
            return "admins_only"
        if who == "assignee" and actor.user_id != cur.get("assignee_id"):
            return "assignee_only"
    if any(k in sent and sent[k] != cur.get(k) for k in ADMIN_FIELDS) and not admin:
        return "admins_only"
    if admin or actor.user_id in (cur.get("created_by"), cur.get("assignee_id")):
        return None
    if set(sent) - {"state"}:
        return "not_reporter_or_assignee"
    return None


def _prepare_incident(ctx: WriteContext) -> None:
    row, ch = ctx.row, ctx.changed
    if ctx.op == "create" and not row.get("state"):
        row["state"] = "assigned" if row.get("assignee_id") else "reported"
    if row.get("occurred_at") and row.get("severity") and "deadline" not in ch and (
            ctx.op == "create" or ch & {"occurred_at", "severity"}):
        row["deadline"] = rules.incident_deadline(row["occurred_at"], row["severity"], ctx.settings)
    if "state" in ch:
        if row.get("state") == "resolved":
            row["resolved_on"] = ctx.today
        elif row.get("state") in rules.INCIDENT_OPEN:
            row["resolved_on"] = None


def _validate_incident(ctx: WriteContext) -> list[FieldError]:
    row, cur, ch = ctx.row, ctx.current or {}, ctx.changed
    errors = _grid_errors(ctx)
    if "type" in ch and row.get("type") not in ctx.settings["codes"].get("incident_type", set()):
        errors.append(FieldError("type", "invalid_choice"))
    if "occurred_at" in ch and row.get("occurred_at") and row["occurred_at"] > ctx.now + timedelta(minutes=10):
        errors.append(FieldError("occurred_at", "future_date"))
    if "state" in ch:
        if ctx.op == "create":
            if row["state"] not in ("reported", "assigned"):
                errors.append(FieldError("state", "invalid_initial_status"))
        elif row["state"] != cur.get("state") and row["state"] not in rules.INCIDENT_TRANSITIONS.get(cur.get("state"), ()):
            errors.append(FieldError("state", "invalid_transition"))
    if ch & {"state", "assignee_id"} and ctx.actor.role != "system":
        # (the server's own move to handling, when a case is made from the incident, may find nobody assigned)
        if row.get("state") in rules.NEEDS_ASSIGNEE and not row.get("assignee_id"):
            errors.append(FieldError("assignee_id", "assignee_required"))
        elif row.get("assignee_id") and "assignee_id" in ch and row["assignee_id"] not in _village_users(ctx, row["org_code"]):
            errors.append(FieldError("assignee_id", "unknown_assignee"))
    if ch & {"state", "resolution"} and row.get("state") in rules.NEEDS_RESOLUTION and not row.get("resolution"):
        errors.append(FieldError("resolution", "resolution_required"))
    for field, table in (("patrol_id", patrol_t), ("household_id", household_t)):
        if field in ch and row.get(field):
            # a link made offline may name a record still on its way: only a record of another village is wrong
            org = ctx.conn.execute(sa.select(table.c.org_code).where(table.c.id == row[field])).scalar()
            if org is not None and org != row["org_code"]:
                errors.append(FieldError(field, "other_village"))
    return errors


def _incident_computed(row: dict, today: date) -> dict:
    return {"deadline_color": rules.incident_color(row["state"], row.get("deadline"), row.get("resolved_on"), today)}


# what each wire field means (OpenAPI, generated from this registration: docs/api.md)
INCIDENT_DESCRIPTIONS = {
    "grid_code": "网格 — the code of the grid where it happened",
    "patrol_id": "所属巡查 — the patrol that found it",
    "household_id": "相关户 — the household it concerns",
    "type": "事件类型 — a code of the incident_type table",
    "severity": "严重程度 — major, serious or general",
    "title": "标题 — a short title",
    "description": "描述 — what happened",
    "place": "地点 — where it happened",
    "location": "位置 — the GPS position",
    "location.lat": "纬度 — latitude (WGS 84)",
    "location.lon": "经度 — longitude (WGS 84)",
    "location.accuracy": "精度 — the position's accuracy in metres",
    "occurred_at": "发生时间 — when it happened",
    "state": "状态 — reported, assigned, handling, resolved, verified or cancelled",
    "assignee_id": "处理人 — the user handling it",
    "deadline": "处理期限 — the day it should be resolved by (by severity; set by the server)",
    "resolution": "处理结果 — how it was resolved",
    "attachment_ids": "附件 — ids of photos (attachments)",
    "case_id": "转调解案件 — the mediation case opened from it (set by the server)",
    "resolved_on": "解决日期 — the day it was resolved (set by the server)",
    "deadline_color": "期限颜色 — computed on read: green, yellow, red (overdue) or grey (closed)",
}


incident = register(EntitySpec(
    name="incident",
    model=Incident,
    fields={
        "org_code": f.text(24),
        "grid_code": f.text(24),
        "patrol_id": f.a_uuid(),
        "household_id": f.a_uuid(),
        "type": f.choice(lambda: _ANY, required=True),
        "severity": f.choice(rules.SEVERITIES, required=True),
        "title": f.text(200, required=True),
        "description": f.text(10000),
        "place": f.text(200),
        "location": rules.LOCATION,
        "occurred_at": f.a_datetime(required=True),
        "state": f.choice(rules.INCIDENT_STATES, required=True),
        "assignee_id": f.a_uuid(),
        "deadline": f.a_date(),
        "resolution": f.text(5000),
        "attachment_ids": f.attachment_ids(),
    },
    required_on_create={"type", "severity", "title", "occurred_at"},
    groups=[("state", "assignee_id", "resolution")],
    writers={"create": INCIDENT_CREATORS, "update": INCIDENT_CREATORS},
    org_levels=("village",),
    server_fields=("case_id", "resolved_on"),
    authorize=_authorize_incident,
    prepare=_prepare_incident,
    validate=_validate_incident,
    computed=_incident_computed,
    descriptions=INCIDENT_DESCRIPTIONS,
))


# ---- derived: a mediation case made from an incident -----------------------------------------------
_INCIDENT = sa.select(incident_t.c.id, incident_t.c.org_code, incident_t.c.state, incident_t.c.case_id,
                      incident_t.c.assignee_id, incident_t.c.deleted).where(incident_t.c.id == sa.bindparam("id"))


def derive_from_case(ctx: WriteContext) -> list[DerivedWrite]:
    """A case naming ``incident_id`` links the incident to it (``case_id``) and moves it to ``handling`` if
    it was ``reported`` or ``assigned`` (whoever made the case handles it when nobody was assigned)."""
    case = ctx.row
    incident_id = case.get("incident_id")
    if not incident_id or case.get("deleted") or (ctx.current or {}).get("incident_id") == incident_id:
        return []
    found = ctx.conn.execute(_INCIDENT, {"id": incident_id}).mappings().first()
    if found is None or found["deleted"] or found["case_id"] == case["id"]:
        return []
    if not found["org_code"].startswith(case["org_code"]):
        return []  # a case links only an incident of its own village (or, for a township case, below it)
    fields: dict = {"case_id": case["id"]}
    if found["state"] in ("reported", "assigned"):
        fields["state"] = "handling"
        maker = case.get("created_by")
        if not found["assignee_id"] and maker in _village_users_of(ctx, found["org_code"]):
            fields["assignee_id"] = maker  # whoever made the case handles it (a user of the incident's village)
    return [DerivedWrite("incident", found["id"], fields)]


def _village_users_of(ctx: WriteContext, org: str) -> set[str]:
    key = ("village_users", org)
    if key not in ctx.cache:
        ctx.cache[key] = set(ctx.conn.execute(_VILLAGE_USERS, {"org": org}).scalars())
    return ctx.cache[key]


register_derivation(on="mediation_case", derive=derive_from_case)
