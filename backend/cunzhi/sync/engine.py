"""The sync engine: judge and apply pushed mutations, serve the change feed, settle conflicts.

Written once for every entity (see registry.py). One push is one database transaction: each mutation is
judged completely (permission → merge → validation) before anything of it is written, so a rejected
mutation writes nothing but its stored answer and never disturbs the others. At the very end the push
takes the feed counter (``counter.seq``), which serialises writers at commit: the order of ``seq`` is the
order of commit, so a reader never sees change n+1 before change n commits and no pull skips a change.
"""

from __future__ import annotations

import copy
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from cunzhi.core.clock import today_shanghai, utcnow
from cunzhi.core.config import get_settings
from cunzhi.core.errors import AppError, FieldError
from cunzhi.core.scope import Scope
from cunzhi.orgs.models import OrgUnit
from cunzhi.reference.service import county_settings
from cunzhi.sync import state
from cunzhi.sync.cursor import Cursor, decode_cursor, encode_cursor, now_ts
from cunzhi.sync.fields import Invalid, parse_uuid
from cunzhi.sync.models import RecordHistory, SyncConflict, SyncFeed, SyncMutation
from cunzhi.sync.present import _jsonable, present_record, present_value
from cunzhi.sync.registry import (SERVER_OWNED_COMMON, EntitySpec, WriteContext, change_listeners, entities,
                                  get_entity)

mutation_t = SyncMutation.__table__
conflict_t = SyncConflict.__table__
feed_t = SyncFeed.__table__
history_t = RecordHistory.__table__
org_t = OrgUnit.__table__

DELETED = ("deleted",)


@dataclass
class Mutation:
    mutation_id: str
    entity: str
    op: str
    record_id: str
    base_rev: int
    fields: dict[str, Any]
    client_time: str | None = None
    base_epoch: str | None = None
    resolves_conflict: str | None = None


@dataclass
class Result:
    mutation_id: str
    status: str
    entity: str | None = None
    row: dict | None = None
    conflicts: list[dict] = field(default_factory=list)
    conflict_id: str | None = None
    error: dict | None = None  # {"code", "details": [{"field", "code"}]}
    original_status: str | None = None

    def stored(self) -> dict:
        return {"conflicts": self.conflicts, "conflict_id": self.conflict_id, "error": self.error}


class Reject(Exception):
    def __init__(self, code: str, details: list[FieldError] | None = None, row: dict | None = None):
        super().__init__(code)
        self.code = code
        self.details = details or []
        self.row = row


def _validation(details: list[FieldError], row: dict | None = None) -> Reject:
    return Reject("validation_error", details, row)


def _insert(conn: Connection, table):
    return (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)


# Statements built once and reused with bound parameters: building a statement per mutation (``.values(**row)``,
# a fresh ``select``) cost more CPU than executing it (bench/push_throughput.py).
_STMTS: dict[tuple, Any] = {}
_DEFAULTS: dict[str, dict] = {}


def _load_stmt(table, for_update: bool):
    key = ("load", for_update, table.name)
    if key not in _STMTS:
        q = sa.select(table).where(table.c.id == sa.bindparam("record_id"))
        _STMTS[key] = q.with_for_update() if for_update else q
    return _STMTS[key]


def _meta_key(group: tuple[str, ...]) -> str:
    return "+".join(group)


class Push:
    """One push: a list of mutations from one (user, client) judged in order in one transaction."""

    def __init__(self, conn: Connection, actor: Scope, now: datetime | None = None):
        self.conn = conn
        self.actor = actor
        self.now = now or utcnow()
        self.today = today_shanghai(self.now)
        self.epoch = state.current_epoch(conn)
        self.pg = conn.dialect.name == "postgresql"
        self._touched: dict[tuple[str, str], str] = {}
        self._history: list[dict] = []
        self._history_rows: list[dict] = []
        self._mutations: list[dict] = []
        self._batch: dict[str, Result] = {}
        self._settings: dict[str, dict] = {}
        self._orgs: dict[str, str | None] = {}
        # rows of this batch's records as the transaction sees them (read once up front, kept current)
        self._rows: dict[tuple[str, str], dict | None] = {}
        self._cache: dict = {}  # per-push memo for the entities' rules (e.g. a village's mediators)
        # new rows not inserted yet: written together (one multi-row INSERT) before anything reads them
        self._pending: dict[str, list[dict]] = {}

    # ---- public -------------------------------------------------------------------------------
    def run(self, mutations: list[Mutation]) -> list[Result]:
        known = self._known([m.mutation_id for m in mutations])
        self._prefetch(mutations)
        results = [self.apply(m, known) for m in mutations]
        self.flush()
        return results

    def apply(self, m: Mutation, known: dict[str, dict] | None = None) -> Result:
        known = known or {}
        prior = self._batch.get(m.mutation_id) or known.get(m.mutation_id)
        if prior is not None:
            return self._duplicate(m, prior)
        spec = get_entity(m.entity)
        if spec is None:
            res = Result(m.mutation_id, "rejected", m.entity, error={"code": "unknown_entity", "details": []})
        else:
            try:
                res = self._judge(spec, m)
            except Reject as r:
                row = r.row if r.code == "validation_error" else None
                res = Result(m.mutation_id, "rejected", spec.name, row=row, error={
                    "code": r.code, "details": [{"field": _no_nul(d.field), "code": d.code} for d in r.details]})
        if not (res.status == "rejected" and res.error and res.error["code"] == "unknown_record"):
            self._remember(m, res)
        return res

    def flush(self) -> None:
        """Write the batch's bookkeeping, then take feed positions last (commit order = seq order)."""
        self._insert_pending()
        hold("before_seq", self.actor.client_id)
        if self._mutations:
            self.conn.execute(mutation_t.insert(), self._mutations)
        if self._history:
            self.conn.execute(history_t.insert(), self._history)
            for listener in change_listeners():
                listener(self.conn, list(zip(self._history, self._history_rows, strict=True)))
        if self._touched:
            n = len(self._touched)
            top = state.next_values(self.conn, "seq", n)
            rows = [{"entity": e, "record_id": rid, "org_code": org, "seq": top - n + 1 + i}
                    for i, ((e, rid), org) in enumerate(self._touched.items())]
            # a record's previous feed row is replaced: the feed holds each record once, at its latest change
            for chunk in _chunks(rows, 400):
                self.conn.execute(feed_t.delete().where(sa.tuple_(feed_t.c.entity, feed_t.c.record_id).in_(
                    [(r["entity"], r["record_id"]) for r in chunk])))
            self.conn.execute(feed_t.insert(), rows)
        hold("after_seq", self.actor.client_id)
        self._mutations, self._history, self._history_rows, self._touched = [], [], [], {}

    def _insert_pending(self) -> None:
        for name, rows in self._pending.items():
            spec = get_entity(name)
            if spec.serial_counter and spec.assign_serial:
                by_counter: dict[str, list[dict]] = {}
                for row in rows:
                    by_counter.setdefault(spec.serial_counter(row), []).append(row)
                for counter, group in by_counter.items():
                    top = state.next_values(self.conn, counter, len(group))
                    for i, row in enumerate(group):
                        spec.assign_serial(row, top - len(group) + 1 + i)
            self.conn.execute(spec.table.insert(), [_columns(spec, row) for row in rows])
        self._pending = {}

    # ---- judging ------------------------------------------------------------------------------
    def _judge(self, spec: EntitySpec, m: Mutation) -> Result:
        row = self._load(spec, m.record_id)
        if row is None and m.op != "delete" and m.base_rev == 0 and spec.derive_org is None:
            return self._create(spec, m)  # a plain create reads no entity rows: its insert can wait
        self._insert_pending()
        if row is None:
            if m.op == "delete" or m.base_rev > 0:
                raise Reject("unknown_record")
            return self._create(spec, m)
        if not self.actor.contains(row["org_code"]):
            raise Reject("forbidden")
        op = "delete" if m.op == "delete" else "update"
        if self.actor.role not in spec.writers.get(op, ()) and not (
                spec.append_only and self.actor.role in spec.writers.get("create", ())):
            raise Reject("forbidden")
        if spec.append_only:
            raise Reject("append_only")
        resolving = self._conflict_for(spec, m) if m.resolves_conflict else None
        if op == "delete":
            return self._delete(spec, m, row, resolving)
        return self._update(spec, m, row, resolving)

    def _create(self, spec: EntitySpec, m: Mutation) -> Result:
        if self.actor.role not in spec.writers.get("create", ()):
            raise Reject("forbidden")
        if m.resolves_conflict:
            raise _validation([FieldError("resolves_conflict", "conflict_unknown")])
        org_code = self._org_for_create(spec, m.fields)
        parsed, errors = self._parse(spec, m.fields, creating=True)
        missing = [FieldError(f, "required") for f in sorted(spec.required_on_create)
                   if f not in parsed or parsed[f] in (None, "", [])]
        bad = {x.field.split(".")[0] for x in errors}
        errors += [e for e in missing if e.field not in bad]
        if errors:
            raise _validation(errors)
        row = self._defaults(spec)
        row.update(parsed)
        meta_rev = [1, self.actor.sender, 0, self.epoch, None]
        row.update({
            "id": m.record_id, "org_code": org_code, "rev": 1, "deleted": False,
            "created_at": self.now, "updated_at": self.now,
            "created_by": self.actor.user_id, "updated_by": self.actor.user_id,
            "field_meta": {_meta_key(g): list(meta_rev) for g in spec.all_groups() + [DELETED]},
        })
        ctx = self._ctx(spec, "create", None, row, set(parsed) | {"org_code"})
        self._check(spec, ctx)
        # A concurrent create of the same id can only be the same mutation sent twice at once: its
        # mutation id then collides too, the whole push rolls back and answers 503 busy (errors.py).
        self._pending.setdefault(spec.name, []).append(row)
        self._rows[(spec.name, row["id"])] = row  # the same object: a serial taken later shows everywhere
        self._record_change(spec, m, row, "create", {k: row.get(k) for k in parsed} | {"org_code": org_code})
        return Result(m.mutation_id, "applied", spec.name, row=row)

    def _update(self, spec: EntitySpec, m: Mutation, row: dict, resolving: dict | None) -> Result:
        parsed, errors = self._parse(spec, m.fields, creating=False, current=row, resolving=bool(resolving))
        if errors:
            raise _validation(errors, row)
        self._guard_masked(spec, row, parsed)
        stale_epoch = bool(m.base_epoch) and m.base_epoch != self.epoch
        meta = row["field_meta"] or {}
        applied: dict[str, Any] = {}
        conflicts: list[dict] = []

        wants_restore = parsed.get("deleted") is False
        if parsed.get("deleted") is True and not row["deleted"]:
            # deleting is op delete (role, delete rule); naming a conflict does not make an upsert a delete
            raise _validation([FieldError("deleted", "server_owned")], row)
        if row["deleted"] and not wants_restore:
            if parsed.get("deleted") is True and resolving and _covers(resolving, m):
                return self._settle_deleted(spec, m, row, resolving)  # keep it deleted: settles the conflict
            # an edit of a deleted record: the record stays deleted; the device's intent is kept
            conflicts = [{"field": "deleted", "client_value": False, "server_value": True}] + [
                self._conflict_field(spec, f, v, row) for f, v in parsed.items() if f != "deleted" and v != row.get(f)]
            return self._finish_conflict(spec, m, row, conflicts)
        if "deleted" in parsed and not row["deleted"] and parsed["deleted"] is False:
            parsed.pop("deleted")  # restoring what is not deleted: nothing to do

        for group in _groups_touched(spec, parsed):
            incoming = {f: parsed[f] for f in group if f in parsed}
            if all(incoming[f] == row.get(f) for f in incoming):
                continue
            if self._group_conflicts(meta.get(_meta_key(group)), m, stale_epoch):
                conflicts += [self._conflict_field(spec, f, v, row) for f, v in incoming.items()
                              if v != row.get(f)]
            else:
                applied.update(incoming)

        new_row = {**row, **applied}
        changed = set(applied)
        closes = bool(resolving) and not conflicts and _covers(resolving, m)
        if changed:
            ctx = self._ctx(spec, "update", row, new_row, changed)
            self._check(spec, ctx)
        if changed or closes:
            op = "restore" if applied.get("deleted") is False else ("resolve" if closes and not changed else "update")
            self._write(spec, m, row, new_row, changed, op)
        if closes:
            self._close_conflict(resolving)
        if conflicts:
            return self._finish_conflict(spec, m, new_row, conflicts)
        status = "applied" if m.base_rev >= row["rev"] else "merged"
        return Result(m.mutation_id, status, spec.name, row=new_row)

    def _delete(self, spec: EntitySpec, m: Mutation, row: dict, resolving: dict | None) -> Result:
        if row["deleted"]:
            if resolving and _covers(resolving, m):
                return self._settle_deleted(spec, m, row, resolving)
            return Result(m.mutation_id, "applied", spec.name, row=row)  # already gone: nothing to do
        stale_epoch = bool(m.base_epoch) and m.base_epoch != self.epoch
        meta = row["field_meta"] or {}
        if any(self._group_conflicts(meta.get(_meta_key(g)), m, stale_epoch) for g in spec.all_groups()):
            return self._finish_conflict(spec, m, row, [{"field": "deleted", "client_value": True, "server_value": False}])
        new_row = {**row, "deleted": True}
        ctx = self._ctx(spec, "delete", row, new_row, {"deleted"})
        if spec.delete_rule and (code := spec.delete_rule(ctx)):
            raise _validation([FieldError("deleted", code)], row)
        self._write(spec, m, row, new_row, {"deleted"}, "delete")
        if resolving and _covers(resolving, m):
            self._close_conflict(resolving)
        status = "applied" if m.base_rev >= row["rev"] else "merged"
        return Result(m.mutation_id, status, spec.name, row=new_row)

    def _settle_deleted(self, spec: EntitySpec, m: Mutation, row: dict, resolving: dict) -> Result:
        """A conflict about a deleted record settled by keeping it deleted: an ordinary change (new rev)."""
        new_row = dict(row)
        self._write(spec, m, row, new_row, set(), "resolve")
        self._close_conflict(resolving)
        return Result(m.mutation_id, "applied", spec.name, row=new_row)

    # ---- pieces -------------------------------------------------------------------------------
    def _group_conflicts(self, meta: list | None, m: Mutation, stale_epoch: bool) -> bool:
        """Three-way merge of one field group (see the implementation notes of sync-protocol.md)."""
        if not meta:
            return False
        last_rev, last_sender, last_foreign_rev, last_epoch, last_foreign_epoch = meta
        mine = last_sender == self.actor.sender
        if stale_epoch:  # after a restore: compare against the record as the current epoch found it
            return (last_foreign_epoch == self.epoch) if mine else (last_epoch == self.epoch)
        return (last_foreign_rev > m.base_rev) if mine else (last_rev > m.base_rev)

    def _write(self, spec: EntitySpec, m: Mutation, row: dict, new_row: dict, changed: set[str], op: str) -> None:
        rev = row["rev"] + 1
        meta = dict(row["field_meta"] or {})
        groups = {spec.group_of(f) if f != "deleted" else DELETED for f in changed}
        for g in groups:
            key = _meta_key(g)
            old = meta.get(key) or [0, "", 0, None, None]
            if old[1] == self.actor.sender:
                meta[key] = [rev, self.actor.sender, old[2], self.epoch, old[4]]
            else:
                meta[key] = [rev, self.actor.sender, old[0], self.epoch, old[3]]
        new_row.update({"rev": rev, "updated_at": self.now, "updated_by": self.actor.user_id, "field_meta": meta})
        diff = {c.name for c in spec.table.columns if c.name in new_row and new_row[c.name] != row.get(c.name)}
        values = {k: new_row[k] for k in diff | {"rev", "updated_at", "updated_by", "field_meta"}}
        self.conn.execute(spec.table.update().where(spec.table.c.id == row["id"]).values(**values))
        self._rows[(spec.name, row["id"])] = dict(new_row)
        shown = (diff | changed) - {"rev", "updated_at", "updated_by", "field_meta"}
        self._record_change(spec, m, new_row, op, {k: new_row.get(k) for k in shown})

    def _record_change(self, spec: EntitySpec, m: Mutation, row: dict, op: str, changes: dict) -> None:
        self._history.append({
            "entity": spec.name, "record_id": row["id"], "org_code": row["org_code"], "rev": row["rev"],
            "op": op, "user_id": self.actor.user_id, "client_id": self.actor.client_id,
            "mutation_id": m.mutation_id, "at": self.now, "changes": _jsonable_dict(spec, changes),
        })
        self._history_rows.append(row)  # the record at this rev (a create's serial is taken before flush)
        key = (spec.name, row["id"])
        self._touched.pop(key, None)
        self._touched[key] = row["org_code"]

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

    def _check(self, spec: EntitySpec, ctx: WriteContext) -> None:
        if spec.prepare:
            spec.prepare(ctx)
        errors = spec.validate(ctx) if spec.validate else []
        if errors:
            raise _validation(errors, ctx.current)

    def _ctx(self, spec: EntitySpec, op: str, current: dict | None, row: dict, changed: set[str]) -> WriteContext:
        county = row["org_code"][:6]
        if county not in self._settings:
            self._settings[county] = county_settings(self.conn, county)
        return WriteContext(self.conn, self.actor, op, current, row, changed, self.now, self.today,
                            self._settings[county], self._cache)

    def _org_for_create(self, spec: EntitySpec, fields: dict) -> str:
        sent = fields.get("org_code")
        if spec.derive_org:
            derived = spec.derive_org(self.conn, fields)
            if derived is None or not self.actor.contains(derived):
                raise _validation([FieldError("case_id", "case_not_found")])
            if sent is not None and sent != derived:
                raise _validation([FieldError("org_code", "org_mismatch")])
            return derived
        if sent is None or sent == "":
            raise _validation([FieldError("org_code", "required")])
        if not isinstance(sent, str):
            raise _validation([FieldError("org_code", "invalid_type")])
        if not self.actor.contains(sent):
            raise Reject("forbidden")
        if sent not in self._orgs:
            self._orgs[sent] = self.conn.execute(sa.select(org_t.c.level).where(org_t.c.code == sent)).scalar()
        if self._orgs[sent] not in spec.org_levels:
            raise _validation([FieldError("org_code", "unknown_org")])
        return sent

    def _parse(self, spec: EntitySpec, fields: dict, *, creating: bool, current: dict | None = None,
               resolving: bool = False) -> tuple[dict, list[FieldError]]:
        parsed: dict[str, Any] = {}
        errors: list[FieldError] = []
        for name, value in fields.items():
            if name == "org_code":
                if not creating and value != current["org_code"]:  # type: ignore[index]
                    errors.append(FieldError("org_code", "immutable"))
                continue
            if name == "deleted" and resolving and not creating:
                if not isinstance(value, bool):
                    errors.append(FieldError("deleted", "invalid_type"))
                else:
                    parsed["deleted"] = value
                continue
            if name in SERVER_OWNED_COMMON or name in spec.server_fields:
                errors.append(FieldError(_safe_name(name), "server_owned"))
                continue
            ftype = spec.fields.get(name)
            if ftype is None:
                errors.append(FieldError(_safe_name(name), "unknown_field"))
                continue
            try:
                parsed[name] = ftype.load(value)
            except Invalid as e:
                errors.append(FieldError(f"{name}.{e.field}" if e.field else name, e.code))
        return parsed, errors

    def _guard_masked(self, spec: EntitySpec, row: dict, parsed: dict) -> None:
        """A caller who sees personal fields masked may not change them: masked echoes keep the stored value."""
        if not spec.personal or self.actor.sees_personal_data(row["org_code"]):
            return
        from cunzhi.sync.present import _MASKERS

        errors = []
        for list_field, keys in spec.personal.items():
            if list_field not in parsed or not isinstance(parsed[list_field], list):
                continue
            stored = row.get(list_field) or []
            fixed = []
            for i, item in enumerate(parsed[list_field]):
                old = stored[i] if i < len(stored) and isinstance(stored[i], dict) else {}
                item = dict(item)
                for k in keys:
                    new, was = item.get(k), old.get(k)
                    if new == was or (was and new == _MASKERS[k](was)):
                        item[k] = was
                    elif new:
                        errors.append(FieldError(f"{list_field}.{i}.{k}", "masked_field_readonly"))
                fixed.append(item)
            parsed[list_field] = fixed
        if errors:
            raise _validation(errors, row)

    def _defaults(self, spec: EntitySpec) -> dict:
        """A new row's defaults (column defaults and the model's default factories), fresh copies."""
        if spec.name not in _DEFAULTS:
            out: dict[str, Any] = {}
            for col in spec.table.columns:
                if col.default is not None:
                    out[col.name] = col.default.arg(None) if callable(col.default.arg) else col.default.arg
            for name, f in spec.model.model_fields.items():  # type: ignore[attr-defined]
                if f.default_factory is not None:
                    out[name] = f.default_factory()
                elif name not in out and f.default is not None and str(f.default) != "PydanticUndefined":
                    out[name] = f.default
            _DEFAULTS[spec.name] = out
        return copy.deepcopy(_DEFAULTS[spec.name])

    def _load(self, spec: EntitySpec, record_id: str) -> dict | None:
        key = (spec.name, record_id)
        if key not in self._rows:
            found = self.conn.execute(_load_stmt(spec.table, self.pg), {"record_id": record_id}).mappings().first()
            self._rows[key] = dict(found) if found else None
        cached = self._rows[key]
        return dict(cached) if cached is not None else None

    def _prefetch(self, mutations: list[Mutation]) -> None:
        """Read every record the batch names in one query per entity (locked on PostgreSQL, in id order)."""
        wanted: dict[str, set[str]] = {}
        for m in mutations:
            if get_entity(m.entity) is not None:
                wanted.setdefault(m.entity, set()).add(m.record_id)
        for name, ids in wanted.items():
            table = get_entity(name).table
            for chunk in _chunks(sorted(ids), 500):
                q = sa.select(table).where(table.c.id.in_(chunk)).order_by(table.c.id)
                found = {r["id"]: dict(r) for r in self.conn.execute(q.with_for_update() if self.pg else q).mappings()}
                for rid in chunk:
                    self._rows[(name, rid)] = found.get(rid)

    def _known(self, ids: list[str]) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for chunk in _chunks(list(set(ids)), 500):
            for r in self.conn.execute(sa.select(mutation_t).where(mutation_t.c.mutation_id.in_(chunk))).mappings():
                out[r["mutation_id"]] = dict(r)
        return out

    def _remember(self, m: Mutation, res: Result) -> None:
        self._batch[m.mutation_id] = res
        self._mutations.append({
            "mutation_id": m.mutation_id, "user_id": self.actor.user_id, "client_id": self.actor.client_id,
            "entity": _no_nul(m.entity or "")[:40], "record_id": m.record_id, "status": res.status,
            "result": res.stored(), "created_at": self.now})

    def _duplicate(self, m: Mutation, prior: dict | Result) -> Result:
        if isinstance(prior, Result):
            owner, status, stored, entity = self.actor.user_id, prior.status, prior.stored(), prior.entity
        else:
            owner, status, stored, entity = prior["user_id"], prior["status"], prior["result"] or {}, prior["entity"]
        if owner != self.actor.user_id:
            return Result(m.mutation_id, "rejected", m.entity, error={
                "code": "forbidden", "details": [{"field": "mutation_id", "code": "mutation_owned_by_other"}]})
        spec = get_entity(entity or "")
        # the record as it stands (within this batch: the very row object, so a serial taken at the end shows)
        row = (self._rows.get((spec.name, m.record_id)) or self._load(spec, m.record_id)) if spec else None
        if row is not None and not self.actor.contains(row["org_code"]):
            row = None
        return Result(m.mutation_id, "duplicate", entity, row=row, conflicts=stored.get("conflicts") or [],
                      conflict_id=stored.get("conflict_id"), error=stored.get("error"), original_status=status)


# ---- helpers ------------------------------------------------------------------------------------
def hold(point: str, client_id: str) -> None:
    """Test hook: wait while ``<CUNZHI_TEST_HOLD_DIR>/<client_id>.<point>`` exists (holds a writer open)."""
    hold_dir = get_settings().test_hold_dir
    if hold_dir is None:
        return
    flag = hold_dir / f"{client_id}.{point}"
    deadline = time.monotonic() + 60
    while flag.exists() and time.monotonic() < deadline:
        (hold_dir / f"{client_id}.{point}.reached").touch()
        time.sleep(0.02)


def _chunks(items: list, n: int):
    for i in range(0, len(items), n):
        yield items[i:i + n]


def _no_nul(text: str) -> str:
    """Names echoed into stored answers: PostgreSQL text and JSONB cannot hold a NUL."""
    return text.replace("\x00", "") if isinstance(text, str) else text


def _safe_name(name: str) -> str:
    return name[:64] if isinstance(name, str) else "field"



def _groups_touched(spec: EntitySpec, parsed: dict) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for f in parsed:
        g = DELETED if f == "deleted" else spec.group_of(f)
        if g not in out:
            out.append(g)
    return out


def _covers(conflict: dict, m: Mutation) -> bool:
    sent = set(m.fields) | ({"deleted"} if m.op == "delete" else set())
    keeps_deleted = m.op == "delete" or m.fields.get("deleted") is True
    if keeps_deleted and any(f["field"] == "deleted" for f in conflict.get("fields", [])):
        return True  # deleting settles every field of a conflict about a deleted record (its edits are moot)
    return all(f["field"] in sent for f in conflict.get("fields", []))


def _dump(spec: EntitySpec, name: str, value: Any) -> Any:
    if name == "deleted":
        return bool(value)
    ftype = spec.fields.get(name)
    return ftype.dump(value) if ftype is not None and value is not None else _jsonable(value)


def _jsonable_dict(spec: EntitySpec, changes: dict) -> dict:
    return {k: _dump(spec, k, v) for k, v in changes.items()}


def _columns(spec: EntitySpec, row: dict) -> dict:
    return {c.name: row[c.name] for c in spec.table.columns if c.name in row}


# ---- pull ---------------------------------------------------------------------------------------
def pull(conn: Connection, viewer: Scope, cursor_text: str | None, limit: int) -> dict:
    """Changes in the viewer's scope after the cursor, each record once at its latest state, in order."""
    epoch = state.current_epoch(conn)
    top = state.read_counter(conn, "seq")
    start = 0
    if cursor_text:
        c = decode_cursor(cursor_text)
        retention = get_settings().retention_days * 86400
        if c.epoch != epoch or c.scope != viewer.signature or c.seq > top or now_ts() - c.issued > retention:
            raise AppError(409, "reset_required")
        start = c.seq
    q = (sa.select(feed_t.c.entity, feed_t.c.record_id, feed_t.c.seq)
         .where(feed_t.c.seq > start, viewer.clause(feed_t.c.org_code))
         .order_by(feed_t.c.seq).limit(limit + 1))
    if viewer.entities is not None:  # an API key limited to some record types
        q = q.where(feed_t.c.entity.in_(sorted(viewer.entities)))
    feed = conn.execute(q).all()
    has_more = len(feed) > limit
    feed = feed[:limit]
    by_entity: dict[str, list[str]] = {}
    for e, rid, _ in feed:
        by_entity.setdefault(e, []).append(rid)
    rows: dict[tuple[str, str], dict] = {}
    registry = entities()
    for e, ids in by_entity.items():
        spec = registry[e]
        for chunk in _chunks(ids, 500):
            # field_meta (merge bookkeeping) never leaves the server: not read, not JSON-decoded for a pull
            cols = [c for c in spec.table.columns if c.name != "field_meta"]
            for r in conn.execute(sa.select(*cols).where(spec.table.c.id.in_(chunk))).mappings():
                rows[(e, r["id"])] = r
    today = today_shanghai()
    changes = []
    for e, rid, _ in feed:
        r = rows.get((e, rid))
        if r is not None:
            changes.append({"entity": e, "record": present_record(registry[e], r, viewer, today)})
    position = feed[-1][2] if has_more else max(top, start)
    return {"changes": changes, "cursor": encode_cursor(Cursor(epoch, position, viewer.signature, now_ts())),
            "has_more": has_more, "server_epoch": epoch}


# ---- conflicts ----------------------------------------------------------------------------------
def present_conflict(row: dict, viewer: Scope) -> dict:
    spec = get_entity(row["entity"])
    fields = [{"field": f["field"],
               "client_value": present_value(spec, f["field"], f["client_value"], row["org_code"], viewer),
               "server_value": present_value(spec, f["field"], f["server_value"], row["org_code"], viewer)}
              for f in row["fields"]] if spec else row["fields"]
    if spec and spec.personal and viewer.sees_personal_data(row["org_code"]):
        from cunzhi.sync.present import _has_personal

        sides = ("client_value", "server_value")
        if any(_has_personal(spec, {f["field"]: f[side]}) for f in row["fields"] for side in sides):
            viewer.unmasked_ids.add(row["record_id"])  # personal data delivered unmasked: the audit trail notes it
    from cunzhi.core.clock import iso

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
    names = [f["field"] for f in found["fields"]]
    if set(choices) != set(names):
        missing = [FieldError(f"choices.{n}", "required") for n in names if n not in choices]
        extra = [FieldError("choices", "unknown_field") for n in choices if n not in names][:1]
        raise AppError(422, "validation_error", missing + extra)
    push = Push(conn, actor)
    row = push._load(spec, found["record_id"])
    if row is None:
        raise AppError(404, "not_found")
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


def purge_expired(conn: Connection, now: datetime | None = None) -> int:
    """Forget stored answers older than the retention window (ids and statuses stay for good)."""
    cutoff = (now or utcnow()) - timedelta(days=get_settings().retention_days)
    res = conn.execute(mutation_t.update().where(mutation_t.c.created_at < cutoff, mutation_t.c.result.is_not(None))
                       .values(result=None))
    return res.rowcount or 0
