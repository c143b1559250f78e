"""Many new rows into one table at once: the push's records, history, feed rows and stored answers.

SQLite: one ``INSERT … VALUES (?, …)`` handed to the driver's ``executemany`` (it loops over one prepared
statement in C) with the rows as tuples. Through ``conn.execute(table.insert(), rows)`` SQLAlchemy built each
row's parameters again (``construct_params``, its bind processors per row): ~10 % of a push's CPU (py-spy).
PostgreSQL: ``COPY … FROM STDIN``. psycopg's ``executemany`` sends each row as its own message in a pipeline,
with its own parameter checks and prepare bookkeeping: in-process, 22–27 µs of CPU per row against 6–8 µs for
COPY (docs/performance.md). Either way the values go through the columns' own bind processors first (JSON
wrapped the way SQLAlchemy wraps it, timestamps checked), a column no row names takes its Python default as in
``table.insert()``, so the stored forms are the same, and a driver error arrives as SQLAlchemy's
(``IntegrityError`` …) like that of any statement.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

_Plan = tuple[str, Callable[[Sequence[dict]], list[tuple]]]
_PLANS: dict[tuple, Any] = {}


def insert(conn: Connection, table: sa.Table, rows: Sequence[dict], *, only_columns: bool = False) -> None:
    """Insert ``rows`` (dicts of column values; every row may name other columns): a column a row lacks takes
    its Python default, else NULL — as ``conn.execute(table.insert(), rows)`` would. ``only_columns``: keys that
    are not columns of ``table`` are left out (else they raise ``KeyError``)."""
    if not rows:
        return
    keys = set().union(*rows)
    names = tuple(c.name for c in table.columns if c.name in keys)
    if not only_columns and len(names) != len(keys):
        raise KeyError(sorted(keys - set(names))[0])
    sql, encode = _plan(conn, table, names)
    if conn.dialect.name != "postgresql":
        conn.exec_driver_sql(sql, encode(rows))
        return
    import psycopg

    try:
        raw: Any = conn.connection.dbapi_connection  # a psycopg connection, in SQLAlchemy's transaction
        with raw.cursor() as cur:
            # statement listeners (logging, the tests' SQL watchers) see the COPY like any other statement
            conn.dispatch.before_cursor_execute(conn, cur, sql, (), None, True)
            with cur.copy(sql) as copy:
                for values in encode(rows):
                    copy.write_row(values)
    except psycopg.Error as e:
        raise sa.exc.DBAPIError.instance(sql, None, e, psycopg.Error) from e


def add_counts(conn: Connection, table: sa.Table, keys: Sequence[str], count: str, rows: Sequence[dict]) -> None:
    """Upsert ``rows`` (distinct ``keys``, every row the same columns) adding their ``count`` to the stored one.

    PostgreSQL: one statement of one array per column (``INSERT … SELECT * FROM unnest(…) ON CONFLICT … DO
    UPDATE``), a third of the CPU of an ``executemany`` of the upsert per row (the dashboard summaries: about two
    rows per new case). SQLite: the upsert handed to the driver's ``executemany`` with the rows encoded as
    ``insert`` encodes them (SQLAlchemy's ``executemany`` built each row's parameters in Python)."""
    if not rows:
        return
    names = tuple(rows[0])  # the conflict keys, the count and any other column the rows carry
    pg = conn.dialect.name == "postgresql"
    plan_key = ("add", conn.dialect.name, table.name, names)
    plan = _PLANS.get(plan_key)
    if plan is None:
        prep = conn.dialect.identifier_preparer
        cols = [table.c[n] for n in names]
        if pg:
            arrays = ", ".join(f"%s::{re.sub(r' COLLATE .*$', '', c.type.compile(dialect=conn.dialect))}[]"
                               for c in cols)
            source = f"SELECT * FROM unnest({arrays})"
        else:
            source = f"VALUES ({', '.join('?' for _ in cols)})"
        target, col = prep.format_table(table), prep.format_column(table.c[count])
        sql = (f"INSERT INTO {target} ({', '.join(prep.format_column(c) for c in cols)}) {source} "
               f"ON CONFLICT ({', '.join(prep.format_column(table.c[k]) for k in keys)}) "
               f"DO UPDATE SET {col} = {target}.{col} + excluded.{col}")
        plan = _PLANS[plan_key] = (sql, None if pg else _encoder(cols, conn.dialect))
    sql, encode = plan
    if pg:
        conn.exec_driver_sql(sql, tuple([row[n] for row in rows] for n in names))
    else:
        conn.exec_driver_sql(sql, encode(rows))


def _plan(conn: Connection, table: sa.Table, names: tuple[str, ...]) -> _Plan:
    """The statement and the encoder of its rows (the rows' keys, then the columns none names that have a Python
    default): built once per table and set of keys."""
    dialect = conn.dialect
    key = (dialect.name, table.name, names)
    plan = _PLANS.get(key)
    if plan is None:
        prep = dialect.identifier_preparer
        cols = [table.c[n] for n in names] + [c for c in table.columns if c.name not in names and c.default is not None]
        columns = ", ".join(prep.format_column(c) for c in cols)
        if dialect.name == "postgresql":
            sql = f"COPY {prep.format_table(table)} ({columns}) FROM STDIN"
        else:  # the qmark style of sqlite3
            sql = f"INSERT INTO {prep.format_table(table)} ({columns}) VALUES ({', '.join('?' for _ in cols)})"
        plan = _PLANS[key] = (sql, _encoder(cols, dialect))
    return plan


def _encoder(cols: list[sa.Column], dialect: Any) -> Callable[[Sequence[dict]], list[tuple]]:
    """``rows → [tuple of stored values]`` for these columns, as one generated comprehension: per value, the row's
    value (absent: the column's Python default, else None), through the column's bind processor unless None.
    A function call per value (the loop this replaces) was a third of the time of inserting a push's records."""
    env: dict[str, Any] = {}
    parts = []
    for i, c in enumerate(cols):
        name = repr(c.name)
        default, process = _python_default(c), c.type.dialect_impl(dialect).bind_processor(dialect)
        value = f"row.get({name})"
        if default is not None:
            env[f"d{i}"] = default
            value = f"(row[{name}] if {name} in row else d{i}())"
        if process is not None:
            env[f"p{i}"] = process
            value = f"(None if (v := {value}) is None else p{i}(v))"
        parts.append(value)
    source = f"def encode(rows):\n    return [({', '.join(parts)},) for row in rows]\n"
    exec(compile(source, f"<bulk encoder of {cols[0].table.name}>", "exec"), env)  # noqa: S102 (our own text)
    return env["encode"]


def _python_default(col: sa.Column) -> Callable[[], Any] | None:
    """What SQLAlchemy fills in for a column a row lacks: its scalar or callable Python default."""
    default: Any = col.default
    if default is None:
        return None
    if default.is_scalar:
        return lambda: default.arg
    if default.is_callable:
        return lambda: default.arg(None)  # SQLAlchemy wraps a no-argument callable to take a context
    raise ValueError(f"bulk.insert cannot fill {col.table.name}.{col.name}: its default is SQL; send the column")
