"""Registers mediation_case and case_event with the sync engine: fields, groups, writers and rules."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from cunzhi.core.clock import iso
from cunzhi.core.errors import FieldError
from cunzhi.mediation import rules
from cunzhi.mediation.models import CaseEvent, MediationCase
from cunzhi.sync import fields as f
from cunzhi.sync.registry import EntitySpec, WriteContext, register
from cunzhi.users.models import User

case_t = MediationCase.__table__
user_t = User.__table__

CASE_WRITERS = {
    "create": {"mediator", "grid_worker", "village_admin", "township_admin"},
    "update": {"mediator", "village_admin", "township_admin"},
    "delete": {"village_admin", "township_admin"},
}


def _prepare_case(ctx: WriteContext) -> None:
    row, cur = ctx.row, ctx.current or {}
    days = int(ctx.settings.get("deadline_days", 30))
    if ctx.op == "create" and not row.get("status"):
        row["status"] = "registered"
    ext = row.get("deadline_extensions") or []
    if "deadline_extensions" in ctx.changed:
        old = cur.get("deadline_extensions") or []
        row["_extensions_sent"] = ext  # judged as sent: dropping or rewriting an old extension is an error
        if row.get("received_on"):  # what a new extension must go past: the deadline before this change
            row["_extension_floor"] = (len(old), rules.expected_deadline(row["received_on"], old, days))
        stamped = list(old) + [dict(e, recorded_by=ctx.actor.user_id, recorded_at=iso(ctx.now))
                               for e in ext[len(old):]]
        row["deadline_extensions"] = ext = stamped
    if row.get("received_on"):
        expected = rules.expected_deadline(row["received_on"], ext, days)
        row["_deadline_sent"] = row.get("deadline") if "deadline" in ctx.changed else None
        row["deadline"] = expected
    status = row.get("status")
    if status in rules.ENDING and "status" in ctx.changed and not row.get("ended_on"):
        row["ended_on"], row["ended_as"] = ctx.today, status


def _validate_case(ctx: WriteContext) -> list[FieldError]:
    row, cur, ch = ctx.row, ctx.current or {}, ctx.changed
    errors: list[FieldError] = []
    codes = ctx.settings["codes"]
    if "category" in ch and row.get("category") not in codes.get("case_category", set()):
        errors.append(FieldError("category", "invalid_choice"))
    if "source" in ch and row.get("source") not in codes.get("case_source", set()):
        errors.append(FieldError("source", "invalid_choice"))
    if "received_on" in ch and row.get("received_on") and row["received_on"] > ctx.today:
        errors.append(FieldError("received_on", "future_date"))
    sent_deadline = row.pop("_deadline_sent", None)
    if sent_deadline is not None and sent_deadline != row.get("deadline"):
        errors.append(FieldError("deadline", "deadline_needs_extension"))
    sent_extensions = row.pop("_extensions_sent", None)
    if "deadline_extensions" in ch:
        old = cur.get("deadline_extensions") or []
        new = sent_extensions if sent_extensions is not None else row.get("deadline_extensions") or []
        if len(new) < len(old) or any((a["new_deadline"], a["reason"]) != (b["new_deadline"], b["reason"])
                                      for a, b in zip(old, new, strict=False)):
            errors.append(FieldError("deadline_extensions", "extensions_append_only"))
    floor = row.pop("_extension_floor", None)
    if floor is not None and "deadline_extensions" in ch:
        errors += rules.extension_errors(row.get("deadline_extensions") or [], *floor, ctx.today)
    if "status" in ch:
        if ctx.op == "create":
            if row["status"] != "registered":
                errors.append(FieldError("status", "invalid_initial_status"))
        elif row["status"] != cur.get("status") and row["status"] not in rules.TRANSITIONS.get(cur.get("status"), ()):
            errors.append(FieldError("status", "invalid_transition"))
    if ch & {"status", "agreement"} and row.get("status") in rules.NEEDS_AGREEMENT:
        errors += [FieldError(f, code) for f, code in rules.agreement_errors(row.get("agreement"), ctx.today)]
    if ch & {"status", "outcome_note"} and row.get("status") in rules.NEEDS_OUTCOME_NOTE and not row.get("outcome_note"):
        errors.append(FieldError("outcome_note", "outcome_note_required"))
    if "mediator_ids" in ch and row.get("mediator_ids"):
        key = ("mediators", row["org_code"])
        if key not in ctx.cache:  # once per village per push
            ctx.cache[key] = set(ctx.conn.execute(_MEDIATORS_IN_ORG, {"org": row["org_code"]}).scalars())
        if set(row["mediator_ids"]) - ctx.cache[key]:
            errors.append(FieldError("mediator_ids", "unknown_mediator"))
    return errors


# built once (one check per case create or mediator change; see bench/push_throughput.py)
_MEDIATORS_IN_ORG = sa.select(user_t.c.id).where(
    user_t.c.org_code == sa.bindparam("org"),
    user_t.c.role.in_(("mediator", "village_admin", "township_admin")))


def _case_serial_counter(row: dict) -> str:
    """Case numbers count per org unit and year of intake."""
    return f"case:{row['org_code']}:{row['received_on'].year}"


def _assign_case_number(row: dict, serial: int) -> None:
    row["case_number"] = f"{row['org_code']}-{row['received_on'].year}-{serial:04d}"


def _case_delete_rule(ctx: WriteContext) -> str | None:
    return None if (ctx.current or {}).get("status") == "registered" else "not_deletable"


def _case_computed(row: dict, today: date) -> dict:
    return {"deadline_color": rules.deadline_color(row["status"], row.get("deadline"), row.get("ended_on"),
                                                   row.get("ended_as"), today)}


# what each wire field means (OpenAPI, generated from this registration: docs/api.md)
CASE_DESCRIPTIONS = {
    "title": "案由 — a short title of the dispute",
    "description": "案情 — what the dispute is about",
    "category": "纠纷类型 — the dispute category (a code of the county's case_category table, GET /reference)",
    "source": "来源 — how the case came in (a code of the case_source table)",
    "received_on": "受理日期 — the day the case was taken in (not in the future)",
    "place": "地点 — where the dispute happened",
    "parties": "当事人 — the parties, applicant(s) and respondent(s)",
    "parties.name": "姓名 — the party's name",
    "parties.role": "角色 — applicant or respondent (申请人/被申请人)",
    "parties.gender": "性别 — the party's gender",
    "parties.phone": "电话 — the party's phone number",
    "parties.id_number": "身份证号 — the party's resident ID number",
    "parties.address": "住址 — the party's address",
    "people_involved": "涉及人数 — how many people the dispute involves",
    "amount_in_dispute": "争议金额 — the amount in dispute in yuan, two decimals (\"1200.00\")",
    "mediator_ids": "调解员 — ids of the mediators in charge",
    "risk_level": "风险等级 — red, orange, yellow or blue",
    "escalation_flag": "激化风险 — the dispute may escalate (矛盾激化苗头)",
    "escalation_note": "激化说明 — why the dispute may escalate",
    "status": "状态 — the case's state (transitions in GET /reference case_transitions)",
    "deadline": "办结期限 — the day the case should end by (received_on + the county's days + extensions; set by the server)",
    "deadline_extensions": "延期记录 — extensions of the deadline: days, reason, who and when",
    "agreement": "调解协议 — the agreement reached",
    "agreement.form": "协议形式 — written or oral",
    "agreement.terms": "协议内容 — the terms agreed",
    "agreement.amount": "协议金额 — the amount agreed, in yuan",
    "agreement.performance": "履行方式 — how the agreement is performed",
    "agreement.signed_on": "签订日期 — the day the agreement was signed",
    "agreement.perform_by": "履行期限 — the day the agreement is due",
    "agreement.attachment_ids": "协议附件 — ids of the agreement's scans (attachments)",
    "agreement.court_confirmation": "司法确认 — whether a court confirmed the agreement",
    "outcome_note": "结果说明 — how the case ended",
    "incident_id": "来源事件 — the grid incident this case was opened from",
    "case_number": "案件编号 — the case number the server assigns (e.g. 万福镇调〔2026〕12号)",
    "ended_on": "结案日期 — the day the case reached an ending state (set by the server)",
    "ended_as": "结案方式 — the ending state the case reached (set by the server)",
    "deadline_color": "期限颜色 — computed on read: green, yellow, red (overdue) or grey (ended)",
}


mediation_case = register(EntitySpec(
    name="mediation_case",
    model=MediationCase,
    fields={
        "org_code": f.text(24),
        "title": f.text(200, required=True),
        "description": f.text(10000),
        "category": f.choice(lambda: _ANY, required=True),
        "source": f.choice(lambda: _ANY, required=True),
        "received_on": f.a_date(required=True),
        "place": f.text(200),
        "parties": rules.PARTIES,
        "people_involved": f.integer(0, 1_000_000),
        "amount_in_dispute": f.amount(),
        "mediator_ids": f.uuid_list(),
        "risk_level": f.choice(rules.RISK_LEVELS, required=True),
        "escalation_flag": f.boolean(required=True),
        "escalation_note": f.text(2000),
        "status": f.choice(rules.STATUSES, required=True),
        "deadline": f.a_date(),
        "deadline_extensions": rules.EXTENSIONS,
        "agreement": rules.AGREEMENT,
        "outcome_note": f.text(5000),
        "incident_id": f.a_uuid(),
    },
    required_on_create={"title", "category", "source", "received_on", "parties", "risk_level"},
    groups=[("status", "agreement", "outcome_note"), ("deadline", "deadline_extensions"),
            ("escalation_flag", "escalation_note")],
    writers=CASE_WRITERS,
    server_fields=("case_number", "ended_on", "ended_as"),
    prepare=_prepare_case,
    validate=_validate_case,
    serial_counter=_case_serial_counter,
    assign_serial=_assign_case_number,
    delete_rule=_case_delete_rule,
    computed=_case_computed,
    descriptions=CASE_DESCRIPTIONS,
))


class _AnyCode(set):
    """Codes are checked against the county's code table in the cross-field rules (county-specific)."""

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and 0 < len(item) <= 40


_ANY = _AnyCode()


# what each wire field means (OpenAPI, generated from this registration: docs/api.md)
EVENT_DESCRIPTIONS = {
    "case_id": "所属案件 — the id of the case this event belongs to",
    "kind": "类型 — session, investigation, follow_up, referral or note",
    "occurred_at": "时间 — when it happened (ISO 8601 with offset)",
    "participants": "参加人 — who took part",
    "content": "内容 — what was done and said",
    "outcome": "结果 — what came of it",
    "fulfilled": "已履行 — (follow-ups) whether the agreement is being performed",
    "satisfaction": "满意度 — (follow-ups) the parties' satisfaction, 1 to 5",
    "escalation_signs": "激化迹象 — signs that the dispute may escalate",
    "attachment_ids": "附件 — ids of photos and scans (attachments)",
}


case_event = register(EntitySpec(
    name="case_event",
    model=CaseEvent,
    fields={
        "org_code": f.text(24),
        "case_id": f.a_uuid(),
        "kind": f.choice(rules.EVENT_KINDS, required=True),
        "occurred_at": f.a_datetime(required=True),
        "participants": f.text(2000),
        "content": f.text(20000),
        "outcome": f.text(5000),
        "fulfilled": f.boolean(),
        "satisfaction": f.integer(1, 5),
        "escalation_signs": f.boolean(),
        "attachment_ids": f.attachment_ids(50),
    },
    required_on_create={"case_id", "kind", "occurred_at"},
    append_only=True,
    writers={"create": {"mediator", "village_admin", "township_admin"}},
    parent=("case_id", "mediation_case"),
    parent_missing="case_not_found",
    descriptions=EVENT_DESCRIPTIONS,
))
