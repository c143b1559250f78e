"""What a push is made of: a mutation, its result, a rejection; the envelope checks and small helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from cunzhi.core.errors import FieldError
from cunzhi.sync.fields import Invalid, parse_datetime, parse_uuid
from cunzhi.sync.registry import EntitySpec

DELETED = ("deleted",)
# answers not stored: the device sends the mutation again later (after the create / the parent)
NOT_STORED = ("unknown_record", "mutation_id_reused")


@dataclass
class Mutation:
    mutation_id: str
    entity: str
    op: str
    record_id: str
    base_rev: int
    fields: dict[str, Any]
    # judged per mutation (a bad one rejects this mutation only): any JSON value may arrive here
    client_time: Any = None
    base_epoch: Any = None
    resolves_conflict: Any = None

    @property
    def key(self) -> tuple[str, str, str]:
        """What a mutation id stands for: resent with another entity, record or op it is ``mutation_id_reused``."""
        return (_no_nul(self.entity or "")[:40], self.record_id, self.op)


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
    # the record's org unit when answered: conflict values are masked against it, also in a duplicate answer
    # (after the caller moved units, or the record is out of scope now)
    org_code: str | None = None

    def stored(self) -> dict:
        org = self.org_code or (self.row["org_code"] if self.row else None)
        return {"conflicts": self.conflicts, "conflict_id": self.conflict_id, "error": self.error, "org_code": org}


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



def _meta_key(group: tuple[str, ...]) -> str:
    return "+".join(group)


def _envelope_errors(m: Mutation) -> list[FieldError]:
    """The envelope fields judged per mutation (sync-protocol.md, Push 1): a bad one rejects this mutation."""
    errors = []
    if m.client_time is not None:
        try:
            parse_datetime(m.client_time)
        except Invalid:
            errors.append(FieldError("client_time", "invalid_datetime"))
    if m.base_epoch is not None and (not isinstance(m.base_epoch, str) or len(m.base_epoch) > 64
                                     or "\x00" in m.base_epoch):
        errors.append(FieldError("base_epoch", "invalid_type"))
    if m.resolves_conflict is not None:
        if not isinstance(m.resolves_conflict, str):
            errors.append(FieldError("resolves_conflict", "invalid_type"))
        else:
            try:
                parse_uuid(m.resolves_conflict)
            except Invalid:
                errors.append(FieldError("resolves_conflict", "conflict_unknown"))
    return errors


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
