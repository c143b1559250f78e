"""Code tables and county settings: what a device needs to work offline, with a version."""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cunzhi.reference.defaults import CODE_TABLES, FIXED_TABLES, SETTINGS
from cunzhi.reference.models import CodeEntry, CountySetting

code_t = CodeEntry.__table__
setting_t = CountySetting.__table__


def seed_defaults(conn: Connection) -> None:
    """Insert the default code tables and settings where missing (idempotent)."""
    have = {(r.table_name, r.code) for r in conn.execute(
        sa.select(code_t.c.table_name, code_t.c.code).where(code_t.c.county_code == ""))}
    rows = [{"table_name": t, "county_code": "", "code": c, "name_zh": zh, "name_en": en, "sort": i, "active": True}
            for t, entries in CODE_TABLES.items() for i, (c, zh, en) in enumerate(entries) if (t, c) not in have]
    if rows:
        conn.execute(code_t.insert(), rows)
    have_settings = set(conn.execute(sa.select(setting_t.c.key).where(setting_t.c.county_code == "")).scalars())
    srows = [{"county_code": "", "key": k, "value": v} for k, v in SETTINGS.items() if k not in have_settings]
    if srows:
        conn.execute(setting_t.insert(), srows)


def code_tables(conn: Connection, county: str) -> dict[str, list[dict]]:
    """Active codes per table for a county: its own entries where it has any, else the defaults."""
    rows = conn.execute(sa.select(code_t).where(code_t.c.county_code.in_(["", county]))
                        .order_by(code_t.c.sort, code_t.c.code)).mappings().all()
    tables: dict[str, dict[str, list[dict]]] = {}
    for r in rows:
        tables.setdefault(r["table_name"], {}).setdefault(r["county_code"], []).append(dict(r))
    out: dict[str, list[dict]] = {}
    for name, by_county in tables.items():
        chosen = by_county.get(county) or by_county.get("", [])
        out[name] = [{"code": r["code"], "name_zh": r["name_zh"], "name_en": r["name_en"]}
                     | ({"points": r["points"]} if r.get("points") is not None else {})
                     for r in chosen if r["active"]]
    for name, entries in FIXED_TABLES.items():
        out[name] = [{"code": c, "name_zh": zh, "name_en": en} for c, zh, en in entries]
    return out


def county_settings(conn: Connection, county: str) -> dict:
    """Settings (ints) and the set of valid codes per table for one county."""
    rows = conn.execute(sa.select(setting_t).where(setting_t.c.county_code.in_(["", county]))).mappings().all()
    values: dict[str, str] = dict(SETTINGS)
    for r in sorted(rows, key=lambda r: r["county_code"]):  # '' first, the county's own last (wins)
        values[r["key"]] = r["value"]
    out: dict = {k: int(v) if v.isdigit() else v for k, v in values.items()}
    out["codes"] = {name: {e["code"] for e in entries} for name, entries in code_tables(conn, county).items()}
    return out


def version_of(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()[:16]
