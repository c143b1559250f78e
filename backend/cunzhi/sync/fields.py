"""Wire-field types: each turns a JSON value into the stored value, or names what is wrong with it.

Validation never echoes the value back (error details carry a field name and a code only).
"""

from __future__ import annotations

import copy
import operator
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any


class Invalid(Exception):
    def __init__(self, code: str, field: str | None = None):
        super().__init__(code)
        self.code = code
        self.field = field


def _identity(v: Any) -> Any:
    return v


@dataclass(frozen=True)
class FieldType:
    """``parse`` wire → stored value (raises Invalid); ``dump`` stored → wire value.

    ``kind`` names the types the engine looks for by type wherever they sit (top level, or a key of a nested
    object or list item): ``phone`` and ``id_number`` (personal data: masked in every output, guarded on
    write), ``attachment_ids`` (kept by the attachment purge); ``object_list`` and ``obj`` carry ``item``, the
    types of their keys, which the engine walks.
    """

    parse: Callable[[Any], Any]
    dump: Callable[[Any], Any] = _identity
    nullable: bool = True
    kind: str | None = None
    item: dict[str, FieldType] | None = None
    default: Any = None  # the value of a nested key that is absent (or null)
    # object lists whose items have an identity (``key``) merge item by item when two creates of one natural key
    # meet (sync-protocol.md, "Derived ids"); ``server_keys`` of an item are the server's, never the device's
    key: str | None = None
    server_keys: tuple[str, ...] = ()
    # the JSON schema of the wire value (OpenAPI: the record schemas generated from the registry)
    schema: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # set in __post_init__: personal data / attachment ids anywhere inside this type
    personal: bool = field(init=False, default=False, compare=False, repr=False)
    attachments: bool = field(init=False, default=False, compare=False, repr=False)
    # the keys of ``item`` that hold personal data somewhere: (key, type), for has_personal's search per value
    personal_keys: tuple = field(init=False, default=(), compare=False, repr=False)

    def load(self, value: Any) -> Any:
        if value is None:
            if not self.nullable:
                raise Invalid("required")
            return None
        return self.parse(value)

    def __post_init__(self) -> None:
        # found once, at registration: outputs and writes ask these per value
        object.__setattr__(self, "personal", _finds(self, PERSONAL_KINDS))
        object.__setattr__(self, "attachments", _finds(self, ("attachment_ids",)))
        object.__setattr__(self, "personal_keys",
                           tuple((k, t) for k, t in (self.item or {}).items() if _finds(t, PERSONAL_KINDS)))


PERSONAL_KINDS = ("phone", "id_number")


def _finds(ftype: FieldType, kinds: tuple[str, ...]) -> bool:
    if ftype.kind in kinds:
        return True
    return bool(ftype.item) and any(_finds(t, kinds) for t in ftype.item.values())


def _text(max_len: int | None, min_len: int = 0) -> Callable[[Any], str]:
    def parse(v: Any) -> str:
        if not isinstance(v, str):
            raise Invalid("invalid_type")
        if "\x00" in v:
            raise Invalid("invalid_type")
        v = v.strip()
        if len(v) < min_len:
            raise Invalid("required" if not v else "too_short")
        if max_len is not None and len(v) > max_len:
            raise Invalid("too_long")
        return v

    return parse


def text(max_len: int | None = 10000, *, required: bool = False) -> FieldType:
    schema: dict[str, Any] = {"type": "string", "minLength": 1 if required else 0}
    if max_len is not None:
        schema["maxLength"] = max_len
    return FieldType(_text(max_len, 1 if required else 0), nullable=not required, kind="text", schema=schema)


def choice(values: tuple[str, ...] | Callable[[], set[str]], *, required: bool = False,
           default: str | None = None) -> FieldType:
    def parse(v: Any) -> str:
        if not isinstance(v, str):
            raise Invalid("invalid_type")
        allowed = values() if callable(values) else values
        if v not in allowed:
            raise Invalid("invalid_choice")
        return v

    schema: dict[str, Any] = {"type": "string"}
    if not callable(values):
        schema["enum"] = list(values)
    return FieldType(parse, nullable=not required, default=default, schema=schema)


def boolean(*, required: bool = False) -> FieldType:
    def parse(v: Any) -> bool:
        if not isinstance(v, bool):
            raise Invalid("invalid_type")
        return v

    return FieldType(parse, nullable=not required, schema={"type": "boolean"})


def integer(lo: int | None = None, hi: int | None = None) -> FieldType:
    def parse(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise Invalid("invalid_type")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise Invalid("out_of_range")
        return v

    schema: dict[str, Any] = {"type": "integer"}
    if lo is not None:
        schema["minimum"] = lo
    if hi is not None:
        schema["maximum"] = hi
    return FieldType(parse, schema=schema)


def parse_date(v: Any) -> date:
    if not isinstance(v, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        raise Invalid("invalid_date")
    try:
        d = date.fromisoformat(v)
    except ValueError:
        raise Invalid("invalid_date") from None
    if d.year < 1900:
        raise Invalid("out_of_range")
    return d


def dump_date(d: date | str | None) -> str | None:
    if d is None:
        return None
    return d if isinstance(d, str) else d.isoformat()


def a_date(*, required: bool = False) -> FieldType:
    return FieldType(parse_date, dump_date, nullable=not required, schema={"type": "string", "format": "date"})


def parse_datetime(v: Any) -> datetime:
    if not isinstance(v, str) or len(v) > 40:
        raise Invalid("invalid_datetime")
    try:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid("invalid_datetime") from None
    if dt.tzinfo is None:
        raise Invalid("invalid_datetime")
    if dt.year < 1900 or dt.year > 2999:
        raise Invalid("out_of_range")
    return dt.astimezone(timezone.utc)


def a_datetime(*, required: bool = False) -> FieldType:
    from cunzhi.core.clock import iso

    return FieldType(parse_datetime, iso, nullable=not required, schema={"type": "string", "format": "date-time"})


def parse_uuid(v: Any) -> str:
    if not isinstance(v, str):
        raise Invalid("invalid_uuid")
    try:
        return str(uuid.UUID(v))
    except ValueError:
        raise Invalid("invalid_uuid") from None


UUID_SCHEMA = {"type": "string", "format": "uuid"}


def a_uuid() -> FieldType:
    return FieldType(parse_uuid, schema=dict(UUID_SCHEMA))


def uuid_list(max_items: int = 50) -> FieldType:
    def parse(v: Any) -> list[str]:
        if not isinstance(v, list) or len(v) > max_items:
            raise Invalid("invalid_type")
        out = [parse_uuid(x) for x in v]
        return list(dict.fromkeys(out))

    return FieldType(parse, lambda v: v or [], nullable=True,
                     schema={"type": "array", "items": dict(UUID_SCHEMA), "maxItems": max_items})


def money(v: Any) -> str:
    """Yuan with two decimals, as a canonical string ("1200.00")."""
    if isinstance(v, bool) or not isinstance(v, str | int):
        raise Invalid("invalid_amount")
    try:
        d = Decimal(str(v))
    except InvalidOperation:
        raise Invalid("invalid_amount") from None
    if not d.is_finite() or d < 0 or d != d.quantize(Decimal("0.01")) or d >= Decimal("1e12"):
        raise Invalid("invalid_amount")
    return f"{d:.2f}"


def amount() -> FieldType:
    return FieldType(money, schema={"type": "string", "pattern": r"^\d{1,12}\.\d{2}$"})


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


_ID_RE = re.compile(r"[0-9]{17}[0-9Xx]")  # ASCII digits only, as the schema's pattern says (not any Unicode digit)
_ID_OFFSET = ord("0") * sum(_ID_WEIGHTS)


def valid_id_number(v: str) -> bool:
    """GB 11643: 17 digits and a check digit (0-9 or X)."""
    if not _ID_RE.fullmatch(v):
        return False
    # Σ digit × weight over the ASCII bytes in C: Σ (byte − 48) × weight = Σ byte × weight − 48 × Σ weight
    total = sum(map(operator.mul, v[:17].encode("ascii"), _ID_WEIGHTS)) - _ID_OFFSET
    if _ID_CHECK[total % 11] != v[17].upper():
        return False
    try:
        date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return False
    return True


_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}")


def valid_phone(v: str) -> bool:
    v = v.replace(" ", "")
    return bool(_MOBILE.fullmatch(v) or _LANDLINE.fullmatch(v))


def mask_id_number(v: str | None) -> str | None:
    """340321********1234 (first six and last four)."""
    if not v:
        return v
    return v[:6] + "*" * max(len(v) - 10, 0) + v[-4:] if len(v) > 10 else "*" * len(v)


def mask_phone(v: str | None) -> str | None:
    """138****1234 (first three and last four)."""
    if not v:
        return v
    digits = v.replace(" ", "")
    return digits[:3] + "*" * max(len(digits) - 7, 0) + digits[-4:] if len(digits) > 7 else "*" * len(digits)


# ---- personal data, attachments and nested values (found by type: see FieldType.kind) -----------------
PHONE_MAX = 20
ID_NUMBER_MAX = 18
_MASKED_PHONE = re.compile(r"[0-9*-]{1,20}")
_MASKED_ID = re.compile(r"[0-9Xx*]{1,18}")


def is_masked(v: Any) -> bool:
    return isinstance(v, str) and "*" in v


def phone(*, required: bool = False) -> FieldType:
    """A phone number (mobile or landline). A value with ``*`` is a mask echoed back: the engine accepts it
    only when it equals the mask of the stored number (which then stays)."""

    def parse(v: Any) -> str | None:
        if not isinstance(v, str) or "\x00" in v or len(v) > 40:
            raise Invalid("invalid_phone")
        v = v.replace(" ", "")
        if v == "":
            if required:
                raise Invalid("required")
            return None
        if len(v) > PHONE_MAX:
            raise Invalid("invalid_phone")
        if "*" in v:
            if not _MASKED_PHONE.fullmatch(v):
                raise Invalid("invalid_phone")
            return v
        if not valid_phone(v):
            raise Invalid("invalid_phone")
        return v

    return FieldType(parse, nullable=not required, kind="phone",
                     schema={"type": "string", "maxLength": PHONE_MAX, "pattern": r"^[0-9*-]*$"})


def id_number(*, required: bool = False) -> FieldType:
    """A resident ID number (GB 11643). Masks echoed back: as for :func:`phone`."""

    def parse(v: Any) -> str | None:
        if not isinstance(v, str) or "\x00" in v or len(v) > 40:
            raise Invalid("invalid_id_number")
        v = v.strip()
        if v == "":
            if required:
                raise Invalid("required")
            return None
        if len(v) > ID_NUMBER_MAX:
            raise Invalid("invalid_id_number")
        if "*" in v:
            if not _MASKED_ID.fullmatch(v):
                raise Invalid("invalid_id_number")
            return v.upper()
        if not valid_id_number(v):
            raise Invalid("invalid_id_number")
        return v.upper()

    return FieldType(parse, nullable=not required, kind="id_number",
                     schema={"type": "string", "maxLength": ID_NUMBER_MAX, "pattern": r"^[0-9Xx*]*$"})


def attachment_ids(max_items: int = 20) -> FieldType:
    """Ids of attachments (photos, PDFs) a record names: the 30-day purge keeps every one named anywhere."""

    def parse(v: Any) -> list[str]:
        if not isinstance(v, list) or len(v) > max_items:
            raise Invalid("invalid_type")
        return list(dict.fromkeys(parse_uuid(x) for x in v))

    return FieldType(parse, lambda v: v or [], nullable=True, kind="attachment_ids", default=[],
                     schema={"type": "array", "items": dict(UUID_SCHEMA), "maxItems": max_items})


def _plan(item: dict[str, FieldType], required_keys: tuple[str, ...]) -> list[tuple]:
    """Per key, once: (key, type, "" means absent, required, default maker, dump or None for identity)."""
    out = []
    for k, t in item.items():
        d = t.default
        make = (lambda d=d: copy.deepcopy(d)) if isinstance(d, list | dict) else (lambda d=d: d)
        out.append((k, t, t.kind != "text", k in required_keys, make, None if t.dump is _identity else t.dump))
    return out


def _load_item(item: dict[str, FieldType], plan: list[tuple], value: Any, where: str) -> dict:
    """One nested object: every key of ``item`` in the output (absent → its default), stored JSON-ready."""
    if not isinstance(value, dict):
        raise Invalid("invalid_type", where or None)
    prefix = f"{where}." if where else ""
    for k in value:
        if k not in item:
            raise Invalid("unknown_field", f"{prefix}{_no_nul(str(k))[:40]}")
    out: dict[str, Any] = {}
    for k, t, empty_is_absent, required, make_default, dump in plan:
        v = value.get(k)
        if v is None or (empty_is_absent and v == ""):
            if required:
                raise Invalid("required", f"{prefix}{k}")
            out[k] = make_default()
            continue
        try:
            loaded = t.parse(v)
        except Invalid as e:
            raise Invalid(e.code, f"{prefix}{k}.{e.field}" if e.field else f"{prefix}{k}") from None
        if loaded is None:
            out[k] = make_default()
        else:
            out[k] = dump(loaded) if dump is not None else loaded
    return out


def obj(item: dict[str, FieldType], *, required_keys: tuple[str, ...] = ()) -> FieldType:
    """A typed nested object (one value for merging); unknown keys → ``unknown_field`` naming ``field.key``."""
    plan = _plan(item, required_keys)
    return FieldType(lambda v: _load_item(item, plan, v, ""), nullable=True, kind="obj", item=item,
                     schema={"type": "object"})


def object_list(item: dict[str, FieldType], *, required_keys: tuple[str, ...] = (), max_items: int = 50,
                min_items: int = 0, required: bool = False, key: str | None = None,
                server_keys: tuple[str, ...] = ()) -> FieldType:
    """A list of typed objects (one value for merging); errors name ``field.<index>.key``.
    Fewer than ``min_items`` → ``required``; more than ``max_items`` → ``invalid_type``. With ``key`` the items
    have an identity: two creates of one natural key merge the list item by item (``merge_created``)."""

    plan = _plan(item, required_keys)

    def parse(v: Any) -> list[dict]:
        if not isinstance(v, list) or len(v) > max_items:
            raise Invalid("invalid_type")
        if len(v) < min_items:
            raise Invalid("required")
        return [_load_item(item, plan, x, str(i)) for i, x in enumerate(v)]

    return FieldType(parse, lambda v: v if v is not None else [], nullable=not required, kind="object_list",
                     item=item, key=key, server_keys=server_keys, schema={"type": "array", "maxItems": max_items})


_EMPTY: tuple = (None, "", [], {})


class Clash(Exception):
    """Two creates of one natural key hold different values for the same thing: a real conflict."""


def merge_created(ftype: FieldType, stored: Any, sent: Any) -> Any:
    """A create's value for a record that already exists (the same natural key, created elsewhere): a create
    has no base, so what it leaves empty is what it did not know, not a deletion. Empty → the stored value;
    stored empty → the sent one; equal → either; items of a keyed list merge item by item (the device's keys
    only); anything else raises :class:`Clash`."""
    if sent in _EMPTY or sent == stored:
        return stored
    if stored in _EMPTY:
        return sent
    if ftype.kind != "object_list" or not ftype.key or not isinstance(stored, list) or not isinstance(sent, list):
        raise Clash
    merged = [dict(x) if isinstance(x, dict) else x for x in stored]
    at = {x.get(ftype.key): i for i, x in enumerate(merged) if isinstance(x, dict)}
    assert ftype.item is not None
    for item in sent:
        if not isinstance(item, dict):
            raise Clash
        if item.get(ftype.key) not in at:
            merged.append(item)
            continue
        mine = merged[at[item[ftype.key]]]
        for k, t in ftype.item.items():
            if k == ftype.key or k in ftype.server_keys:
                continue
            mine[k] = merge_created(t, mine.get(k), item.get(k))
    return merged


def _no_nul(text: str) -> str:
    return text.replace("\x00", "")


MASKERS: dict[str, Callable[[Any], Any]] = {"phone": lambda v: mask_phone(v), "id_number": lambda v: mask_id_number(v)}


def walk(ftype: FieldType, value: Any, leaf: Callable[[FieldType, Any], Any], kinds: tuple[str, ...]) -> Any:
    """``value`` (stored/wire form) with every leaf of a kind in ``kinds`` replaced by ``leaf(type, v)``."""
    if ftype.kind in kinds:
        return leaf(ftype, value)
    if ftype.item is None or value is None:
        return value
    if ftype.kind == "obj":
        return _walk_obj(ftype.item, value, leaf, kinds)
    if isinstance(value, list):
        return [_walk_obj(ftype.item, x, leaf, kinds) for x in value]
    return value


def _walk_obj(item: dict[str, FieldType], value: Any, leaf, kinds) -> Any:
    if not isinstance(value, dict):
        return value
    out = dict(value)
    for k, t in item.items():
        if k in out and _finds(t, kinds):
            out[k] = walk(t, out[k], leaf, kinds)
    return out


def mask(ftype: FieldType, value: Any) -> Any:
    """The value with every phone and ID number in it masked."""
    return walk(ftype, value, lambda t, v: MASKERS[t.kind](v) if v else v, PERSONAL_KINDS)


def has_personal(ftype: FieldType, value: Any) -> bool:
    """Whether ``value`` holds a phone or ID number anywhere (a search: nothing is copied)."""
    if ftype.kind in PERSONAL_KINDS:
        return bool(value)
    if ftype.item is None or value is None:
        return False
    items = (value,) if ftype.kind == "obj" else value if isinstance(value, list) else ()
    for x in items:  # loops, not a generator: asked of every record a pull or list presents unmasked
        if isinstance(x, dict):
            for k, t in ftype.personal_keys:
                v = x.get(k)
                if v and (t.kind in PERSONAL_KINDS or has_personal(t, v)):
                    return True
    return False


def attachment_refs(ftype: FieldType, value: Any) -> set[str]:
    found: set[str] = set()

    def leaf(t: FieldType, v: Any) -> Any:
        if isinstance(v, list):
            found.update(str(x) for x in v)
        return v

    walk(ftype, value, leaf, ("attachment_ids",))
    return found
