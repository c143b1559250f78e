"""A record type registered from the tests only: proves what the engine offers every domain (derived writes,
derived ids, per-change permission, personal data and attachments found by type) without a domain of its own.

``test_report``: one per village and year (a derived id, like six_no_report), with a top-level phone, nested
ID numbers and attachment ids, a state only a township admin may certify, and ``red_cases`` — derived by the
server from the village's red-risk mediation cases (like a six-no indicator broken by an incident).
Its table is created directly in the test database (no migration: it is not part of the product).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cunzhi.core.db import JSONType
from cunzhi.mediation.models import MediationCase
from cunzhi.sync import fields as f
from cunzhi.sync import registry
from cunzhi.sync.record import SyncedRecord
from cunzhi.sync.registry import DerivedWrite, EntitySpec, WriteContext

NAME = "test_report"


class TestReport(SyncedRecord, table=True):
    __tablename__ = "test_report"
    __test__ = False

    year: int | None = None
    note: str | None = None
    state: str | None = None
    contact_phone: str | None = None
    items: list = Field(default_factory=list, sa_type=JSONType)
    photos: list = Field(default_factory=list, sa_type=JSONType)
    red_cases: int | None = None
    derived_note: str | None = None  # server field: written by derivations only


TABLE = TestReport.__table__
SQLModel.metadata.remove(TABLE)  # not part of the product's schema (migrations are checked against it)
case_t = MediationCase.__table__


def report_id(org_code: str, year: int) -> str:
    return str(uuid.uuid5(registry.NATURAL_KEY_NS, f"{NAME}/{org_code}/{year}"))


def _authorize(ctx: WriteContext) -> str | None:
    if ctx.sent.get("state") == "certified" and ctx.actor.role != "township_admin":
        return "only_township_certifies"
    return None


def _derive_red(ctx: WriteContext) -> list[DerivedWrite]:
    """A red-risk case counts toward its village's report of the year (created when absent)."""
    row, before = ctx.row, ctx.current or {}
    if row.get("risk_level") != "red" and before.get("risk_level") != "red":
        return []
    year = row["received_on"].year
    # counted through ctx.conn: the new row must be visible (batched inserts flushed before derive)
    n = ctx.conn.execute(sa.select(sa.func.count()).select_from(case_t).where(
        case_t.c.org_code == row["org_code"], case_t.c.risk_level == "red", case_t.c.deleted.is_(False),
        sa.extract("year", case_t.c.received_on) == year)).scalar_one()
    return [DerivedWrite(NAME, report_id(row["org_code"], year),
                         {"org_code": row["org_code"], "year": year, "red_cases": n,
                          "derived_note": f"case {row['id']}"}, create=True)]


SPEC = EntitySpec(
    name=NAME,
    model=TestReport,
    fields={
        "org_code": f.text(24),
        "year": f.integer(2000, 2100),
        "note": f.text(500),
        "state": f.choice(("open", "self_assessed", "certified")),
        "contact_phone": f.phone(),
        "items": f.object_list({"code": f.text(40, required=True), "contact_id": f.id_number(),
                                "attachment_ids": f.attachment_ids()}, required_keys=("code",)),
        "photos": f.attachment_ids(),
        "red_cases": f.integer(0, 10000),
    },
    required_on_create={"year"},
    writers={"create": {"mediator", "village_admin", "township_admin"},
             "update": {"mediator", "village_admin", "township_admin"}},
    server_fields=("derived_note",),
    natural_key=lambda row: f"{NAME}/{row['org_code']}/{row['year']}",
    authorize=_authorize,
)


@contextmanager
def installed(engine, derive: bool = True) -> Iterator[EntitySpec]:
    """The test entity registered (and its table created) for the duration of a test."""
    TABLE.create(engine, checkfirst=True)
    registry.register(SPEC)
    if derive:
        registry.register_derivation(on="mediation_case", derive=_derive_red)
    try:
        yield SPEC
    finally:
        registry.unregister_derivation("mediation_case", _derive_red)
        registry.unregister(NAME)
