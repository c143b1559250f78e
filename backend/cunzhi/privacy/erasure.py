"""Erase a person's data: by record, or by an ID number across every record that names it.

Written against the tables, not the sync engine's internals: each registered entity's table, the change
history (``record_history.changes``), stored conflicts (``sync_conflict.fields``) and stored push answers
(``sync_mutation.result``). A person is a dict with personal keys (``id_number``, ``phone``…) inside an
entity's personal list field (``parties``); erasing them keeps the item (its role, gender) and replaces the
name with ``ERASED_NAME`` and every other personal value with null. Their names, numbers and addresses are
also cut out of the free text of the records concerned (a title, a description, an event's notes); ID and
phone numbers (when erasing by ID number) are cut out of every row of every table. The records get a new ``rev`` and a position in the
change feed, so phones replace their copies on the next pull. Files attached to the records are deleted.
One audit row says who erased what (record ids only; never the values).
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
from cunzhi.sync.models import RecordHistory, SyncConflict, SyncFeed, SyncMutation
from cunzhi.sync.registry import EntitySpec, entities, get_entity, rows_stored
from cunzhi.users.service import NOBODY, audit_event

log = logging.getLogger("cunzhi")

ERASED_NAME = "（已删除）"
MASK = "***"
PERSON_KEYS = ("name", "phone", "id_number", "address")
SECRET_KEYS = ("phone", "id_number")  # unique enough to cut out of every table

history_t, conflict_t = RecordHistory.__table__, SyncConflict.__table__
mutation_t, feed_t, att_t = SyncMutation.__table__, SyncFeed.__table__, Attachment.__table__


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


def _is_person(d: dict) -> bool:
    return any(k in d for k in SECRET_KEYS)


class _Scrubber:
    """Rewrites JSON values and text: the chosen people anonymised, their strings cut out."""

    def __init__(self, match_id: str | None):
        self.match_id = match_id  # None: every person in the value
        self.strings: set[str] = set()

    def wants(self, person: dict) -> bool:
        if self.match_id is None:
            return True
        return str(person.get("id_number") or "").upper() == self.match_id

    def collect(self, value: Any) -> None:
        """Remember the strings of the people this erasure is about (before anonymising them)."""
        if isinstance(value, dict):
            if _is_person(value) and self.wants(value):
                self.strings.update(str(value[k]) for k in PERSON_KEYS if isinstance(value.get(k), str)
                                    and len(value[k].strip()) >= 2 and value[k] != ERASED_NAME)
            for v in value.values():
                self.collect(v)
        elif isinstance(value, list):
            for v in value:
                self.collect(v)

    def apply(self, value: Any, strings: set[str] | None = None, people: bool = True) -> Any:
        """``people``: anonymise the matching person dicts too (else only cut the strings out)."""
        strings = self.strings if strings is None else strings
        if isinstance(value, dict):
            if people and _is_person(value) and self.wants(value):
                value = {k: (ERASED_NAME if k == "name" and v else None if k in PERSON_KEYS else v)
                         for k, v in value.items()}
            return {k: self.apply(v, strings, people) for k, v in value.items()}
        if isinstance(value, list):
            return [self.apply(v, strings, people) for v in value]
        if isinstance(value, str):
            for s in sorted(strings, key=len, reverse=True):
                if s in value:
                    value = value.replace(s, MASK)
            return value
        return value


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
    for t, col in ((history_t, history_t.c.changes), (conflict_t, conflict_t.c.fields)):
        for ent, rid in conn.execute(sa.select(t.c.entity, t.c.record_id).where(
                sa.cast(col, sa.Text).like(f"%{id_number}%")).distinct()):
            spec = get_entity(ent)
            if spec is not None and (spec, rid) not in found:
                found.append((spec, rid))
    return _erase(conn, found, _Scrubber(id_number), by, "erase_id_number", reason, extra={id_number})


def _spec(entity: str) -> EntitySpec:
    spec = get_entity(entity)
    if spec is None:
        raise LookupError(f"unknown entity {entity}")
    return spec


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
    # 1. who: the people's strings, from the records, their history and conflicts (before anything changes)
    keys = {(s.name, rid) for s, rid in records}
    for spec, rid in records:
        row = conn.execute(sa.select(spec.table).where(spec.table.c.id == rid)).mappings().first()
        if row:
            scrub.collect(dict(row))
    for t, col in ((history_t, "changes"), (conflict_t, "fields")):
        for r in _rows_of(conn, t, keys):
            scrub.collect(r[col])
    scrub.strings |= extra or set()
    secrets_ = {s for s in scrub.strings if any(ch.isdigit() for ch in s) and len(s) >= 7}  # numbers only
    now = utcnow()
    actor = by or NOBODY
    # 2. the records: anonymised, a new rev and feed position, an "erase" history entry (no values)
    for spec, rid in records:
        t = spec.table
        row = conn.execute(sa.select(t).where(t.c.id == rid)).mappings().first()
        if row is None:
            continue
        changes = {}
        for column in _text_columns(t):
            if column.name in ("id", "org_code", "created_by", "updated_by") or row[column.name] is None:
                continue
            new = scrub.apply(row[column.name])
            if new != row[column.name]:
                changes[column.name] = new
        rev = row["rev"] + 1
        conn.execute(t.update().where(t.c.id == rid).values(**changes, rev=rev, updated_at=now, updated_by=actor))
        seq = state.next_values(conn, "seq")
        # row observers (e.g. the dashboard's summaries), after seq like the push's
        rows_stored(conn, spec.name, [(dict(row), {**row, **changes, "rev": rev, "updated_at": now,
                                                    "updated_by": actor})])
        conn.execute(feed_t.delete().where(feed_t.c.entity == spec.name, feed_t.c.record_id == rid))
        conn.execute(feed_t.insert().values(entity=spec.name, record_id=rid, org_code=row["org_code"], seq=seq))
        conn.execute(history_t.insert().values(entity=spec.name, record_id=rid, org_code=row["org_code"], rev=rev,
                                               op="erase", user_id=actor, client_id=NOBODY, mutation_id=None, at=now,
                                               changes={k: v for k, v in changes.items() if k in spec.fields}))
        result.records.append((spec.name, rid))
    # 3. history, conflicts, stored answers of these records: the same people anonymised, strings cut out
    for t, col in ((history_t, "changes"), (conflict_t, "fields"), (mutation_t, "result")):
        pk = list(t.primary_key.columns)[0]
        for r in _rows_of(conn, t, keys):
            new = scrub.apply(r[col])
            if new != r[col]:
                conn.execute(t.update().where(pk == r[pk.name]).values({col: new}))
                result.rows_scrubbed += 1
    # 4. erasing a person (by ID number): their ID and phone numbers are cut out of every other row of every
    # table that could hold them. Erasing a record leaves the same people on other records alone.
    if scrub.match_id is not None:
        result.rows_scrubbed += _scrub_everywhere(conn, scrub, secrets_)
    # 5. files attached to these records
    ids = [rid for _, rid in records]
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


def _scrub_everywhere(conn: Connection, scrub: _Scrubber, secrets_: set[str]) -> int:
    if not secrets_:
        return 0
    changed = 0
    tables = [s.table for s in entities().values()] + [history_t, conflict_t, mutation_t]
    entity_of = {s.table.name: s.name for s in entities().values()}
    for t in tables:
        cols = [c for c in _text_columns(t) if c.name not in ("id", "org_code")]
        pk = list(t.primary_key.columns)[0]
        for s in secrets_:
            cond = sa.or_(*[sa.cast(c, sa.Text).like(f"%{s}%") for c in cols])
            for r in conn.execute(sa.select(t).where(cond)).mappings().all():
                values = {}
                for c in cols:
                    if r[c.name] is None:
                        continue
                    new = scrub.apply(r[c.name], secrets_, people=False)
                    if new != r[c.name]:
                        values[c.name] = new
                if values:
                    conn.execute(t.update().where(pk == r[pk.name]).values(**values))
                    if t.name in entity_of:
                        rows_stored(conn, entity_of[t.name], [(dict(r), {**r, **values})])
                    changed += 1
    return changed


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
            scrub = _Scrubber(None)
            scrub.collect({f: row[f] for f in spec.personal_fields})
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
