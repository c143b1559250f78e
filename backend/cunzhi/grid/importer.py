"""Household roster import (户籍花名册): an XLSX or CSV with Chinese headers, checked row by row, written
through the sync engine as the caller.

A dry run answers an error per row and writes nothing. A real run writes the rows that pass and nothing of
the rows that do not. Idempotent: a row whose head name + address (within the village) is already on the
roster updates that household (only the fields that differ), never a duplicate.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cunzhi.core.errors import AppError, FieldError
from cunzhi.core.scope import Scope
from cunzhi.grid.entities import household
from cunzhi.grid.models import Grid
from cunzhi.orgs.models import OrgUnit
from cunzhi.sync.engine import Mutation, Push
from cunzhi.sync.fields import Invalid

MAX_ROWS = 10_000
# header → wire name (the roster's columns, in the order a template lists them)
HEADERS = {"户主姓名": "head_name", "住址": "address", "人口": "members", "联系电话": "phone",
           "身份证号": "head_id_number", "网格": "grid_code"}
REQUIRED_HEADERS = ("户主姓名", "人口")
WRITERS = ("village_admin", "township_admin")
household_t = household.table
grid_t, org_t = Grid.__table__, OrgUnit.__table__


@dataclass
class Outcome:
    dry_run: bool
    rows: int = 0
    valid: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict] = field(default_factory=list)  # {"row", "field", "column", "code"}

    def answer(self, lang_message) -> dict:
        return {"dry_run": self.dry_run, "rows": self.rows, "valid": self.valid, "invalid": self.rows - self.valid,
                "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "errors": [dict(e, message=lang_message(e["code"])) for e in self.errors]}


def _unsupported() -> AppError:
    return AppError(422, "validation_error", [FieldError("file", "import_unsupported_file")])


def _too_many() -> AppError:
    return AppError(422, "validation_error", [FieldError("file", "import_too_many_rows")])


def read_table(data: bytes) -> tuple[list[str], list[list[Any]]]:
    """The header row and the data rows (at most MAX_ROWS) of an XLSX or CSV; anything else is refused."""
    if data[:4] == b"PK\x03\x04":
        return _read_xlsx(data)
    if not data or b"\x00" in data[:65536]:
        raise _unsupported()
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _unsupported()
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        rows: list[list[Any]] = []
        for r in reader:
            if not any(c.strip() for c in r):
                continue
            if len(rows) >= MAX_ROWS:
                raise _too_many()
            rows.append(r)
    except csv.Error:
        raise _unsupported() from None
    if not header:
        raise _unsupported()
    return [str(h).strip() for h in header], rows


def _read_xlsx(data: bytes) -> tuple[list[str], list[list[Any]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any failure to open it means it is not a workbook we can read
        raise _unsupported() from None
    try:
        return _rows_of(wb)
    except AppError:
        raise
    except Exception:  # noqa: BLE001 - a damaged sheet inside a valid zip
        raise _unsupported() from None
    finally:
        wb.close()


def _rows_of(wb) -> tuple[list[str], list[list[Any]]]:
    ws = wb.worksheets[0] if wb.worksheets else None
    if ws is None:
        raise _unsupported()
    it = ws.iter_rows(values_only=True)
    header = next(it, None)
    if not header:
        raise _unsupported()
    rows: list[list[Any]] = []
    for r in it:
        if not any(c not in (None, "") and str(c).strip() for c in r):
            continue
        if len(rows) >= MAX_ROWS:
            raise _too_many()
        rows.append(list(r))
    return [str(h).strip() if h is not None else "" for h in header], rows


def _cell(v: Any) -> Any:
    """Spreadsheet values as a device would send them: text stripped, whole floats as integers."""
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, int | float) and not isinstance(v, bool):
        return str(v)
    v = str(v).strip()
    return v or None


def import_roster(conn: Connection, actor: Scope, org_code: str, data: bytes, dry_run: bool) -> Outcome:
    if actor.role not in WRITERS:
        raise AppError(403, "forbidden")
    if not isinstance(org_code, str) or not actor.contains(org_code):
        raise AppError(403, "forbidden")
    if conn.execute(sa.select(org_t.c.level).where(org_t.c.code == org_code)).scalar() != "village":
        raise AppError(422, "validation_error", [FieldError("org_code", "unknown_org")])
    header, rows = read_table(data)
    missing = [h for h in REQUIRED_HEADERS if h not in header]
    if missing:
        raise AppError(422, "validation_error", [FieldError(f"file.{h}", "import_missing_column") for h in missing])
    cols = {HEADERS[h]: i for i, h in enumerate(header) if h in HEADERS}
    column_of = {v: k for k, v in HEADERS.items()}
    out = Outcome(dry_run=dry_run, rows=len(rows))

    grids = {}
    for code, name, retired in conn.execute(
            sa.select(grid_t.c.code, org_t.c.name, grid_t.c.retired).join(org_t, org_t.c.code == grid_t.c.code)
            .where(grid_t.c.village_code == org_code)):
        if not retired:
            grids[code] = code
            grids[name] = code
    existing: dict[tuple[str, str], dict] = {}
    for r in conn.execute(sa.select(household_t).where(household_t.c.org_code == org_code,
                                                       household_t.c.deleted.is_(False))).mappings():
        existing.setdefault((r["head_name"], r["address"] or ""), dict(r))

    def error(line: int, name: str, code: str) -> None:
        out.errors.append({"row": line, "field": name, "column": column_of.get(name, ""), "code": code})

    planned: list[tuple[int, Mutation, str]] = []  # (row number, mutation, created|updated)
    seen: dict[tuple[str, str], int] = {}
    for n, raw in enumerate(rows):
        line = n + 2  # the spreadsheet's row number (the header is row 1)
        values = {name: _cell(raw[i]) if i < len(raw) else None for name, i in cols.items()}
        fields: dict[str, Any] = {}
        bad = False
        for name, value in values.items():
            if name == "grid_code":
                if value is not None:
                    if value not in grids:
                        error(line, name, "unknown_grid")
                        bad = True
                    else:
                        fields[name] = grids[value]
                continue
            if name == "members" and value is not None:
                try:
                    value = int(value)
                except ValueError:
                    error(line, name, "invalid_type")
                    bad = True
                    continue
            try:
                parsed = household.fields[name].load(value)
            except Invalid as e:
                error(line, name, e.code)
                bad = True
                continue
            if name in ("phone", "head_id_number") and parsed is not None and "*" in parsed:
                error(line, name, "invalid_phone" if name == "phone" else "invalid_id_number")
                bad = True
                continue
            fields[name] = value
        for req in ("head_name", "members"):
            if values.get(req) is None and not any(e["row"] == line and e["field"] == req for e in out.errors):
                error(line, req, "required")
                bad = True
        if bad:
            continue
        key = (household.fields["head_name"].load(fields["head_name"]), household.fields["address"].load(
            fields.get("address")) or "")
        if key in seen:
            error(line, "head_name", "import_duplicate_row")
            continue
        seen[key] = line
        current = existing.get(key)
        if current is None:
            m = Mutation(str(uuid.uuid4()), "household", "upsert", str(uuid.uuid4()), 0,
                         {"org_code": org_code, **fields})
            planned.append((line, m, "created"))
            continue
        changes = {k: v for k, v in fields.items() if _differs(k, v, current)}
        if not current["active"]:
            changes["active"] = True  # on the roster again
        if not changes:
            out.valid += 1
            out.unchanged += 1
            continue
        planned.append((line, Mutation(str(uuid.uuid4()), "household", "upsert", current["id"], current["rev"],
                                       changes), "updated"))

    # the engine judges every planned row (the same rules as a device's push) inside a savepoint: a dry run
    # rolls it back; a real run keeps it when every row was accepted, else writes again only the accepted ones
    ok = _judge(conn, actor, planned, out, keep=not dry_run)
    if not dry_run and len(ok) < len(planned) and ok:
        _judge(conn, actor, ok, out, keep=True)
    out.valid += len(ok)
    for _, _, kind in ok:
        setattr(out, kind, getattr(out, kind) + 1)
    out.errors.sort(key=lambda e: (e["row"], e["field"]))
    return out


def _differs(name: str, value: Any, current: dict) -> bool:
    parsed = household.fields[name].load(value)
    return parsed != current.get(name)


def _judge(conn: Connection, actor: Scope, planned: list, out: Outcome, keep: bool) -> list:
    """Run the planned mutations through the engine in a savepoint. Returns the planned rows the engine
    accepted and records an error per rejected row; the savepoint is kept only when ``keep`` and every row was
    accepted (a rejected mutation would otherwise leave its stored answer behind)."""
    if not planned:
        return []
    sp = conn.begin_nested()
    try:
        results = Push(conn, actor).run([m for _, m, _ in planned])
    except BaseException:
        sp.rollback()
        raise
    accepted = []
    for (line, m, kind), res in zip(planned, results, strict=True):
        if res.status in ("applied", "merged"):
            accepted.append((line, m, kind))
            continue
        err = res.error or {}
        details = err.get("details") or [{"field": "", "code": err.get("code") or res.status}]
        for d in details:
            name = d["field"].split(".")[0]
            code = d["code"] if err.get("code") == "validation_error" else err.get("code", d["code"])
            out.errors.append({"row": line, "field": name, "column": _column(name), "code": code})
    if keep and len(accepted) == len(planned):
        sp.commit()
    else:
        sp.rollback()
    return accepted


def _column(name: str) -> str:
    return {v: k for k, v in HEADERS.items()}.get(name, "")
