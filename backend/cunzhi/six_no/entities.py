"""Registers six_no_report with the sync engine, and the derivation that incidents drive.

The report's id is derived from (village, year), so two phones starting it offline make one record. Its
indicators' ``status`` and ``incident_ids`` are the server's: recomputed on every write of the report and
changed by the engine (as the system actor, in the incident's transaction) whenever an incident of a
six-no type appears, moves, is cancelled or deleted.
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

from cunzhi.core.errors import FieldError
from cunzhi.points.entities import every_column
from cunzhi.six_no import rules
from cunzhi.six_no.models import SixNoReport
from cunzhi.sync import fields as f
from cunzhi.sync.registry import DerivedWrite, EntitySpec, WriteContext, register, register_derivation

INDICATOR = f.object_list({
    "code": f.text(40, required=True),
    "status": f.choice(("ok", "broken")),
    "incident_ids": f.uuid_list(200),
    "evidence": f.text(5000),
    "attachment_ids": f.attachment_ids(),
}, required_keys=("code",), max_items=30, key="code", server_keys=("status", "incident_ids"))


def _village_part(indicators: list | None) -> list:
    """What the village owns in the indicator list (status and incident_ids are the server's)."""
    return [(i.get("code"), i.get("evidence"), list(i.get("attachment_ids") or []))
            for i in indicators or [] if isinstance(i, dict)]


def _authorize(ctx: WriteContext) -> str | None:
    role, sent, cur = ctx.actor.role, ctx.sent, ctx.current or {}
    if role == "system":
        return None
    if "indicators" in sent and _village_part(sent["indicators"]) != _village_part(cur.get("indicators")) \
            and role != "village_admin":
        return "village_fields"
    if "self_assessment" in sent and sent["self_assessment"] != cur.get("self_assessment") and role != "village_admin":
        return "village_fields"
    if "decision_note" in sent and sent["decision_note"] != cur.get("decision_note") and role != "township_admin":
        return "township_fields"
    if ctx.op == "update" and "state" in sent and sent["state"] != cur.get("state"):
        who = rules.TRANSITIONS.get((cur.get("state"), sent["state"]))
        if who is not None and who != role:
            return "transition_role"
    return None


def _prepare(ctx: WriteContext) -> None:
    row = ctx.row
    every_column(ctx, SixNoReport.__table__)
    if ctx.op == "create" and not row.get("state"):
        row["state"] = "open"
    if "indicators" in ctx.changed:
        row["_sent_codes"] = [i.get("code") for i in row.get("indicators") or []]
    year = row.get("year")
    if isinstance(year, int) and row.get("org_code"):
        breaking = rules.breaking_incidents(ctx.conn, row["org_code"], year)
        row["indicators"] = rules.derived_indicators(row.get("indicators"), _codes_of(ctx), breaking)


def _codes_of(ctx: WriteContext) -> list[str]:
    """The county's indicators, and after them those the report already holds that the county has deactivated
    since (an old report keeps its list)."""
    codes = rules.indicator_codes(ctx.settings)
    held = [i.get("code") for i in (ctx.current or {}).get("indicators") or [] if isinstance(i, dict)]
    return codes + [c for c in held if c and c not in codes]


def _validate(ctx: WriteContext) -> list[FieldError]:
    row, cur, ch = ctx.row, ctx.current or {}, ctx.changed
    errors: list[FieldError] = []
    known = set(_codes_of(ctx))
    for i, code in enumerate(row.pop("_sent_codes", None) or []):
        if code not in known:
            errors.append(FieldError(f"indicators.{i}.code", "invalid_choice"))
    if ctx.op == "update" and ctx.actor.role != "system" and cur.get("state") in rules.LOCKED_STATES:
        # what the township reviews or certified stays as submitted (a phone that was offline learns it here)
        if "indicators" in ch and _village_part(row.get("indicators")) != _village_part(cur.get("indicators")):
            errors.append(FieldError("indicators", "report_locked"))
        if "self_assessment" in ch and row.get("self_assessment") != cur.get("self_assessment"):
            errors.append(FieldError("self_assessment", "report_locked"))
    if ctx.op == "update" and "year" in ch and row.get("year") != cur.get("year"):
        errors.append(FieldError("year", "immutable"))
    if ctx.op == "create" and "year" in ch and row.get("year", 0) > ctx.today.year:
        errors.append(FieldError("year", "future_date"))
    state = row.get("state")
    if "state" in ch:
        if ctx.op == "create":
            if state != "open":
                errors.append(FieldError("state", "invalid_initial_status"))
        elif state != cur.get("state") and (cur.get("state"), state) not in rules.TRANSITIONS:
            errors.append(FieldError("state", "invalid_transition"))
    if ch & {"state", "self_assessment"} and state == "self_assessed" and not row.get("self_assessment"):
        errors.append(FieldError("self_assessment", "self_assessment_required"))
    if ch & {"state", "decision_note"} and state == "rejected" and not row.get("decision_note"):
        errors.append(FieldError("decision_note", "decision_note_required"))
    if "state" in ch and state == "township_certified" and state != cur.get("state") \
            and rules.has_broken(row.get("indicators")):
        errors.append(FieldError("state", "indicator_broken"))
    return errors


# what each wire field means (OpenAPI, generated from this registration: docs/api.md)
REPORT_DESCRIPTIONS = {
    "year": "年度 — the year assessed",
    "indicators": "指标 — the six-no indicators and their status",
    "indicators.code": "指标代码 — the indicator (a code of the six_no_indicator table)",
    "indicators.status": "状态 — met or not met",
    "indicators.incident_ids": "相关事件 — ids of incidents that bear on it",
    "indicators.evidence": "佐证 — the evidence",
    "indicators.attachment_ids": "附件 — ids of supporting scans (attachments)",
    "self_assessment": "自评 — the village's self-assessment",
    "state": "状态 — open, self_assessed, township_certified, rejected or reopened",
    "decision_note": "审核意见 — the township's note on its decision",
}


six_no_report = register(EntitySpec(
    name="six_no_report",
    model=SixNoReport,
    fields={
        "org_code": f.text(24),
        "year": f.integer(2000, 2100),
        "indicators": INDICATOR,
        "self_assessment": f.text(5000),
        "state": f.choice(rules.STATES),
        "decision_note": f.text(2000),
    },
    required_on_create={"year"},
    groups=[("state", "self_assessment", "decision_note")],
    writers={"create": {"village_admin", "township_admin"}, "update": {"village_admin", "township_admin"}},
    org_levels=("village",),
    natural_key=rules.natural_key,
    authorize=_authorize,
    prepare=_prepare,
    validate=_validate,
    descriptions=REPORT_DESCRIPTIONS,
))


# ---- derived from incidents ------------------------------------------------------------------------
def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def _keys(row: dict | None) -> set[tuple[str, int]]:
    if not row or row.get("type") not in rules.SIX_NO_TYPES or not row.get("occurred_at") or not row.get("org_code"):
        return set()
    at = row["occurred_at"]
    if isinstance(at, str):
        at = f.parse_datetime(at)
    return {(row["org_code"], rules.year_of(_aware(at)))}


def derive_from_incident(ctx: WriteContext) -> list[DerivedWrite]:
    """An incident of a six-no type breaks (or, cancelled or deleted, mends) its village's indicator."""
    writes: list[DerivedWrite] = []
    table = six_no_report.table
    codes = rules.indicator_codes(ctx.settings)
    for village, year in sorted(_keys(ctx.current) | _keys(ctx.row)):
        rid = rules.report_id(village, year)
        breaking = rules.breaking_incidents(ctx.conn, village, year)
        current = ctx.conn.execute(sa.select(table).where(table.c.id == rid)).mappings().first()
        if current is None:
            if breaking:
                writes.append(DerivedWrite("six_no_report", rid, {
                    "org_code": village, "year": year, "state": "open",
                    "indicators": rules.derived_indicators([], codes, breaking)}, create=True))
            continue
        held = [i.get("code") for i in current["indicators"] or [] if isinstance(i, dict)]
        indicators = rules.derived_indicators(current["indicators"],
                                              codes + [c for c in held if c and c not in codes], breaking)
        changes: dict = {}
        if indicators != current["indicators"]:
            changes["indicators"] = indicators
        if current["state"] == "township_certified" and rules.has_broken(indicators):
            changes["state"] = "reopened"
        if changes:
            writes.append(DerivedWrite("six_no_report", rid, changes))
    return writes


register_derivation(on="incident", derive=derive_from_incident)
