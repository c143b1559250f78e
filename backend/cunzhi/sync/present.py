"""The one output layer: every record, conflict value and history entry leaves the server through here.

Pull, push answers, conflicts, history, the list API and exports call :func:`present_record` or
:func:`present_value`, so ID and phone numbers are masked the same way everywhere for a caller who may
not see them, and every unmasked delivery of personal data is noted for the audit trail.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from cunzhi.core.clock import iso, today_shanghai
from cunzhi.core.scope import Scope
from cunzhi.sync.fields import mask_id_number, mask_phone
from cunzhi.sync.registry import EntitySpec

_MASKERS = {"id_number": mask_id_number, "phone": mask_phone}


def _mask_items(items: Any, keys: tuple[str, ...]) -> Any:
    if not isinstance(items, list):
        return items
    out = []
    for item in items:
        if isinstance(item, dict):
            item = dict(item)
            for k in keys:
                if item.get(k):
                    item[k] = _MASKERS.get(k, lambda v: "****")(item[k])
        out.append(item)
    return out


def _has_personal(spec: EntitySpec, row: dict) -> bool:
    for list_field, keys in spec.personal.items():
        for item in row.get(list_field) or []:
            if isinstance(item, dict) and any(item.get(k) for k in keys):
                return True
    return False


def present_value(spec: EntitySpec, field_name: str, value: Any, org_code: str, viewer: Scope) -> Any:
    """One field's value as this viewer may see it (for conflicts and history)."""
    keys = spec.personal.get(field_name)
    if keys and value:
        if viewer.sees_personal_data(org_code):
            return value
        return _mask_items(value, keys)
    return _jsonable(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value.isoformat()
    if hasattr(value, "hour") and hasattr(value, "tzinfo"):
        return iso(value)
    return value


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


def present_record(spec: EntitySpec, row: dict, viewer: Scope, today: date | None = None) -> dict:
    """The record on the wire: common fields, wire fields, server fields, computed fields; masked."""
    org_code = row["org_code"]
    out: dict[str, Any] = {
        "id": row["id"],
        "org_code": org_code,
        "rev": row["rev"],
        "deleted": bool(row["deleted"]),
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "created_by": row["created_by"],
        "updated_by": row["updated_by"],
    }
    for name, ftype in spec.fields.items():
        if name == "org_code":
            continue
        value = row.get(name)
        out[name] = ftype.dump(value) if value is not None else None
    for name in spec.server_fields:
        out[name] = _jsonable(row.get(name))
    if spec.computed:
        out.update(spec.computed(row, today or today_shanghai()))
    if spec.personal:
        if viewer.sees_personal_data(org_code):
            if _has_personal(spec, row):
                viewer.unmasked_ids.add(row["id"])
        else:
            for list_field, keys in spec.personal.items():
                out[list_field] = _mask_items(out.get(list_field), keys)
    return out

