"""Timestamps leave the server in Asia/Shanghai time: the fixed +08:00 fast path (from 1992) gives exactly what the
time zone gives, and earlier instants (China's summer time of 1986–1991) still go through the zone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from cunzhi.core.clock import SHANGHAI, iso


def test_iso_equals_the_time_zone_on_both_sides_of_1992():
    start = datetime(1985, 1, 1, tzinfo=timezone.utc)
    for hours in range(0, 24 * 365 * 45, 997):  # every ~41 days over 45 years, at varied hours
        dt = start + timedelta(hours=hours, microseconds=hours * 7919 % 1_000_000)
        assert iso(dt) == dt.astimezone(SHANGHAI).isoformat(timespec="milliseconds"), dt
        assert iso(dt.replace(tzinfo=None)) == iso(dt)  # naive = UTC (as SQLite hands it back)


def test_summer_time_of_1988_keeps_its_offset():
    assert iso(datetime(1988, 7, 1, 4, 0, tzinfo=timezone.utc)) == "1988-07-01T13:00:00.000+09:00"
    assert iso(datetime(2026, 7, 1, 4, 0, tzinfo=timezone.utc)) == "2026-07-01T12:00:00.000+08:00"
