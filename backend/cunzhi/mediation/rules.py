"""Mediation case rules: the state machine, deadlines and their colours, the shape of nested fields."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from cunzhi.core.errors import FieldError
from cunzhi.sync import fields as f
from cunzhi.sync.fields import FieldType, Invalid, _text, parse_date

OPEN = ("registered", "mediating")
ENDING = ("agreed", "declined", "terminated", "referred")
GREY = ("declined", "terminated", "referred")
NEEDS_AGREEMENT = ("agreed", "fulfilling", "fulfilled")
NEEDS_OUTCOME_NOTE = GREY
STATUSES = ("registered", "mediating", "agreed", "fulfilling", "fulfilled", "archived",
            "declined", "terminated", "referred")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "registered": ("mediating", "declined", "terminated", "referred"),
    "mediating": ("agreed", "declined", "terminated", "referred"),
    "agreed": ("fulfilling", "fulfilled"),
    "fulfilling": ("fulfilled",),
    "fulfilled": ("archived",),
    "declined": ("archived",),
    "terminated": ("archived",),
    "referred": ("archived",),
    "archived": (),
}
RISK_LEVELS = ("red", "orange", "yellow", "blue")
PARTY_ROLES = ("applicant", "respondent", "other")
GENDERS = ("male", "female", "unknown")
EVENT_KINDS = ("session", "investigation", "follow_up", "referral", "note")


def deadline_color(status: str, deadline: date | None, ended_on: date | None, ended_as: str | None,
                   today: date, warn_days: int = 5) -> str:
    """green / yellow / red / grey, computed on read (product.md, "Deadline"); never stored."""
    if status in GREY or (status == "archived" and ended_as in GREY):
        return "grey"
    if deadline is None:
        return "green"
    if status in OPEN:
        left = (deadline - today).days
        if left < 0:
            return "red"
        return "yellow" if left <= warn_days else "green"
    return "green" if ended_on is None or ended_on <= deadline else "red"


# Nested values are typed with the engine's field types: personal data (phone, ID number) and attachment
# references are found by type wherever they sit, so masking, the write guard and the purge need nothing here.
PARTY = {
    "name": f.text(50, required=True),
    "role": f.choice(PARTY_ROLES, required=True),
    "gender": f.choice(GENDERS, default="unknown"),
    "phone": f.phone(),
    "id_number": f.id_number(),
    "address": f.text(200),
}


def _strict_keys(item: dict, allowed: set[str], where: str) -> None:
    for k in item:
        if k not in allowed:
            raise Invalid("unknown_field", f"{where}.{str(k)[:40]}")


def _parse_extensions(value: Any) -> list[dict]:
    if not isinstance(value, list) or len(value) > 20:
        raise Invalid("invalid_type")
    out = []
    for i, e in enumerate(value):
        if not isinstance(e, dict):
            raise Invalid("invalid_type", str(i))
        _strict_keys(e, {"new_deadline", "reason", "recorded_by", "recorded_at"}, str(i))
        try:
            nd = parse_date(e.get("new_deadline")).isoformat()
        except Invalid as err:
            raise Invalid("required" if e.get("new_deadline") is None else err.code, f"{i}.new_deadline") from None
        try:
            reason = _text(500, 1)(e.get("reason"))
        except Invalid as err:
            raise Invalid("required" if not e.get("reason") else err.code, f"{i}.reason") from None
        out.append({"new_deadline": nd, "reason": reason,
                    "recorded_by": e.get("recorded_by"), "recorded_at": e.get("recorded_at")})
    return out


PARTIES = f.object_list(PARTY, required_keys=("name", "role"), max_items=50, min_items=1, required=True)
AGREEMENT = f.obj({
    "form": f.choice(("written", "oral"), required=True),
    "terms": f.text(5000),
    "amount": f.amount(),
    "performance": f.text(5000),
    "signed_on": f.a_date(),
    "perform_by": f.a_date(),  # by when it is carried out (the fulfilment rate counts from it; absent → signed_on)
    "attachment_ids": f.attachment_ids(20),
    "court_confirmation": f.choice(("none", "requested", "granted"), default="none"),
}, required_keys=("form",))
EXTENSIONS = FieldType(_parse_extensions, lambda v: v or [])


def agreement_errors(agreement: dict | None, today: date) -> list[tuple[str, str]]:
    """What a case reaching (or staying in) agreed needs of its agreement (issue 12): the agreement,
    its terms, and for a written one the date it was signed (not in the future). (field, code) pairs."""
    if not agreement:
        return [("agreement", "agreement_required")]
    errors: list[tuple[str, str]] = []
    if not (agreement.get("terms") or "").strip():
        errors.append(("agreement.terms", "terms_required"))
    signed = agreement.get("signed_on")
    if agreement.get("form") == "written" and not signed:
        errors.append(("agreement.signed_on", "signed_on_required"))
    if signed and date.fromisoformat(str(signed)) > today:
        errors.append(("agreement.signed_on", "future_date"))
    return errors


def extension_errors(extensions: list[dict], first_new: int, deadline: date, today: date) -> list[FieldError]:
    """An extension appended from ``first_new`` on must move the deadline later than it was (``deadline``,
    then each new one in turn) and not into the past. Extensions already stored are never judged again."""
    errors: list[FieldError] = []
    for i, e in enumerate(extensions[first_new:], start=first_new):
        nd = date.fromisoformat(str(e["new_deadline"]))
        if nd <= deadline:
            errors.append(FieldError(f"deadline_extensions.{i}.new_deadline", "extension_not_later"))
        elif nd < today:
            errors.append(FieldError(f"deadline_extensions.{i}.new_deadline", "extension_in_past"))
        deadline = max(deadline, nd)
    return errors


def expected_deadline(received_on: date, extensions: list[dict], days: int) -> date:
    if extensions:
        return date.fromisoformat(extensions[-1]["new_deadline"])
    return received_on + timedelta(days=days)
