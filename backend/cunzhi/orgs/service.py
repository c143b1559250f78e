"""Importing the official division codes (provinces, cities, areas, streets, villages CSVs)."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cunzhi.orgs.models import OrgUnit, level_of

org_t = OrgUnit.__table__
DEMO_SLICE = Path(__file__).resolve().parents[1] / "data" / "huaiyuan-340321"

# file → (level, column holding the parent code)
FILES = (
    ("provinces", None),
    ("cities", "provinceCode"),
    ("areas", "cityCode"),
    ("streets", "areaCode"),
    ("villages", "streetCode"),
)


@dataclass
class ImportCounts:
    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, level: str) -> None:
        bucket = getattr(self, kind)
        bucket[level] = bucket.get(level, 0) + 1

    def total(self, kind: str) -> int:
        return sum(getattr(self, kind).values())


class ImportError_(ValueError):
    """The folder or a file in it is not the division CSVs we expect."""


def _open(folder: Path, name: str) -> io.TextIOBase:
    plain, gz = folder / f"{name}.csv", folder / f"{name}.csv.gz"
    if plain.exists():
        return plain.open(encoding="utf-8-sig", newline="")
    if gz.exists():
        return io.TextIOWrapper(gzip.open(gz), encoding="utf-8-sig", newline="")
    raise ImportError_(f"{name}.csv (or .csv.gz) not found in {folder}")


def read_units(folder: Path, counties: Iterable[str] = (), provinces: Iterable[str] = ()) -> Iterator[dict]:
    """Org units from the CSVs, filtered to the given counties and/or provinces (none given: all)."""
    prefixes = tuple(counties) + tuple(provinces)
    for c in prefixes:
        if not c.isdigit():
            raise ImportError_(f"not a division code: {c!r}")

    def wanted(code: str) -> bool:
        if not prefixes:
            return True
        # a unit is wanted if it lies inside a chosen unit, or is an ancestor of one
        return any(code.startswith(p) or p.startswith(code) for p in prefixes)

    for name, parent_col in FILES:
        with _open(folder, name) as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or "code" not in reader.fieldnames or "name" not in reader.fieldnames:
                raise ImportError_(f"{name}: expected columns code,name,…")
            for row in reader:
                code = (row.get("code") or "").strip()
                if not code.isdigit() or not wanted(code):
                    continue
                parent = (row.get(parent_col) or "").strip() if parent_col else None
                yield {"code": code, "name": (row.get("name") or "").strip()[:100], "level": level_of(code),
                       "parent_code": parent or None}


def import_units(conn: Connection, units: Iterable[dict], batch: int = 5000) -> ImportCounts:
    """Insert new units, rename changed ones, leave the rest (idempotent)."""
    counts = ImportCounts()
    buf: list[dict] = []

    def flush() -> None:
        codes = [u["code"] for u in buf]
        existing = {r.code: (r.name, r.parent_code) for r in conn.execute(
            sa.select(org_t.c.code, org_t.c.name, org_t.c.parent_code).where(org_t.c.code.in_(codes)))}
        new, changed = [], []
        for u in buf:
            old = existing.get(u["code"])
            if old is None:
                new.append(u)
                counts.add("inserted", u["level"])
            elif old != (u["name"], u["parent_code"]):
                changed.append({"b_code": u["code"], "b_name": u["name"], "b_parent": u["parent_code"]})
                counts.add("updated", u["level"])
            else:
                counts.add("unchanged", u["level"])
        if new:
            conn.execute(org_t.insert(), new)
        if changed:
            conn.execute(org_t.update().where(org_t.c.code == sa.bindparam("b_code"))
                         .values(name=sa.bindparam("b_name"), parent_code=sa.bindparam("b_parent")), changed)
        buf.clear()

    for u in units:
        buf.append(u)
        if len(buf) >= batch:
            flush()
    if buf:
        flush()
    return counts
