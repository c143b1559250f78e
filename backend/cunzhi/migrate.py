"""Alembic, driven from code: the CLI, the server's start-up and the tests all build schemas this way.

Upgrades are safe to start from several processes at once (two replicas, or a CLI command beside a running
server): they run under a lock — a PostgreSQL advisory lock, a file lock beside an SQLite database — and the
second process finds nothing left to do. A database stamped with a revision this code does not know (it was
upgraded by a newer release) is refused with a clear message instead of being served or "upgraded".
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from cunzhi.core.config import REPO_ROOT, get_settings

# pg_advisory_lock key: any constant shared by every Cunzhi process ("cunzhi-m" as a 64-bit number)
PG_LOCK_KEY = int.from_bytes(b"cunzhi-m", "big") & 0x7FFFFFFFFFFFFFFF


class DatabaseNewerThanCode(RuntimeError):
    """The database was migrated by a newer release than this code."""


def migrations_dir() -> Path:
    return Path(os.environ.get("CUNZHI_MIGRATIONS_DIR", REPO_ROOT / "migrations"))


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", (url or get_settings().resolved_database_url).replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> list[str]:
    """Apply migrations up to ``revision`` under the migration lock; refuse a database newer than the code.

    Returns the revisions this call applied (none when another process had already done it)."""
    url = url or get_settings().resolved_database_url
    _ensure_sqlite_dir(url)
    with migration_lock(url):
        status = check(url)
        if status.state == "newer":
            raise DatabaseNewerThanCode(status.message)
        if status.state == "current" and revision == "head":
            return []
        command.upgrade(alembic_config(url), revision)
        after = current_revision(url)
    revisions = known_revisions()
    start = revisions.index(status.current) + 1 if status.current in revisions else 0
    return revisions[start:revisions.index(after) + 1] if after in revisions else []


def downgrade(revision: str, url: str | None = None) -> None:
    url = url or get_settings().resolved_database_url
    with migration_lock(url):
        command.downgrade(alembic_config(url), revision)


@functools.cache
def script_head() -> str | None:
    """This code's newest revision (its scripts do not change while it runs: read once; /health asks often)."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def known_revisions() -> list[str]:
    """This code's revisions, oldest first."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


@dataclass
class Status:
    current: str | None
    head: str | None
    state: str  # "empty" (no schema yet) | "behind" (migrations pending) | "current" | "newer" (unknown revision)
    pending: list[str]

    @property
    def message(self) -> str:
        if self.state == "newer":
            return (f"数据库的结构版本 {self.current} 比本程序新（本程序最高 {self.head}）：请安装新版本，或从备份恢复。 / "
                    f"The database is at revision {self.current}, newer than this release knows (its head is "
                    f"{self.head}): it was upgraded by a newer Cunzhi. Install that release (or newer), or restore "
                    f"a backup taken before the upgrade; this release will not serve or migrate it.")
        if self.state == "empty":
            return f"empty database: {len(self.pending)} migrations to apply (head {self.head})"
        if self.state == "behind":
            return f"database at {self.current}: {len(self.pending)} migrations to apply ({', '.join(self.pending)})"
        return f"database at {self.current}: up to date"


def current_revision(url: str | None = None) -> str | None:
    url = url or get_settings().resolved_database_url
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def check(url: str | None = None) -> Status:
    """Where a database stands against this code's migrations."""
    revisions = known_revisions()
    head = revisions[-1] if revisions else None
    current = current_revision(url)
    if current is None:
        return Status(None, head, "empty", revisions)
    if current not in revisions:
        return Status(current, head, "newer", [])
    pending = revisions[revisions.index(current) + 1:]
    return Status(current, head, "behind" if pending else "current", pending)


@contextmanager
def migration_lock(url: str | None = None) -> Iterator[None]:
    """One migrating process at a time: PostgreSQL advisory lock, else a file lock beside the SQLite file."""
    url = url or get_settings().resolved_database_url
    if url.startswith("postgresql"):
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": PG_LOCK_KEY})
                conn.commit()
                try:
                    yield
                finally:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": PG_LOCK_KEY})
                    conn.commit()
        finally:
            engine.dispose()
        return
    path = _sqlite_path(url)
    if path is None:  # in-memory: one process by definition
        yield
        return
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.migrate-lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _sqlite_path(url: str) -> Path | None:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        return Path(url.removeprefix("sqlite:///"))
    return None


def _ensure_sqlite_dir(url: str) -> None:
    path = _sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
