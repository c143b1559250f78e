"""Entity registration: the only way a record type joins sync.

A domain describes its entity once — table, wire fields and their types, field groups, who may write
what, the cross-field rules, per-change permission, natural keys, the writes it derives — and the engine
does push, pull, merge, conflicts, tombstones, history and masking for it. Personal data and attachment
references are found by field type (``f.phone``, ``f.id_number``, ``f.attachment_ids``, nested in
``f.obj`` / ``f.object_list`` too). Nothing about sync is written inside a domain (docs/adding-a-record-type.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from cunzhi.core.errors import FieldError
from cunzhi.core.scope import Scope
from cunzhi.sync.fields import FieldType

# natural keys: id = uuid5(NATURAL_KEY_NS, natural_key(row)) (records.md, six_no_report)
NATURAL_KEY_NS = uuid.UUID("6f1c2a52-3d43-4e0b-9d2c-9a1f3b0c6e11")

# The engine itself, when it applies a derived write (sync-protocol.md, "Writes the server derives").
SYSTEM_USER_ID = "00000000-0000-5000-8000-000000000001"
SYSTEM_ACTOR = Scope(user_id=SYSTEM_USER_ID, username="system", role="system", org_code="",
                     client_id=SYSTEM_USER_ID)

COMMON_FIELDS = ("id", "org_code", "rev", "deleted", "created_at", "updated_at", "created_by", "updated_by")
SERVER_OWNED_COMMON = {"id", "rev", "deleted", "created_at", "updated_at", "created_by", "updated_by"}


@dataclass
class WriteContext:
    """What a rule sees while one mutation is judged."""

    conn: Connection
    actor: Scope
    op: str  # create | update | delete
    current: dict | None  # the stored row before this mutation (None on create)
    row: dict  # the row as it will be stored if the mutation is accepted
    changed: set[str]  # wire fields this mutation changes
    now: datetime
    today: date
    settings: Mapping[str, Any]  # county settings of the record's county
    cache: dict = field(default_factory=dict)  # memo shared by the mutations of one push
    # the mutation's own parsed fields (for ``authorize``: what the device asks to change)
    sent: dict = field(default_factory=dict)
    # the mutation being judged (its id), and for a derived write: the change that caused it
    mutation_id: str | None = None
    entity: str | None = None


@dataclass
class DerivedWrite:
    """A change the server makes because of another one (applied by the engine as ``SYSTEM_ACTOR``).

    ``fields`` are wire values (as a device would send them). ``create=True`` creates the record when it is
    absent (``fields`` then hold everything a create needs, ``org_code`` included); otherwise an absent record
    is left alone.
    """

    entity: str
    record_id: str
    fields: dict[str, Any]
    create: bool = False


@dataclass
class EntitySpec:
    name: str
    model: type[SQLModel]
    fields: dict[str, FieldType]
    required_on_create: set[str] = field(default_factory=set)
    groups: list[tuple[str, ...]] = field(default_factory=list)
    append_only: bool = False
    # op -> roles that may perform it (scope is checked separately)
    writers: dict[str, set[str]] = field(default_factory=dict)
    org_levels: tuple[str, ...] = ("village", "township")
    # fields the server adds to the stored row / the output (never accepted from a device)
    server_fields: tuple[str, ...] = ()
    # cross-field rules, after the merge: errors for the fields involved
    validate: Callable[[WriteContext], list[FieldError]] | None = None
    # derive values before validation (defaults, derived fields); may set row keys
    prepare: Callable[[WriteContext], None] | None = None
    # a serial number for new records (e.g. case numbers): the counter a new row draws from, and how the
    # number is written into the row; taken when the batch's new rows are inserted, one counter update per
    # counter, so a rejected create never consumes a number
    serial_counter: Callable[[dict], str] | None = None
    assign_serial: Callable[[dict, int], None] | None = None
    # error code when this record may not be deleted now (role/scope already checked)
    delete_rule: Callable[[WriteContext], str | None] | None = None
    # values computed on read (e.g. deadline_color); never stored
    computed: Callable[[Any, date], dict] | None = None  # (the stored row, a dict or RowMapping; today)
    # a child record (e.g. a case event of its case): (field naming the parent, parent entity). The child takes
    # the parent's org_code. A parent the server does not have, or one outside the caller's scope, answers
    # ``unknown_record`` (not stored: the device sends the child again after the parent); a deleted parent is
    # a ``validation_error`` with ``parent_missing`` on the field.
    parent: tuple[str, str] | None = None
    parent_missing: str = "parent_not_found"
    # one record per natural key: the id must be uuid5(NATURAL_KEY_NS, natural_key(row)) (row: parsed fields
    # + org_code); else ``validation_error`` ``id_not_derived``; two offline creates of one key merge
    natural_key: Callable[[dict], str] | None = None
    # per-change permission, before the merge: ctx.current (stored row or None), ctx.sent (parsed fields),
    # ctx.actor; an error code → the mutation is ``rejected`` ``forbidden``
    authorize: Callable[[WriteContext], str | None] | None = None
    # what each wire field means, for the OpenAPI record schema (``json_schema``): "中文标签 — English text";
    # keys are wire names, ``field.key`` for a key of a nested object or list item, and the names of server and
    # computed fields; the common fields (id, rev, …) are described once, in COMMON_DESCRIPTIONS
    descriptions: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # found by type once, so outputs and writes pay nothing for entities without them
        self.personal_fields: tuple[str, ...] = tuple(n for n, t in self.fields.items() if t.personal)
        self.attachment_fields: tuple[str, ...] = tuple(n for n, t in self.fields.items() if t.attachments)

    def personal_paths(self) -> list[str]:
        """Where personal data sits, as ``field`` or ``field.key`` (for /me and documentation)."""
        out: list[str] = []

        def visit(prefix: str, t: FieldType) -> None:
            if t.kind in ("phone", "id_number"):
                out.append(prefix)
            for k, sub in (t.item or {}).items():
                visit(f"{prefix}.{k}", sub)

        for name in self.personal_fields:
            visit(name, self.fields[name])
        return out

    def derived_id(self, row: dict) -> str | None:
        if self.natural_key is None:
            return None
        return str(uuid.uuid5(NATURAL_KEY_NS, self.natural_key(row)))

    @property
    def table(self) -> sa.Table:
        return self.model.__table__  # type: ignore[attr-defined]

    def group_of(self, field_name: str) -> tuple[str, ...]:
        for g in self.groups:
            if field_name in g:
                return g
        return (field_name,)

    def all_groups(self) -> list[tuple[str, ...]]:
        cached = self.__dict__.get("_all_groups")
        if cached is None:
            cached = []
            for f in self.fields:
                g = self.group_of(f)
                if g not in cached:
                    cached.append(g)
            self.__dict__["_all_groups"] = cached
        return cached

    def output_fields(self) -> tuple[str, ...]:
        return COMMON_FIELDS + tuple(f for f in self.fields if f != "org_code") + self.server_fields

    def describe(self, name: str) -> str:
        """The description of a wire field (``field.key`` for a nested key); personal data says so."""
        text = self.descriptions.get(name) or COMMON_DESCRIPTIONS.get(name) or ""
        top = self.fields.get(name.split(".", 1)[0])
        if top is not None and name in self.personal_paths():
            text += " (personal data: masked as 138****1234 / 340321********1234 for whoever may not see it)"
        return text

    def json_schema(self) -> dict[str, Any]:
        """The record as the read API, the feed and push answers give it: generated from the field types."""
        props: dict[str, Any] = {name: {**COMMON_SCHEMAS[name], "description": self.describe(name)}
                                 for name in COMMON_FIELDS}
        for name, ftype in self.fields.items():
            if name != "org_code":
                props[name] = _field_schema(self, name, ftype)
        for name in self.server_fields:
            props[name] = {"description": self.describe(name) or f"{name} (set by the server)"}
        for name in self.descriptions:  # computed on read (e.g. deadline_color)
            if "." not in name and name not in props:
                props[name] = {"description": self.describe(name)}
        return {"type": "object", "title": record_title(self.name), "properties": props,
                "required": ["id", "org_code", "rev", "deleted"],
                "description": f"A {self.name} record (fields on the wire; personal data masked by role)."}

    def json_example(self) -> dict[str, Any]:
        """An example record of this type, made from the field types."""
        out = {name: COMMON_EXAMPLES[name] for name in COMMON_FIELDS}
        for name, ftype in self.fields.items():
            if name != "org_code":
                out[name] = _example(ftype)
        return out


COMMON_DESCRIPTIONS = {
    "id": "记录ID — the record's id (a UUID the creating device chose)",
    "org_code": "所属单位 — the code of the org unit (village or township) the record belongs to",
    "rev": "版本 — the record's revision: 1 when created, +1 at every accepted change",
    "deleted": "已删除 — true for a deleted record (a tombstone: its fields are kept, it is hidden from lists)",
    "created_at": "创建时间 — when the server stored the record first (ISO 8601, UTC)",
    "updated_at": "更新时间 — when the server stored its last change (ISO 8601, UTC)",
    "created_by": "创建人 — the id of the user who created it",
    "updated_by": "更新人 — the id of the user who changed it last",
}
COMMON_SCHEMAS: dict[str, dict[str, Any]] = {
    "id": {"type": "string", "format": "uuid"}, "org_code": {"type": "string"}, "rev": {"type": "integer"},
    "deleted": {"type": "boolean"}, "created_at": {"type": "string", "format": "date-time"},
    "updated_at": {"type": "string", "format": "date-time"}, "created_by": {"type": ["string", "null"]},
    "updated_by": {"type": ["string", "null"]},
}
COMMON_EXAMPLES: dict[str, Any] = {
    "id": "0b6f3c1e-8a55-4d0e-9a53-5c2f0b0e7a11", "org_code": "340321108200", "rev": 3, "deleted": False,
    "created_at": "2026-11-20T01:30:00Z", "updated_at": "2026-11-21T02:00:00Z",
    "created_by": "9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f", "updated_by": "9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f",
}


def record_title(entity: str) -> str:
    """``mediation_case`` → ``MediationCaseRecord`` (the OpenAPI component of the record type)."""
    return "".join(part.title() for part in entity.split("_")) + "Record"


def _field_schema(spec: EntitySpec, path: str, ftype: FieldType) -> dict[str, Any]:
    """A wire field's schema: its type's, with nested keys for objects and list items; null allowed (a
    field not set, or emptied)."""
    schema = dict(ftype.schema)
    if ftype.item is not None:
        inner = {"type": "object", "properties": {k: _field_schema(spec, f"{path}.{k}", t)
                                                  for k, t in ftype.item.items()}}
        if ftype.kind == "obj":
            schema.update(inner)
        else:
            schema = {**schema, "type": "array", "items": inner}
    if "type" in schema:
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    return {**schema, "description": spec.describe(path)}


def _example(ftype: FieldType) -> Any:
    s = ftype.schema
    if ftype.kind == "phone":
        return "138****1234"
    if ftype.kind == "id_number":
        return "340321********1234"
    if ftype.item is not None:
        item = {k: _example(t) for k, t in ftype.item.items()}
        return item if ftype.kind == "obj" else [item]
    if s.get("enum"):
        return s["enum"][0]
    kind, fmt = s.get("type"), s.get("format")
    if fmt == "date":
        return "2026-11-20"
    if fmt == "date-time":
        return "2026-11-20T09:30:00+08:00"
    if fmt == "uuid":
        return "5f0c6d2e-1b7a-4c3d-9e8f-2a4b6c8d0e1f"
    if kind == "array":
        return []
    if kind == "boolean":
        return False
    if kind == "integer":
        return max(s.get("minimum", 1), min(1, s.get("maximum", 1)))
    if s.get("pattern", "").startswith("^\\d{1,12}"):
        return "1200.00"
    if kind == "string":
        return "示例"
    return None


_REGISTRY: dict[str, EntitySpec] = {}
_DERIVATIONS: dict[str, list[Callable[[WriteContext], list[DerivedWrite]]]] = {}
_LOADED = False
# called with (conn, [(history row, stored record), ...]) before a batch of changes commits (e.g. webhooks'
# outbox: written in the same transaction as the changes it announces)
ChangeListener = Callable[[Connection, list[tuple[dict, dict]]], None]
_LISTENERS: list[ChangeListener] = []


def register_change_listener(fn: ChangeListener) -> ChangeListener:
    if fn not in _LISTENERS:
        _LISTENERS.append(fn)
    return fn


def change_listeners() -> list[ChangeListener]:
    return _LISTENERS


# Row observers: told of every record of an entity as it is stored — by a push, a derived write, an erasure or
# any other path that writes the table — in the same transaction, as (row before or None, row after) pairs.
# Not synced and no rev of their own: for figures kept exact beside the records (the dashboard's summary
# tables). The push hands a batch's pairs over at its flush, after the batch's INSERT, so observers may write
# their own tables in bulk; paths outside the push call :func:`rows_stored` after their own write.
RowObserver = Callable[[Connection, str, list[tuple[dict | None, dict]]], None]
_OBSERVERS: dict[str, list[RowObserver]] = {}


def register_row_observer(on: str, fn: RowObserver) -> RowObserver:
    """``fn(conn, entity, [(old row or None, new row), ...])`` after rows of ``on`` are stored (a delete is a
    new row with ``deleted`` true). Registering the same function twice is a no-op."""
    fns = _OBSERVERS.setdefault(on, [])
    if fn not in fns:
        fns.append(fn)
    return fn


def unregister_row_observer(on: str, fn: RowObserver) -> None:
    fns = _OBSERVERS.get(on, [])
    if fn in fns:
        fns.remove(fn)


def row_observers(name: str) -> list[RowObserver]:
    load_entities()
    return _OBSERVERS.get(name) or []


def rows_stored(conn: Connection, entity: str, pairs: list[tuple[dict | None, dict]]) -> None:
    """Tell the entity's row observers that these rows were stored (a write path outside the push calls it
    after its own UPDATE/INSERT, in its transaction)."""
    if pairs:
        for fn in row_observers(entity):
            fn(conn, entity, pairs)


def register(spec: EntitySpec) -> EntitySpec:
    _REGISTRY[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove an entity and its derivations (tests register entities of their own)."""
    _REGISTRY.pop(name, None)
    _DERIVATIONS.pop(name, None)


def register_derivation(on: str, derive: Callable[[WriteContext], list[DerivedWrite]]) -> None:
    """After a mutation of entity ``on`` is accepted, ``derive(ctx)`` names the writes it causes.

    Called in the same transaction (ctx.row: the final stored row, ctx.current: the previous one, ctx.conn
    sees the new row); the engine applies the writes as ``SYSTEM_ACTOR`` (rev, history naming the cause,
    feed position, field revisions). Registering the same function twice is a no-op.
    """
    fns = _DERIVATIONS.setdefault(on, [])
    if derive not in fns:
        fns.append(derive)


def unregister_derivation(on: str, derive: Callable) -> None:
    fns = _DERIVATIONS.get(on, [])
    if derive in fns:
        fns.remove(derive)


def derivations(name: str) -> list[Callable[[WriteContext], list[DerivedWrite]]]:
    return _DERIVATIONS.get(name) or []


def get_entity(name: str) -> EntitySpec | None:
    load_entities()
    return _REGISTRY.get(name)


def entities() -> dict[str, EntitySpec]:
    load_entities()
    return dict(_REGISTRY)


def load_entities() -> None:
    """Import every domain named in ``cunzhi.domains.DOMAINS`` once (each registers its entities)."""
    global _LOADED
    if _LOADED:
        return
    import importlib

    from cunzhi.domains import CHANGE_LISTENERS, DOMAINS, ROW_OBSERVERS

    for module in DOMAINS:
        importlib.import_module(module)
    for target in CHANGE_LISTENERS:
        module, _, name = target.partition(":")
        register_change_listener(getattr(importlib.import_module(module), name))
    for target in ROW_OBSERVERS:
        module, _, name = target.partition(":")
        getattr(importlib.import_module(module), name)()
    _LOADED = True
