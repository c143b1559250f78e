"""The server clock. Dates are calendar dates in Asia/Shanghai; times are aware datetimes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
_offset = timedelta(0)  # moved by tests (a notice period ends, a deadline passes); zero in production


def utcnow() -> datetime:
    return datetime.now(timezone.utc) + _offset


@contextmanager
def moved(delta: timedelta) -> Iterator[None]:
    """Run with the server clock moved by ``delta`` (tests: every rule reads time through this module)."""
    global _offset
    before, _offset = _offset, _offset + delta
    try:
        yield
    finally:
        _offset = before


def today_shanghai(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(SHANGHAI).date()


# China has kept UTC+8 without summer time since 1991: from then on a fixed offset is Asia/Shanghai, and a third
# cheaper to convert to than the zone (every timestamp of every record the server presents goes through iso)
_CST = timezone(timedelta(hours=8))
_FIXED_SINCE = datetime(1992, 1, 1, tzinfo=timezone.utc)


def iso(dt: datetime | None) -> str | None:
    """ISO 8601 with offset, in Asia/Shanghai (the working time zone)."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(_CST if dt >= _FIXED_SINCE else SHANGHAI).isoformat(timespec="milliseconds")
