"""Push: judge and apply a device's mutations (sync-protocol.md, Push), one database transaction per push.

Each mutation is judged completely (idempotency → envelope → permission → merge → validation) before anything
of it is written, so a rejected mutation writes nothing but its stored answer and never disturbs the others.
A batch's records are read (and on PostgreSQL locked FOR NO KEY UPDATE, in one global order) up front; new rows
go in one multi-row INSERT; at the very end the push takes the feed counter (``counter.seq``), which serialises
writers at commit: the order of ``seq`` is the order of commit, so no pull skips a change.
Derived writes: derive.py; conflicts: conflicts.py; the personal-data guard: guard.py.
"""

from __future__ import annotations

import copy
from datetime import datetime
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from cunzhi.core import bulk
from cunzhi.core.clock import today_shanghai, utcnow
from cunzhi.core.db import among_param
from cunzhi.core.errors import FieldError
from cunzhi.core.scope import Scope
from cunzhi.orgs.models import OrgUnit
from cunzhi.reference.service import county_settings
from cunzhi.sync import hooks, state, watermark
from cunzhi.sync.conflicts import ConflictWrites
from cunzhi.sync.derive import Derivations
from cunzhi.sync.fields import Clash, Invalid, merge_created, parse_uuid
from cunzhi.sync.guard import guard_personal
from cunzhi.sync.models import RecordHistory, SyncFeed, SyncMutation
from cunzhi.sync.mutation import (DELETED, NOT_STORED, Mutation, Reject, Result, _chunks, _covers, _envelope_errors,
                                  _groups_touched, _meta_key, _no_nul, _safe_name, _validation)
from cunzhi.sync.present import dump_values
from cunzhi.sync.registry import (SERVER_OWNED_COMMON, EntitySpec, WriteContext, change_listeners, derivations,
                                  get_entity, row_observers, rows_stored)

mutation_t = SyncMutation.__table__
feed_t = SyncFeed.__table__
history_t = RecordHistory.__table__
org_t = OrgUnit.__table__

# Statements built once and reused with bound parameters: building a statement per mutation (``.values(**row)``,
# a fresh ``select``) cost more CPU than executing it (bench/push_throughput.py).
_STMTS: dict[tuple, Any] = {}
_DEFAULTS: dict[str, tuple[dict, tuple]] = {}


def _parent_stmt(table):
    key = ("parent", table.name)
    if key not in _STMTS:  # no lock: the child's foreign key check takes the key-share lock itself
        _STMTS[key] = sa.select(table.c.org_code, table.c.deleted).where(table.c.id == sa.bindparam("record_id"))
    return _STMTS[key]


def _batch_stmt(table, dialect: str):
    """A batch's rows by id, in id order (the one global lock order on PostgreSQL: FOR NO KEY UPDATE)."""
    key = ("batch", dialect, table.name)
    if key not in _STMTS:
        q = sa.select(table).where(among_param(dialect, table.c.id, "ids")).order_by(table.c.id)
        _STMTS[key] = q.with_for_update(key_share=True) if dialect == "postgresql" else q
    return _STMTS[key]


_ORG_LEVEL = sa.select(org_t.c.level).where(org_t.c.code == sa.bindparam("code"))


def _known_stmt(dialect: str):
    """The user's stored answers of a batch's mutation ids (another user's id is simply new for this one)."""
    key = ("known", dialect)
    if key not in _STMTS:
        _STMTS[key] = sa.select(mutation_t).where(mutation_t.c.user_id == sa.bindparam("user_id"),
                                                  among_param(dialect, mutation_t.c.mutation_id, "ids"))
    return _STMTS[key]


def _feed_out_stmt(dialect: str):
    """The feed rows of some records of one entity, replaced by their latest change."""
    key = ("feed_out", dialect)
    if key not in _STMTS:
        _STMTS[key] = feed_t.delete().where(feed_t.c.entity == sa.bindparam("entity"),
                                            among_param(dialect, feed_t.c.record_id, "ids"))
    return _STMTS[key]


def _load_stmt(table, for_update: bool):
    key = ("load", for_update, table.name)
    if key not in _STMTS:
        q = sa.select(table).where(table.c.id == sa.bindparam("record_id"))
        # FOR NO KEY UPDATE: a child's foreign-key check (FOR KEY SHARE on its parent) does not wait for it
        _STMTS[key] = q.with_for_update(key_share=True) if for_update else q
    return _STMTS[key]


class Push(Derivations, ConflictWrites):
    """One push: a list of mutations from one (user, client) judged in order in one transaction."""

    def __init__(self, conn: Connection, actor: Scope, now: datetime | None = None):
        self.conn = conn
        self.actor = actor
        self.now = now or utcnow()
        self.today = today_shanghai(self.now)
        self._seen = watermark.seen(conn)  # before the first read: see watermark.seen
        self._meta_shapes: dict[tuple, dict] = {}  # field revisions of a new record, per shape (_create_meta)
        self.epoch = state.current_epoch(conn)
        self.pg = conn.dialect.name == "postgresql"
        self.top = 0  # the feed's top after this push (noted by the route once committed)
        self._touched: dict[tuple[str, str], str] = {}
        self._created: set[tuple[str, str]] = set()  # records new since the last flush: no feed row to replace
        self._history: list[dict] = []
        self._history_rows: list[dict] = []  # the record at each history row's rev (for change listeners)
        self._mutations: list[dict] = []
        self._batch: dict[str, Any] = {}  # mutation id → what a duplicate answers from
        self._settings: dict[str, Mapping[str, Any]] = {}
        self._orgs: dict[str, str | None] = {}
        # rows of this batch's records as the transaction sees them (read once up front, kept current)
        self._rows: dict[tuple[str, str], dict | None] = {}
        self._cache: dict = {}  # per-push memo for the entities' rules (e.g. a village's mediators)
        # new rows not inserted yet: written together (one multi-row INSERT) before anything reads them
        self._pending: dict[str, list[dict]] = {}
        # changes of entities with derivations, waiting for their derive fns: (spec, op, before, after, changed)
        self._caused: list[tuple] = []
        # rows stored of entities with row observers (registry.py), handed over at flush: entity → [(old, new)]
        self._stored: dict[str, list[tuple[dict | None, dict]]] = {}

    # ---- public -------------------------------------------------------------------------------
    def run(self, mutations: list[Mutation], isolate: bool = False) -> list[Result]:
        """Judge and apply the batch. ``isolate``: each mutation in its own savepoint, so one that breaks a
        database constraint (a rule only the database knows) is rejected alone — the slow path, taken only
        after the fast path hit an IntegrityError (routes.py)."""
        # a database restored under the running server is noticed here, before anything is judged (defect 12)
        self.epoch, self.top = watermark.check(self.conn, self.epoch, self._seen)
        known = self._known([m.mutation_id for m in mutations])
        self._prefetch(mutations)
        self._lock_counters(mutations)
        if isolate:
            return [self._apply_isolated(m, known) for m in mutations]
        results = [self.apply(m, known) for m in mutations]
        self.flush()
        return results

    def _apply_isolated(self, m: Mutation, known: dict[str, dict]) -> Result:
        savepoint = self.conn.begin_nested()
        try:
            res = self.apply(m, known)
            self.flush()
            savepoint.commit()
            return res
        except IntegrityError:
            savepoint.rollback()
        # forget everything this mutation did in memory; rows are read again
        self._rows, self._pending, self._caused, self._stored = {}, {}, [], {}
        self._history, self._history_rows, self._mutations, self._touched = [], [], [], {}
        self._created = set()
        self._batch.pop(m.mutation_id, None)
        res = Result(m.mutation_id, "rejected", m.entity, error={
            "code": "validation_error", "details": [{"field": "record", "code": "constraint_violation"}]})
        self._remember(m, res)
        self.flush()
        return res

    def apply(self, m: Mutation, known: dict[str, dict] | None = None) -> Result:
        known = known or {}
        prior = self._batch.get(m.mutation_id) or known.get(m.mutation_id)
        if prior is not None:
            return self._duplicate(m, prior)
        spec = get_entity(m.entity)
        envelope = _envelope_errors(m)
        if envelope:
            res = Result(m.mutation_id, "rejected", m.entity, error={
                "code": "validation_error", "details": [{"field": e.field, "code": e.code} for e in envelope]})
        elif spec is None:
            res = Result(m.mutation_id, "rejected", m.entity, error={"code": "unknown_entity", "details": []})
        else:
            try:
                res = self._judge(spec, m)
                if self._caused:
                    self._derive(m)
            except Reject as r:
                self._caused = []
                row = r.row if r.code == "validation_error" else None
                res = Result(m.mutation_id, "rejected", spec.name, row=row, error={
                    "code": r.code, "details": [{"field": _no_nul(d.field), "code": d.code} for d in r.details]})
        if not (res.status == "rejected" and res.error and res.error["code"] in NOT_STORED):
            self._remember(m, res)
        return res

    def flush(self) -> None:
        """Write the batch's bookkeeping, then take feed positions last (commit order = seq order)."""
        self._insert_pending()
        hooks.point("before_seq", self.actor.client_id)
        if self._mutations:
            bulk.insert(self.conn, mutation_t, self._mutations)
        if self._history:
            bulk.insert(self.conn, history_t, self._history)
            for listener in change_listeners():  # e.g. webhook deliveries, in this same transaction
                listener(self.conn, list(zip(self._history, self._history_rows, strict=True)))
        if self._touched:
            n = len(self._touched)
            top = self.top = state.next_values(self.conn, "seq", n)
            rows = [{"entity": e, "record_id": rid, "org_code": org, "seq": top - n + 1 + i}
                    for i, ((e, rid), org) in enumerate(self._touched.items())]
            # a record's previous feed row is replaced: the feed holds each record once, at its latest change (a
            # record created since the last flush has none: a push of creates only skips the DELETE's round trip)
            by_entity: dict[str, list[str]] = {}
            for e, rid in self._touched:
                if (e, rid) not in self._created:
                    by_entity.setdefault(e, []).append(rid)
            feed_out = _feed_out_stmt(self.conn.dialect.name)
            for entity, ids in sorted(by_entity.items()):
                for chunk in _chunks(ids, 500):
                    self.conn.execute(feed_out, {"entity": entity, "ids": chunk})
            bulk.insert(self.conn, feed_t, rows)
        if self._stored:
            # row observers (e.g. the dashboard's summaries) write after ``seq`` is taken: every writer of their
            # rows holds ``seq`` first, so they never wait on each other in opposite orders (deadlock-free)
            stored, self._stored = self._stored, {}
            for name, pairs in sorted(stored.items()):
                rows_stored(self.conn, name, pairs)
        hooks.point("after_seq", self.actor.client_id)
        self._mutations, self._history, self._history_rows, self._touched = [], [], [], {}
        self._created = set()

    def _insert_pending(self) -> None:
        for name, rows in sorted(self._pending.items()):
            spec = get_entity(name)
            if spec.serial_counter and spec.assign_serial:
                by_counter: dict[str, list[dict]] = {}
                for row in rows:
                    by_counter.setdefault(spec.serial_counter(row), []).append(row)
                for counter, group in sorted(by_counter.items()):
                    top = state.next_values(self.conn, counter, len(group))
                    for i, row in enumerate(group):
                        spec.assign_serial(row, top - len(group) + 1 + i)
            bulk.insert(self.conn, spec.table, rows, only_columns=True)
        self._pending = {}

    # ---- judging ------------------------------------------------------------------------------
    def _judge(self, spec: EntitySpec, m: Mutation) -> Result:
        row = self._load(spec, m.record_id)
        if row is None and m.op != "delete" and m.base_rev == 0 and spec.parent is None:
            return self._create(spec, m)  # a plain create reads no entity rows: its insert can wait
        if self._pending:
            self._insert_pending()  # a row of this batch gets its serial now: read it again (with it)
            row = self._load(spec, m.record_id)
        if row is not None and not self.actor.contains(row["org_code"]):
            # out of scope looks exactly like absent (issue 11): nothing tells the caller the record exists
            if m.op == "delete" or m.base_rev > 0:
                raise Reject("unknown_record")
            raise _validation([FieldError("id", "id_taken")])
        if row is None:
            if m.op == "delete" or m.base_rev > 0:
                raise Reject("unknown_record")
            return self._create(spec, m)
        if m.base_rev > row["rev"] and m.base_epoch in (None, self.epoch):
            # the device saw a newer rev of this record in this epoch than the database holds: the database was
            # restored (onto another host, where no mark outside it exists) — mark it before merging
            self.epoch = watermark.mark(self.conn, self.epoch, self.top)
        op = "delete" if m.op == "delete" else "update"
        if self.actor.role not in spec.writers.get(op, ()) and not (
                spec.append_only and self.actor.role in spec.writers.get("create", ())):
            raise Reject("forbidden")
        if spec.append_only:
            raise Reject("append_only")
        resolving = self._conflict_for(spec, m) if m.resolves_conflict else None
        if op == "delete":
            self._authorize(spec, m, "delete", row, {"deleted": True})
            return self._delete(spec, m, row, resolving)
        return self._update(spec, m, row, resolving)

    def _create(self, spec: EntitySpec, m: Mutation) -> Result:
        if self.actor.role not in spec.writers.get("create", ()):
            raise Reject("forbidden")
        if m.resolves_conflict:
            raise _validation([FieldError("resolves_conflict", "conflict_unknown")])
        org_code = self._org_for_create(spec, m.fields)
        parsed, errors = self._parse(spec, m.fields, creating=True)
        self._authorize(spec, m, "create", None, parsed, org_code)
        missing = [FieldError(f, "required") for f in sorted(spec.required_on_create)
                   if f not in parsed or parsed[f] in (None, "", [])]
        bad = {x.field.split(".")[0] for x in errors}
        errors += [e for e in missing if e.field not in bad]
        if not errors:
            errors = guard_personal(spec, self.actor, None, parsed)
        if not errors and spec.natural_key is not None:
            if spec.derived_id({**parsed, "org_code": org_code}) != m.record_id:
                errors = [FieldError("id", "id_not_derived")]
        if errors:
            raise _validation(errors)
        row = self._defaults(spec)
        row.update(parsed)
        row.update({
            "id": m.record_id, "org_code": org_code, "rev": 1, "deleted": False,
            "created_at": self.now, "updated_at": self.now,
            "created_by": self.actor.user_id, "updated_by": self.actor.user_id,
            "field_meta": self._create_meta(spec, parsed, self.actor),
        })
        ctx = self._ctx(spec, "create", None, row, set(parsed) | {"org_code"})
        self._check(spec, ctx)
        # A concurrent create of the same id can only be the same mutation sent twice at once: its
        # mutation id then collides too, the whole push rolls back and answers 503 busy (errors.py).
        self._pending.setdefault(spec.name, []).append(row)
        self._rows[(spec.name, row["id"])] = row  # the same object: a serial taken later shows everywhere
        self._created.add((spec.name, row["id"]))
        self._stored_row(spec, None, row)
        self._record_change(spec, m, row, "create", {k: row.get(k) for k in parsed} | {"org_code": org_code})
        if derivations(spec.name):
            self._caused.append((spec, "create", None, row, set(parsed) | {"org_code"}))
        return Result(m.mutation_id, "applied", spec.name, row=row)

    def _update(self, spec: EntitySpec, m: Mutation, row: dict, resolving: dict | None) -> Result:
        parsed, errors = self._parse(spec, m.fields, creating=False, current=row, resolving=bool(resolving))
        self._authorize(spec, m, "update", row, parsed)
        if errors:
            raise _validation(errors, row)
        errors = guard_personal(spec, self.actor, row, parsed)
        if errors:
            raise _validation(errors, row)
        stale_epoch = bool(m.base_epoch) and m.base_epoch != self.epoch
        meta = row["field_meta"] or {}
        applied: dict[str, Any] = {}
        conflicts: list[dict] = []

        wants_restore = parsed.get("deleted") is False
        if parsed.get("deleted") is True and not row["deleted"]:
            # deleting is op delete (role, delete rule); naming a conflict does not make an upsert a delete
            raise _validation([FieldError("deleted", "server_owned")], row)
        if row["deleted"] and not wants_restore:
            if parsed.get("deleted") is True and resolving:
                # keep it deleted: settles the conflict (the edits it holds are moot on a deleted record)
                return self._settle_deleted(spec, m, row, resolving)
            # an edit of a deleted record: the record stays deleted; the device's intent is kept
            conflicts = [{"field": "deleted", "client_value": False, "server_value": True}] + [
                self._conflict_field(spec, f, v, row) for f, v in parsed.items() if f != "deleted" and v != row.get(f)]
            return self._finish_conflict(spec, m, row, conflicts)
        if "deleted" in parsed and not row["deleted"] and parsed["deleted"] is False:
            parsed.pop("deleted")  # restoring what is not deleted: nothing to do

        # a create meeting a record of its natural key (made on another phone, or by the server): it had no base
        created_elsewhere = m.base_rev == 0 and spec.natural_key is not None and not row["deleted"]
        for group in _groups_touched(spec, parsed):
            incoming = {f: parsed[f] for f in group if f in parsed}
            if all(incoming[f] == row.get(f) for f in incoming):
                continue
            if self._group_conflicts(meta.get(_meta_key(group)), m, stale_epoch):
                merged = _merge_created(spec, incoming, row) if created_elsewhere else None
                if merged is not None:
                    applied.update({f: v for f, v in merged.items() if v != row.get(f)})
                    continue
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
            if resolving:  # deleted already: naming a conflict of it with a delete settles it
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

    def _write(self, spec: EntitySpec, m: Mutation, row: dict, new_row: dict, changed: set[str], op: str,
               by: Scope | None = None, cause: tuple[str, str] | None = None) -> None:
        by = by or self.actor
        rev = row["rev"] + 1
        meta = dict(row["field_meta"] or {})
        groups = {spec.group_of(f) if f != "deleted" else DELETED for f in changed}
        for g in groups:
            key = _meta_key(g)
            old = meta.get(key) or [0, "", 0, None, None]
            if old[1] == by.sender:
                meta[key] = [rev, by.sender, old[2], self.epoch, old[4]]
            else:
                meta[key] = [rev, by.sender, old[0], self.epoch, old[3]]
        new_row.update({"rev": rev, "updated_at": self.now, "updated_by": by.user_id, "field_meta": meta})
        diff = {c.name for c in spec.table.columns if c.name in new_row and new_row[c.name] != row.get(c.name)}
        values = {k: new_row[k] for k in diff | {"rev", "updated_at", "updated_by", "field_meta"}}
        self.conn.execute(spec.table.update().where(spec.table.c.id == row["id"]).values(**values))
        self._rows[(spec.name, row["id"])] = stored = dict(new_row)
        self._stored_row(spec, row, stored)
        shown = (diff | changed) - {"rev", "updated_at", "updated_by", "field_meta"}
        self._record_change(spec, m, new_row, op, {k: new_row.get(k) for k in shown}, by, cause)
        if derivations(spec.name):
            self._caused.append((spec, op, row, new_row, changed))

    def _stored_row(self, spec: EntitySpec, old: dict | None, new: dict) -> None:
        """Note a stored row for the entity's row observers (called at flush, after the batch's INSERT)."""
        if row_observers(spec.name):
            self._stored.setdefault(spec.name, []).append((old, new))

    def _record_change(self, spec: EntitySpec, m: Mutation, row: dict, op: str, changes: dict,
                       by: Scope | None = None, cause: tuple[str, str] | None = None) -> None:
        by = by or self.actor
        self._history.append({
            "entity": spec.name, "record_id": row["id"], "org_code": row["org_code"], "rev": row["rev"],
            "op": op, "user_id": by.user_id, "client_id": by.client_id,
            "mutation_id": m.mutation_id, "at": self.now, "changes": dump_values(spec, changes),
            "cause_entity": cause[0] if cause else None, "cause_record_id": cause[1] if cause else None,
        })
        self._history_rows.append(row)  # the record at this rev (a create's serial is taken before flush)
        key = (spec.name, row["id"])
        self._touched.pop(key, None)
        self._touched[key] = row["org_code"]

    def _check(self, spec: EntitySpec, ctx: WriteContext) -> None:
        if spec.prepare:
            spec.prepare(ctx)
        errors = spec.validate(ctx) if spec.validate else []
        if errors:
            raise _validation(errors, ctx.current)

    def _ctx(self, spec: EntitySpec, op: str, current: dict | None, row: dict, changed: set[str],
             sent: dict | None = None, mutation_id: str | None = None, actor: Scope | None = None,
             conn: Any = None) -> WriteContext:
        county = row["org_code"][:6]
        if county not in self._settings:
            self._settings[county] = county_settings(self.conn, county)
        return WriteContext(conn or self.conn, actor or self.actor, op, current, row, changed, self.now, self.today,
                            self._settings[county], self._cache, sent if sent is not None else {}, mutation_id,
                            spec.name)

    def _org_for_create(self, spec: EntitySpec, fields: dict) -> str:
        sent = fields.get("org_code")
        if spec.parent:
            derived = self._parent_org(spec, fields)
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
            self._orgs[sent] = self.conn.execute(_ORG_LEVEL, {"code": sent}).scalar()
        if self._orgs[sent] not in spec.org_levels:
            # a township's or county's own code for a record that belongs to a village: say so, not "unknown"
            wrong_level = self._orgs[sent] is not None and tuple(spec.org_levels) == ("village",)
            raise _validation([FieldError("org_code", "org_not_village" if wrong_level else "unknown_org")])
        return sent

    def _parent_org(self, spec: EntitySpec, fields: dict) -> str:
        """A child takes its parent's org. A parent the server does not have (not replayed yet after a restore),
        or one outside the caller's scope (which must look the same), is ``unknown_record``, not stored: the
        device sends the child again after the parent. A deleted parent is a stored validation error."""
        field_name, parent_entity = spec.parent  # type: ignore[misc]
        try:
            parent_id = parse_uuid(fields.get(field_name))
        except Invalid:
            raise _validation([FieldError(field_name, spec.parent_missing)]) from None
        pspec = get_entity(parent_entity)
        found: Any = self._rows.get((parent_entity, parent_id))
        if found is None:
            found = self.conn.execute(_parent_stmt(pspec.table), {"record_id": parent_id}).mappings().first()
        if found is None or not self.actor.contains(found["org_code"]):
            raise Reject("unknown_record")
        if found["deleted"]:
            raise _validation([FieldError(field_name, spec.parent_missing)])
        return found["org_code"]

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

    def _create_meta(self, spec: EntitySpec, parsed: dict, by: Scope) -> dict:
        """Field revisions of a new record: the groups it sent changed at rev 1; the others at rev 0 (so a second
        create of the same natural key fills them without a conflict: nobody changed them)."""
        keys = spec.__dict__.get("_meta_keys")
        if keys is None:  # per entity, once: field -> its group's key, and every group's key
            keys = spec.__dict__["_meta_keys"] = (
                {f: _meta_key(spec.group_of(f)) for f in spec.fields},
                [_meta_key(g) for g in spec.all_groups()] + [_meta_key(DELETED)])
        of_field, every = keys
        sent = frozenset(of_field[f] for f in parsed if f in of_field)
        # the creates of a batch send the same fields: build each shape once, then share its entries (lists that
        # are replaced, never changed in place: _write builds new ones)
        memo_key = (spec.name, sent, by.sender, self.epoch)
        template = self._meta_shapes.get(memo_key)
        if template is None:
            changed, untouched = [1, by.sender, 0, self.epoch, None], [0, by.sender, 0, None, None]
            template = {k: changed if k in sent else untouched for k in every}
            template[_meta_key(DELETED)] = changed
            self._meta_shapes[memo_key] = template
        return dict(template)

    def _authorize(self, spec: EntitySpec, m: Mutation, op: str, current: dict | None, sent: dict,
                   org_code: str | None = None) -> None:
        """The entity's per-change permission, before the merge (e.g. only the assignee starts handling)."""
        if spec.authorize is None:
            return
        row = {**(current or {}), **sent, "org_code": org_code or (current or {}).get("org_code")}
        ctx = self._ctx(spec, op, current, row, set(sent), sent=sent, mutation_id=m.mutation_id)
        if spec.authorize(ctx):
            raise Reject("forbidden")

    def _defaults(self, spec: EntitySpec) -> dict:
        """A new row's defaults (column defaults and the model's default factories), fresh copies."""
        if spec.name not in _DEFAULTS:
            out: dict[str, Any] = {}
            for col in spec.table.columns:
                default: Any = col.default  # a ColumnDefault (scalar or callable); mypy sees the base class
                if default is not None:
                    out[col.name] = default.arg(None) if callable(default.arg) else default.arg
            for name, f in spec.model.model_fields.items():  # type: ignore[attr-defined]
                if f.default_factory is not None:
                    out[name] = f.default_factory()  # type: ignore[call-arg]  # factories without arguments
                elif name not in out and f.default is not None and str(f.default) != "PydanticUndefined":
                    out[name] = f.default
            # the mutable values, copied per row: empty ones (all of them, today) by their own copy()
            mutable = tuple((k, (lambda v: v.copy()) if not v else copy.deepcopy)
                            for k, v in out.items() if isinstance(v, list | dict | set))
            _DEFAULTS[spec.name] = (out, mutable)
        # fresh copies of the mutable values only (a deepcopy of the whole dict was 4% of a push)
        values, mutable = _DEFAULTS[spec.name]
        row = dict(values)
        for k, fresh in mutable:
            row[k] = fresh(values[k])
        return row

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
        for name, ids in sorted(wanted.items()):  # every push locks in one global order: entity, then id
            q = _batch_stmt(get_entity(name).table, self.conn.dialect.name)
            for chunk in _chunks(sorted(ids), 500):
                found = {r["id"]: dict(r) for r in self.conn.execute(q, {"ids": chunk}).mappings()}
                for rid in chunk:
                    self._rows[(name, rid)] = found.get(rid)

    def _lock_counters(self, mutations: list[Mutation]) -> None:
        """PostgreSQL: take the serial counters the batch's creates will draw from, up front and in sorted order
        (after the rows, before ``seq``), so two pushes never wait on each other's counters in opposite orders."""
        if not self.pg:
            return  # SQLite has one writer
        names: set[str] = set()
        for m in mutations:
            spec = get_entity(m.entity) if isinstance(m.entity, str) else None
            if spec is None or spec.serial_counter is None or m.op != "upsert" or m.base_rev != 0:
                continue
            try:  # only the fields the counter's name reads are parsed (parsing all was 10 % of a push)
                names.add(spec.serial_counter(_SentFields(spec, m.fields)))
            except (Invalid, KeyError, TypeError, AttributeError, ValueError):
                continue  # a create that will be rejected: it draws no number
        for name in sorted(names):
            state.next_values(self.conn, name, 0)

    def _known(self, ids: list[str]) -> dict[str, dict]:
        out: dict[str, dict] = {}
        known = _known_stmt(self.conn.dialect.name)
        for chunk in _chunks(list(set(ids)), 500):
            for r in self.conn.execute(known, {"user_id": self.actor.user_id, "ids": chunk}).mappings():
                out[r["mutation_id"]] = dict(r)
        return out

    def _remember(self, m: Mutation, res: Result) -> None:
        entity, record_id, op = m.key
        self._batch[m.mutation_id] = {"entity": entity, "record_id": record_id, "op": op, "status": res.status,
                                      "result": res}
        self._mutations.append({
            "mutation_id": m.mutation_id, "user_id": self.actor.user_id, "client_id": self.actor.client_id,
            "entity": entity, "record_id": record_id, "op": op, "status": res.status,
            "result": res.stored(), "created_at": self.now})

    def _duplicate(self, m: Mutation, prior: dict) -> Result:
        entity, record_id, op = m.key
        if (prior["entity"], prior["record_id"]) != (entity, record_id) or prior.get("op") not in (None, op):
            # the id stands for another change: never answer duplicate for a change not made (not stored)
            return Result(m.mutation_id, "rejected", m.entity, error={"code": "mutation_id_reused", "details": []})
        first = prior["result"]
        if isinstance(first, Result):
            status, stored, entity = first.status, first.stored(), first.entity
        else:
            status, stored = prior["status"], first or {}
        spec = get_entity(entity or "")
        # the record as it stands (within this batch: the very row object, so a serial taken at the end shows)
        row = (self._rows.get((spec.name, m.record_id)) or self._load(spec, m.record_id)) if spec else None
        if row is not None and not self.actor.contains(row["org_code"]):
            row = None
        return Result(m.mutation_id, "duplicate", entity, row=row, conflicts=stored.get("conflicts") or [],
                      conflict_id=stored.get("conflict_id"), error=stored.get("error"), original_status=status,
                      org_code=stored.get("org_code") or "")


class _SentFields(dict):
    """A create's fields as a row, each parsed when first read (``_lock_counters``: a serial counter's name reads
    one or two of them)."""

    def __init__(self, spec: EntitySpec, sent: dict):
        super().__init__()
        self._spec, self._sent = spec, sent

    def __missing__(self, name: str) -> Any:
        raw = self._sent.get(name)
        ftype = self._spec.fields.get(name) if name != "org_code" else None
        value = ftype.load(raw) if ftype is not None and raw is not None else raw
        self[name] = value
        return value

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        value = self[name]
        return default if value is None else value


def _merge_created(spec: EntitySpec, incoming: dict, row: dict) -> dict | None:
    """The group's values merged with the stored ones (``fields.merge_created``), or None on a real clash."""
    try:
        return {f: merge_created(spec.fields[f], row.get(f), v) for f, v in incoming.items()}
    except Clash:
        return None
