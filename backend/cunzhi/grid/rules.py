"""Grid-work rules: the patrol and incident state machines, who may move an incident, deadlines and colours,
the shape of nested values (route points, checklist items, a location) and what is computed on read."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from collections.abc import Mapping
from typing import Any

from cunzhi.core.clock import SHANGHAI
from cunzhi.sync import fields as f
from cunzhi.sync.fields import FieldType, Invalid

# ---- patrol ----------------------------------------------------------------------------------------
PATROL_STATES = ("in_progress", "completed", "cancelled")
PATROL_INITIAL = ("in_progress", "completed")  # a patrol logged afterwards may arrive completed
PATROL_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "in_progress": ("completed", "cancelled"),
    "completed": (),
    "cancelled": (),
}
ROUTE_MAX_POINTS = 5000


def _number(lo: float, hi: float) -> FieldType:
    def parse(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise Invalid("invalid_type")
        if not lo <= v <= hi:
            raise Invalid("out_of_range")
        return float(v)

    return FieldType(parse)


LAT, LON = _number(-90, 90), _number(-180, 180)
# one point of a route, WGS-84 as the browser's geolocation gives it (maps in China draw GCJ-02: convert there)
ROUTE_POINT = {"lat": LAT, "lon": LON, "at": f.a_datetime(), "accuracy": _number(0, 100_000)}
_ROUTE_ITEMS = f.object_list(ROUTE_POINT, required_keys=("lat", "lon", "at"), max_items=ROUTE_MAX_POINTS)


def _parse_route(v: Any) -> list[dict]:
    if isinstance(v, list) and len(v) > ROUTE_MAX_POINTS:
        raise Invalid("too_many_points")  # say what is wrong: a phone must split or thin its route
    return _ROUTE_ITEMS.parse(v)


# the nested types stay visible to the engine (``item``/``kind``), only the point limit speaks for itself
ROUTE = FieldType(_parse_route, _ROUTE_ITEMS.dump, nullable=True, kind=_ROUTE_ITEMS.kind, item=_ROUTE_ITEMS.item)
PLACES = FieldType(lambda v: _text_list(v, 50, 200), lambda v: v or [])
CHECKLIST_ITEM = {"item": f.text(40), "ok": f.boolean(), "note": f.text(500)}
CHECKLIST = f.object_list(CHECKLIST_ITEM, required_keys=("item",), max_items=50)
LOCATION = f.obj({"lat": LAT, "lon": LON, "accuracy": _number(0, 100_000)}, required_keys=("lat", "lon"))


def _text_list(v: Any, max_items: int, max_len: int) -> list[str]:
    if not isinstance(v, list) or len(v) > max_items:
        raise Invalid("invalid_type")
    out = []
    for i, x in enumerate(v):
        try:
            out.append(f._text(max_len, 1)(x))
        except Invalid as e:
            raise Invalid(e.code, str(i)) from None
    return out


_EARTH_R = 6_371_008.8
_RAD = math.pi / 180


def route_distance_m(route: list[dict] | None) -> int:
    """Length of the route along its points in metres. Consecutive fixes are metres to a few hundred metres
    apart, so each step is measured on the local plane (equirectangular, the cosine taken once per route at
    its mean latitude): well under 0.1 % off the great circle for a village patrol, and cheap enough to compute
    on every read (a route of 5,000 points costs about a millisecond)."""
    pts = [(p["lat"], p["lon"]) for p in route or () if isinstance(p, dict) and "lat" in p and "lon" in p]
    if len(pts) < 2:
        return 0
    k = math.cos(sum(lat for lat, _ in pts) / len(pts) * _RAD)
    total = 0.0
    (lat0, lon0) = pts[0]
    for lat, lon in pts[1:]:
        total += math.hypot((lon - lon0) * k, lat - lat0)
        lat0, lon0 = lat, lon
    return int(round(total * _RAD * _EARTH_R))


def patrol_duration_s(started_at: datetime | None, ended_at: datetime | None) -> int | None:
    if started_at is None or ended_at is None:
        return None
    return max(0, int((_aware(ended_at) - _aware(started_at)).total_seconds()))


def _aware(dt: datetime) -> datetime:
    from datetime import timezone

    return dt if dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)


# ---- incident --------------------------------------------------------------------------------------
SEVERITIES = ("major", "serious", "general")
INCIDENT_STATES = ("reported", "assigned", "handling", "resolved", "verified", "cancelled")
INCIDENT_OPEN = ("reported", "assigned", "handling")
INCIDENT_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "reported": ("assigned", "handling", "cancelled"),
    "assigned": ("handling", "cancelled"),
    "handling": ("resolved", "cancelled"),
    "resolved": ("verified", "handling"),  # verified, or sent back to handling by an admin
    "verified": (),
    "cancelled": (),
}
NEEDS_ASSIGNEE = ("assigned", "handling", "resolved", "verified")
NEEDS_RESOLUTION = ("resolved", "verified")
ADMINS = ("village_admin", "township_admin")
SIX_NO_TYPES = ("criminal_case", "mass_incident", "cult", "drugs", "pyramid_selling", "major_safety_accident")
DEFAULT_DEADLINE_DAYS = {"major": 1, "serious": 3, "general": 7}


def incident_transition_actor(current: str, target: str) -> str:
    """Who may make a state change: ``admin`` (assign, verify, cancel, send back) or ``assignee``
    (start handling, resolve)."""
    if target in ("handling", "resolved") and not (current == "resolved" and target == "handling"):
        return "assignee"
    return "admin"


def deadline_days(settings: Mapping[str, Any], severity: str) -> int:
    return int(settings.get(f"incident_deadline_days_{severity}", DEFAULT_DEADLINE_DAYS.get(severity, 7)))


def incident_deadline(occurred_at: datetime, severity: str, settings: Mapping[str, Any]) -> date:
    """The date of occurred_at (Asia/Shanghai) + the severity's days (county settings, 1 / 3 / 7 by default)."""
    return _aware(occurred_at).astimezone(SHANGHAI).date() + timedelta(days=deadline_days(settings, severity))


def incident_color(state: str, deadline: date | None, resolved_on: date | None, today: date,
                   warn_days: int = 1) -> str:
    """Like a case's: grey when cancelled; open → red past the deadline, yellow due within ``warn_days``,
    else green; resolved/verified → green when resolved by the deadline, red when late."""
    if state == "cancelled":
        return "grey"
    if deadline is None:
        return "green"
    if state in INCIDENT_OPEN:
        left = (deadline - today).days
        if left < 0:
            return "red"
        return "yellow" if left <= warn_days else "green"
    return "green" if resolved_on is None or resolved_on <= deadline else "red"


# ---- household -------------------------------------------------------------------------------------
MEMBERS_MIN, MEMBERS_MAX = 1, 30


def _years(v: Any) -> list[int]:
    if not isinstance(v, list) or len(v) > 100:
        raise Invalid("invalid_type")
    out = set()
    for i, y in enumerate(v):
        if isinstance(y, bool) or not isinstance(y, int):
            raise Invalid("invalid_type", str(i))
        if not 2000 <= y <= 2999:
            raise Invalid("out_of_range", str(i))
        out.add(y)
    return sorted(out)


def _codes(v: Any) -> list[str]:
    if not isinstance(v, list) or len(v) > 20:
        raise Invalid("invalid_type")
    out: list[str] = []
    for i, c in enumerate(v):
        if not isinstance(c, str) or not 0 < len(c) <= 40 or "\x00" in c:
            raise Invalid("invalid_type", str(i))
        if c not in out:
            out.append(c)
    return out


YEARS = FieldType(_years, lambda v: v or [])
TAGS = FieldType(_codes, lambda v: v or [])
