"""道德银行 rules: points from the county's rule table, bounds, reversals."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cunzhi.reference.defaults import POINTS_RULE_POINTS
from cunzhi.reference.models import CodeEntry

MIN_POINTS, MAX_POINTS = -1000, 1000
NEGATIVE_ONLY = ("redeem",)  # 兑换: points spent, always negative
FIELD_WRITERS = ("mediator", "grid_worker")  # may add entries where the county allows (points_field_writers = 1)


def field_writers_allowed(settings: Mapping[str, Any]) -> bool:
    """Whether the county lets mediators and grid workers add points entries (setting points_field_writers)."""
    return str(settings.get("points_field_writers", 0)) == "1"

code_t = CodeEntry.__table__


def rule_points(conn: Connection, county: str, cache: dict) -> dict[str, int | None]:
    """The county's rules → default points (its own table where it has one, else the defaults)."""
    key = ("points_rules", county)
    if key not in cache:
        rows = conn.execute(sa.select(code_t.c.county_code, code_t.c.code, code_t.c.points, code_t.c.active).where(
            code_t.c.table_name == "points_rule", code_t.c.county_code.in_(["", county]))).all()
        own = [r for r in rows if r.county_code == county]
        chosen = own or [r for r in rows if r.county_code == ""]
        cache[key] = {r.code: r.points for r in chosen if r.active} if chosen else dict(POINTS_RULE_POINTS)
    return cache[key]
