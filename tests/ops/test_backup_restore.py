"""The restore drill, on SQLite and PostgreSQL, with the commands an operator runs: ``cunzhi db backup`` while the
server serves, more writes through real pushes from phones, ``cunzhi db restore FILE`` (checksum checked, restore
marked in the same step), and the phones sync again through the reset path — nothing any of them held is lost,
no case number is reused. Plus: a damaged or unchecked backup is refused and changes nothing; rotation."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from tests.support.device import Device, login, mutation, new_case_fields
from tests.support.server import ProcessServer
from tests.sync.util import conflict_list, records, uid, upd

REPO = Path(__file__).resolve().parents[2]


def cunzhi(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cunzhi", *args], env={**os.environ}, cwd=str(REPO),
                          capture_output=True, text=True, timeout=300)


def case_count(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT COUNT(*) FROM mediation_case")).scalar_one()
    finally:
        engine.dispose()


def serial(number: str) -> int:
    return int(number.rsplit("-", 1)[1])


def test_restore_drill(database, tmp_path):
    url = database
    backups = tmp_path / "backups"
    srv = ProcessServer({}).start()
    try:
        mediator = Device(login(srv.base, "wanfucun.mediator"))
        admin = Device(login(srv.base, "wanfucun.admin"))
        watcher = Device(login(srv.base, "wanfu.admin"))
        a_id = uid()
        mediator.outbox = [mutation("mediation_case", a_id, new_case_fields(title="备份前"))]
        assert [r["status"] for r in mediator.sync()] == ["applied"]
        watcher.sync()

        # 1. the backup, taken while the server serves
        p = cunzhi("db", "backup", "--dir", str(backups))
        assert p.returncode == 0, p.stderr
        (backup,) = [f for f in backups.iterdir() if not f.name.endswith(".sha256")]
        assert re.fullmatch(r"cunzhi-\d{8}T\d{6}Z\.(sqlite3|pgdump)", backup.name), backup.name
        digest, name = (backups / (backup.name + ".sha256")).read_text().split()
        assert name == backup.name and len(digest) == 64
        assert str(backup) in p.stdout

        # 2. more writes after it, through real pushes from two phones
        b_id, c_id = uid(), uid()
        mediator.outbox = [mutation("mediation_case", b_id, new_case_fields(title="备份后新建")),
                           upd(a_id, 1, title="备份后修改")]
        assert [r["status"] for r in mediator.sync()] == ["applied", "applied"]
        admin.outbox = [mutation("mediation_case", c_id, new_case_fields(title="另一部手机"))]
        assert [r["status"] for r in admin.sync()] == ["applied"]
        watcher.sync()
        before = records(watcher.client)
        issued = {r["case_number"] for r in before.values()}
        assert set(before) == {a_id, b_id, c_id}
        srv.kill()
        # while the server is down, the mediator edits B offline (the outbox waits)
        mediator.outbox = [upd(b_id, 1, place="离线时补充")]

        # 3. a damaged backup, or one without its checksum, is refused and changes nothing
        bad = tmp_path / "bad" / backup.name
        bad.parent.mkdir()
        data = bytearray(backup.read_bytes())
        data[len(data) // 2] ^= 0xFF
        bad.write_bytes(bytes(data))
        (bad.parent / (bad.name + ".sha256")).write_text((backups / (backup.name + ".sha256")).read_text())
        p = cunzhi("db", "restore", str(bad))
        assert p.returncode == 2 and "checksum" in p.stderr and "Traceback" not in p.stderr, p.stderr
        (bad.parent / (bad.name + ".sha256")).unlink()
        p = cunzhi("db", "restore", str(bad))
        assert p.returncode == 2 and "checksum" in p.stderr, p.stderr
        assert case_count(url) == 3

        # 4. the restore: checksum checked, database back, restore marked (new epoch) — one command
        p = cunzhi("db", "restore", str(backup))
        assert p.returncode == 0, p.stderr
        assert "new server epoch" in p.stdout
        assert case_count(url) == 1
        srv.start()

        # 5. every phone syncs again: reset_required → pull from scratch, re-send what it holds
        old_epoch = watcher.client.get("/api/v1/sync/pull", params={"cursor": watcher.cursor})
        assert old_epoch.status_code == 409 and old_epoch.json()["code"] == "reset_required"
        for phone in (mediator, admin, watcher, mediator):
            phone.sync()
        server_now = records(watcher.client)
        assert set(server_now) == {a_id, b_id, c_id}
        assert server_now[a_id]["title"] == "备份后修改"
        assert (server_now[b_id]["title"], server_now[b_id]["place"]) == ("备份后新建", "离线时补充")
        assert server_now[c_id]["title"] == "另一部手机"
        assert mediator.outbox == [] and admin.outbox == []
        # case numbers: unique, and the ones re-created after the restore never reuse a number issued before
        numbers = [r["case_number"] for r in server_now.values()]
        assert len(set(numbers)) == 3
        assert server_now[a_id]["case_number"] in issued  # A was in the backup: it keeps its number
        for rid in (b_id, c_id):
            assert serial(server_now[rid]["case_number"]) > max(serial(n) for n in issued)
        # every device converges on the server's picture; no conflict was made up
        for phone in (mediator, admin, watcher):
            phone.pull()
            assert {k[1]: v for k, v in phone.replica.items()} == records(phone.client)
        assert {k[1]: v for k, v in watcher.replica.items()} == server_now
        assert conflict_list(watcher.client, status="all") == []
    finally:
        srv.kill()


def test_backup_rotation_keeps_the_newest(database, tmp_path):
    from cunzhi.backup import backup, backups_in

    folder = tmp_path / "rot"
    t0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
    made = [backup(folder, keep=3, now=t0 + timedelta(days=i)) for i in range(5)]
    kept = backups_in(folder)
    assert kept == made[-3:]
    assert sorted(p.name for p in folder.iterdir()) == sorted([p.name for p in kept] +
                                                              [p.name + ".sha256" for p in kept])
    # two backups within one second do not overwrite each other
    again = backup(folder, keep=10, now=t0 + timedelta(days=4))
    assert again != made[-1] and again.exists() and made[-1].exists()


def test_restore_refuses_a_backup_of_the_other_kind(database, tmp_path):
    other = tmp_path / ("cunzhi-20261101T000000Z.pgdump" if database.startswith("sqlite") else
                        "cunzhi-20261101T000000Z.sqlite3")
    other.write_bytes(b"not a backup of this database")
    from cunzhi.backup import sha256_of

    (tmp_path / (other.name + ".sha256")).write_text(f"{sha256_of(other)}  {other.name}\n")
    p = cunzhi("db", "restore", str(other))
    assert p.returncode == 2 and "not a" in p.stderr, p.stderr
