"""Fault scenario 9: the server process killed (kill -9) and restarted; the database restored from a backup
taken earlier (then ``cunzhi db mark-restored``): every acknowledged write comes back through the reset
path, nothing is lost, serials are never reused, and replays from several phones do not overwrite each other.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from tests.support import databases
from tests.support.device import Device, login, mutation, new_case_fields, pull_all, push
from tests.support.server import ProcessServer
from tests.sync.util import conflict_list, get_case, get_conflict, records, uid, upd

REPO = Path(__file__).resolve().parents[2]


# ---- backup / restore of the test database ------------------------------------------------------
def _plain_pg(url: str) -> str:
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def backup(url: str, dest: Path) -> None:
    """Take a consistent backup while the server runs (sqlite3 online backup API / pg_dump)."""
    if url.startswith("sqlite"):
        src = sqlite3.connect(sa.make_url(url).database)
        dst = sqlite3.connect(dest)
        with dst:
            src.backup(dst)
        src.close()
        dst.close()
    else:
        subprocess.run(["pg_dump", "-Fc", "-f", str(dest), _plain_pg(url)], check=True, capture_output=True)


def restore(url: str, src: Path) -> None:
    """Put the backup back (the server is stopped)."""
    if url.startswith("sqlite"):
        path = Path(sa.make_url(url).database)
        for extra in (Path(f"{path}-wal"), Path(f"{path}-shm")):
            extra.unlink(missing_ok=True)
        shutil.copyfile(src, path)
    else:
        name = sa.make_url(url).database
        admin = databases._pg_admin()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        subprocess.run(["pg_restore", "--no-owner", "-d", _plain_pg(url), str(src)], check=True,
                       capture_output=True)


def mark_restored() -> str:
    out = subprocess.run([sys.executable, "-m", "cunzhi", "db", "mark-restored"], env={**os.environ},
                         cwd=str(REPO), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def serial(number: str) -> int:
    return int(number.rsplit("-", 1)[1])


# ---- kill -9 between push and pull ----------------------------------------------------------------
def test_server_killed_between_push_and_pull(database, tmp_path):
    hold_dir = tmp_path / "hold"
    hold_dir.mkdir()
    srv = ProcessServer({"CUNZHI_TEST_HOLD_DIR": str(hold_dir)}).start()
    try:
        phone, reader = login(srv.base, "wanfucun.mediator"), login(srv.base, "wanfucun.admin")
        _, cursor = pull_all(reader)
        batch = [mutation("mediation_case", uid(), new_case_fields(title=f"重启前{i}")) for i in range(3)]
        r = push(phone, batch)
        assert [x["status"] for x in r.json()["results"]] == ["applied"] * 3
        numbers = [x["record"]["case_number"] for x in r.json()["results"]]

        # a second push is killed mid-transaction (held after taking its feed position): nothing of it stays
        crash = [mutation("mediation_case", uid(), new_case_fields(title="崩溃中"))]
        flag = hold_dir / f"{phone.client_id}.after_seq"
        flag.touch()
        errors: list[Exception] = []

        def doomed():
            try:
                push(phone, crash)
            except httpx.HTTPError as e:
                errors.append(e)

        t = threading.Thread(target=doomed)
        t.start()
        _wait(hold_dir / f"{phone.client_id}.after_seq.reached")
        srv.kill()  # kill -9 while the push is inside its transaction
        t.join(timeout=30)
        assert errors, "the client should have seen the connection die"
        flag.unlink()

        srv.start()
        # sessions survive; the cursor is still valid; the acknowledged push is there; the killed one is not
        changes, cursor2 = pull_all(reader, cursor)
        assert [c["record"]["id"] for c in changes] == [m["record_id"] for m in batch]
        assert reader.get(f"/api/v1/mediation-cases/{crash[0]['record_id']}").status_code == 404
        assert pull_all(reader, cursor2)[0] == []
        # the retries: the acknowledged batch is a duplicate, the killed one applies now, once
        r = push(phone, batch + crash).json()["results"]
        assert [x["status"] for x in r] == ["duplicate"] * 3 + ["applied"]
        assert [x["record"]["case_number"] for x in r[:3]] == numbers
        assert serial(r[3]["record"]["case_number"]) == 4
        changes, _ = pull_all(reader, cursor2)
        assert [c["record"]["id"] for c in changes] == [crash[0]["record_id"]]
    finally:
        srv.kill()


def _wait(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never reached"
        time.sleep(0.02)


# ---- restore from a backup --------------------------------------------------------------------------
def test_restore_from_backup_loses_nothing(database, tmp_path):
    url = database
    srv = ProcessServer({}).start()
    try:
        phone = Device(login(srv.base, "wanfucun.mediator"))
        watcher = Device(login(srv.base, "wanfu.admin"))
        a_id = uid()
        phone.outbox = [mutation("mediation_case", a_id, new_case_fields(title="备份前"))]
        res = phone.sync()
        assert res[0]["status"] == "applied"
        epoch0 = phone.client.get("/api/v1/sync/pull").json()["server_epoch"]
        watcher.pull()
        watcher_cursor = watcher.cursor

        backup(url, tmp_path / "backup.bin")

        b_id = uid()
        phone.outbox = [mutation("mediation_case", b_id, new_case_fields(title="备份后新建"), base_epoch=epoch0),
                        upd(a_id, 1, title="备份后修改", base_epoch=epoch0)]
        res = phone.sync()
        assert [x["status"] for x in res] == ["applied", "applied"]
        issued = {get_case(phone.client, a_id)["case_number"], res[0]["record"]["case_number"]}
        ahead = phone.cursor

        srv.kill()
        restore(url, tmp_path / "backup.bin")
        srv.start()

        # the restored server lost B and A's edit; a cursor ahead of the feed → reset_required
        admin = login(srv.base, "wanfucun.admin")
        assert admin.get(f"/api/v1/mediation-cases/{b_id}").status_code == 404
        r = phone.client.get("/api/v1/sync/pull", params={"cursor": ahead})
        assert r.status_code == 409 and r.json()["code"] == "reset_required"

        srv.kill()
        out = mark_restored()
        assert "epoch" in out
        srv.start()

        # the epoch changed: even a cursor that is not ahead must reset
        r = watcher.client.get("/api/v1/sync/pull", params={"cursor": watcher_cursor})
        assert r.status_code == 409 and r.json()["code"] == "reset_required"
        epoch1 = admin.get("/api/v1/sync/pull").json()["server_epoch"]
        assert epoch1 != epoch0

        # a case created after the restore never reuses a number issued before it
        c_res = push(admin, [mutation("mediation_case", uid(), new_case_fields(title="恢复后新建"))]).json()
        c_number = c_res["results"][0]["record"]["case_number"]
        assert c_number not in issued and serial(c_number) > max(serial(n) for n in issued)

        # the phone resets (as the PWA does): pulls from scratch, re-sends its acknowledged log, then its outbox
        r = phone.client.get("/api/v1/sync/pull", params={"cursor": phone.cursor})
        assert r.status_code == 409 and r.json()["code"] == "reset_required"
        phone.outbox = [upd(b_id, 1, place="离线时补充", base_epoch=epoch0)]  # queued while the server was down
        replay = phone.acked + phone.outbox
        assert [m["record_id"] for m in replay] == [a_id, b_id, a_id, b_id]
        res = push(phone.client, replay).json()["results"]
        assert [x["status"] for x in res] == ["duplicate", "applied", "applied", "applied"], res
        phone.acked, phone.outbox = list(replay), []
        assert res[0]["original_status"] == "applied"
        phone.replica.clear()
        phone.cursor = None
        phone.pull()
        server_now = records(admin)
        assert set(server_now) == {a_id, b_id, c_res["results"][0]["record"]["id"]}
        assert server_now[a_id]["title"] == "备份后修改"
        assert (server_now[b_id]["title"], server_now[b_id]["place"]) == ("备份后新建", "离线时补充")
        numbers = [rec["case_number"] for rec in server_now.values()]
        assert len(set(numbers)) == 3
        assert serial(server_now[b_id]["case_number"]) > max(serial(n) for n in issued)
        # the replay answered duplicate for what the backup had, applied what it lost
        again = push(phone.client, replay).json()["results"]
        assert all(x["status"] == "duplicate" for x in again)
        # every device converges
        watcher.pull()
        phone.pull()
        assert {k[1]: v for k, v in watcher.replica.items()} == records(watcher.client)
        assert {k[1]: v for k, v in phone.replica.items()} == records(phone.client) == server_now
        assert conflict_list(admin, status="all") == []
    finally:
        srv.kill()


def test_replays_after_restore_conflict_instead_of_overwriting(database, tmp_path):
    url = database
    srv = ProcessServer({}).start()
    try:
        a = login(srv.base, "wanfucun.mediator")
        b = login(srv.base, "wanfucun.admin")
        rid = uid()
        create = mutation("mediation_case", rid, new_case_fields(title="原标题"))
        assert push(a, [create]).json()["results"][0]["status"] == "applied"
        epoch0 = a.get("/api/v1/sync/pull").json()["server_epoch"]
        backup(url, tmp_path / "backup.bin")

        # before the crash: A edits the title; B, having pulled A's edit, edits it again (and the place)
        a_edit = upd(rid, 1, title="甲改", base_epoch=epoch0)
        assert push(a, [a_edit]).json()["results"][0]["status"] == "applied"
        b_edit = upd(rid, 2, title="乙改", base_epoch=epoch0)
        b_place = upd(rid, 3, place="乙补地点", base_epoch=epoch0)
        assert [x["status"] for x in push(b, [b_edit, b_place]).json()["results"]] == ["applied", "applied"]

        srv.kill()
        restore(url, tmp_path / "backup.bin")
        mark_restored()
        srv.start()
        assert get_case(a, rid)["rev"] == 1

        # both phones replay their acknowledged logs (base revs of the lost history, the old epoch)
        res = push(a, [create, a_edit]).json()["results"]
        assert [x["status"] for x in res] == ["duplicate", "applied"]
        res = push(b, [b_edit, b_place]).json()["results"]
        # B's title would silently overwrite A's replayed one (its base_rev 2 = the current rev): a conflict
        assert res[0]["status"] == "conflict", res[0]
        assert res[0]["conflicts"] == [{"field": "title", "client_value": "乙改", "server_value": "甲改"}]
        assert res[1]["status"] in ("applied", "merged"), res[1]  # a field no one else changed this epoch
        final = get_case(a, rid)
        assert (final["title"], final["place"]) == ("甲改", "乙补地点")
        assert get_conflict(a, res[0]["conflict_id"])["fields"][0]["client_value"] == "乙改"

        # a phone's own field, changed only by itself since the epoch began, applies on replay
        res = push(a, [upd(rid, 1, title="甲再改", base_epoch=epoch0)]).json()["results"]
        assert res[0]["status"] == "merged", res[0]
        # with the current epoch the ordinary merge applies
        epoch1 = a.get("/api/v1/sync/pull").json()["server_epoch"]
        assert epoch1 != epoch0
        cur = get_case(b, rid)["rev"]
        res = push(b, [upd(rid, cur, title="乙最终", base_epoch=epoch1)]).json()["results"]
        assert res[0]["status"] == "applied"
        assert records(a)[rid]["title"] == "乙最终"
    finally:
        srv.kill()
