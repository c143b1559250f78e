"""The one output layer: every record, conflict value and history entry leaves the server through here.

Pull, push answers (duplicates included), conflicts (list, get, answers), history, the list API and exports
call :func:`present_record`, :func:`present_value` or :func:`present_conflict_fields`, so ID and phone numbers
— found by field type wherever they sit (``f.phone``, ``f.id_number``, top level or inside nested objects and
list items) — are masked the same way everywhere for a caller who may not see them, and every unmasked
delivery of personal data is noted for the audit trail. Masking is judged against the **record's** org unit.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
import sqlalchemy as sa

from cunzhi.core import jsonx
from cunzhi.core.clock import iso, today_shanghai
from cunzhi.core.config import get_settings
from cunzhi.core.db import on_reset_engine
from cunzhi.core.scope import Scope
from cunzhi.sync.fields import _identity, has_personal, mask
from cunzhi.sync.registry import EntitySpec


def _jsonable(value: Any) -> Any:
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value.isoformat()
    if hasattr(value, "hour") and hasattr(value, "tzinfo"):
        return iso(value)
    return value


def dump_value(spec: EntitySpec, name: str, value: Any) -> Any:
    """A stored value in its wire form (conflicts and history keep wire forms)."""
    if name == "deleted":
        return bool(value)
    ftype = spec.fields.get(name)
    return ftype.dump(value) if ftype is not None and value is not None else _jsonable(value)


def dump_values(spec: EntitySpec, values: Mapping[str, Any]) -> dict:
    """Many stored values in their wire forms: ``dump_value`` of each, from a per-entity table of each field's dump
    (a history row holds every field a create sent)."""
    table = spec.__dict__.get("_dump_table")
    if table is None:
        table = spec.__dict__["_dump_table"] = {
            name: None if ftype.dump is _identity else ftype.dump for name, ftype in spec.fields.items()}
    out = {}
    for name, value in values.items():
        if name in table and name != "deleted":
            dump = table[name]
            out[name] = value if value is None or dump is None else dump(value)
        else:
            out[name] = dump_value(spec, name, value)
    return out


def present_value(spec: EntitySpec | None, field_name: str, value: Any, org_code: str, viewer: Scope,
                  record_id: str | None = None) -> Any:
    """One field's wire value as this viewer may see it (conflicts, history); notes unmasked personal data."""
    if spec is None or field_name not in spec.personal_fields or value is None:
        return _jsonable(value)
    ftype = spec.fields[field_name]
    if viewer.sees_personal_data(org_code):
        if record_id and has_personal(ftype, value):
            viewer.unmasked_ids.add(record_id)
        return value
    return mask(ftype, value)


def present_conflict_fields(spec: EntitySpec | None, fields: list[dict], org_code: str, viewer: Scope,
                            record_id: str | None = None) -> list[dict]:
    """The one rendering of conflict values: push answers, duplicates, the conflict list and get."""
    return [{"field": f["field"],
             "client_value": present_value(spec, f["field"], f.get("client_value"), org_code, viewer, record_id),
             "server_value": present_value(spec, f["field"], f.get("server_value"), org_code, viewer, record_id)}
            for f in fields]


def mask_name(name: str) -> str:
    """A person's name as a masked viewer sees it: the surname, then one * per other character (张** )."""
    name = (name or "").strip()
    return name[:1] + "*" * (len(name) - 1) if name else name


def present_person_name(name: str, org_code: str, viewer: Scope, record_id: str | None = None) -> str:
    """A person's name in a dashboard list or export: in full only for roles that see the record's personal
    data (product.md: dashboards show names only where the role allows); unmasked deliveries are audited."""
    if viewer.sees_personal_data(org_code):
        if name and record_id:
            viewer.unmasked_ids.add(record_id)
        return name
    return mask_name(name)


def _server_dump(col: sa.Column | None) -> Callable[[Any], Any]:
    """How a server field's stored value becomes its wire value, by its column's type."""
    if col is not None and isinstance(col.type, sa.DateTime):
        return iso
    if col is not None and isinstance(col.type, sa.Date):
        return date.isoformat
    if col is not None and isinstance(col.type, (sa.String, sa.Integer, sa.Boolean)):
        return _identity
    return _jsonable


def _plan(spec: EntitySpec) -> tuple[tuple[str, ...], tuple[tuple[str, Callable[[Any], Any]], ...]]:
    """Per entity, once: the wire and server fields copied as stored, and those that go through a dump."""
    plan = spec.__dict__.get("_present_plan")
    if plan is None:
        dumps = [(name, ftype.dump) for name, ftype in spec.fields.items() if name != "org_code"] + \
            [(name, _server_dump(spec.table.c.get(name))) for name in spec.server_fields]
        plan = spec.__dict__["_present_plan"] = (tuple(name for name, dump in dumps if dump is _identity),
                                                 tuple((name, dump) for name, dump in dumps if dump is not _identity))
    return plan


def present_record(spec: EntitySpec, row: Mapping[Any, Any], viewer: Scope, today: date | None = None) -> dict:
    """The record on the wire: common fields, wire fields, server fields, computed fields; masked."""
    out, shows_personal = _render(spec, row, _unmasked(spec, row, viewer), today or today_shanghai())
    if shows_personal:
        viewer.unmasked_ids.add(row["id"])
    return out


def _unmasked(spec: EntitySpec, row: Mapping[Any, Any], viewer: Scope) -> bool:
    """Whether this viewer sees the record's personal data in full (judged against the record's org)."""
    return viewer.sees_personal_data(row["org_code"]) if spec.personal_fields else False


def _render(spec: EntitySpec, row: Mapping[Any, Any], unmasked: bool, today: date) -> tuple[dict, bool]:
    """The record as a viewer sees it who may (``unmasked``) or may not see its personal data, and whether the
    answer then shows any. A function of the row, ``unmasked`` and ``today`` alone (the render cache's key)."""
    plain, dumped = _plan(spec)
    out: dict[str, Any] = {
        "id": row["id"],
        "org_code": row["org_code"],
        "rev": row["rev"],
        "deleted": bool(row["deleted"]),
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "created_by": row["created_by"],
        "updated_by": row["updated_by"],
    }
    get = row.get
    out.update(zip(plain, map(get, plain), strict=True))  # in C: most fields are stored as sent
    for name, dump in dumped:
        value = get(name)
        out[name] = None if value is None else dump(value)
    if spec.computed:
        out.update(spec.computed(row, today))
    shows_personal = False
    if spec.personal_fields:
        if unmasked:
            shows_personal = any(has_personal(spec.fields[n], out.get(n)) for n in spec.personal_fields)
        else:
            for name in spec.personal_fields:
                out[name] = mask(spec.fields[name], out.get(name))
    return out, shows_personal


class RenderCache:
    """Records already rendered to JSON, for the pages many devices read (a village's pull, a list's first page).

    Keyed by what the rendering is a function of: the record's version (entity, id, rev, ``updated_at`` — every
    write, erasure included, moves rev and updated_at), whether the viewer may see its personal data, and today
    (computed fields). A new version is a new key, so nothing is ever invalidated; old ones age out (least recently
    used first) within ``CUNZHI_RENDER_CACHE_MB``. Each entry keeps whether it shows personal data, so a hit is
    audited exactly like a fresh rendering."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple, tuple[orjson.Fragment, bool, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> tuple[orjson.Fragment, bool, int] | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def put(self, key: tuple, value: tuple[orjson.Fragment, bool, int], limit: int) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = value
            self._bytes += value[2]
            while self._bytes > limit and self._items:
                _, (_, _, size) = self._items.popitem(last=False)
                self._bytes -= size

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)


render_cache = RenderCache()
on_reset_engine(render_cache.clear)  # another database (tests, the CLI): other records under the same ids
_KEY_OVERHEAD = 450  # bytes an entry costs beyond its JSON (key tuple, datetime, fragment, list node): measured


def present_records(spec: EntitySpec, rows: Sequence[Mapping[Any, Any]], viewer: Scope,
                    today: date | None = None) -> list[Any]:
    """:func:`present_record` of many rows, as JSON fragments the answer embeds as they are (orjson.Fragment),
    through the render cache: a record another device of its village already pulled is not rendered again."""
    limit = get_settings().render_cache_mb * 1024 * 1024
    today = today or today_shanghai()
    if limit <= 0:
        return [present_record(spec, r, viewer, today) for r in rows]
    out: list[Any] = []
    for row in rows:
        unmasked = _unmasked(spec, row, viewer)
        key = (spec.name, row["id"], row["rev"], row["updated_at"], unmasked, today)
        hit = render_cache.get(key)
        if hit is None:
            rendered, shows_personal = _render(spec, row, unmasked, today)
            # its fallback (an integer beyond 64 bits) stays per record; copied to its own size, as orjson's bytes
            # keep the 16 KB buffer they were written in (a village of 10,000 cached cases: 89 MB, not 14)
            data = bytes(memoryview(jsonx.dumpb(rendered)))
            hit = (orjson.Fragment(data), shows_personal, len(data) + _KEY_OVERHEAD)
            render_cache.put(key, hit, limit)
        if hit[1]:
            viewer.unmasked_ids.add(row["id"])
        out.append(hit[0])
    return out
