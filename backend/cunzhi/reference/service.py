"""Code tables and county settings: what a device needs to work offline, with a version."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

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


# read for every push: built once, run with {"county": …} (the defaults' rows have county_code '')
_CODE_ROWS = (sa.select(code_t.c.table_name, code_t.c.county_code, code_t.c.code, code_t.c.name_zh, code_t.c.name_en,
                        code_t.c.points, code_t.c.active)
              .where(code_t.c.county_code.in_([sa.literal(""), sa.bindparam("county")]))
              .order_by(code_t.c.sort, code_t.c.code))
_SETTING_ROWS = (sa.select(setting_t.c.county_code, setting_t.c.key, setting_t.c.value)
                 .where(setting_t.c.county_code.in_([sa.literal(""), sa.bindparam("county")])))


def _code_rows(conn: Connection, county: str) -> tuple[tuple, ...]:
    return _plain(conn.execute(_CODE_ROWS, {"county": county}))


def _plain(result: sa.CursorResult) -> tuple[tuple, ...]:
    """Rows as plain tuples: hashed and compared in C (a Row compares in Python)."""
    return tuple(map(tuple, result))


def _tables(rows: tuple[tuple, ...], county: str) -> dict[str, list[dict]]:
    tables: dict[str, dict[str, list[tuple]]] = {}
    for r in rows:
        tables.setdefault(r[0], {}).setdefault(r[1], []).append(r)
    out: dict[str, list[dict]] = {}
    for name, by_county in tables.items():
        chosen = by_county.get(county) or by_county.get("", [])
        out[name] = [{"code": code, "name_zh": zh, "name_en": en} | ({"points": points} if points is not None else {})
                     for _, _, code, zh, en, points, active in chosen if active]
    for name, entries in FIXED_TABLES.items():
        out[name] = [{"code": c, "name_zh": zh, "name_en": en} for c, zh, en in entries]
    return out


def code_tables(conn: Connection, county: str) -> dict[str, list[dict]]:
    """Active codes per table for a county: its own entries where it has any, else the defaults."""
    return _tables(_code_rows(conn, county), county)


def inactive_codes(conn: Connection, county: str) -> dict[str, list[dict]]:
    """Deactivated codes per table (labels for old records; never offered for new ones)."""
    return _inactive(_code_rows(conn, county), county)


def _inactive(rows: tuple[tuple, ...], county: str) -> dict[str, list[dict]]:
    tables: dict[str, dict[str, list[tuple]]] = {}
    for r in rows:
        tables.setdefault(r[0], {}).setdefault(r[1], []).append(r)
    out: dict[str, list[dict]] = {}
    for name, by_county in tables.items():
        chosen = by_county.get(county) or by_county.get("", [])
        gone = [{"code": code, "name_zh": zh, "name_en": en} for _, _, code, zh, en, _, active in chosen if not active]
        if gone:
            out[name] = gone
    return out


def code_labels(conn: Connection, county: str) -> dict[str, list[dict]]:
    """Every code per table with its labels, deactivated ones included (after the active ones)."""
    rows = _code_rows(conn, county)  # read once for both halves
    out = _tables(rows, county)
    for name, entries in _inactive(rows, county).items():
        out[name] = out.get(name, []) + entries
    return out


_version_cache: dict[tuple, str] = {}


def settings_version(conn: Connection, county: str) -> str:
    """A short hash of the county's settings and code tables (its own rows and the defaults): it changes with
    any edit of them. The pull carries it, so a phone refetches /reference when it differs from its copy's."""
    key = (county, _plain(conn.execute(_SETTING_ROWS, {"county": county})), _code_rows(conn, county))
    hit = _version_cache.get(key)
    if hit is None:
        if len(_version_cache) > 64:
            _version_cache.clear()
        hit = _version_cache[key] = version_of({"s": key[1], "c": key[2]})
    return hit


_settings_cache: dict[tuple, Mapping[str, Any]] = {}


def county_settings(conn: Connection, county: str) -> Mapping[str, Any]:
    """Settings (ints) and the set of valid codes per table for one county (read-only).

    Read for every push. The rows are read each time (an edit takes effect at once, in every worker process),
    but what is derived from them is kept per process, keyed by the rows themselves: building it cost a push of
    10 mutations more than the reading (1.4 of 1.8 ms)."""
    srows = _plain(conn.execute(_SETTING_ROWS, {"county": county}))
    crows = _code_rows(conn, county)
    key = (county, srows, crows)
    hit = _settings_cache.get(key)
    if hit is not None:
        return hit
    values: dict[str, str] = dict(SETTINGS)
    for _, k, v in sorted(srows, key=lambda r: r[0]):  # '' first, the county's own last (wins)
        values[k] = v
    out: dict[str, Any] = {k: int(v) if v.isdigit() else v for k, v in values.items()}
    out["codes"] = MappingProxyType({name: frozenset(e["code"] for e in entries)
                                     for name, entries in _tables(crows, county).items()})
    if len(_settings_cache) > 64:  # counties × edits: a handful; never unbounded
        _settings_cache.clear()
    hit = _settings_cache[key] = MappingProxyType(out)
    return hit


def version_of(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()[:16]
