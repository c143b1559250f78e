"""Many new rows into one table at once: the push's records, history, feed rows and stored answers.

SQLite: SQLAlchemy's ``executemany`` (the driver loops over one prepared statement in C).
PostgreSQL: ``COPY … FROM STDIN``. psycopg's ``executemany`` sends each row as its own message in a pipeline,
with its own parameter checks and prepare bookkeeping: in-process, 22–27 µs of CPU per row against 6–8 µs for
COPY (docs/performance.md). The values go through the columns' own bind processors first (JSON wrapped the way
SQLAlchemy wraps it, timestamps checked), so the stored forms are the same either way, and a driver error
arrives as SQLAlchemy's (``IntegrityError`` …) like that of any statement.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

_Plan = tuple[str, list[Callable[[Any], Any] | None], list[Callable[[], Any] | None]]
_PLANS: dict[tuple, _Plan] = {}


def insert(conn: Connection, table: sa.Table, rows: Sequence[dict]) -> None:
    """Insert ``rows`` (dicts of column values; every row may name other columns): a column a row lacks takes
    its Python default, else NULL — as ``conn.execute(table.insert(), rows)`` would."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        keys = set().union(*rows)
        # one executemany binds the keys of its first row only: give every row every key
        conn.execute(table.insert(), [row if len(row) == len(keys) else _filled(table, row, keys) for row in rows])
        return
    names = tuple(dict.fromkeys(k for row in rows for k in row))
    sql, processors, defaults = _plan(conn, table, names)
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


def _value(row: dict, name: str, process: Callable[[Any], Any] | None, default: Callable[[], Any] | None) -> Any:
    value = row[name] if name in row else (default() if default else None)
    return process(value) if process is not None and value is not None else value


def _filled(table: sa.Table, row: dict, keys: set[str]) -> dict:
    out = dict(row)
    for k in keys - row.keys():
        make = _python_default(table.c[k])
        out[k] = make() if make else None
    return out


def _plan(conn: Connection, table: sa.Table, names: tuple[str, ...]) -> _Plan:
    key = (table.name, names)
    plan = _PLANS.get(key)
    if plan is None:
        dialect = conn.dialect
        prep = dialect.identifier_preparer
        cols = [table.c[n] for n in names]
        sql = f"COPY {prep.format_table(table)} ({', '.join(prep.format_column(c) for c in cols)}) FROM STDIN"
        processors: list[Callable[[Any], Any] | None] = [c.type.dialect_impl(dialect).bind_processor(dialect)
                                                          for c in cols]
        defaults: list[Callable[[], Any] | None] = [_python_default(c) for c in cols]
        plan = _PLANS[key] = (sql, processors, defaults)
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
