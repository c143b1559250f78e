"""A county admin's changes to the county's settings and code tables (/counties/{county}/…).

Codes are never deleted and a code's ``code`` never changes: records keep pointing at it. A deactivated code keeps
its labels (``/reference`` lists it under ``inactive_codes``) but is no longer offered, and the push refuses it as
a new value. The first change of a table for a county copies the defaults into the county's own rows, which then
replace the defaults for that table (``service._tables``). Every change is one ``audit_entry`` row
(``county_config.*``: who, when, before and after). The push reads the rows on every push (decision 70), so a
change counts from the next push in every process; ``/reference`` and the pull's ``settings_version`` change with
the rows, so phones refetch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cunzhi.core.errors import AppError, FieldError
from cunzhi.reference.defaults import FIXED_TABLES
from cunzhi.reference.service import code_t, setting_t, settings_version
from cunzhi.users.models import AuditEntry, User
from cunzhi.users.service import audit_event

audit_t = AuditEntry.__table__
user_t = User.__table__

ACTION_PREFIX = "county_config."
CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
NAME_MAX = 100


@dataclass(frozen=True)
class SettingRule:
    kind: str  # "int" or "bool" (stored "0"/"1")
    min: int = 0
    max: int = 1


# What a county may set, with sane ranges. A key missing here is not editable (404).
SETTING_RULES: dict[str, SettingRule] = {
    "deadline_days": SettingRule("int", 1, 365),             # a case's deadline: received + these days
    "deadline_warn_days": SettingRule("int", 0, 60),         # yellow when due within these days
    "notice_days": SettingRule("int", 1, 60),                # a nomination's public notice (公示)
    "points_field_writers": SettingRule("bool"),             # mediators and grid workers may add points
    "incident_deadline_days_major": SettingRule("int", 1, 365),
    "incident_deadline_days_serious": SettingRule("int", 1, 365),
    "incident_deadline_days_general": SettingRule("int", 1, 365),
    "incident_deadline_warn_days": SettingRule("int", 0, 60),
}
# tables whose codes carry default points (code_entry.points; None = entered by hand)
POINTS_TABLES = {"points_rule"}
POINTS_MIN, POINTS_MAX = -1000, 1000


# ---- reading --------------------------------------------------------------------------------------------------

def editable_tables(conn: Connection) -> list[str]:
    """The code tables a county may change: every table with default rows, but those fixed by the protocol."""
    names = conn.execute(sa.select(code_t.c.table_name).where(code_t.c.county_code == "").distinct()).scalars()
    return sorted(n for n in names if n not in FIXED_TABLES)


def _table_rows(conn: Connection, table: str, county: str) -> tuple[bool, list[dict]]:
    """(whether the county has its own rows, the rows in effect in order) — inactive ones included."""
    rows = conn.execute(sa.select(code_t).where(code_t.c.table_name == table,
                                                code_t.c.county_code.in_(["", county]))
                        .order_by(code_t.c.sort, code_t.c.code)).mappings().all()
    own = [dict(r) for r in rows if r["county_code"] == county]
    return bool(own), own or [dict(r) for r in rows if r["county_code"] == ""]


def _entry_out(r: dict, table: str) -> dict:
    out = {"code": r["code"], "name_zh": r["name_zh"], "name_en": r["name_en"], "active": bool(r["active"])}
    if table in POINTS_TABLES:
        out["points"] = r["points"]
    return out


def table_view(conn: Connection, table: str, county: str) -> dict:
    own, rows = _table_rows(conn, table, county)
    return {"table": table, "own": own, "has_points": table in POINTS_TABLES,
            "entries": [_entry_out(r, table) for r in rows]}


def _setting_values(conn: Connection, county: str) -> dict[str, tuple[str, bool]]:
    """key → (value, whether the county set it itself)."""
    rows = conn.execute(sa.select(setting_t.c.county_code, setting_t.c.key, setting_t.c.value)
                        .where(setting_t.c.county_code.in_(["", county]))).all()
    out: dict[str, tuple[str, bool]] = {}
    for r in sorted(rows, key=lambda r: r.county_code):  # '' first, the county's own wins
        out[r.key] = (r.value, r.county_code == county)
    return out


def _typed(rule: SettingRule, raw: str) -> int | bool:
    if rule.kind == "bool":
        return raw == "1"
    try:
        return int(raw)
    except ValueError:
        return rule.min


def settings_view(conn: Connection, county: str) -> list[dict]:
    values = _setting_values(conn, county)
    out = []
    for key, rule in SETTING_RULES.items():
        raw, own = values.get(key, ("0" if rule.kind == "bool" else str(rule.min), False))
        item: dict[str, Any] = {"key": key, "kind": rule.kind, "value": _typed(rule, raw), "own": own}
        if rule.kind == "int":
            item |= {"min": rule.min, "max": rule.max}
        out.append(item)
    return out


def county_view(conn: Connection, county: str) -> dict:
    return {"county_code": county, "settings_version": settings_version(conn, county),
            "settings": settings_view(conn, county),
            "code_tables": [table_view(conn, t, county) for t in editable_tables(conn)],
            "fixed_tables": sorted(FIXED_TABLES)}


def history(conn: Connection, county: str, limit: int = 100) -> list[dict]:
    """The county's changes, newest first (the audit rows of its county admins)."""
    admins = {r.id: r.display_name for r in conn.execute(
        sa.select(user_t.c.id, user_t.c.display_name).where(user_t.c.org_code == county,
                                                            user_t.c.role == "county_admin"))}
    rows = conn.execute(sa.select(audit_t).where(audit_t.c.user_id.in_(list(admins)),
                                                 audit_t.c.action.like(ACTION_PREFIX + "%"))
                        .order_by(audit_t.c.id.desc()).limit(limit * 4)).mappings().all()
    out = []
    for r in rows:
        detail = r["detail"] or {}
        if detail.get("county") != county:
            continue
        out.append({"at": r["at"], "user_id": r["user_id"],
                    "display_name": admins.get(r["user_id"], ""),
                    "action": r["action"][len(ACTION_PREFIX):],
                    **{k: detail.get(k) for k in ("table", "code", "key", "before", "after")}})
        if len(out) >= limit:
            break
    return out


# ---- changing -------------------------------------------------------------------------------------------------

def _invalid(field: str, code: str) -> AppError:
    return AppError(422, "validation_error", [FieldError(field, code)])


def _audit(conn: Connection, by: str, action: str, county: str, **detail: Any) -> None:
    audit_event(conn, by, ACTION_PREFIX + action, [county], {"county": county, **detail})


def set_setting(conn: Connection, county: str, key: str, value: Any, by: str) -> dict:
    rule = SETTING_RULES.get(key)
    if rule is None:
        raise AppError(404, "not_found")
    if rule.kind == "bool":
        if isinstance(value, bool):
            stored = "1" if value else "0"
        elif type(value) is int and value in (0, 1):
            stored = str(value)
        else:
            raise _invalid("value", "invalid_type")
    else:
        if type(value) is not int:
            raise _invalid("value", "invalid_type")
        if not rule.min <= value <= rule.max:
            raise _invalid("value", "out_of_range")
        stored = str(value)
    before = _setting_values(conn, county).get(key)
    if before is not None and before[0] == stored and before[1]:
        return next(s for s in settings_view(conn, county) if s["key"] == key)
    if before is not None and before[1]:
        conn.execute(setting_t.update().where(setting_t.c.county_code == county, setting_t.c.key == key)
                     .values(value=stored))
    else:
        conn.execute(setting_t.insert().values(county_code=county, key=key, value=stored))
    _audit(conn, by, "setting", county, key=key, before=before[0] if before else None, after=stored)
    return next(s for s in settings_view(conn, county) if s["key"] == key)


def _editable(conn: Connection, table: str) -> None:
    if table in FIXED_TABLES:
        raise AppError(403, "table_fixed")
    if table not in editable_tables(conn):
        raise AppError(404, "not_found")


def _own_rows(conn: Connection, table: str, county: str) -> list[dict]:
    """The county's own rows of the table, copying the defaults first if it has none (the first change)."""
    own, rows = _table_rows(conn, table, county)
    if not own:
        copies = [{k: r[k] for k in ("table_name", "code", "name_zh", "name_en", "sort", "active", "points")}
                  | {"county_code": county} for r in rows]
        if copies:
            conn.execute(code_t.insert(), copies)
        rows = copies
    return rows


def _clean_name(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise _invalid(field, "invalid_type")
    value = value.strip()
    if not value:
        raise _invalid(field, "required")
    if len(value) > NAME_MAX:
        raise _invalid(field, "too_long")
    return value


def _clean_points(value: Any) -> int | None:
    if value is None:
        return None
    if type(value) is not int:
        raise _invalid("points", "invalid_type")
    if not POINTS_MIN <= value <= POINTS_MAX:
        raise _invalid("points", "out_of_range")
    if value == 0:
        raise _invalid("points", "points_zero")
    return value


def _row(rows: list[dict], code: str) -> dict:
    for r in rows:
        if r["code"] == code:
            return r
    raise AppError(404, "not_found")


def _update(conn: Connection, table: str, county: str, code: str, **values: Any) -> None:
    conn.execute(code_t.update().where(code_t.c.table_name == table, code_t.c.county_code == county,
                                       code_t.c.code == code).values(**values))


def add_code(conn: Connection, county: str, table: str, body: dict, by: str) -> dict:
    _editable(conn, table)
    code = body.get("code")
    if not isinstance(code, str) or not CODE_RE.fullmatch(code):
        raise _invalid("code", "invalid_code")
    name_zh, name_en = _clean_name(body.get("name_zh"), "name_zh"), _clean_name(body.get("name_en"), "name_en")
    if body.get("points") is not None and table not in POINTS_TABLES:
        raise _invalid("points", "table_has_no_points")
    points = _clean_points(body.get("points")) if table in POINTS_TABLES else None
    rows = _own_rows(conn, table, county)
    if any(r["code"] == code for r in rows):
        raise _invalid("code", "code_exists")
    conn.execute(code_t.insert().values(table_name=table, county_code=county, code=code, name_zh=name_zh,
                                        name_en=name_en, sort=max((r["sort"] for r in rows), default=-1) + 1,
                                        active=True, points=points))
    _audit(conn, by, "code_added", county, table=table, code=code,
           after={"name_zh": name_zh, "name_en": name_en} | ({"points": points} if table in POINTS_TABLES else {}))
    return table_view(conn, table, county)


def change_code(conn: Connection, county: str, table: str, code: str, body: dict, by: str) -> dict:
    """Rename (name_zh, name_en), deactivate or reactivate (active), or set the default points of one code."""
    _editable(conn, table)
    _own, effective = _table_rows(conn, table, county)
    _row(effective, code)  # 404 before copying anything
    values: dict[str, Any] = {}
    for f in ("name_zh", "name_en"):
        if f in body:
            values[f] = _clean_name(body[f], f)
    if "active" in body:
        if not isinstance(body["active"], bool):
            raise _invalid("active", "invalid_type")
        values["active"] = body["active"]
    if "points" in body:
        if table not in POINTS_TABLES:
            raise _invalid("points", "table_has_no_points")
        values["points"] = _clean_points(body["points"])
    unknown = sorted(set(body) - {"name_zh", "name_en", "active", "points"})
    if unknown:
        raise AppError(422, "validation_error", [FieldError(f, "unknown_field") for f in unknown[:5]])
    rows = _own_rows(conn, table, county)
    row = _row(rows, code)
    if values.get("active") is False and row["active"] and sum(1 for r in rows if r["active"]) <= 1:
        raise _invalid("active", "last_active_code")
    changed = {k: v for k, v in values.items() if v != row[k]}
    if not changed:
        return table_view(conn, table, county)
    _update(conn, table, county, code, **changed)
    action = ("code_deactivated" if changed.get("active") is False else "code_activated") \
        if set(changed) == {"active"} else "code_changed"
    _audit(conn, by, action, county, table=table, code=code, before={k: row[k] for k in changed}, after=changed)
    return table_view(conn, table, county)


def reorder(conn: Connection, county: str, table: str, codes: Any, by: str) -> dict:
    """Put the table's codes in this order: every code of the county's table once (inactive ones too)."""
    _editable(conn, table)
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        raise _invalid("codes", "invalid_type")
    _own, effective = _table_rows(conn, table, county)
    if sorted(codes) != sorted(r["code"] for r in effective):
        raise _invalid("codes", "code_order_mismatch")
    before = [r["code"] for r in effective]
    if before == codes:
        return table_view(conn, table, county)
    rows = _own_rows(conn, table, county)
    by_code = {r["code"]: r for r in rows}
    for i, c in enumerate(codes):
        if by_code[c]["sort"] != i:
            _update(conn, table, county, c, sort=i)
    _audit(conn, by, "codes_reordered", county, table=table, before=before, after=list(codes))
    return table_view(conn, table, county)
