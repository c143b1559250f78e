"""Registers nomination and nomination_objection with the sync engine.

The server sets a nomination's notice dates when it enters ``public_notice`` (the injectable clock, the
county's notice days) and its ``paused`` flag from its objections: every change of an objection derives
the nomination's ``paused`` (true while any objection is open), and an ``upheld`` objection rejects it.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cunzhi.core.errors import FieldError
from cunzhi.nominations import rules
from cunzhi.nominations.models import Nomination, NominationObjection
from cunzhi.points.entities import every_column
from cunzhi.sync import fields as f
from cunzhi.sync.registry import DerivedWrite, EntitySpec, WriteContext, get_entity, register, register_derivation

nomination_t = Nomination.__table__
objection_t = NominationObjection.__table__

DISQUALIFIERS = f.obj({
    "criminal_record": f.boolean(), "vice": f.boolean(), "cult": f.boolean(),
    "checked_by": f.text(50), "checked_on": f.a_date(),
})
VILLAGE_REVIEW_FIELDS = {"disqualifiers"}  # the review note: either admin (a rejection says why)
TOWNSHIP_FIELDS = {"award_title", "awarded_on"}


def _authorize(ctx: WriteContext) -> str | None:
    role, sent, cur = ctx.actor.role, ctx.sent, ctx.current or {}
    if role == "system":
        return None
    changed = {k for k, v in sent.items() if ctx.op == "create" or v != cur.get(k)}
    if ctx.op == "create":
        # anyone in the village proposes; the review, notice and award fields are not a proposer's
        return "review_fields" if changed & (VILLAGE_REVIEW_FIELDS | TOWNSHIP_FIELDS | {"review_note"}) and role not in (
            "village_admin", "township_admin") else None
    if changed & VILLAGE_REVIEW_FIELDS and role != "village_admin":
        return "village_fields"
    if changed & TOWNSHIP_FIELDS and role != "township_admin":
        return "township_fields"
    if "state" in changed:
        who = rules.TRANSITIONS.get((cur.get("state"), sent["state"]))
        if who is not None and who != role:
            return "transition_role"
    return None


def _open_objections(conn: Connection, nomination_id: str) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(objection_t).where(
        objection_t.c.nomination_id == nomination_id, objection_t.c.state == "open",
        objection_t.c.deleted.is_(False))).scalar() or 0


def _household_org(conn: Connection, household_id: str) -> str | None:
    spec = get_entity("household")
    if spec is None:
        return None
    t = spec.table
    found = conn.execute(sa.select(t.c.org_code, t.c.deleted).where(t.c.id == household_id)).first()
    return found.org_code if found and not found.deleted else None


def _prepare(ctx: WriteContext) -> None:
    row, cur = ctx.row, ctx.current or {}
    every_column(ctx, nomination_t)
    if ctx.op == "create" and not row.get("state"):
        row["state"] = "nominated"
    entering_notice = row.get("state") == "public_notice" and cur.get("state") != "public_notice" \
        and "state" in ctx.changed and ctx.actor.role != "system"
    if entering_notice:
        row["notice_starts_on"], row["notice_ends_on"] = rules.notice_period(
            ctx.today, int(ctx.settings.get("notice_days", 7)))
    if "state" in ctx.changed and row.get("state") == "awarded" and not row.get("awarded_on"):
        row["awarded_on"] = ctx.today


def _validate(ctx: WriteContext) -> list[FieldError]:
    row, cur, ch = ctx.row, ctx.current or {}, ctx.changed
    errors: list[FieldError] = []
    codes = ctx.settings.get("codes", {})
    if "category" in ch and row.get("category") not in (codes.get("nomination_category") or rules.CATEGORIES):
        errors.append(FieldError("category", "invalid_choice"))
    if ch & {"category", "household_id"} and row.get("category") == "best_family" and not row.get("household_id"):
        errors.append(FieldError("household_id", "household_required"))
    if "household_id" in ch and row.get("household_id") and \
            _household_org(ctx.conn, row["household_id"]) != row["org_code"]:
        errors.append(FieldError("household_id", "household_not_found"))
    if "awarded_on" in ch and row.get("awarded_on") and row["awarded_on"] > ctx.today:
        errors.append(FieldError("awarded_on", "future_date"))
    if "disqualifiers" in ch and row.get("disqualifiers") and row["disqualifiers"].get("checked_on") and \
            str(row["disqualifiers"]["checked_on"]) > ctx.today.isoformat():
        errors.append(FieldError("disqualifiers.checked_on", "future_date"))
    state, before = row.get("state"), cur.get("state")
    if "state" not in ch or state == before:
        return errors
    if ctx.op == "create":
        if state != "nominated":
            errors.append(FieldError("state", "invalid_initial_status"))
        return errors
    if (before, state) not in rules.TRANSITIONS and not (ctx.actor.role == "system" and state == "rejected"):
        errors.append(FieldError("state", "invalid_transition"))
        return errors
    if state == "village_reviewed" and not rules.disqualifiers_checked(row.get("disqualifiers")):
        errors.append(FieldError("disqualifiers", "disqualifiers_unchecked"))
    if state == "public_notice" and rules.disqualified(row.get("disqualifiers")):
        # a disqualified nominee never reaches approval: not on the public poster either (the township rejects it)
        errors.append(FieldError("disqualifiers", "disqualified_notice"))
    if state == "township_approved":
        if not rules.notice_over(row.get("notice_ends_on"), ctx.today):
            errors.append(FieldError("state", "notice_not_over"))
        if row.get("paused") or _open_objections(ctx.conn, row["id"]):
            errors.append(FieldError("state", "objection_open"))
        if rules.disqualified(row.get("disqualifiers")):
            errors.append(FieldError("disqualifiers", "disqualified"))
    if state == "awarded" and not row.get("award_title"):
        errors.append(FieldError("award_title", "award_title_required"))
    if state == "rejected" and not row.get("review_note") and ctx.actor.role != "system":
        errors.append(FieldError("review_note", "review_note_required"))
    return errors


def _honour_computed(row: dict, today) -> dict:
    return {"notice_active": row.get("state") == "public_notice" and row.get("notice_ends_on") is not None
            and today <= row["notice_ends_on"]}


# what each wire field means (OpenAPI, generated from this registration: docs/api.md)
NOMINATION_DESCRIPTIONS = {
    "category": "类别 — the honour nominated for (好人好事, 见义勇为, …)",
    "nominee_name": "被推荐人 — the nominee's name",
    "household_id": "农户 — the nominee's household",
    "nominee_phone": "电话 — the nominee's phone number",
    "nominee_id_number": "身份证号 — the nominee's resident ID number",
    "deeds": "事迹 — what the nominee did",
    "source": "推荐方式 — self, villagers or organisation",
    "nominator_name": "推荐人 — who nominated",
    "attachment_ids": "附件 — ids of photos and scans (attachments)",
    "state": "状态 — nominated, village_reviewed, public_notice, township_approved, rejected or awarded",
    "disqualifiers": "负面清单核查 — the check for disqualifying records",
    "disqualifiers.criminal_record": "违法犯罪 — has a criminal record",
    "disqualifiers.vice": "黄赌毒 — involved in vice",
    "disqualifiers.cult": "邪教 — involved in a cult",
    "disqualifiers.checked_by": "核查人 — who checked",
    "disqualifiers.checked_on": "核查日期 — when it was checked",
    "review_note": "审核意见 — the reviewer's note",
    "award_title": "称号 — the title awarded",
    "awarded_on": "授予日期 — the day it was awarded",
    "notice_starts_on": "公示开始 — the first day of the public notice (set by the server)",
    "notice_ends_on": "公示结束 — the last day of the public notice (set by the server)",
    "paused": "暂停公示 — the notice is paused by an open objection (set by the server)",
    "notice_active": "公示中 — computed on read: the public notice runs today",
}


nomination = register(EntitySpec(
    name="nomination",
    model=Nomination,
    fields={
        "org_code": f.text(24),
        "category": f.choice(rules.CATEGORIES, required=True),
        "nominee_name": f.text(50, required=True),
        "household_id": f.a_uuid(),
        "nominee_phone": f.phone(),
        "nominee_id_number": f.id_number(),
        "deeds": f.text(5000, required=True),
        "source": f.choice(rules.SOURCES, required=True),
        "nominator_name": f.text(50),
        "attachment_ids": f.attachment_ids(),
        "state": f.choice(rules.STATES),
        "disqualifiers": DISQUALIFIERS,
        "review_note": f.text(2000),
        "award_title": f.text(100),
        "awarded_on": f.a_date(),
    },
    required_on_create={"category", "nominee_name", "deeds", "source"},
    groups=[("state", "review_note", "award_title", "awarded_on")],
    writers={"create": {"mediator", "grid_worker", "village_admin", "township_admin"},
             "update": {"village_admin", "township_admin"}},
    org_levels=("village",),
    server_fields=("notice_starts_on", "notice_ends_on", "paused"),
    authorize=_authorize,
    prepare=_prepare,
    validate=_validate,
    computed=_honour_computed,
    descriptions=NOMINATION_DESCRIPTIONS,
))


# ---- objections ----------------------------------------------------------------------------------
def _prepare_objection(ctx: WriteContext) -> None:
    every_column(ctx, objection_t)


def _validate_objection(ctx: WriteContext) -> list[FieldError]:
    row, cur, ch = ctx.row, ctx.current or {}, ctx.changed
    errors: list[FieldError] = []
    if ctx.op == "create":
        if row.get("state") not in (None, "open"):
            errors.append(FieldError("state", "invalid_initial_status"))
        row["state"] = "open"
        n_state = ctx.conn.execute(sa.select(nomination_t.c.state).where(
            nomination_t.c.id == row["nomination_id"])).scalar()
        if n_state != "public_notice":
            errors.append(FieldError("nomination_id", "not_in_notice"))
        return errors
    if "nomination_id" in ch and row["nomination_id"] != cur.get("nomination_id"):
        errors.append(FieldError("nomination_id", "immutable"))
    state = row.get("state")
    if "state" in ch and state != cur.get("state"):
        if (cur.get("state"), state) not in rules.OBJECTION_TRANSITIONS:
            errors.append(FieldError("state", "invalid_transition"))
        elif not row.get("decision_note"):
            errors.append(FieldError("decision_note", "decision_note_required"))
    return errors


# what each wire field means (OpenAPI, generated from this registration: docs/api.md)
OBJECTION_DESCRIPTIONS = {
    "nomination_id": "所属推荐 — the nomination objected to",
    "content": "异议内容 — what the objection says",
    "objector_name": "异议人 — who objects (may be empty: anonymous)",
    "contact": "联系方式 — the objector's phone number",
    "state": "状态 — open, upheld or dismissed",
    "decision_note": "处理意见 — the note on the decision",
}


nomination_objection = register(EntitySpec(
    name="nomination_objection",
    model=NominationObjection,
    fields={
        "org_code": f.text(24),
        "nomination_id": f.a_uuid(),
        "content": f.text(5000, required=True),
        "objector_name": f.text(50),
        "contact": f.phone(),
        "state": f.choice(rules.OBJECTION_STATES),
        "decision_note": f.text(2000),
    },
    required_on_create={"nomination_id", "content"},
    groups=[("state", "decision_note")],
    writers={"create": rules.OBJECTION_WRITERS, "update": rules.OBJECTION_WRITERS},
    org_levels=("village",),
    parent=("nomination_id", "nomination"),
    prepare=_prepare_objection,
    validate=_validate_objection,
    descriptions=OBJECTION_DESCRIPTIONS,
))


def derive_from_objection(ctx: WriteContext) -> list[DerivedWrite]:
    """An open objection pauses its nomination's notice; an upheld one rejects the nomination."""
    nid = ctx.row["nomination_id"]
    found = ctx.conn.execute(sa.select(nomination_t.c.state, nomination_t.c.paused)
                             .where(nomination_t.c.id == nid)).first()
    if found is None:
        return []
    changes: dict = {}
    paused = _open_objections(ctx.conn, nid) > 0
    if paused != bool(found.paused):
        changes["paused"] = paused
    if ctx.row.get("state") == "upheld" and (ctx.current or {}).get("state") != "upheld" \
            and found.state not in ("rejected", "awarded"):
        changes["state"] = "rejected"
    return [DerivedWrite("nomination", nid, changes)] if changes else []


register_derivation(on="nomination_objection", derive=derive_from_objection)
