"""The ``cunzhi`` command line, run as a user runs it: ``python -m cunzhi …`` in a subprocess, against a temporary
SQLite file (CUNZHI_DATABASE_URL / CUNZHI_DATA_DIR)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SLICE = REPO / "backend" / "cunzhi" / "data" / "huaiyuan-340321"


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("CUNZHI_")}
    e.update(CUNZHI_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}", CUNZHI_DATA_DIR=str(tmp_path / "data"),
             CUNZHI_DEMO="0", CUNZHI_SECRET_KEY="cli-test-secret")
    return e


def db_path(env) -> str:
    return env["CUNZHI_DATABASE_URL"].removeprefix("sqlite:///")


def cunzhi(env, *args: str, stdin: str | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cunzhi", *args], env=env, cwd=str(REPO), input=stdin,
                          capture_output=True, text=True, timeout=timeout)


def ok(env, *args: str, **kw) -> str:
    p = cunzhi(env, *args, **kw)
    assert p.returncode == 0, (args, p.stdout, p.stderr)
    return p.stdout


def query(env, sql: str, *params):
    with sqlite3.connect(db_path(env)) as conn:
        return conn.execute(sql, params).fetchall()


def tables(env) -> set[str]:
    return {r[0] for r in query(env, "SELECT name FROM sqlite_master WHERE type='table'")}


def counts_line(out: str, kind: str) -> dict[str, int]:
    line = next(ln for ln in out.splitlines() if ln.strip().startswith(kind + ":"))
    return {lvl: int(n) for lvl, n in re.findall(r"(province|city|county|township|village) (\d+)", line)}


def test_help_on_every_command(env):
    for args in ([], ["db"], ["orgs"], ["users"], ["serve"], ["db", "upgrade"], ["db", "downgrade"],
                 ["db", "mark-restored"], ["orgs", "import"], ["users", "create"], ["demo"], ["openapi"]):
        p = cunzhi(env, *args, "--help")
        assert p.returncode == 0 and "Usage" in p.stdout, (args, p.stdout, p.stderr)


def test_db_upgrade_downgrade_base_and_upgrade_again(env):
    out = ok(env, "db", "upgrade")
    assert "head" in out
    assert {"mediation_case", "case_event", "app_user", "org_unit", "sync_mutation", "alembic_version"} <= tables(env)
    head = query(env, "SELECT version_num FROM alembic_version")[0][0]
    ok(env, "db", "upgrade")  # idempotent
    ok(env, "db", "downgrade", "base")
    assert tables(env) <= {"alembic_version", "sqlite_sequence"}
    ok(env, "db", "upgrade")
    assert query(env, "SELECT version_num FROM alembic_version")[0][0] == head
    assert query(env, "SELECT COUNT(*) FROM code_entry")[0][0] > 0  # default code tables seeded again


def test_db_downgrade_needs_a_revision(env):
    p = cunzhi(env, "db", "downgrade")
    assert p.returncode == 2 and "REVISION" in (p.stderr + p.stdout).upper()


def _write_csvs(folder: Path, *, village_name: str = "甲村") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "provinces.csv").write_text('code,name\n99,"测试省"\n', encoding="utf-8")
    (folder / "cities.csv").write_text('code,name,provinceCode\n9901,"测试市",99\n', encoding="utf-8")
    (folder / "areas.csv").write_text('code,name,cityCode,provinceCode\n990101,"测试县",9901,99\n'
                                      '990102,"另一县",9901,99\n', encoding="utf-8")
    (folder / "streets.csv").write_text("code,name,areaCode,provinceCode,cityCode\n"
                                        '990101001,"一镇",990101,99,9901\n990102001,"二镇",990102,99,9901\n',
                                        encoding="utf-8")
    (folder / "villages.csv").write_text("code,name,streetCode,provinceCode,cityCode,areaCode\n"
                                         f'990101001001,"{village_name}",990101001,99,9901,990101\n'
                                         '990101001002,"乙村",990101001,99,9901,990101\n'
                                         '990102001001,"丙村",990102001,99,9901,990102\n', encoding="utf-8-sig")


def test_orgs_import_small_folder_idempotent(env, tmp_path):
    folder = tmp_path / "csv"
    _write_csvs(folder)
    out = ok(env, "orgs", "import", str(folder))
    assert counts_line(out, "inserted") == {"province": 1, "city": 1, "county": 2, "township": 2, "village": 3}
    assert re.search(r"done in [\d.]+ s", out)
    assert query(env, "SELECT name, level, parent_code FROM org_unit WHERE code='990101001001'") == [
        ("甲村", "village", "990101001")]
    out = ok(env, "orgs", "import", str(folder))
    assert sum(counts_line(out, "inserted").values()) == 0 and sum(counts_line(out, "updated").values()) == 0
    assert sum(counts_line(out, "unchanged").values()) == 9
    # a renamed village is updated, nothing else changes
    _write_csvs(folder, village_name="甲村（新）")
    out = ok(env, "orgs", "import", str(folder))
    assert counts_line(out, "updated") == {"province": 0, "city": 0, "county": 0, "township": 0, "village": 1}
    assert query(env, "SELECT name FROM org_unit WHERE code='990101001001'") == [("甲村（新）",)]
    # --county keeps that county and its ancestors only (into a fresh database)
    env2 = dict(env, CUNZHI_DATABASE_URL=f"sqlite:///{tmp_path / 'other.db'}")
    out = ok(env2, "orgs", "import", str(folder), "--county", "990102")
    assert counts_line(out, "inserted") == {"province": 1, "city": 1, "county": 1, "township": 1, "village": 1}
    # gzip files are read too
    import gzip

    gz = tmp_path / "gz"
    _write_csvs(gz)
    for f in gz.glob("villages.csv"):
        with gzip.open(str(f) + ".gz", "wb") as out_f:
            out_f.write(f.read_bytes())
        f.unlink()
    env3 = dict(env, CUNZHI_DATABASE_URL=f"sqlite:///{tmp_path / 'gz.db'}")
    out = ok(env3, "orgs", "import", str(gz), "--province", "99")
    assert counts_line(out, "inserted")["village"] == 3


def test_orgs_import_shipped_slice(env):
    out = ok(env, "orgs", "import", str(SLICE), "--county", "340321")
    assert counts_line(out, "inserted") == {"province": 1, "city": 1, "county": 1, "township": 23, "village": 369}
    out = ok(env, "orgs", "import", str(SLICE), "--county", "340321")
    assert sum(counts_line(out, "inserted").values()) == 0
    assert counts_line(out, "unchanged") == {"province": 1, "city": 1, "county": 1, "township": 23, "village": 369}
    assert query(env, "SELECT name FROM org_unit WHERE code='340321108'") == [("万福镇",)]


@pytest.mark.parametrize("setup", ["missing", "file", "empty", "bad_header", "bad_code"])
def test_orgs_import_bad_folder(env, tmp_path, setup):
    target = tmp_path / "bad"
    args = []
    if setup == "file":
        target.write_text("x")
    elif setup == "empty":
        target.mkdir()
    elif setup == "bad_header":
        _write_csvs(target)
        (target / "streets.csv").write_text("id;title\n1;x\n", encoding="utf-8")
    elif setup == "bad_code":
        _write_csvs(target)
        args = ["--county", "99x"]
    p = cunzhi(env, "orgs", "import", str(target), *args)
    assert p.returncode == 2, (p.stdout, p.stderr)
    lines = [ln for ln in p.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), p.stderr
    assert "Traceback" not in p.stderr
    if Path(db_path(env)).exists() and "org_unit" in tables(env):
        assert query(env, "SELECT COUNT(*) FROM org_unit")[0][0] == 0  # nothing half-imported


def test_users_create(env):
    ok(env, "orgs", "import", str(SLICE), "--county", "340321")
    out = ok(env, "users", "create", "new.mediator", "--role", "mediator", "--org", "340321108200",
             "--password-stdin", stdin="a-long-password\n")
    assert "new.mediator" in out and "mediator" in out and "340321108200" in out
    ((pw_hash, role, org),) = query(env, "SELECT password_hash, role, org_code FROM app_user WHERE username='new.mediator'")
    assert pw_hash.startswith("$argon2") and "a-long-password" not in pw_hash and (role, org) == ("mediator",
                                                                                                  "340321108200")
    for role, org, why in [("mayor", "340321108200", "role"), ("mediator", "999999999999", "org"),
                           ("township_admin", "340321108200", "org"), ("grid_worker", "340321108", "org"),
                           ("county_admin", "340321108", "org")]:
        p = cunzhi(env, "users", "create", f"bad.{role}", "--role", role, "--org", org, "--password-stdin",
                   stdin="a-long-password\n")
        assert p.returncode == 2, (role, org, p.stdout, p.stderr)
        assert p.stderr.startswith("error:") and why in p.stderr and "Traceback" not in p.stderr
        assert len(p.stderr.strip().splitlines()) == 1
    p = cunzhi(env, "users", "create", "short.pw", "--role", "mediator", "--org", "340321108200", "--password-stdin",
               stdin="short\n")
    assert p.returncode == 2 and "password" in p.stderr
    assert query(env, "SELECT COUNT(*) FROM app_user")[0][0] == 1


def test_demo_twice_adds_nothing(env):
    out = ok(env, "demo", timeout=600)
    m = re.search(r"(\d+) changes applied", out)
    assert m and int(m.group(1)) > 0, out
    cases = query(env, "SELECT COUNT(*) FROM mediation_case")[0][0]
    users = query(env, "SELECT COUNT(*) FROM app_user")[0][0]
    assert cases > 0 and users >= 8
    assert query(env, "SELECT COUNT(*) FROM org_unit WHERE level='village' AND code LIKE '340321%'")[0][0] == 369
    out = ok(env, "demo", timeout=600)
    assert "0 changes applied" in out and "0 org units added" in out, out
    assert query(env, "SELECT COUNT(*) FROM mediation_case")[0][0] == cases
    assert query(env, "SELECT COUNT(*) FROM app_user")[0][0] == users
    # numbers look like the spec's and are unique
    numbers = [r[0] for r in query(env, "SELECT case_number FROM mediation_case")]
    assert len(numbers) == len(set(numbers))
    assert all(re.fullmatch(r"\d{12}-\d{4}-\d{4,}|\d{9}-\d{4}-\d{4,}", n) for n in numbers)


def test_mark_restored_prints_the_new_epoch(env):
    ok(env, "db", "upgrade")
    out1 = ok(env, "db", "mark-restored")
    m1 = re.search(r"new server epoch (\S+)", out1)
    assert m1, out1
    stored = dict(query(env, "SELECT key, value FROM server_state"))
    assert stored["epoch"] == m1.group(1).rstrip(";")
    out2 = ok(env, "db", "mark-restored")
    m2 = re.search(r"new server epoch (\S+)", out2)
    assert m2 and m2.group(1) != m1.group(1)


def test_openapi_prints_json(env):
    out = ok(env, "openapi")
    schema = json.loads(out)
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/sync/push" in schema["paths"] and "/api/v1/mediation-cases" in schema["paths"]
    assert "ErrorOut" in schema["components"]["schemas"]
