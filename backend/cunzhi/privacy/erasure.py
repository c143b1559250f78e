"""Erase a person's data: by record, or by an ID number across every record that names it.

Written against the tables: each registered entity's table, the change history (``record_history.changes``),
stored conflicts (``sync_conflict.fields``) and stored push answers (``sync_mutation.result``). Personal data is
found the way the engine finds it, by field type (``f.phone``, ``f.id_number``), at the top level of a record
(a household's ``phone`` and ``head_id_number``, a nominee's, an objector's ``contact``) or inside its nested
values (a case's ``parties``). A person is either a record's top-level personal fields or a nested item that
holds such fields: erasing them empties those fields (null), and in a nested item also replaces the name with
``ERASED_NAME`` and empties the address, keeping the item (its role, gender). Their names, numbers and
addresses are also cut out of the free text of the records concerned (a title, a description, an event's notes);
their ID and phone numbers (when erasing by ID number) out of every record of every type, where a personal field
holding one is emptied and text has it replaced with ``MASK``. Every record that changes gets a new ``rev``, an
``erase`` history entry (new values only) and a position in the change feed, and the change listeners
(webhooks) hear of it, as of any change the engine writes; phones replace their copies on the next pull. Files
attached to the records concerned are deleted. One audit row says who erased what (record ids only; never the
values).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cunzhi.attachments.models import Attachment
from cunzhi.attachments.service import path_for
from cunzhi.core.clock import today_shanghai, utcnow
from cunzhi.sync import state
from cunzhi.sync.fields import PERSONAL_KINDS, FieldType
from cunzhi.sync.models import RecordHistory, SyncConflict, SyncFeed, SyncMutation
from cunzhi.sync.registry import EntitySpec, change_listeners, entities, get_entity, rows_stored
from cunzhi.users.service import NOBODY, audit_event

log = logging.getLogger("cunzhi")

ERASED_NAME = "（已删除）"
MASK = "***"
# the untyped keys of a nested person that go with them (a party's name and address)
NAME_KEY, ADDRESS_KEY = "name", "address"
# columns never rewritten (ids, the org, the authors, merge metadata)
KEEP_COLUMNS = ("id", "org_code", "created_by", "updated_by", "field_meta")

history_t, conflict_t = RecordHistory.__table__, SyncConflict.__table__
mutation_t, feed_t, att_t = SyncMutation.__table__, SyncFeed.__table__, Attachment.__table__

Key = tuple[str, str]  # (entity, record id)


@dataclass
class Erased:
    records: list[tuple[str, str]] = field(default_factory=list)  # (entity, id) anonymised
    rows_scrubbed: int = 0
    attachments_deleted: int = 0
    files: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        return {"records": len(self.records), "rows_scrubbed": self.rows_scrubbed,
                "attachments_deleted": self.attachments_deleted}


def _text_columns(table: sa.Table) -> list[sa.Column]:
    return [c for c in table.columns if isinstance(c.type, (sa.String, sa.Text, sa.JSON)) or
            type(c.type).__name__ in ("JSONB", "JSON", "AutoString")]


def _personal_leaf(t: FieldType | None) -> bool:
    return t is not None and t.kind in PERSONAL_KINDS


def _nested_personal(t: FieldType | None) -> bool:
    return t is not None and bool(t.item) and t.personal


def _holds_person(types: dict[str, FieldType]) -> bool:
    """A record's fields or a nested item's keys: a person when a phone or ID number is typed directly in it."""
    return any(_personal_leaf(t) for t in types.values())


def _contains(value: Any, strings: set[str]) -> bool:
    return isinstance(value, str) and any(s in value for s in strings)


def _cut(value: Any, strings: set[str]) -> Any:
    """The value with each of ``strings`` replaced by ``MASK`` (in text, and in the text inside JSON)."""
    if not strings:
        return value
    if isinstance(value, dict):
        return {k: _cut(v, strings) for k, v in value.items()}
    if isinstance(value, list):
        return [_cut(v, strings) for v in value]
    if isinstance(value, str):
        for s in sorted(strings, key=len, reverse=True):
            if s in value:
                value = value.replace(s, MASK)
    return value


class _Scrubber:
    """Rewrites a record's values (stored row, history changes, conflict values), field by field, by type: the
    chosen people erased, the strings cut out."""

    def __init__(self, match_id: str | None):
        self.match_id = match_id  # None: every person in the records concerned
        self.strings: set[str] = set()
        self.top: set[Key] = set()  # records whose top-level person is erased

    def wants(self, types: dict[str, FieldType], d: dict) -> bool:
        if self.match_id is None:
            return True
        return any(t.kind == "id_number" and str(d.get(k) or "").upper() == self.match_id
                   for k, t in types.items())

    def _remember(self, value: Any) -> None:
        if isinstance(value, str) and len(value.strip()) >= 2 and value != ERASED_NAME and MASK not in value:
            self.strings.add(value)

    # ---- who: before anything changes --------------------------------------------------------------
    def decide_top(self, spec: EntitySpec, key: Key, row: dict | None, versions: list[dict]) -> None:
        """Is the record's own (top-level) person the one erased? Yes when erasing by record; by ID number, when
        the record names them now, or named them once and names nobody now (a number edited away stays erased
        with its phone; a record that now names someone else keeps them)."""
        if not _holds_person(spec.fields):
            return
        ids = [k for k, t in spec.fields.items() if t.kind == "id_number"]
        if self.match_id is None or (row is not None and self.wants(spec.fields, row)):
            self.top.add(key)
        elif (row is None or not any(row.get(k) for k in ids)) and any(self.wants(spec.fields, v) for v in versions):
            self.top.add(key)

    def collect(self, spec: EntitySpec, key: Key, fields: dict) -> None:
        """Remember the strings of the people this erasure is about, from a record's fields (or some of them)."""
        top = key in self.top or (self.match_id is not None and self.wants(spec.fields, fields))
        for name, value in fields.items():
            t = spec.fields.get(name)
            if value is None or t is None:
                continue
            if _personal_leaf(t):
                if top:
                    self._remember(value)
            elif _nested_personal(t):
                self._collect_nested(t, value)

    def _collect_nested(self, t: FieldType, value: Any) -> None:
        assert t.item is not None
        for d in value if isinstance(value, list) else [value]:
            if not isinstance(d, dict):
                continue
            if _holds_person(t.item) and self.wants(t.item, d):
                for k, kt in t.item.items():
                    if _personal_leaf(kt) or k in (NAME_KEY, ADDRESS_KEY):
                        self._remember(d.get(k))
            for k, kt in t.item.items():
                if _nested_personal(kt) and d.get(k) is not None:
                    self._collect_nested(kt, d[k])

    # ---- the rewrite ---------------------------------------------------------------------------------------
    def value(self, spec: EntitySpec | None, key: Key, name: str, value: Any, strings: set[str]) -> Any:
        """One field's value, erased where it is the person's, with ``strings`` cut out of its text."""
        t = spec.fields.get(name) if spec is not None else None
        if value is None:
            return value
        if _personal_leaf(t):
            return None if key in self.top or _contains(value, strings) else value
        if _nested_personal(t):
            return self._nested(t, value, strings)  # type: ignore[arg-type]
        return _cut(value, strings)

    def fields(self, spec: EntitySpec | None, key: Key, fields: dict, strings: set[str]) -> dict:
        return {k: self.value(spec, key, k, v, strings) for k, v in fields.items()}

    def _nested(self, t: FieldType, value: Any, strings: set[str]) -> Any:
        if isinstance(value, list):
            return [self._item(t.item or {}, x, strings) for x in value]
        return self._item(t.item or {}, value, strings)

    def _item(self, item: dict[str, FieldType], d: Any, strings: set[str]) -> Any:
        if not isinstance(d, dict):
            return _cut(d, strings)
        erase = _holds_person(item) and self.wants(item, d)
        out: dict[str, Any] = {}
        for k, v in d.items():
            kt = item.get(k)
            if erase and (_personal_leaf(kt) or k == ADDRESS_KEY):
                out[k] = None
            elif erase and k == NAME_KEY:
                out[k] = ERASED_NAME if v else v
            elif _personal_leaf(kt):
                out[k] = None if _contains(v, strings) else v
            elif _nested_personal(kt) and v is not None:
                out[k] = self._nested(kt, v, strings)  # type: ignore[arg-type]
            else:
                out[k] = _cut(v, strings)
        return out

    def conflict_values(self, spec: EntitySpec | None, key: Key, entries: Any, strings: set[str]) -> Any:
        """Conflict values (``[{field, client_value, server_value}]``), in a stored conflict or a push answer."""
        if not isinstance(entries, list):
            return _cut(entries, strings)
        out = []
        for e in entries:
            if isinstance(e, dict) and isinstance(e.get("field"), str):
                e = {k: (self.value(spec, key, e["field"], v, strings) if k in ("client_value", "server_value")
                         else v) for k, v in e.items()}
            out.append(_cut(e, strings))
        return out

    def stored(self, t: sa.Table, spec: EntitySpec | None, key: Key, r: dict, strings: set[str]) -> tuple[str, Any]:
        """A history, conflict or stored-answer row of the record: its column and that column's new value."""
        if t is history_t:
            return "changes", self.fields(spec, key, r["changes"] or {}, strings)
        if t is conflict_t:
            return "fields", self.conflict_values(spec, key, r["fields"], strings)
        res = r["result"]
        if isinstance(res, dict):
            return "result", {k: (self.conflict_values(spec, key, v, strings) if k == "conflicts"
                                  else _cut(v, strings)) for k, v in res.items()}
        return "result", _cut(res, strings)

    def versions(self, t: sa.Table, r: dict) -> list[dict]:
        """The field values a history, conflict or stored-answer row holds, as ``{field: value}`` dicts."""
        if t is history_t:
            return [r["changes"] or {}]
        entries = r["fields"] if t is conflict_t else (r["result"] or {}).get("conflicts") \
            if isinstance(r["result"], dict) else None
        out = []
        for e in entries or []:
            if isinstance(e, dict) and isinstance(e.get("field"), str):
                out += [{e["field"]: e.get("client_value")}, {e["field"]: e.get("server_value")}]
        return out


def erase_record(conn: Connection, entity: str, record_id: str, by: str | None = None,
                 reason: str = "") -> Erased:
    """Anonymise every person of one record (and its child records), wherever they are kept."""
    spec = _spec(entity)
    if conn.execute(sa.select(spec.table.c.id).where(spec.table.c.id == record_id)).first() is None:
        raise LookupError(f"{entity} {record_id} not found")
    return _erase(conn, [(spec, record_id)], _Scrubber(None), by, "erase_record", reason)


def erase_id_number(conn: Connection, id_number: str, by: str | None = None, reason: str = "") -> Erased:
    """Anonymise the person with this ID number in every record (and history…) that names them."""
    id_number = id_number.strip().upper()
    if len(id_number) < 6:
        raise ValueError("an ID number is 18 characters")
    found: list[tuple[EntitySpec, str]] = []
    for spec in entities().values():
        if not spec.personal_fields:
            continue
        t = spec.table
        cond = sa.or_(*[sa.cast(t.c[f], sa.Text).like(f"%{id_number}%") for f in spec.personal_fields])
        found += [(spec, rid) for rid in conn.execute(sa.select(t.c.id).where(cond)).scalars()]
    # a record that no longer names them (a party edited away) may still hold them in its history or conflicts
    found += _named_in_stored(conn, {id_number}, {(s.name, rid) for s, rid in found})
    return _erase(conn, found, _Scrubber(id_number), by, "erase_id_number", reason, extra={id_number})


def _named_in_stored(conn: Connection, strings: set[str], known: set[Key]) -> list[tuple[EntitySpec, str]]:
    """Records whose history, conflicts or stored answers hold one of ``strings``."""
    out: list[tuple[EntitySpec, str]] = []
    for t, col in ((history_t, history_t.c.changes), (conflict_t, conflict_t.c.fields), (mutation_t, mutation_t.c.result)):
        for s in sorted(strings):
            for ent, rid in conn.execute(sa.select(t.c.entity, t.c.record_id).where(
                    sa.cast(col, sa.Text).like(f"%{s}%")).distinct()):
                spec = get_entity(ent)
                if spec is not None and (ent, rid) not in known:
                    known.add((ent, rid))
                    out.append((spec, rid))
    return out


def _holding(conn: Connection, strings: set[str], known: set[Key]) -> list[tuple[EntitySpec, str]]:
    """Records of every type that hold one of ``strings`` anywhere (their row, history, conflicts, answers)."""
    out: list[tuple[EntitySpec, str]] = []
    for spec in entities().values():
        t = spec.table
        cols = [c for c in _text_columns(t) if c.name not in KEEP_COLUMNS]
        for s in sorted(strings):
            cond = sa.or_(*[sa.cast(c, sa.Text).like(f"%{s}%") for c in cols])
            for rid in conn.execute(sa.select(t.c.id).where(cond)).scalars():
                if (spec.name, rid) not in known:
                    known.add((spec.name, rid))
                    out.append((spec, rid))
    return out + _named_in_stored(conn, strings, known)


def _spec(entity: str) -> EntitySpec:
    spec = get_entity(entity)
    if spec is None:
        raise LookupError(f"unknown entity {entity}")
    return spec


def _load(conn: Connection, spec: EntitySpec, rid: str) -> dict | None:
    row = conn.execute(sa.select(spec.table).where(spec.table.c.id == rid)).mappings().first()
    return dict(row) if row is not None else None


def _children(conn: Connection, spec: EntitySpec, record_id: str) -> list[tuple[EntitySpec, str]]:
    out = []
    for child in entities().values():
        for fk in child.table.foreign_keys:
            if fk.column.table.name == spec.table.name:
                out += [(child, rid) for rid in conn.execute(sa.select(child.table.c.id).where(
                    fk.parent == record_id)).scalars()]
    return out


def _erase(conn: Connection, targets: list[tuple[EntitySpec, str]], scrub: _Scrubber, by: str | None,
           action: str, reason: str, extra: set[str] | None = None) -> Erased:
    result = Erased()
    records: list[tuple[EntitySpec, str]] = []
    for spec, rid in targets:
        for pair in [(spec, rid), *_children(conn, spec, rid)]:
            if pair not in records:
                records.append(pair)
    if not records:
        return result
    # 1. who: the people's strings, from the records, their history, conflicts and answers (before any change)
    keys = {(s.name, rid) for s, rid in records}
    specs = {s.name: s for s, _ in records}
    rows: dict[Key, dict | None] = {(s.name, rid): _load(conn, s, rid) for s, rid in records}
    stored = {t: list(_rows_of(conn, t, keys)) for t in (history_t, conflict_t, mutation_t)}
    versions: dict[Key, list[dict]] = {}
    for t, rs in stored.items():
        for r in rs:
            versions.setdefault((r["entity"], r["record_id"]), []).extend(scrub.versions(t, r))
    for spec, rid in records:
        key = (spec.name, rid)
        scrub.decide_top(spec, key, rows[key], versions.get(key, []))
        for v in ([rows[key]] if rows[key] else []) + versions.get(key, []):
            scrub.collect(spec, key, v)
    scrub.strings |= extra or set()
    strings: dict[Key, set[str]] = dict.fromkeys(keys, scrub.strings)
    # 2. erasing a person (by ID number): their ID and phone numbers go from every other record of every type
    # that holds them (those records get a new rev too). Erasing a record leaves the same people elsewhere alone.
    secrets_ = {s for s in scrub.strings if any(ch.isdigit() for ch in s) and len(s) >= 7}  # numbers only
    if scrub.match_id is not None and secrets_:
        for spec, rid in _holding(conn, secrets_, set(keys)):
            key = (spec.name, rid)
            records.append((spec, rid))
            strings[key] = secrets_
            specs[spec.name] = spec
            rows[key] = _load(conn, spec, rid)
        keys = {(s.name, rid) for s, rid in records}
        stored = {t: list(_rows_of(conn, t, keys)) for t in (history_t, conflict_t, mutation_t)}
    now = utcnow()
    actor = by or NOBODY
    changed_pairs: list[tuple[dict, dict]] = []
    # 3. the records: erased, a new rev and feed position, an "erase" history entry (new values only)
    for spec, rid in records:
        key = (spec.name, rid)
        current = rows[key]
        if current is None:
            continue
        row, t = current, spec.table
        changes = {}
        for column in _text_columns(t):
            if column.name in KEEP_COLUMNS or row[column.name] is None:
                continue
            new = scrub.value(spec, key, column.name, row[column.name], strings[key])
            if new != row[column.name]:
                changes[column.name] = new
        if not changes and strings[key] is secrets_ and key not in scrub.top:
            continue  # found by a number only in its history or answers: the record itself is unchanged
        rev = row["rev"] + 1
        conn.execute(t.update().where(t.c.id == rid).values(**changes, rev=rev, updated_at=now, updated_by=actor))
        seq = state.next_values(conn, "seq")
        # row observers (e.g. the dashboard's summaries), after seq like the push's
        rows_stored(conn, spec.name, [(dict(row), {**row, **changes, "rev": rev, "updated_at": now,
                                                    "updated_by": actor})])
        conn.execute(feed_t.delete().where(feed_t.c.entity == spec.name, feed_t.c.record_id == rid))
        conn.execute(feed_t.insert().values(entity=spec.name, record_id=rid, org_code=row["org_code"], seq=seq))
        entry = {"entity": spec.name, "record_id": rid, "org_code": row["org_code"], "rev": rev, "op": "erase",
                 "user_id": actor, "client_id": NOBODY, "mutation_id": None, "at": now,
                 "changes": {k: v for k, v in changes.items() if k in spec.fields},
                 "cause_entity": None, "cause_record_id": None}
        conn.execute(history_t.insert().values(**entry))
        changed_pairs.append((entry, {**row, **changes, "rev": rev, "updated_at": now, "updated_by": actor}))
        result.records.append((spec.name, rid))
    # 4. history, conflicts, stored answers of these records: the same people erased, strings cut out
    for t, rs in stored.items():
        pk = list(t.primary_key.columns)
        for r in rs:
            key = (r["entity"], r["record_id"])
            col, new = scrub.stored(t, specs.get(r["entity"]), key, r, strings.get(key, secrets_))
            if new != r[col]:
                conn.execute(t.update().where(*[c == r[c.name] for c in pk]).values({col: new}))
                result.rows_scrubbed += 1
    # 5. whoever listens to the engine's changes (webhook deliveries) hears of these, in this transaction
    if changed_pairs:
        for listener in change_listeners():
            listener(conn, changed_pairs)
    # 6. files attached to the records concerned (not to records that only held a number)
    ids = [rid for (ent, rid) in keys if strings[(ent, rid)] is scrub.strings]
    for chunk in range(0, len(ids), 500):
        doomed = list(conn.execute(sa.select(att_t.c.id).where(att_t.c.record_id.in_(ids[chunk:chunk + 500])))
                      .scalars())
        if doomed:
            conn.execute(att_t.delete().where(att_t.c.id.in_(doomed)))
            result.files += doomed
    result.attachments_deleted = len(result.files)
    audit_event(conn, actor, action, sorted({rid for _, rid in result.records}),
                {"reason": reason[:200], "records": len(result.records), "attachments": result.attachments_deleted})
    return result


def delete_files(erased: Erased) -> None:
    """After the commit: remove the erased records' files from disk."""
    for aid in erased.files:
        path_for(aid).unlink(missing_ok=True)


def _rows_of(conn: Connection, t: sa.Table, keys: set[tuple[str, str]]):
    ids = sorted({rid for _, rid in keys})
    for chunk in range(0, len(ids), 500):
        for r in conn.execute(sa.select(t).where(t.c.record_id.in_(ids[chunk:chunk + 500]))).mappings():
            if (r["entity"], r["record_id"]) in keys:
                yield dict(r)


def compact(engine) -> None:
    """Make erased bytes unrecoverable from the database files: SQLite rewrites its file (VACUUM) and
    empties the WAL; PostgreSQL vacuums the tables concerned (old row versions are reclaimed)."""
    tables = [s.table.name for s in entities().values()] + [history_t.name, conflict_t.name, mutation_t.name]
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()  # outside SQLAlchemy's BEGIN (VACUUM cannot run in a transaction)
        try:
            cur = raw.cursor()
            cur.execute("VACUUM")
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cur.close()
        finally:
            raw.close()
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for name in tables:
            conn.exec_driver_sql(f'VACUUM "{name}"')


def closed_before(years: int, today: date | None = None) -> date:
    today = today or today_shanghai()
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today - timedelta(days=365 * years)


def anonymise_closed(conn: Connection, years: int, today: date | None = None,
                     files: list[str] | None = None) -> int:
    """Retention: records closed (``ended_on``) more than ``years`` ago lose their personal data (their
    files' ids are added to ``files``, to delete after the commit)."""
    if years <= 0:
        return 0
    cutoff = closed_before(years, today)
    done = 0
    for spec in entities().values():
        t = spec.table
        if not spec.personal_fields or "ended_on" not in t.c:
            continue
        for row in conn.execute(sa.select(t).where(t.c.ended_on < cutoff)).mappings().all():
            scrub, key = _Scrubber(None), (spec.name, row["id"])
            scrub.decide_top(spec, key, dict(row), [])
            scrub.collect(spec, key, {f: row[f] for f in spec.personal_fields})
            if not scrub.strings:
                continue  # nothing personal left (already anonymised)
            erased = _erase(conn, [(spec, row["id"])], scrub, None, "retention_anonymise",
                            f"closed before {cutoff.isoformat()}")
            if files is not None:
                files += erased.files
            done += 1
    return done


def run_retention() -> dict:
    """Daily housekeeping: the retention rule, and login failure counters nobody added to for a day."""
    from cunzhi.core.config import get_settings
    from cunzhi.core.db import write_tx
    from cunzhi.users.service import purge_login_attempts

    files: list[str] = []
    with write_tx() as conn:
        count = anonymise_closed(conn, get_settings().personal_data_retention_years, files=files)
        attempts = purge_login_attempts(conn)
    delete_files(Erased(files=files))
    return {"records_anonymised": count, "login_counters_forgotten": attempts}
