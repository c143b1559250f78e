"""Registers points_entry (append-only) with the sync engine.

An entry names a household of its village and a rule of the county's table; its points default to the
rule's. Entries are never edited or deleted: a correction is a new entry naming the one it reverses
(``reverses_id``), whose points default to the negation of the reversed entry's.
"""

from __future__ import annotations

import sqlalchemy as sa

from cunzhi.core.errors import FieldError
from cunzhi.points import rules
from cunzhi.points.models import PointsEntry
from cunzhi.sync import fields as f
from cunzhi.sync.registry import EntitySpec, WriteContext, get_entity, register

entry_t = PointsEntry.__table__


def _authorize(ctx: WriteContext) -> str | None:
    if ctx.actor.role in rules.FIELD_WRITERS and not rules.field_writers_allowed(ctx.settings):
        return "county_disallows"
    return None


def every_column(ctx: WriteContext, table) -> None:
    """Give the new row every column (absent optional fields as None). The engine inserts a push's new rows
    in one multi-row INSERT whose columns are the first row's: a field only a later row of the batch carries
    would be dropped (seen with an entry and its reversal in one push)."""
    if ctx.op == "create":
        for c in table.columns:
            ctx.row.setdefault(c.name, None)


def _prepare(ctx: WriteContext) -> None:
    row = ctx.row
    every_column(ctx, entry_t)
    if not row.get("occurred_on"):
        row["occurred_on"] = ctx.today
    if row.get("reverses_id"):
        # the reversed entry may be a create of this very push, not inserted yet (a phone's offline batch)
        orig = ctx.cache.get("points_accepted", {}).get(row["reverses_id"]) or ctx.conn.execute(
            sa.select(entry_t).where(entry_t.c.id == row["reverses_id"])).mappings().first()
        row["_reversed"] = dict(orig) if orig else None
        if orig is not None:
            row.setdefault("rule", None)
            row["rule"] = row.get("rule") or orig["rule"]
            if row.get("points") is None:
                row["points"] = -orig["points"]
    rule_table = rules.rule_points(ctx.conn, row["org_code"][:6], ctx.cache)
    if row.get("points") is None and row.get("rule") in rule_table and rule_table[row["rule"]] is not None:
        row["points"] = rule_table[row["rule"]]


def _validate(ctx: WriteContext) -> list[FieldError]:
    row = ctx.row
    errors: list[FieldError] = []
    rule_table = rules.rule_points(ctx.conn, row["org_code"][:6], ctx.cache)
    reversed_rule = (row.get("_reversed") or {}).get("rule")
    if row.get("rule") not in rule_table and not (reversed_rule and row.get("rule") == reversed_rule):
        # a reversal keeps its entry's rule, even one deactivated since
        errors.append(FieldError("rule", "required" if not row.get("rule") else "invalid_choice"))
    points = row.get("points")
    if points is None:
        if row.get("rule") in rule_table:
            errors.append(FieldError("points", "required"))
    elif points == 0:
        errors.append(FieldError("points", "points_zero"))
    elif not rules.MIN_POINTS <= points <= rules.MAX_POINTS:
        errors.append(FieldError("points", "out_of_range"))
    elif row.get("rule") in rules.NEGATIVE_ONLY and points > 0 and not row.get("reverses_id"):
        errors.append(FieldError("points", "points_must_be_negative"))
    if row.get("occurred_on") and row["occurred_on"] > ctx.today:
        errors.append(FieldError("occurred_on", "future_date"))
    hh = get_entity("household")
    if hh is not None and row.get("household_id"):
        found = ctx.conn.execute(sa.select(hh.table.c.org_code, hh.table.c.deleted)
                                 .where(hh.table.c.id == row["household_id"])).first()
        if found is None or found.deleted or found.org_code != row["org_code"]:
            errors.append(FieldError("household_id", "household_not_found"))
    if row.get("reverses_id"):
        orig = row.pop("_reversed", None)
        taken = ctx.cache.setdefault("points_reversed", set())
        if orig is None or orig.get("deleted") or orig.get("org_code") != row["org_code"]:
            errors.append(FieldError("reverses_id", "entry_not_found"))
        elif orig.get("reverses_id"):
            errors.append(FieldError("reverses_id", "reversal_of_reversal"))
        elif orig["household_id"] != row.get("household_id") or points != -orig["points"]:
            errors.append(FieldError("reverses_id", "reversal_mismatch"))
        elif row["reverses_id"] in taken or ctx.conn.execute(sa.select(entry_t.c.id).where(
                entry_t.c.reverses_id == row["reverses_id"])).first() is not None:
            errors.append(FieldError("reverses_id", "already_reversed"))
        if not errors:
            taken.add(row["reverses_id"])
    row.pop("_reversed", None)
    if not errors:
        ctx.cache.setdefault("points_accepted", {})[row["id"]] = dict(row)
    return errors


# what each wire field means (OpenAPI, generated from this registration: docs/api.md)
ENTRY_DESCRIPTIONS = {
    "household_id": "农户 — the household the points are for",
    "rule": "积分规则 — a code of the county's points rules (empty: a free entry)",
    "points": "分值 — points given (negative: taken)",
    "reason": "事由 — why",
    "occurred_on": "日期 — the day of the deed",
    "attachment_ids": "附件 — ids of photos (attachments)",
    "reverses_id": "冲正 — the entry this one reverses",
}


points_entry = register(EntitySpec(
    name="points_entry",
    model=PointsEntry,
    fields={
        "org_code": f.text(24),
        "household_id": f.a_uuid(),
        "rule": f.text(40),
        "points": f.integer(),
        "reason": f.text(500, required=True),
        "occurred_on": f.a_date(),
        "attachment_ids": f.attachment_ids(),
        "reverses_id": f.a_uuid(),
    },
    required_on_create={"household_id", "reason"},
    append_only=True,
    writers={"create": {"village_admin", "township_admin", *rules.FIELD_WRITERS}},
    org_levels=("village",),
    authorize=_authorize,
    prepare=_prepare,
    validate=_validate,
    descriptions=ENTRY_DESCRIPTIONS,
))
