"""Nomination rules: states, who moves them, the notice period, and what blocks approval."""

from __future__ import annotations

from datetime import date, timedelta

CATEGORIES = ("helping_others", "bravery", "honesty", "dedication", "filial_piety", "best_family")
SOURCES = ("self", "villagers", "organisation")
STATES = ("nominated", "village_reviewed", "public_notice", "township_approved", "rejected", "awarded")
# (from, to) → the role that may make it ("system": only the server, e.g. an upheld objection)
TRANSITIONS: dict[tuple[str, str], str] = {
    ("nominated", "village_reviewed"): "village_admin",
    ("village_reviewed", "public_notice"): "village_admin",
    ("public_notice", "township_approved"): "township_admin",
    ("township_approved", "awarded"): "township_admin",
    ("nominated", "rejected"): "township_admin",
    ("village_reviewed", "rejected"): "township_admin",
    ("public_notice", "rejected"): "township_admin",
    ("township_approved", "rejected"): "township_admin",
}
DISQUALIFIERS = ("criminal_record", "vice", "cult")
OBJECTION_STATES = ("open", "upheld", "dismissed")
OBJECTION_TRANSITIONS = {("open", "upheld"), ("open", "dismissed")}
# who records and decides objections (villagers object in person or by phone; an admin records it)
OBJECTION_WRITERS = {"village_admin", "township_admin"}


def notice_period(today: date, days: int) -> tuple[date, date]:
    """Starts today, ends today + the county's notice days (7 by default)."""
    return today, today + timedelta(days=days)


def notice_over(ends_on: date | None, today: date) -> bool:
    """Approval only after the last day of the notice has passed."""
    return ends_on is not None and today > ends_on


def disqualified(disqualifiers: dict | None) -> bool:
    return any(bool((disqualifiers or {}).get(k)) for k in DISQUALIFIERS)


def disqualifiers_checked(disqualifiers: dict | None) -> bool:
    d = disqualifiers or {}
    return all(d.get(k) is not None for k in DISQUALIFIERS) and bool(d.get("checked_by")) and bool(d.get("checked_on"))
