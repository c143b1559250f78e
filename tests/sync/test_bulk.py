"""core/bulk.py: a batch of new rows (COPY on PostgreSQL, executemany on SQLite) stores exactly what
``conn.execute(table.insert(), rows)`` stores, fills what a row lacks the same way, and fails the same way."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel.sql.sqltypes import UTCDateTime

from cunzhi.core import bulk
from cunzhi.core.db import JSONType, OrgCodeType, get_engine

META = sa.MetaData()
T = sa.Table(
    "bulk_probe", META,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("org_code", OrgCodeType, nullable=False),
    sa.Column("n", sa.Integer),
    sa.Column("flag", sa.Boolean, nullable=False, default=False),
    sa.Column("day", sa.Date),
    sa.Column("at", UTCDateTime()),
    sa.Column("doc", JSONType),
    sa.Column("amount", sa.Numeric(14, 2)),
    sa.Column("note", sa.Text, default=lambda: "made by default"),
)
AT = datetime(2026, 11, 30, 6, 30, 15, 123456, tzinfo=timezone.utc)


def _rows(prefix: str) -> list[dict]:
    return [
        {"id": f"{prefix}1", "org_code": "340321108200", "n": 7, "flag": True, "day": date(2026, 2, 28), "at": AT,
         "doc": {"parties": [{"name": "张三", "phone": "13812345678"}], "tab": "a\tb\nc\\d", "big": 2 ** 70},
         "amount": Decimal("1200.50"), "note": "带\t制表符和\n换行"},
        # keys left out: their Python defaults (a scalar, a callable), else NULL
        {"id": f"{prefix}2", "org_code": "340321108200", "doc": [1, "二", None, {"k": True}]},
        {"id": f"{prefix}3", "org_code": "340321108200", "n": None, "doc": None, "note": None, "at": None},
    ]


def _read(conn, prefix: str) -> list[dict]:
    rows = conn.execute(sa.select(T).where(T.c.id.like(f"{prefix}%")).order_by(T.c.id)).mappings().all()
    return [{**r, "id": r["id"][len(prefix):]} for r in rows]


@pytest.fixture
def probe(database):
    engine = get_engine()
    META.create_all(engine)
    yield engine
    META.drop_all(engine)


def test_a_bulk_insert_stores_what_an_insert_stores(probe):
    with probe.begin() as conn:
        bulk.insert(conn, T, _rows("b-"))
        conn.execute(T.insert(), [_rows("c-")[0]])
        conn.execute(T.insert(), [_rows("c-")[1]])
        conn.execute(T.insert(), [_rows("c-")[2]])
    with probe.connect() as conn:
        got, want = _read(conn, "b-"), _read(conn, "c-")
    assert got == want
    assert got[0]["doc"]["tab"] == "a\tb\nc\\d" and got[0]["doc"]["big"] == 2 ** 70 and got[0]["at"] == AT
    assert (got[1]["flag"], got[1]["note"], got[1]["n"]) == (False, "made by default", None)
    assert got[2]["note"] is None and got[2]["doc"] is None


def test_a_column_no_row_names_takes_its_python_default_as_in_an_insert(probe):
    rows = [{"id": "1", "org_code": "340321108200", "n": 1}, {"id": "2", "org_code": "340321108200"}]
    with probe.begin() as conn:
        bulk.insert(conn, T, [{**r, "id": f"e-{r['id']}"} for r in rows])
        for r in rows:
            conn.execute(T.insert(), [{**r, "id": f"f-{r['id']}"}])
    with probe.connect() as conn:
        got, want = _read(conn, "e-"), _read(conn, "f-")
    assert got == want
    assert [(r["flag"], r["note"], r["n"]) for r in got] == [(False, "made by default", 1), (False, "made by default", None)]


def test_a_key_that_is_no_column_is_an_error_unless_left_out_on_purpose(probe):
    # the push hands over its records' working rows, which carry more than the table's columns
    with probe.begin() as conn:
        with pytest.raises(KeyError, match="extra"):
            bulk.insert(conn, T, [{"id": "x-1", "org_code": "340321108200", "extra": 1}])
        bulk.insert(conn, T, [{"id": "x-2", "org_code": "340321108200", "extra": 1, "n": 3}], only_columns=True)
        assert [(r["id"], r["n"], r["note"]) for r in _read(conn, "x-")] == [("2", 3, "made by default")]


def test_a_duplicate_key_is_sqlalchemys_integrity_error_and_stores_nothing(probe):
    with probe.begin() as conn:
        bulk.insert(conn, T, _rows("d-")[:1])
    with pytest.raises(sa.exc.IntegrityError), probe.begin() as conn:
        bulk.insert(conn, T, _rows("d-"))  # d-1 again, with two new rows
    with probe.connect() as conn:
        assert [r["id"] for r in _read(conn, "d-")] == ["1"]


COUNTS = sa.Table(
    "bulk_counts", META,
    sa.Column("unit", OrgCodeType, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("red", sa.Boolean, primary_key=True),
    sa.Column("n", sa.Integer, nullable=False),
)


def test_add_counts_adds_to_the_stored_counts(probe):
    rows = [{"unit": "340321108", "day": date(2026, 11, d), "red": d % 2 == 0, "n": d} for d in (1, 2, 3)]
    with probe.begin() as conn:
        bulk.add_counts(conn, COUNTS, ("unit", "day", "red"), "n", rows)
        bulk.add_counts(conn, COUNTS, ("unit", "day", "red"), "n", [{**rows[0], "n": -1}, {**rows[2], "n": 10},
                                                                    {**rows[2], "day": date(2026, 12, 1), "n": 5}])
    with probe.connect() as conn:
        got = conn.execute(sa.select(COUNTS.c.day, COUNTS.c.red, COUNTS.c.n).order_by(COUNTS.c.day)).all()
    assert [tuple(r) for r in got] == [(date(2026, 11, 1), False, 0), (date(2026, 11, 2), True, 2),
                                       (date(2026, 11, 3), False, 13), (date(2026, 12, 1), False, 5)]
