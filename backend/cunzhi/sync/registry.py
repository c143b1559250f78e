"""Entity registration: the only way a record type joins sync.

A domain describes its entity once — table, wire fields and their types, field groups, who may write
what, the cross-field rules, personal-data paths — and the engine does push, pull, merge, conflicts,
tombstones, history and masking for it. Nothing about sync is written inside a domain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from cunzhi.core.errors import FieldError
from cunzhi.core.scope import Scope
from cunzhi.sync.fields import FieldType

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
    settings: dict[str, Any]  # county settings of the record's county
    cache: dict = field(default_factory=dict)  # memo shared by the mutations of one push


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
    # list-of-object field -> the keys in each item that are personal data
    personal: dict[str, tuple[str, ...]] = field(default_factory=dict)
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
    computed: Callable[[dict, date], dict] | None = None
    # resolve org_code on create from a parent (e.g. a case event takes its case's)
    derive_org: Callable[[Connection, dict], str | None] | None = None

    @property
    def table(self) -> sa.Table:
        return self.model.__table__  # type: ignore[attr-defined]

    def group_of(self, field_name: str) -> tuple[str, ...]:
        for g in self.groups:
            if field_name in g:
                return g
        return (field_name,)

    def all_groups(self) -> list[tuple[str, ...]]:
        seen: list[tuple[str, ...]] = []
        for f in self.fields:
            g = self.group_of(f)
            if g not in seen:
                seen.append(g)
        return seen

    def output_fields(self) -> tuple[str, ...]:
        return COMMON_FIELDS + tuple(f for f in self.fields if f != "org_code") + self.server_fields


_REGISTRY: dict[str, EntitySpec] = {}
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


def register(spec: EntitySpec) -> EntitySpec:
    _REGISTRY[spec.name] = spec
    return spec


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

    from cunzhi.domains import CHANGE_LISTENERS, DOMAINS

    for module in DOMAINS:
        importlib.import_module(module)
    for target in CHANGE_LISTENERS:
        module, _, name = target.partition(":")
        register_change_listener(getattr(importlib.import_module(module), name))
    _LOADED = True
