"""Backups and restore: ``cunzhi db backup`` / ``cunzhi db restore FILE``.

A backup is one file in ``BACKUP_DIR`` (default ``DATA_DIR/backups``) named by its UTC time —
``cunzhi-20261130T081500Z.sqlite3`` (SQLite's online backup API: consistent while the server runs) or
``….pgdump`` (``pg_dump -Fc``) — with a ``.sha256`` file beside it in ``sha256sum`` format, so
``sha256sum -c`` checks it too. Rotation keeps the newest ``BACKUP_KEEP``.

A restore refuses a file whose checksum does not match (or has none), puts the database back, applies any
migrations the backup lacks, and marks the restore in the same command (new sync epoch: every phone resets and
re-sends what the backup lacks; case-number counters move forward so none is reused). Attachments are files in
``DATA_DIR/attachments``: back that folder up with the volume (docs/deploy.md).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from cunzhi.core.config import get_settings

SUFFIXES = {"sqlite": ".sqlite3", "postgresql": ".pgdump"}


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead (the message says why, for the operator)."""


@dataclass
class Restored:
    file: Path
    epoch: str


def _kind(url: str) -> str:
    if url.startswith("sqlite"):
        return "sqlite"
    if url.startswith("postgresql"):
        return "postgresql"
    raise BackupError(f"unsupported database for backups: {sa.make_url(url).drivername}")


def _sqlite_file(url: str) -> Path:
    database = sa.make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _pg_args(url: str) -> tuple[list[str], dict[str, str]]:
    """libpq connection arguments and environment (the password goes in PGPASSWORD, never on a command line)."""
    u = sa.make_url(url)
    args = ["--dbname", u.database or "postgres"]
    if u.host:
        args += ["--host", u.host]
    if u.port:
        args += ["--port", str(u.port)]
    if u.username:
        args += ["--username", u.username]
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} not found: install the PostgreSQL client (e.g. apt-get install postgresql-client)")
    return path


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def backup(dest_dir: Path | None = None, keep: int | None = None, url: str | None = None,
           now: datetime | None = None) -> Path:
    """Write a dated backup and its checksum; rotate to the newest ``keep``. Returns the backup's path."""
    settings = get_settings()
    url = url or settings.resolved_database_url
    kind = _kind(url)
    dest_dir = Path(dest_dir or settings.resolved_backup_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    target = dest_dir / f"cunzhi-{stamp}{SUFFIXES[kind]}"
    n = 1
    while target.exists():  # two backups in one second
        n += 1
        target = dest_dir / f"cunzhi-{stamp}-{n}{SUFFIXES[kind]}"
    tmp = target.with_name(target.name + ".partial")
    try:
        if kind == "sqlite":
            src = sqlite3.connect(_sqlite_file(url))
            dst = sqlite3.connect(tmp)
            try:
                with dst:
                    src.backup(dst)
            finally:
                src.close()
                dst.close()
        else:
            args, env = _pg_args(url)
            p = subprocess.run([_tool("pg_dump"), "--format=custom", "--file", str(tmp), *args], env=env,
                               capture_output=True, text=True)
            if p.returncode != 0:
                raise BackupError(f"pg_dump failed: {p.stderr.strip()}")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    checksum_path(target).write_text(f"{sha256_of(target)}  {target.name}\n")
    rotate(dest_dir, settings.backup_keep if keep is None else keep)
    return target


def backups_in(folder: Path) -> list[Path]:
    """The backups in a folder, oldest first (their names sort by time)."""
    return sorted(p for p in folder.glob("cunzhi-*") if p.suffix in SUFFIXES.values())


def rotate(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups (and their checksums); returns what was deleted."""
    doomed = backups_in(folder)[:-keep] if keep > 0 else []
    for p in doomed:
        p.unlink(missing_ok=True)
        checksum_path(p).unlink(missing_ok=True)
    return doomed


def verify(path: Path) -> None:
    """Refuse a backup without a checksum file or whose contents do not match it."""
    if not path.is_file():
        raise BackupError(f"{path}: no such backup file")
    sums = checksum_path(path)
    if not sums.is_file():
        raise BackupError(f"{path}: no checksum file {sums.name} beside it; refusing to restore")
    expected = sums.read_text().split()[:1]
    if not expected or expected[0].lower() != sha256_of(path):
        raise BackupError(f"{path}: checksum does not match {sums.name}: the file is damaged or not this backup; "
                          "refusing to restore (nothing was changed)")


def restore(path: Path, url: str | None = None) -> Restored:
    """Check, put the backup back, migrate it to this release, and mark the restore (new epoch) in one step."""
    url = url or get_settings().resolved_database_url
    kind = _kind(url)
    path = Path(path)
    verify(path)
    if path.suffix != SUFFIXES[kind]:
        raise BackupError(f"{path.name} is not a {kind} backup (expected a {SUFFIXES[kind]} file)")
    from cunzhi.core.db import reset_engine

    reset_engine()  # no pooled connection to the old contents survives the restore
    if kind == "sqlite":
        _restore_sqlite(path, _sqlite_file(url))
    else:
        _restore_pg(path, url)
    reset_engine()
    from cunzhi.core.db import write_tx
    from cunzhi.migrate import upgrade
    from cunzhi.sync.state import mark_restored

    upgrade(url)  # a backup from an earlier release is brought up to this one
    with write_tx() as conn:
        epoch = mark_restored(conn)
    return Restored(path, epoch)


def _restore_sqlite(src_path: Path, db_path: Path) -> None:
    # the backup API writes the pages through a connection to the live file: WAL and readers stay consistent
    db_path.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{src_path}?mode=ro", uri=True)
    dst = sqlite3.connect(db_path)
    try:
        with dst:
            src.backup(dst)
        dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        src.close()
        dst.close()


def _restore_pg(src_path: Path, url: str) -> None:
    args, env = _pg_args(url)
    wipe = "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;"
    p = subprocess.run([_tool("psql"), "--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", *args, "-c", wipe],
                       env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise BackupError(f"could not empty the database before restoring: {p.stderr.strip()}")
    p = subprocess.run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction",
                        "--exit-on-error", *args, str(src_path)], env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise BackupError(f"pg_restore failed: {p.stderr.strip()}")
