"""SQLite writers of one process queue on a lock and only its holder runs ``BEGIN IMMEDIATE`` (core/db.write_tx).

SQLite's own busy handler polls the database lock with sleeps that grow to 100 ms: a writer that arrived while
another wrote slept past the moment the lock came free (the audit rows of reads behind a push: the API mix's p99
at 100 requests/s was 200 ms instead of 70, docs/performance.md)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from cunzhi.core import db
from cunzhi.core.errors import is_busy


@pytest.fixture
def engine(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with db.write_tx(engine) as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    statements: list[tuple[str, str]] = []  # (thread name, statement) in the order the database got them
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cur, sql, *_: statements.append((threading.current_thread().name, sql)))
    event.listen(engine, "commit", lambda _c: statements.append((threading.current_thread().name, "COMMIT")))
    engine.statements = statements  # type: ignore[attr-defined]
    yield engine
    engine.dispose()


def test_a_second_writer_waits_in_the_process_not_in_sqlite(engine):
    inside, release = threading.Event(), threading.Event()

    def first() -> None:
        with db.write_tx(engine) as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
            inside.set()
            release.wait(10)

    def second() -> None:
        with db.write_tx(engine) as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (2)")

    a = threading.Thread(target=first, name="first")
    a.start()
    assert inside.wait(10)
    b = threading.Thread(target=second, name="second")
    b.start()
    b.join(0.3)
    # while the first writes, the second has not reached SQLite at all
    assert b.is_alive()
    assert [s for who, s in engine.statements if who == "second"] == []
    release.set()
    a.join(10)
    b.join(10)
    order = [(who, s.split()[0]) for who, s in engine.statements]
    assert order == [("first", "BEGIN"), ("first", "INSERT"), ("first", "COMMIT"),
                     ("second", "BEGIN"), ("second", "INSERT"), ("second", "COMMIT")]
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT n FROM t ORDER BY n").scalars().all() == [1, 2]


def test_a_writer_that_waits_too_long_is_told_busy_and_writes_nothing(engine, monkeypatch):
    monkeypatch.setattr(db, "SQLITE_WRITER_WAIT_S", 0.05)
    inside, release, failed = threading.Event(), threading.Event(), []

    def first() -> None:
        with db.write_tx(engine):
            inside.set()
            release.wait(10)

    a = threading.Thread(target=first)
    a.start()
    assert inside.wait(10)
    try:
        with pytest.raises(sa.exc.OperationalError) as err, db.write_tx(engine) as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (3)")
        failed.append(err.value)
    finally:
        release.set()
        a.join(10)
    assert is_busy(failed[0])  # answered 503 busy, as SQLite's own "database is locked"
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
