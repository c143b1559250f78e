"""Personal data on write, found by field type (top level and nested): a masked value (``*``) is accepted only as
the mask of the stored one (which then stays); a writer who sees the record masked may not change a personal
value at all, to empty included (issue 6, defect 3)."""

from __future__ import annotations

from typing import Any

from cunzhi.core.errors import FieldError
from cunzhi.core.scope import Scope
from cunzhi.sync.fields import MASKERS, PERSONAL_KINDS, FieldType, is_masked
from cunzhi.sync.registry import EntitySpec


def guard_personal(spec: EntitySpec, actor: Scope, row: dict | None, parsed: dict) -> list[FieldError]:
    """Replace masked echoes in ``parsed`` by the stored values; the errors for what may not be written."""
    if not spec.personal_fields:
        return []
    masked_writer = row is not None and not actor.sees_personal_data(row["org_code"])
    errors: list[FieldError] = []
    for name in spec.personal_fields:
        if name in parsed:
            if row is None and not _has_mask(spec.fields[name], parsed[name]):
                continue  # a create without a mask in it: nothing to guard (the common case, kept cheap)
            parsed[name] = _guard(spec.fields[name], parsed[name], (row or {}).get(name), name, masked_writer, errors)
    return errors


def _has_mask(ftype: FieldType, value: Any) -> bool:
    if ftype.kind in PERSONAL_KINDS:
        return is_masked(value)
    if not ftype.item or value is None:
        return False
    items = [value] if ftype.kind == "obj" else value
    keys = [(k, t) for k, t in ftype.item.items() if t.personal]
    return any(isinstance(x, dict) and _has_mask(t, x.get(k)) for x in items for k, t in keys)


def _guard(ftype: FieldType, new: Any, old: Any, path: str, masked_writer: bool, errors: list[FieldError]) -> Any:
    """``new`` with masked echoes replaced by the stored values; errors for what may not be written."""
    if ftype.kind in PERSONAL_KINDS:
        if new == old:
            return new
        if is_masked(new):
            if old and new == MASKERS[ftype.kind](old):
                return old
            errors.append(FieldError(path, f"invalid_{ftype.kind}"))
            return new
        if masked_writer:
            errors.append(FieldError(path, "masked_field_readonly"))
        return new
    if not ftype.item or new is None:
        return new
    if ftype.kind == "obj":
        return _guard_obj(ftype.item, new, old if isinstance(old, dict) else {}, path, masked_writer, errors)
    olds = old if isinstance(old, list) else []
    return [_guard_obj(ftype.item, x, olds[i] if i < len(olds) and isinstance(olds[i], dict) else {},
                       f"{path}.{i}", masked_writer, errors) for i, x in enumerate(new)]


def _guard_obj(item: dict[str, FieldType], new: Any, old: dict, path: str, masked_writer: bool,
               errors: list[FieldError]) -> Any:
    if not isinstance(new, dict):
        return new
    out = dict(new)
    for k, t in item.items():
        if t.personal and k in out:
            out[k] = _guard(t, out[k], old.get(k), f"{path}.{k}", masked_writer, errors)
    return out
