"""Conflicts: stored when a device's change meets someone else's (push), listed, shown, settled online.
Conflict values are rendered by one path (present.present_conflict_fields) for answers, duplicates, the list
and get."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cunzhi.core.errors import AppError, FieldError
from cunzhi.core.scope import Scope
from cunzhi.sync.fields import Invalid, parse_uuid
from cunzhi.sync.models import SyncConflict
from cunzhi.sync.mutation import Mutation, Result, _validation
from cunzhi.sync.present import dump_value, present_conflict_fields
from cunzhi.sync.registry import EntitySpec, get_entity

conflict_t = SyncConflict.__table__
_dump = dump_value


class ConflictWrites:
    """The push's side of conflicts (a mixin of :class:`cunzhi.sync.push.Push`)."""

    if TYPE_CHECKING:  # a mixin: the rest is Push's
        def __getattr__(self, name: str) -> Any: ...

    def _finish_conflict(self, spec: EntitySpec, m: Mutation, row: dict, conflicts: list[dict]) -> Result:
        conflict_id = str(uuid.uuid4())
        self.conn.execute(conflict_t.insert().values(
            id=conflict_id, entity=spec.name, record_id=row["id"], org_code=row["org_code"],
            client_id=self.actor.client_id, created_by=self.actor.user_id, mutation_id=m.mutation_id,
            base_rev=m.base_rev, fields=conflicts, status="open", created_at=self.now))
        return Result(m.mutation_id, "conflict", spec.name, row=row, conflicts=conflicts, conflict_id=conflict_id)

    def _conflict_field(self, spec: EntitySpec, f: str, client_value: Any, row: dict) -> dict:
        return {"field": f, "client_value": _dump(spec, f, client_value), "server_value": _dump(spec, f, row.get(f))}

    def _conflict_for(self, spec: EntitySpec, m: Mutation) -> dict:
        try:
            parse_uuid(m.resolves_conflict)
        except Invalid:
            raise _validation([FieldError("resolves_conflict", "conflict_unknown")]) from None
        found = self.conn.execute(sa.select(conflict_t).where(conflict_t.c.id == m.resolves_conflict)).mappings().first()
        if found is None or found["record_id"] != m.record_id or found["entity"] != spec.name:
            raise _validation([FieldError("resolves_conflict", "conflict_unknown")])
        return dict(found) if found["status"] == "open" else {}

    def _close_conflict(self, conflict: dict) -> None:
        self.conn.execute(conflict_t.update().where(conflict_t.c.id == conflict["id"]).values(
            status="resolved", resolved_at=self.now, resolved_by=self.actor.user_id))


def present_conflict(row: dict, viewer: Scope) -> dict:
    from cunzhi.core.clock import iso

    spec = get_entity(row["entity"])
    # unmasked personal data delivered: the record id goes to the audit trail
    fields = present_conflict_fields(spec, row["fields"], row["org_code"], viewer, row["record_id"])

    return {"id": row["id"], "entity": row["entity"], "record_id": row["record_id"], "client_id": row["client_id"],
            "created_by": row["created_by"], "base_rev": row["base_rev"], "fields": fields,
            "status": row["status"], "created_at": iso(row["created_at"]), "resolved_at": iso(row["resolved_at"]),
            "resolved_by": row["resolved_by"]}


def resolve_conflict(conn: Connection, actor: Scope, conflict_id: str, base_rev: int, choices: dict) -> Result:
    """Settle a stored conflict online: an ordinary change (new rev, in the change feed)."""
    found = conn.execute(sa.select(conflict_t).where(conflict_t.c.id == conflict_id)).mappings().first()
    if found is None or not actor.contains(found["org_code"]):
        raise AppError(404, "not_found")
    if found["status"] != "open":
        raise AppError(409, "conflict_resolved")
    spec = get_entity(found["entity"])
    from cunzhi.sync.push import Push

    push = Push(conn, actor)
    row = push._load(spec, found["record_id"])
    if row is None:
        raise AppError(404, "not_found")
    names = [f["field"] for f in found["fields"]]
    # the record was deleted after the conflict arose: the conflict settles like one about a deleted record —
    # kept deleted (the default), or restored with the chosen values (choice "deleted": "client")
    gone = bool(row["deleted"]) and "deleted" not in names
    allowed = set(names) | ({"deleted"} if gone else set())
    if not set(names) <= set(choices) or not set(choices) <= allowed:
        missing = [FieldError(f"choices.{n}", "required") for n in names if n not in choices]
        extra = [FieldError("choices", "unknown_field") for n in choices if n not in allowed][:1]
        raise AppError(422, "validation_error", missing + extra)
    if row["rev"] != base_rev:
        raise AppError(409, "conflict_stale")
    fields: dict[str, Any] = {}
    delete = False
    for f in found["fields"]:
        choice = choices[f["field"]]
        if choice == "client":
            value = f["client_value"]
        elif choice == "server":
            value = _dump(spec, f["field"], row.get(f["field"])) if f["field"] != "deleted" else bool(row["deleted"])
        elif isinstance(choice, dict) and set(choice) == {"value"}:
            value = choice["value"]
        else:
            raise AppError(422, "validation_error", [FieldError(f"choices.{f['field']}", "invalid_choice_value")])
        if f["field"] == "deleted":
            if value is True and not row["deleted"]:
                delete = True
            elif value is False and row["deleted"]:
                fields["deleted"] = False
            elif value is True and row["deleted"]:
                fields["deleted"] = True  # keep it deleted (settles the conflict; other edits are moot)
        else:
            fields[f["field"]] = value
    if gone:
        restore = choices.get("deleted", "server") in ("client", {"value": False})
        if not restore and choices.get("deleted", "server") not in ("server", {"value": True}):
            raise AppError(422, "validation_error", [FieldError("choices.deleted", "invalid_choice_value")])
        fields["deleted"] = not restore
    m = Mutation(str(uuid.uuid4()), spec.name, "delete" if delete else "upsert", row["id"], row["rev"],
                 {} if delete else fields, resolves_conflict=conflict_id)
    res = push.apply(m)
    if res.status == "rejected":
        err = res.error or {}
        status = 403 if err.get("code") == "forbidden" else 422
        raise AppError(status, err.get("code", "validation_error"),
                       [FieldError(d["field"], d["code"]) for d in err.get("details", [])])
    if delete is False and not fields:  # chose the server's side everywhere: close it all the same
        kept = dict(row)
        push._write(spec, m, row, kept, set(), "resolve")
        push._close_conflict(dict(found))
        res.row = kept  # answer the record as now stored (new rev)
    push.flush()
    if res.row is None or res.status == "conflict":
        raise AppError(409, "conflict_stale")
    return res


def list_conflicts(conn: Connection, viewer: Scope, status: str, entity: str | None, record_id: str | None,
                   limit: int, cursor: str | None) -> dict:
    q = sa.select(conflict_t).where(viewer.clause(conflict_t.c.org_code))
    if status != "all":
        q = q.where(conflict_t.c.status == status)
    if entity:
        q = q.where(conflict_t.c.entity == entity)
    if record_id:
        q = q.where(conflict_t.c.record_id == record_id)
    if cursor:
        try:
            ts, cid = cursor.split("|", 1)
            at = datetime.fromisoformat(ts)
            parse_uuid(cid)
        except (ValueError, Invalid):
            raise AppError(400, "invalid_cursor") from None
        q = q.where(sa.or_(conflict_t.c.created_at < at,
                           sa.and_(conflict_t.c.created_at == at, conflict_t.c.id < cid)))
    q = q.order_by(conflict_t.c.created_at.desc(), conflict_t.c.id.desc()).limit(limit + 1)
    rows = [dict(r) for r in conn.execute(q).mappings()]
    nxt = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        nxt = f"{_naive(last['created_at']).isoformat()}|{last['id']}"
    return {"items": [present_conflict(r, viewer) for r in rows], "next_cursor": nxt}


def _naive(dt: datetime) -> datetime:
    return dt.replace(tzinfo=None) if dt.tzinfo is None else dt
