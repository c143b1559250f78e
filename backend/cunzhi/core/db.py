"""Engine, sessions and column types shared by every domain.

SQLite (WAL, foreign keys on) is the embedded default; PostgreSQL is production. Write transactions on
SQLite start with ``BEGIN IMMEDIATE`` so a push takes the single write lock up front instead of failing
half-way when it upgrades from a read; on PostgreSQL reads that must see one snapshot run REPEATABLE READ.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache, lru_cache

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from cunzhi.core.config import get_settings
from cunzhi.core import jsonx

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

# Org codes compare byte-wise on both databases so that a scope is a range scan on an index
# (``code >= prefix AND code < prefix || ':'``) whatever the database's locale.
OrgCodeType = sa.String(24).with_variant(postgresql.VARCHAR(24, collation="C"), "postgresql")
JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UUIDStr = sa.String(36)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        checkpoint = get_settings().sqlite_wal_autocheckpoint
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 10},
                                  json_serializer=jsonx.dumps, json_deserializer=jsonx.loads)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):  # pragma: no cover - trivial
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _sqlite_begin)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.execute(f"PRAGMA wal_autocheckpoint={int(checkpoint)}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection):
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")

        return engine
    settings = get_settings()
    return sa.create_engine(
        url,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=True,
        json_serializer=jsonx.dumps,
        json_deserializer=jsonx.loads,
        connect_args={"options": f"-c statement_timeout={settings.statement_timeout_ms} -c lock_timeout=10000"},
    )


def among(conn: Connection, column: sa.ColumnElement, values: list) -> sa.ColumnElement[bool]:
    """``column IN values`` for a batch of ids. On PostgreSQL one array parameter (``= ANY($1)``): an expanded
    IN of 500 placeholders is a new statement text for every count, which psycopg parses again each time
    (py-spy: a tenth of a push on PostgreSQL); SQLite keeps IN (it has no arrays)."""
    if conn.dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


def among_param(dialect: str, column: sa.ColumnElement, name: str) -> sa.ColumnElement[bool]:
    """:func:`among` with a named parameter, for statements built once and run with ``{name: [ids]}``."""
    if dialect == "postgresql":
        return column == sa.any_(sa.bindparam(name, type_=postgresql.ARRAY(column.type)))
    return column.in_(sa.bindparam(name, expanding=True))


def dicts(result: sa.Result) -> list[dict]:
    """A result's rows as plain dicts. ``dict(row_mapping)`` builds each row's keys in Python (36–45 µs per row of
    a case, against 25 µs for this): the output layer reads a row some 30 times, so rows become dicts once."""
    keys = tuple(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result]


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().resolved_database_url)


_ON_RESET: list[Callable[[], None]] = []


def on_reset_engine(forget: Callable[[], None]) -> None:
    """Call ``forget`` whenever the engine is reset: what a process keeps of one database's rows (the render
    cache) must not outlive the switch to another."""
    _ON_RESET.append(forget)


def reset_engine() -> None:
    """Forget the cached engine (tests and CLI switch databases)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    for forget in _ON_RESET:
        forget()


def is_postgres(conn_or_engine) -> bool:
    return conn_or_engine.dialect.name == "postgresql"


SQLITE_WRITER_WAIT_S = 10.0  # as long as SQLite's busy timeout: then the caller answers 503 busy


@contextmanager
def write_tx(engine: Engine | None = None) -> Iterator[Connection]:
    """One write transaction: the caller's unit of work commits once, or rolls back whole.

    On SQLite the writers of this process queue on a lock first, and only its holder runs ``BEGIN IMMEDIATE``.
    SQLite's own busy handler polls the database lock with sleeps that grow to 100 ms: an audit row waiting for a
    push slept past the write it waited for, and the API mix's p99 went from 70 to 200 ms (docs/performance.md).
    Other processes on the same file still meet the busy handler (``cunzhi serve --workers``, the CLI)."""
    engine = engine or get_engine()
    if is_postgres(engine):
        with engine.execution_options(write=True).begin() as conn:
            yield conn
        return
    lock = _sqlite_writer(engine)
    if not lock.acquire(timeout=SQLITE_WRITER_WAIT_S):
        raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))
    try:
        with engine.execution_options(write=True).begin() as conn:
            yield conn
    finally:
        lock.release()


_WRITERS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_WRITERS_GUARD = threading.Lock()


def _sqlite_writer(engine: Engine) -> threading.RLock:
    """The writer lock of one SQLite engine (re-entrant: a write inside a write meets SQLite's lock as before)."""
    lock = _WRITERS.get(engine)
    if lock is None:
        with _WRITERS_GUARD:
            lock = _WRITERS.setdefault(engine, threading.RLock())
    return lock


@contextmanager
def read_tx(engine: Engine | None = None) -> Iterator[Connection]:
    """A read transaction that sees one consistent snapshot across its statements."""
    engine = engine or get_engine()
    if is_postgres(engine):
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            with conn.begin():
                yield conn
    else:
        with engine.begin() as conn:
            yield conn


def scope_bounds(prefix: str) -> tuple[str, str]:
    """The org codes of the subtree of ``prefix``: [lo, hi) (codes are hierarchical prefixes of digits)."""
    return prefix, prefix + ":"


def scope_clause(column, prefix: str):
    """Rows whose org code lies in the subtree of ``prefix``."""
    lo, hi = scope_bounds(prefix)
    return sa.and_(column >= lo, column < hi)


MAX_ORG_BRANCHES = 32  # more org codes in a scope than this: one query over the range, sorted


@cache
def codes_in_scope(table: sa.Table) -> sa.Select:
    """The org codes of ``table`` in a scope (run with ``{"lo", "hi"}`` of ``scope_bounds``), at most
    ``MAX_ORG_BRANCHES + 1``: found by skipping through an index that starts with ``org_code`` (a recursive
    ``min``, one probe per code); built once per table.

    Neither database walks an (org_code, x) index in ``x`` order across a range of org codes: both read every row
    in the range and sort. Per code, the index is in ``x`` order, so a caller reads each code's first rows in order
    and merges them (the list API's pages, the pull's feed)."""
    oc = table.c.org_code
    in_scope = sa.and_(oc >= sa.bindparam("lo"), oc < sa.bindparam("hi"))
    found = sa.select(sa.func.min(oc).label("code")).where(in_scope).cte("codes", recursive=True)
    following = sa.select(sa.select(sa.func.min(oc)).where(oc > found.c.code, in_scope).scalar_subquery())
    found = found.union_all(following.where(found.c.code.is_not(None)))
    return sa.select(found.c.code).where(found.c.code.is_not(None)).limit(MAX_ORG_BRANCHES + 1)


def scope_codes(conn: Connection, table: sa.Table, lo: str, hi: str) -> list[str] | None:
    """The org codes of ``table`` in [``lo``, ``hi``) for a caller to walk one by one (``codes_in_scope``); None
    when there are more than ``MAX_ORG_BRANCHES``: then one query over the range is the better plan."""
    codes = list(conn.execute(codes_in_scope(table), {"lo": lo, "hi": hi}).scalars())
    return None if len(codes) > MAX_ORG_BRANCHES else codes
