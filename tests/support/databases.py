"""Fresh, migrated databases for tests, on SQLite and (when CUNZHI_TEST_POSTGRES_URL is set) PostgreSQL.

The schema is built once per kind by running the Alembic migrations into a template, with the demo
county's org tree and accounts (no records); each test then gets its own copy: a file copy on SQLite,
``CREATE DATABASE … TEMPLATE`` on PostgreSQL.
"""

from __future__ import annotations

import os
import queue
import shutil
import threading
import uuid
from pathlib import Path

import sqlalchemy as sa

from cunzhi.core.config import get_settings
from cunzhi.core.db import reset_engine

PG_URL = os.environ.get("CUNZHI_TEST_POSTGRES_URL", "")
KINDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
_TEMPLATES: dict[str, str] = {}


def _pg_url(dbname: str) -> str:
    url = sa.make_url(PG_URL)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.set(database=dbname).render_as_string(hide_password=False)


def _pg_admin():
    return sa.create_engine(_pg_url("postgres"), isolation_level="AUTOCOMMIT")


def _seed(url: str, data_dir: Path) -> None:
    """Migrate, then load the org tree and the demo accounts (but no records)."""
    from cunzhi.core.db import write_tx
    from cunzhi.demo.service import ACCOUNTS, COUNTY, NS
    from cunzhi.migrate import upgrade
    from cunzhi.orgs.service import DEMO_SLICE, import_units, read_units
    from cunzhi.users.service import create_user
    from tests.support.device import PASSWORD

    use(url, data_dir)
    upgrade(url)
    with write_tx() as conn:
        import_units(conn, read_units(DEMO_SLICE, counties=[COUNTY]))
        for name, role, org, display in ACCOUNTS:
            create_user(conn, name, PASSWORD, role, org, display, user_id=str(uuid.uuid5(NS, f"user-{name}")))
        # a township-level mediator (sees village records masked) and a second village admin
        create_user(conn, "wanfu.mediator", PASSWORD, "mediator", "340321108", "万福镇调委会调解员")
        create_user(conn, "zhendong.admin", PASSWORD, "village_admin", "340321108201", "镇东村两委")
        # grid work (issue 7): the three demo grids of 万福村 (org units, not records); wanfucun.grid works two
        from cunzhi.demo.grid import ensure_grids

        ensure_grids(conn, [str(uuid.uuid5(NS, "user-wanfucun.grid"))], str(uuid.uuid5(NS, "user-wanfucun.admin")))
    reset_engine()


def use(url: str, data_dir: Path) -> None:
    """Point the application (settings and engine) at this database and data folder."""
    os.environ["CUNZHI_DATABASE_URL"] = url
    os.environ["CUNZHI_DATA_DIR"] = str(data_dir)
    os.environ["CUNZHI_SECRET_KEY"] = "test-secret-key-not-for-production"
    get_settings.cache_clear()
    reset_engine()


def template(kind: str, root: Path) -> str:
    if kind in _TEMPLATES:
        return _TEMPLATES[kind]
    if kind == "sqlite":
        path = root / "template.db"
        _seed(f"sqlite:///{path}", root)
        _TEMPLATES[kind] = str(path)
    else:
        name = f"cunzhi_tpl_{os.getpid()}"
        admin = _pg_admin()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        _seed(_pg_url(name), root)
        _TEMPLATES[kind] = name
    return _TEMPLATES[kind]


class _PgPool:
    """PostgreSQL copies of the template made ahead, and used ones dropped, by one background thread: a
    ``CREATE DATABASE … TEMPLATE`` takes 0.3–0.5 s and a drop 0.1 s, which PostgreSQL now spends while the
    previous test runs instead of before the next one."""

    AHEAD = 2

    def __init__(self, tpl: str) -> None:
        self.tpl = tpl
        self.jobs: queue.Queue = queue.Queue()
        self.ready: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="pg-test-databases", daemon=True)
        self.thread.start()
        for _ in range(self.AHEAD):
            self.jobs.put(("create", None))

    def _run(self) -> None:
        admin = _pg_admin()
        while (job := self.jobs.get()) is not None:
            what, name = job
            try:
                with admin.connect() as conn:
                    if what == "create":
                        name = f"cunzhi_t_{uuid.uuid4().hex[:12]}"
                        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{self.tpl}"')
                    else:
                        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except Exception as e:  # noqa: BLE001 - handed to the test that waits for this database
                if what == "create":
                    self.ready.put(e)
                continue
            if what == "create":
                self.ready.put(name)
        admin.dispose()

    def take(self) -> str:
        self.jobs.put(("create", None))  # the next test's, made while this one runs
        got = self.ready.get(timeout=120)
        if isinstance(got, Exception):
            raise got
        return got

    def give_back(self, name: str) -> None:
        self.jobs.put(("drop", name))

    def close(self) -> None:
        """Drop the copies made ahead and nobody used, then stop."""
        self.jobs.put(None)
        self.thread.join(timeout=120)
        admin = _pg_admin()
        with admin.connect() as conn:
            while not self.ready.empty():
                name = self.ready.get()
                if isinstance(name, str):
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


_POOL: _PgPool | None = None


def fresh(kind: str, root: Path, workdir: Path) -> str:
    """A new database copied from the migrated template; returns its URL."""
    global _POOL
    tpl = template(kind, root)
    if kind == "sqlite":
        target = workdir / f"test-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(tpl, target)
        return f"sqlite:///{target}"
    if _POOL is None:
        _POOL = _PgPool(tpl)
    return _pg_url(_POOL.take())


def drop(kind: str, url: str) -> None:
    reset_engine()
    if kind == "postgresql":
        name = sa.make_url(url).database
        if _POOL is not None:
            _POOL.give_back(name)
            return
        admin = _pg_admin()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def drop_templates() -> None:
    global _POOL
    if _POOL is not None:
        _POOL.close()
        _POOL = None
    if "postgresql" in _TEMPLATES:
        admin = _pg_admin()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{_TEMPLATES["postgresql"]}" WITH (FORCE)')
        admin.dispose()
