"""六无村创建 rules: the report's states, who moves them, and how incidents break or mend indicators.

An indicator ``no_<type>`` is broken by any incident of six-no type ``<type>`` in the report's village whose
``occurred_at`` falls in the report's year (Asia/Shanghai) and that is not cancelled (nor deleted). The
server recomputes ``status`` and ``incident_ids`` of every indicator on every write of the report and,
through the derivation registered on ``incident``, on every change of an incident that could matter.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cunzhi.core.clock import SHANGHAI

SIX_NO_TYPES = ("criminal_case", "mass_incident", "cult", "drugs", "pyramid_selling", "major_safety_accident")
DEFAULT_INDICATORS = tuple(f"no_{t}" for t in SIX_NO_TYPES)
STATES = ("open", "self_assessed", "township_certified", "rejected", "reopened")
# (from, to) → the role that may make it ("system": the server only)
TRANSITIONS: dict[tuple[str, str], str] = {
    ("open", "self_assessed"): "village_admin",
    ("rejected", "self_assessed"): "village_admin",
    ("reopened", "self_assessed"): "village_admin",
    ("self_assessed", "township_certified"): "township_admin",
    ("reopened", "township_certified"): "township_admin",
    ("self_assessed", "rejected"): "township_admin",
    ("reopened", "rejected"): "township_admin",
    ("township_certified", "reopened"): "system",
}
VILLAGE_FIELDS = {"indicators", "self_assessment"}
# the village's content is what the township reviews (self_assessed) or has certified (township_certified): it
# is fixed in these states; the village edits again only after a rejection or a re-opening by an incident
LOCKED_STATES = ("self_assessed", "township_certified")
TOWNSHIP_FIELDS = {"decision_note"}
KEY_PREFIX = "six_no_report"


def natural_key(row: dict) -> str:
    return f"{KEY_PREFIX}/{row.get('org_code')}/{row.get('year')}"


def report_id(village: str, year: int) -> str:
    from cunzhi.sync.registry import NATURAL_KEY_NS

    return str(uuid.uuid5(NATURAL_KEY_NS, f"{KEY_PREFIX}/{village}/{year}"))


def incident_type_of(indicator: str) -> str | None:
    t = indicator[3:] if indicator.startswith("no_") else None
    return t if t in SIX_NO_TYPES else None


def year_of(at: datetime) -> int:
    return at.astimezone(SHANGHAI).year


def year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=SHANGHAI), datetime(year + 1, 1, 1, tzinfo=SHANGHAI)


def breaking_incidents(conn: Connection, village: str, year: int) -> dict[str, list[str]]:
    """Six-no type → ids of the incidents that break it (oldest first), for one village and year."""
    from cunzhi.sync.registry import get_entity

    spec = get_entity("incident")
    if spec is None:  # the grid domain is not loaded: nothing can break an indicator
        return {}
    t = spec.table
    start, end = year_bounds(year)
    rows = conn.execute(sa.select(t.c.type, t.c.id).where(
        t.c.org_code == village, t.c.type.in_(SIX_NO_TYPES), t.c.state != "cancelled", t.c.deleted.is_(False),
        t.c.occurred_at >= start, t.c.occurred_at < end).order_by(t.c.occurred_at, t.c.id)).all()
    out: dict[str, list[str]] = {}
    for typ, rid in rows:
        out.setdefault(typ, []).append(rid)
    return out


def derived_indicators(indicators: list[dict] | None, codes: list[str], breaking: dict[str, list[str]]) -> list[dict]:
    """One item per county indicator, in the county's order: the village's evidence kept, status derived."""
    by_code = {i.get("code"): i for i in indicators or [] if isinstance(i, dict)}
    out = []
    for code in codes:
        item = by_code.get(code) or {}
        ids = breaking.get(incident_type_of(code) or "", [])
        out.append({"code": code, "status": "broken" if ids else "ok", "incident_ids": list(ids),
                    "evidence": item.get("evidence"), "attachment_ids": list(item.get("attachment_ids") or [])})
    return out


def has_broken(indicators: list[dict] | None) -> bool:
    return any(i.get("status") == "broken" for i in indicators or [])


def indicator_codes(settings: Mapping[str, Any]) -> list[str]:
    """The county's indicator list (its code table), in order; the defaults when the table is empty."""
    codes = settings.get("indicator_order")
    if codes:
        return list(codes)
    have = settings.get("codes", {}).get("six_no_indicator") or set()
    return [c for c in DEFAULT_INDICATORS if c in have] + sorted(c for c in have if c not in DEFAULT_INDICATORS) \
        if have else list(DEFAULT_INDICATORS)
