"""What a push is made of: a mutation, its result, a rejection; the envelope checks and small helpers."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from cunzhi.core.errors import FieldError
from cunzhi.sync.fields import Invalid, parse_datetime, parse_uuid
from cunzhi.sync.registry import EntitySpec
from cunzhi.sync.schemas import CLIENT_ID_MAX, ENTITY_MAX, MAX_REV, UUID_PATTERN

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


class PushBody:
    """A push body read by ``read_push``: its mutations, or what is wrong with it (a 422 for the whole push). A plain
    class, not a dataclass: pydantic then has no schema of its own to document beside ``schemas.PushIn``."""

    __slots__ = ("client_id", "mutations", "errors")

    def __init__(self, client_id: str, mutations: list[Mutation], errors: list[FieldError]):
        self.client_id, self.mutations, self.errors = client_id, mutations, errors


# fullmatch, not "$": Python's "$" also matches before a final newline, the schema's (pydantic's Rust regex) does not
_UUID = re.compile(UUID_PATTERN.removeprefix("^").removesuffix("$"))
_OPS = ("upsert", "delete")
_ABSENT = object()


def read_push(body: Any) -> PushBody:
    """The push body judged as the schema (``schemas.PushIn``) judges it — the same details in the same order, as the
    validation handler (core/errors.py) words pydantic's — and made into mutations in the same pass. Pydantic's model
    of every mutation, then a Mutation copied from each, was ~4 % of a push's server CPU (docs/performance.md)."""
    if not isinstance(body, dict):
        return PushBody("", [], [FieldError("body", "invalid_type")])
    errors: list[FieldError] = []
    client_id = body.get("client_id", _ABSENT)
    if client_id is _ABSENT:
        errors.append(FieldError("client_id", "required"))
    elif not isinstance(client_id, str):
        errors.append(FieldError("client_id", "invalid_type"))
    elif not client_id:
        errors.append(FieldError("client_id", "too_short"))
    elif len(client_id) > CLIENT_ID_MAX:
        errors.append(FieldError("client_id", "too_long"))
    items = body.get("mutations", _ABSENT)
    mutations: list[Mutation] = []
    if items is _ABSENT:
        errors.append(FieldError("mutations", "required"))
    elif not isinstance(items, list):
        errors.append(FieldError("mutations", "invalid_type"))
    else:
        for i, item in enumerate(items):
            m = _read_mutation(item, f"mutations.{i}", errors)
            if m is not None:
                mutations.append(m)
    return PushBody(client_id if isinstance(client_id, str) else "", mutations, errors)


def _read_mutation(m: Any, at: str, errors: list[FieldError]) -> Mutation | None:
    if not isinstance(m, dict):
        errors.append(FieldError(at, "invalid_type"))
        return None
    found = len(errors)
    mutation_id = _read_uuid(m, "mutation_id", at, errors)
    entity = m.get("entity", _ABSENT)
    if entity is _ABSENT:
        errors.append(FieldError(f"{at}.entity", "required"))
    elif not isinstance(entity, str):
        errors.append(FieldError(f"{at}.entity", "invalid_type"))
    elif len(entity) > ENTITY_MAX:
        errors.append(FieldError(f"{at}.entity", "too_long"))
    op = m.get("op", _ABSENT)
    if op is _ABSENT:
        errors.append(FieldError(f"{at}.op", "required"))
    elif op not in _OPS or not isinstance(op, str):
        errors.append(FieldError(f"{at}.op", "invalid_choice"))
    record_id = _read_uuid(m, "record_id", at, errors)
    base_rev = m.get("base_rev", _ABSENT)
    if base_rev is _ABSENT:
        errors.append(FieldError(f"{at}.base_rev", "required"))
    elif isinstance(base_rev, bool) or not isinstance(base_rev, int | float) or (
            isinstance(base_rev, float) and not base_rev.is_integer()):
        errors.append(FieldError(f"{at}.base_rev", "invalid_type"))  # 3 and 3.0, never true, "3" or 3.5
    elif not 0 <= base_rev <= MAX_REV:
        errors.append(FieldError(f"{at}.base_rev", "out_of_range"))
    fields = m.get("fields", _ABSENT)
    if fields is _ABSENT:
        fields = {}
    elif not isinstance(fields, dict):
        errors.append(FieldError(f"{at}.fields", "invalid_type"))
    if len(errors) > found:
        return None
    return Mutation(mutation_id, entity, op, record_id, int(base_rev), fields, m.get("client_time"),
                    m.get("base_epoch"), m.get("resolves_conflict"))


def _read_uuid(m: dict, name: str, at: str, errors: list[FieldError]) -> str:
    """A UUID in its canonical form (lower case, dashed): one device may spell an id another way."""
    value = m.get(name, _ABSENT)
    if value is _ABSENT:
        errors.append(FieldError(f"{at}.{name}", "required"))
    elif not isinstance(value, str) or not _UUID.fullmatch(value):
        errors.append(FieldError(f"{at}.{name}", "invalid_type"))
    elif len(value) == 36 and value.lower() == value:
        return value
    else:
        return str(uuid.UUID(value))
    return ""


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
