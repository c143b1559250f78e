"""Grids (网格): org units below a village (code = village code + 3 digits), with their workers.

Village and township admins create, rename, re-assign and retire grids online; a retired grid stays (its
records keep naming it) but takes no new records. Devices get the grids of their scope in /reference.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cunzhi.core.clock import iso, utcnow
from cunzhi.core.errors import AppError, FieldError
from cunzhi.core.scope import Scope
from cunzhi.grid.models import Grid
from cunzhi.orgs.models import OrgUnit
from cunzhi.sync.fields import Invalid, parse_uuid
from cunzhi.users.models import User

grid_t = Grid.__table__
org_t = OrgUnit.__table__
user_t = User.__table__
MANAGERS = ("village_admin", "township_admin")
MAX_GRIDS_PER_VILLAGE = 999


def _select():
    return (sa.select(grid_t.c.code, org_t.c.name, grid_t.c.village_code, grid_t.c.worker_ids, grid_t.c.retired,
                      grid_t.c.created_at, grid_t.c.updated_at, grid_t.c.updated_by)
            .join(org_t, org_t.c.code == grid_t.c.code))


def present(row: Any) -> dict:
    return {"code": row["code"], "name": row["name"], "level": "grid", "village_code": row["village_code"],
            "worker_ids": list(row["worker_ids"] or []), "retired": bool(row["retired"]),
            "created_at": iso(row["created_at"]), "updated_at": iso(row["updated_at"])}


def list_grids(conn: Connection, scope: Scope, village_code: str | None = None, include_retired: bool = True) -> list[dict]:
    q = _select().where(scope.clause(grid_t.c.code))
    if village_code:
        q = q.where(grid_t.c.village_code == village_code)
    if not include_retired:
        q = q.where(grid_t.c.retired.is_(False))
    return [present(r) for r in conn.execute(q.order_by(grid_t.c.code).limit(5000)).mappings()]


def get_grid(conn: Connection, scope: Scope, code: str) -> dict:
    row = conn.execute(_select().where(grid_t.c.code == code)).mappings().first()
    if row is None or not scope.contains(row["code"]):
        raise AppError(404, "not_found")
    return present(row)


def _require_manager(scope: Scope) -> None:
    if scope.role not in MANAGERS:
        raise AppError(403, "forbidden")


def _check_name(conn: Connection, village: str, name: Any, exclude: str | None = None) -> str:
    if not isinstance(name, str) or not name.strip() or "\x00" in name:
        raise AppError(422, "validation_error", [FieldError("name", "required")])
    name = name.strip()
    if len(name) > 50:
        raise AppError(422, "validation_error", [FieldError("name", "too_long")])
    taken = conn.execute(sa.select(grid_t.c.code).join(org_t, org_t.c.code == grid_t.c.code).where(
        grid_t.c.village_code == village, org_t.c.name == name, grid_t.c.retired.is_(False))).scalars().all()
    if any(c != exclude for c in taken):
        raise AppError(422, "validation_error", [FieldError("name", "grid_name_taken")])
    return name


def _check_workers(conn: Connection, village: str, worker_ids: Any) -> list[str]:
    if worker_ids is None:
        return []
    if not isinstance(worker_ids, list) or len(worker_ids) > 50:
        raise AppError(422, "validation_error", [FieldError("worker_ids", "invalid_type")])
    try:
        ids = list(dict.fromkeys(parse_uuid(w) for w in worker_ids))
    except Invalid:
        raise AppError(422, "validation_error", [FieldError("worker_ids", "invalid_uuid")]) from None
    found = set(conn.execute(sa.select(user_t.c.id).where(
        user_t.c.id.in_(ids), user_t.c.org_code == village, user_t.c.role == "grid_worker",
        user_t.c.active.is_(True))).scalars()) if ids else set()
    bad = [i for i, w in enumerate(ids) if w not in found]
    if bad:
        raise AppError(422, "validation_error", [FieldError(f"worker_ids.{i}", "unknown_worker") for i in bad[:5]])
    return ids


def create_grid(conn: Connection, scope: Scope, village_code: Any, name: Any, worker_ids: Any) -> dict:
    _require_manager(scope)
    if not isinstance(village_code, str) or not village_code.isdigit() or len(village_code) != 12:
        raise AppError(422, "validation_error", [FieldError("village_code", "unknown_org")])
    if not scope.contains(village_code):
        raise AppError(403, "forbidden")
    level = conn.execute(sa.select(org_t.c.level).where(org_t.c.code == village_code)).scalar()
    if level != "village":
        raise AppError(422, "validation_error", [FieldError("village_code", "unknown_org")])
    name = _check_name(conn, village_code, name)
    ids = _check_workers(conn, village_code, worker_ids)
    # the next serial of the village (serials are never reused: a retired grid keeps its code)
    codes = conn.execute(sa.select(org_t.c.code).where(org_t.c.parent_code == village_code,
                                                       org_t.c.level == "grid")).scalars().all()
    serial = max((int(c[12:]) for c in codes if c[12:].isdigit()), default=0) + 1
    if serial > MAX_GRIDS_PER_VILLAGE:
        raise AppError(422, "validation_error", [FieldError("village_code", "too_many_grids")])
    code = f"{village_code}{serial:03d}"
    now = utcnow()
    conn.execute(org_t.insert().values(code=code, name=name, level="grid", parent_code=village_code))
    conn.execute(grid_t.insert().values(code=code, village_code=village_code, worker_ids=ids, retired=False,
                                        created_at=now, updated_at=now, updated_by=scope.user_id))
    return get_grid(conn, scope, code)


def update_grid(conn: Connection, scope: Scope, code: str, changes: dict) -> dict:
    """Rename, re-assign workers, retire (or bring back): only the keys given change."""
    _require_manager(scope)
    grid = get_grid(conn, scope, code)
    unknown = [k for k in changes if k not in ("name", "worker_ids", "retired")]
    if unknown:
        raise AppError(422, "validation_error", [FieldError(str(k)[:40], "unknown_field") for k in unknown[:5]])
    values: dict[str, Any] = {}
    if "retired" in changes:
        if not isinstance(changes["retired"], bool):
            raise AppError(422, "validation_error", [FieldError("retired", "invalid_type")])
        values["retired"] = changes["retired"]
    if "name" in changes:
        name = _check_name(conn, grid["village_code"], changes["name"], exclude=code)
        conn.execute(org_t.update().where(org_t.c.code == code).values(name=name))
    elif values.get("retired") is False and grid["retired"]:
        _check_name(conn, grid["village_code"], grid["name"], exclude=code)  # bringing back a name now taken
    if "worker_ids" in changes:
        values["worker_ids"] = _check_workers(conn, grid["village_code"], changes["worker_ids"])
    conn.execute(grid_t.update().where(grid_t.c.code == code).values(
        **values, updated_at=utcnow(), updated_by=scope.user_id))
    return get_grid(conn, scope, code)
