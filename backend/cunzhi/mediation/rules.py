"""Mediation case rules: the state machine, deadlines and their colours, the shape of nested fields."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from cunzhi.sync.fields import (FieldType, Invalid, money, parse_date, parse_uuid, valid_id_number, valid_phone,
                                _text)

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


def _strict_keys(item: dict, allowed: set[str], where: str) -> None:
    for k in item:
        if k not in allowed:
            raise Invalid("unknown_field", f"{where}.{str(k)[:40]}")


def _parse_parties(value: Any) -> list[dict]:
    if not isinstance(value, list) or len(value) > 50:
        raise Invalid("invalid_type")
    if not value:
        raise Invalid("required")
    out = []
    name_t, addr_t = _text(50, 1), _text(200)
    for i, p in enumerate(value):
        if not isinstance(p, dict):
            raise Invalid("invalid_type", str(i))
        _strict_keys(p, {"name", "role", "gender", "phone", "id_number", "address"}, str(i))
        party: dict[str, Any] = {}
        try:
            party["name"] = name_t(p.get("name"))
        except Invalid as e:
            raise Invalid("required" if p.get("name") in (None, "") else e.code, f"{i}.name") from None
        if p.get("role") not in PARTY_ROLES:
            raise Invalid("required" if p.get("role") is None else "invalid_choice", f"{i}.role")
        party["role"] = p["role"]
        gender = p.get("gender") or "unknown"
        if gender not in GENDERS:
            raise Invalid("invalid_choice", f"{i}.gender")
        party["gender"] = gender
        phone = p.get("phone")
        if phone not in (None, ""):
            if not isinstance(phone, str) or not (valid_phone(phone) or "*" in phone):
                raise Invalid("invalid_phone", f"{i}.phone")
            party["phone"] = phone.replace(" ", "")
        else:
            party["phone"] = None
        idn = p.get("id_number")
        if idn not in (None, ""):
            if not isinstance(idn, str) or not (valid_id_number(idn) or "*" in idn):
                raise Invalid("invalid_id_number", f"{i}.id_number")
            party["id_number"] = idn.upper()
        else:
            party["id_number"] = None
        try:
            party["address"] = addr_t(p["address"]) if p.get("address") is not None else None
        except Invalid as e:
            raise Invalid(e.code, f"{i}.address") from None
        out.append(party)
    return out


def _parse_agreement(value: Any) -> dict:
    if not isinstance(value, dict):
        raise Invalid("invalid_type")
    _strict_keys(value, {"form", "terms", "amount", "performance", "signed_on", "attachment_ids",
                         "court_confirmation"}, "")
    out: dict[str, Any] = {}
    if value.get("form") not in ("written", "oral"):
        raise Invalid("required" if value.get("form") is None else "invalid_choice", "form")
    out["form"] = value["form"]
    for key in ("terms", "performance"):
        try:
            out[key] = _text(5000)(value[key]) if value.get(key) is not None else None
        except Invalid as e:
            raise Invalid(e.code, key) from None
    try:
        out["amount"] = money(value["amount"]) if value.get("amount") not in (None, "") else None
    except Invalid as e:
        raise Invalid(e.code, "amount") from None
    try:
        out["signed_on"] = parse_date(value["signed_on"]).isoformat() if value.get("signed_on") else None
    except Invalid as e:
        raise Invalid(e.code, "signed_on") from None
    ids = value.get("attachment_ids") or []
    if not isinstance(ids, list) or len(ids) > 20:
        raise Invalid("invalid_type", "attachment_ids")
    try:
        out["attachment_ids"] = [parse_uuid(x) for x in ids]
    except Invalid:
        raise Invalid("invalid_uuid", "attachment_ids") from None
    cc = value.get("court_confirmation") or "none"
    if cc not in ("none", "requested", "granted"):
        raise Invalid("invalid_choice", "court_confirmation")
    out["court_confirmation"] = cc
    return out


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


PARTIES = FieldType(_parse_parties, nullable=False)
AGREEMENT = FieldType(_parse_agreement)
EXTENSIONS = FieldType(_parse_extensions, lambda v: v or [])


def expected_deadline(received_on: date, extensions: list[dict], days: int) -> date:
    if extensions:
        return date.fromisoformat(extensions[-1]["new_deadline"])
    return received_on + timedelta(days=days)
