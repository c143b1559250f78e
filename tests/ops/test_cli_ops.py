"""``cunzhi db backup|restore|check`` as a user runs them (a subprocess, a temporary SQLite file): help, a
backup into the default folder with its checksum, a restore of it, and one-line errors."""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("CUNZHI_")}
    e.update(CUNZHI_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}", CUNZHI_DATA_DIR=str(tmp_path / "data"),
             CUNZHI_DEMO="0", CUNZHI_SECRET_KEY="cli-test-secret", CUNZHI_BACKUP_KEEP="2")
    return e


def cunzhi(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cunzhi", *args], env=env, cwd=str(REPO), capture_output=True,
                          text=True, timeout=300)


def test_help(env):
    for args in (["db", "backup"], ["db", "restore"], ["db", "check"]):
        p = cunzhi(env, *args, "--help")
        assert p.returncode == 0 and "Usage" in p.stdout, (args, p.stdout, p.stderr)


def test_backup_restore_and_errors_from_the_command_line(env, tmp_path):
    assert cunzhi(env, "db", "upgrade").returncode == 0
    db = env["CUNZHI_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO org_unit (code, name, level, parent_code) VALUES ('34', '安徽省', 'province', NULL)")
    names = []
    for _ in range(3):
        p = cunzhi(env, "db", "backup")
        assert p.returncode == 0, p.stderr
        names.append(re.search(r"backup (\S+)", p.stdout).group(1))
    folder = tmp_path / "data" / "backups"
    kept = sorted(f.name for f in folder.iterdir())
    assert len(kept) == 4 and Path(names[-1]).name in kept  # CUNZHI_BACKUP_KEEP=2: two backups, two checksums
    newest = Path(names[-1])
    digest = (folder / (newest.name + ".sha256")).read_text().split()[0]
    assert digest == hashlib.sha256(newest.read_bytes()).hexdigest()

    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM org_unit")
    p = cunzhi(env, "db", "restore", str(newest))
    assert p.returncode == 0 and "new server epoch" in p.stdout, p.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT name FROM org_unit").fetchall() == [("安徽省",)]
    assert cunzhi(env, "db", "check").returncode == 0

    for args, word in ((["db", "restore", str(tmp_path / "missing.sqlite3")], "no such backup"),
                       (["db", "backup", "--dir", "/proc/cunzhi-backups"], "/proc/cunzhi-backups")):
        p = cunzhi(env, *args)
        assert p.returncode == 2 and p.stderr.startswith("error: ") and word in p.stderr, (args, p.stderr)
        assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
