"""Upgrades: a database made by the previous release (schema 20261128_0001, rows written with plain SQL as that
release stored them) migrates to this release's head with its data intact and serves phones; ``cunzhi db check``
says where a database stands; a database newer than the code is refused with a clear message; two processes
upgrading at once do not both migrate (file lock on SQLite, advisory lock on PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support import databases
from tests.support.device import PASSWORD, login, mutation, new_case_fields, pull_all, push
from tests.support.server import ThreadServer
from tests.sync.util import upd

REPO = Path(__file__).resolve().parents[2]
PREVIOUS_RELEASE = "20261128_0001"

USER, CLIENT, CASE, EVENT, MUT = (str(uuid.uuid5(uuid.NAMESPACE_URL, f"cunzhi-prev-{n}")) for n in range(5))
EPOCH = "11111111-2222-4333-8444-555555555555"
PARTIES = [{"name": "王五", "role": "applicant", "phone": "13900001111", "id_number": "340321198001011234"},
           {"name": "赵六", "role": "respondent"}]


@pytest.fixture
def empty_db(db_kind, tmp_path):
    """An empty database (no schema) the app points at."""
    if db_kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'prev.db'}"
    else:
        name = f"cunzhi_prev_{uuid.uuid4().hex[:10]}"
        admin = databases._pg_admin()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        url = databases._pg_url(name)
    databases.use(url, tmp_path)
    yield url
    databases.drop(db_kind, url)


def _ts(kind: str, text: str) -> str:
    """A UTC timestamp literal as each database stores the previous release's DateTime(timezone=True)."""
    return f"{text}.000000" if kind == "sqlite" else f"{text}+00"


def _previous_release_rows(url: str) -> None:
    """What the previous release held after a mediator recorded one case with one session, as plain SQL."""
    from cunzhi.users.service import hash_password

    kind = "sqlite" if url.startswith("sqlite") else "postgresql"
    t1, t2 = _ts(kind, "2026-11-20 02:00:00"), _ts(kind, "2026-11-20 03:30:00")
    js = json.dumps
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        ins = lambda table, row: conn.execute(  # noqa: E731
            sa.text(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})"), row)
        for code, name, level, parent in [("34", "安徽省", "province", None), ("3403", "蚌埠市", "city", "34"),
                                          ("340321", "怀远县", "county", "3403"),
                                          ("340321108", "万福镇", "township", "340321"),
                                          ("340321108200", "万福村", "village", "340321108")]:
            ins("org_unit", {"code": code, "name": name, "level": level, "parent_code": parent})
        ins("app_user", {"id": USER, "username": "old.mediator", "display_name": "老调解员", "role": "mediator",
                         "org_code": "340321108200", "password_hash": hash_password(PASSWORD), "active": True,
                         "created_at": t1})
        ins("mediation_case", {
            "id": CASE, "org_code": "340321108200", "rev": 1, "deleted": False, "created_at": t1, "updated_at": t1,
            "created_by": USER, "updated_by": USER, "field_meta": "{}", "case_number": "340321108200-2026-0007",
            "title": "宅基地边界纠纷", "description": "两户因围墙位置起争执", "category": "neighbor",
            "source": "party_request", "received_on": "2026-11-20", "place": "万福村三组", "parties": js(PARTIES),
            "mediator_ids": js([USER]), "risk_level": "yellow", "escalation_flag": False, "status": "registered",
            "deadline": "2026-12-20", "deadline_extensions": "[]"})
        ins("case_event", {
            "id": EVENT, "org_code": "340321108200", "rev": 1, "deleted": False, "created_at": t2, "updated_at": t2,
            "created_by": USER, "updated_by": USER, "field_meta": "{}", "case_id": CASE, "kind": "session",
            "occurred_at": t2, "content": "第一次调解，双方同意测量", "attachment_ids": "[]"})
        for seq, (entity, rid) in enumerate([("mediation_case", CASE), ("case_event", EVENT)], start=1):
            ins("sync_feed", {"entity": entity, "record_id": rid, "org_code": "340321108200", "seq": seq})
            ins("record_history", {"entity": entity, "record_id": rid, "org_code": "340321108200", "rev": 1,
                                   "op": "create", "user_id": USER, "client_id": CLIENT, "at": t1,
                                   "changes": js({"title": "宅基地边界纠纷"} if entity == "mediation_case" else {})})
        ins("sync_mutation", {"mutation_id": MUT, "user_id": USER, "client_id": CLIENT, "entity": "mediation_case",
                              "record_id": CASE, "status": "applied", "created_at": t1})
        conn.execute(sa.text("DELETE FROM counter"))
        conn.execute(sa.text("DELETE FROM server_state WHERE key = 'epoch'"))  # the migration made one
        for name, value in [("seq", 2), ("case:340321108200:2026", 7)]:
            ins("counter", {"name": name, "value": value})
        ins("server_state", {"key": "epoch", "value": EPOCH})
    engine.dispose()


def _snapshot(url: str) -> dict:
    engine = sa.create_engine(url)
    out = {}
    with engine.connect() as conn:
        for table, key in [("mediation_case", "id"), ("case_event", "id"), ("app_user", "id"), ("sync_feed", "seq"),
                           ("counter", "name"), ("server_state", "key"), ("sync_mutation", "mutation_id")]:
            rows = conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY {key}")).mappings().all()
            out[table] = [{k: (json.loads(v) if isinstance(v, str) and v[:1] in "[{" else v) for k, v in r.items()}
                          for r in rows]
    engine.dispose()
    return out


def cunzhi(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cunzhi", *args], env={**os.environ, **(env or {})}, cwd=str(REPO),
                          capture_output=True, text=True, timeout=300)


def test_previous_release_database_upgrades_with_its_data(empty_db):
    from cunzhi.migrate import check, script_head, upgrade

    url = empty_db
    upgrade(url, revision=PREVIOUS_RELEASE)
    _previous_release_rows(url)
    before = _snapshot(url)
    p = cunzhi("db", "check")
    head = script_head()
    assert p.returncode == (0 if head == PREVIOUS_RELEASE else 1), p.stdout + p.stderr
    assert f"revision: {PREVIOUS_RELEASE}" in p.stdout

    p = cunzhi("db", "upgrade")  # what `cunzhi serve` does at start-up, through the same lock
    assert p.returncode == 0, p.stderr
    assert check(url).state == "current" and check(url).current == head
    after = _snapshot(url)
    # the upgrade moves the cursor-signing key into the database (server_state.cursor_key, issue 6: cursors
    # survive a move), its one new row
    added = [r for r in after["server_state"] if r not in before["server_state"]]
    assert [r["key"] for r in added] == ["cursor_key"], added
    after["server_state"] = [r for r in after["server_state"] if r not in added]
    for table, rows in before.items():  # every row still there, every column it had unchanged
        assert len(after[table]) == len(rows), table
        for old, new in zip(rows, after[table], strict=True):
            assert {k: new.get(k) for k in old} == old, (table, old, new)
    assert cunzhi("db", "check").returncode == 0

    # and the upgraded database serves a phone: reads, pulls, an edit, a replay, a new case number
    with ThreadServer() as srv:
        phone = login(srv.base, "old.mediator", CLIENT)
        case = phone.get(f"/api/v1/mediation-cases/{CASE}").json()
        assert (case["title"], case["case_number"], case["rev"]) == ("宅基地边界纠纷", "340321108200-2026-0007", 1)
        assert case["parties"][0]["phone"] == "13900001111"  # the village's own mediator sees it unmasked
        assert [e["content"] for e in case["events"]] == ["第一次调解，双方同意测量"]
        changes, _ = pull_all(phone)
        assert {(c["entity"], c["record"]["id"]) for c in changes} == {("mediation_case", CASE), ("case_event", EVENT)}
        replay = push(phone, [mutation("mediation_case", CASE, {"title": "宅基地边界纠纷"}, base_rev=1,
                                       mutation_id=MUT)]).json()["results"][0]
        assert replay["status"] == "duplicate", replay
        res = push(phone, [upd(CASE, 1, place="万福村三组东侧"),
                           mutation("mediation_case", str(uuid.uuid4()), new_case_fields())]).json()["results"]
        assert [r["status"] for r in res] == ["applied", "applied"], res
        assert res[0]["record"]["rev"] == 2 and res[0]["record"]["title"] == "宅基地边界纠纷"
        assert res[1]["record"]["case_number"] == "340321108200-2026-0008"
        phone.close()


def test_db_check_and_a_database_newer_than_the_code(empty_db):
    from cunzhi.migrate import DatabaseNewerThanCode, upgrade

    url = empty_db
    p = cunzhi("db", "check")
    assert p.returncode == 1 and "empty database" in p.stdout, p.stdout
    upgrade(url)
    p = cunzhi("db", "check")
    assert p.returncode == 0 and "up to date" in p.stdout, p.stdout
    # a newer release migrated it further
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '20270601_0009'"))
    engine.dispose()
    p = cunzhi("db", "check")
    assert p.returncode == 3 and "20270601_0009" in p.stdout and "newer" in p.stdout, p.stdout
    for args in (["db", "upgrade"], ["serve", "--port", "1"], ["demo"]):
        p = cunzhi(*args)
        assert p.returncode == 3, (args, p.stdout, p.stderr)
        assert p.stderr.startswith("error: ") and "20270601_0009" in p.stderr and "newer" in p.stderr, p.stderr
        assert "Traceback" not in p.stderr
    p = cunzhi("serve", "--port", "1", env={"CUNZHI_MIGRATE_ON_START": "0"})
    assert p.returncode == 3 and "newer" in p.stderr, p.stderr
    with pytest.raises(DatabaseNewerThanCode):
        upgrade(url)


def test_serve_without_migrating_refuses_a_database_behind(empty_db):
    from cunzhi.migrate import upgrade

    upgrade(empty_db, revision=PREVIOUS_RELEASE)
    from cunzhi.migrate import script_head

    if script_head() == PREVIOUS_RELEASE:
        p = cunzhi("db", "downgrade", "base")
        assert p.returncode == 0, p.stderr
    p = cunzhi("serve", "--port", "1", env={"CUNZHI_MIGRATE_ON_START": "0"})
    assert p.returncode == 3 and "cunzhi db upgrade" in p.stderr, p.stderr


def test_two_upgrades_at_once_migrate_once(empty_db, db_kind):
    """Two processes start at once on an empty database: one migrates, the other waits for the lock and finds
    nothing to do (without the lock the second fails creating tables that exist)."""
    from cunzhi.migrate import check, migration_lock

    url = empty_db
    with migration_lock(url):  # hold the lock while both start, then let them race for it
        procs = [subprocess.Popen([sys.executable, "-m", "cunzhi", "db", "upgrade"], env={**os.environ},
                                  cwd=str(REPO), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
        time.sleep(3)
        assert all(p.poll() is None for p in procs), "an upgrade ran while the migration lock was held"
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert check(url).state == "current"
    ran = sum("applied" in out for out, _ in outs)
    assert ran == 1, outs


def test_the_migration_lock_is_exclusive(empty_db):
    from cunzhi.migrate import migration_lock

    order: list[str] = []

    def second() -> None:
        with migration_lock(empty_db):
            order.append("second")

    with migration_lock(empty_db):
        t = threading.Thread(target=second)
        t.start()
        time.sleep(1.0)
        order.append("first done")
    t.join(timeout=30)
    assert order == ["first done", "second"]


def test_migrations_read_no_app_code():
    """A migration is frozen: it imports nothing of the app but its configuration (0002 reads the data folder's
    secret key), so a later change of app code cannot change what an old migration does to a fresh database."""
    import ast

    for path in sorted((REPO / "migrations" / "versions").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] != "cunzhi" or name == "cunzhi.core.config", (path.name, name)


def test_a_fresh_database_holds_the_default_codes_and_settings(empty_db):
    """Migrated from nothing, a database holds exactly the code tables and settings of reference/defaults.py (the
    migrations carry them as literal data: this catches a default changed in one place and not the other)."""
    from cunzhi.migrate import upgrade
    from cunzhi.reference.defaults import CODE_TABLES, POINTS_RULE_POINTS, SETTINGS

    upgrade(empty_db)
    engine = sa.create_engine(empty_db)
    with engine.connect() as conn:
        codes = conn.execute(sa.text(
            "SELECT table_name, code, name_zh, name_en, sort, active, points FROM code_entry "
            "WHERE county_code = '' ORDER BY table_name, sort")).all()
        settings = dict(conn.execute(sa.text("SELECT key, value FROM county_setting WHERE county_code = ''")).all())
        state = dict(conn.execute(sa.text("SELECT key, value FROM server_state")).all())
    engine.dispose()
    for table, entries in CODE_TABLES.items():
        held = [(c, zh, en, sort, bool(active), points) for t, c, zh, en, sort, active, points in codes if t == table]
        points = POINTS_RULE_POINTS if table == "points_rule" else {}
        assert held == [(c, zh, en, i, True, points.get(c)) for i, (c, zh, en) in enumerate(entries)], table
    assert {k: settings.get(k) for k in SETTINGS} == SETTINGS
    uuid.UUID(state["epoch"])  # a server epoch from the start, with the time it began (Shanghai time)
    assert state["epoch_started_at"].endswith("+08:00"), state
