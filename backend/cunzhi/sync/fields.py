"""Wire-field types: each turns a JSON value into the stored value, or names what is wrong with it.

Validation never echoes the value back (error details carry a field name and a code only).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any


class Invalid(Exception):
    def __init__(self, code: str, field: str | None = None):
        super().__init__(code)
        self.code = code
        self.field = field


@dataclass(frozen=True)
class FieldType:
    """``parse`` wire → stored value (raises Invalid); ``dump`` stored → wire value."""

    parse: Callable[[Any], Any]
    dump: Callable[[Any], Any] = lambda v: v
    nullable: bool = True

    def load(self, value: Any) -> Any:
        if value is None:
            if not self.nullable:
                raise Invalid("required")
            return None
        return self.parse(value)


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
    return FieldType(_text(max_len, 1 if required else 0), nullable=not required)


def choice(values: tuple[str, ...] | Callable[[], set[str]], *, required: bool = False) -> FieldType:
    def parse(v: Any) -> str:
        if not isinstance(v, str):
            raise Invalid("invalid_type")
        allowed = values() if callable(values) else values
        if v not in allowed:
            raise Invalid("invalid_choice")
        return v

    return FieldType(parse, nullable=not required)


def boolean(*, required: bool = False) -> FieldType:
    def parse(v: Any) -> bool:
        if not isinstance(v, bool):
            raise Invalid("invalid_type")
        return v

    return FieldType(parse, nullable=not required)


def integer(lo: int | None = None, hi: int | None = None) -> FieldType:
    def parse(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise Invalid("invalid_type")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise Invalid("out_of_range")
        return v

    return FieldType(parse)


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
    return FieldType(parse_date, dump_date, nullable=not required)


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

    return FieldType(parse_datetime, iso, nullable=not required)


def parse_uuid(v: Any) -> str:
    if not isinstance(v, str):
        raise Invalid("invalid_uuid")
    try:
        return str(uuid.UUID(v))
    except ValueError:
        raise Invalid("invalid_uuid") from None


def a_uuid() -> FieldType:
    return FieldType(parse_uuid)


def uuid_list(max_items: int = 50) -> FieldType:
    def parse(v: Any) -> list[str]:
        if not isinstance(v, list) or len(v) > max_items:
            raise Invalid("invalid_type")
        out = [parse_uuid(x) for x in v]
        return list(dict.fromkeys(out))

    return FieldType(parse, lambda v: v or [], nullable=True)


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
    return FieldType(money)


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def valid_id_number(v: str) -> bool:
    """GB 11643: 17 digits and a check digit (0-9 or X)."""
    if not re.fullmatch(r"\d{17}[\dXx]", v):
        return False
    total = sum(int(c) * w for c, w in zip(v[:17], _ID_WEIGHTS, strict=True))
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
