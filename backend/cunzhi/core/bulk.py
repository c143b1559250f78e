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

_Plan = tuple[str, tuple[str, ...], list[Callable[[Any], Any] | None], list[Callable[[], Any] | None]]
_PLANS: dict[tuple, Any] = {}


def insert(conn: Connection, table: sa.Table, rows: Sequence[dict]) -> None:
    """Insert ``rows`` (dicts of column values; every row may name other columns): a column a row lacks takes
    its Python default, else NULL — as ``conn.execute(table.insert(), rows)`` would."""
    if not rows:
        return
    names = tuple(dict.fromkeys(k for row in rows for k in row))
    sql, names, processors, defaults = _plan(conn, table, names)
    if conn.dialect.name != "postgresql":
        conn.exec_driver_sql(sql, [tuple([_value(row, n, p, d) for n, p, d in zip(names, processors, defaults, strict=True)])
                                   for row in rows])
        return
    import psycopg

    try:
        raw: Any = conn.connection.dbapi_connection  # a psycopg connection, in SQLAlchemy's transaction
        with raw.cursor() as cur:
            # statement listeners (logging, the tests' SQL watchers) see the COPY like any other statement
            conn.dispatch.before_cursor_execute(conn, cur, sql, (), None, True)
            with cur.copy(sql) as copy:
                for row in rows:
                    copy.write_row([_value(row, n, p, d) for n, p, d in zip(names, processors, defaults, strict=True)])
    except psycopg.Error as e:
        raise sa.exc.DBAPIError.instance(sql, None, e, psycopg.Error) from e


def add_counts(conn: Connection, table: sa.Table, keys: Sequence[str], count: str, rows: Sequence[dict]) -> bool:
    """PostgreSQL: upsert ``rows`` (distinct ``keys``, every row the same columns) adding their ``count`` to the
    stored one, in one statement
    of one array per column (``INSERT … SELECT * FROM unnest(…) ON CONFLICT … DO UPDATE``): a third of the CPU of
    an ``executemany`` of the upsert per row (the dashboard summaries: about two rows per new case). Answers False
    on another database: the caller runs its own upsert."""
    if conn.dialect.name != "postgresql":
        return False
    if not rows:
        return True
    names = tuple(rows[0])  # the conflict keys, the count and any other column the rows carry
    plan_key = ("add", table.name, names)
    sql = _PLANS.get(plan_key)
    if sql is None:
        prep = conn.dialect.identifier_preparer
        cols = [table.c[n] for n in names]
        arrays = ", ".join(f"%s::{re.sub(r' COLLATE .*$', '', c.type.compile(dialect=conn.dialect))}[]" for c in cols)
        target, col = prep.format_table(table), prep.format_column(table.c[count])
        sql = _PLANS[plan_key] = (
            f"INSERT INTO {target} ({', '.join(prep.format_column(c) for c in cols)}) SELECT * FROM unnest({arrays}) "
            f"ON CONFLICT ({', '.join(prep.format_column(table.c[k]) for k in keys)}) "
            f"DO UPDATE SET {col} = {target}.{col} + excluded.{col}")
    conn.exec_driver_sql(sql, tuple([row[n] for row in rows] for n in names))
    return True


def _value(row: dict, name: str, process: Callable[[Any], Any] | None, default: Callable[[], Any] | None) -> Any:
    value = row[name] if name in row else (default() if default else None)
    return process(value) if process is not None and value is not None else value


def _plan(conn: Connection, table: sa.Table, names: tuple[str, ...]) -> _Plan:
    """The statement, its columns (the rows' keys, then the columns none names that have a Python default), each
    column's bind processor and Python default: built once per table and set of keys."""
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
        processors: list[Callable[[Any], Any] | None] = [c.type.dialect_impl(dialect).bind_processor(dialect)
                                                          for c in cols]
        defaults: list[Callable[[], Any] | None] = [_python_default(c) for c in cols]
        plan = _PLANS[key] = (sql, tuple(c.name for c in cols), processors, defaults)
    return plan


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
