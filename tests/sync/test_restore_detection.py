"""Restores (issue 6, defects 2, 11, 12): serials never reused (counters created after the backup included),
cursors that survive a restore onto another host, and a restore noticed by itself in all three cases —
under a running server, onto another host, at start-up (the last: test_watermark.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
import subprocess

import sqlalchemy as sa

from tests.support import databases
from tests.support.device import login, mutation, new_case_fields, pull_all, push
from tests.support.server import ProcessServer
from tests.sync.test_restart_restore import _plain_pg, backup, mark_restored, restore, serial
from tests.sync.util import uid

ZHENDONG = "340321108201"


def _create(client, org="340321108200", **over) -> dict:
    r = push(client, [mutation("mediation_case", uid(), new_case_fields(org, **over))])
    res = r.json()["results"][0]
    assert res["status"] == "applied", res
    return res["record"]


def _epoch(client) -> str:
    return client.get("/api/v1/sync/pull", params={"limit": 1}).json()["server_epoch"]


# ---- 2. counters created after the backup ----------------------------------------------------------
def test_2_mark_restored_moves_counters_created_after_the_backup(database, tmp_path):
    with ProcessServer({}) as srv:
        zd = login(srv.base, "zhendong.mediator")
        backup(database, tmp_path / "backup")
        first = _create(zd, ZHENDONG)  # 镇东村's first case: its counter did not exist at the backup
        assert serial(first["case_number"]) == 1
    restore(database, tmp_path / "backup")
    mark_restored()
    with ProcessServer({}) as srv:
        zd = login(srv.base, "zhendong.mediator")
        again = _create(zd, ZHENDONG)
        assert again["case_number"] != first["case_number"]
        assert serial(again["case_number"]) > serial(first["case_number"])


# ---- 11. the cursor key travels with the database ----------------------------------------------------
def test_11_cursors_survive_a_restore_onto_another_host(database, tmp_path):
    host1 = {"CUNZHI_SECRET_KEY": "", "CUNZHI_DATA_DIR": str(tmp_path / "host1")}
    host2 = {"CUNZHI_SECRET_KEY": "", "CUNZHI_DATA_DIR": str(tmp_path / "host2")}
    with ProcessServer(host1) as srv:
        m = login(srv.base, "wanfucun.mediator")
        _create(m)
        _, cursor = pull_all(m)
        backup(database, tmp_path / "backup")
    restore(database, tmp_path / "backup")
    with ProcessServer(host2) as srv:  # another host: another data folder, the same database
        m = login(srv.base, "wanfucun.mediator")
        r = m.get("/api/v1/sync/pull", params={"cursor": cursor})
        assert r.status_code == 200, r.text  # the phone continues (it was not ahead of the backup)
        assert r.json()["changes"] == []


def test_11_a_well_formed_cursor_the_server_cannot_verify_is_reset_required(as_user):
    m = as_user("wanfucun.mediator")
    _, cursor = pull_all(m)
    body = cursor.split(".", 1)[0]
    payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    sig = base64.urlsafe_b64encode(hmac.new(b"another host's key", payload, hashlib.sha256).digest()[:16])
    forged = f"{body}.{sig.decode().rstrip('=')}"
    r = m.get("/api/v1/sync/pull", params={"cursor": forged})
    assert r.status_code == 409 and r.json()["code"] == "reset_required", r.text
    assert m.get("/api/v1/sync/pull", params={"cursor": "not a cursor"}).status_code == 400
    data = json.loads(payload)
    assert data["s"] >= 0


# ---- 12. a restore noticed by itself -----------------------------------------------------------------
def _restore_live(url: str, src) -> None:
    """Put the backup back while the server keeps running (no restart)."""
    if url.startswith("sqlite"):
        live = sqlite3.connect(sa.make_url(url).database)
        bak = sqlite3.connect(src)
        with live:
            bak.backup(live)
        bak.close()
        live.close()
    else:
        name = sa.make_url(url).database
        admin = databases._pg_admin()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        subprocess.run(["pg_restore", "--no-owner", "-d", _plain_pg(url), str(src)], check=True,
                       capture_output=True)


def test_12_a_restore_under_a_running_server_is_noticed(database, tmp_path):
    with ProcessServer({}) as srv:
        phone, admin = login(srv.base, "wanfucun.mediator"), login(srv.base, "wanfucun.admin")
        _create(phone)
        epoch0 = _epoch(phone)
        backup(database, tmp_path / "backup")
        issued = serial(_create(phone)["case_number"])  # 0002, lost with the restore
        _, cursor = pull_all(phone)
        _restore_live(database, tmp_path / "backup")
        # the next push notices (its feed is behind what this server saw): no number is issued twice
        number = serial(_create(admin)["case_number"])
        assert number > issued, (number, issued)
        assert _epoch(admin) != epoch0
        r = phone.get("/api/v1/sync/pull", params={"cursor": cursor})
        assert r.status_code == 409 and r.json()["code"] == "reset_required"


def test_12_a_restore_under_a_running_server_is_noticed_by_a_pull(database, tmp_path):
    with ProcessServer({}) as srv:
        phone = login(srv.base, "wanfucun.mediator")
        _create(phone)
        epoch0 = _epoch(phone)
        backup(database, tmp_path / "backup")
        issued = serial(_create(phone)["case_number"])
        _epoch(phone)
        _restore_live(database, tmp_path / "backup")
        assert _epoch(phone) != epoch0  # a pull without a cursor notices too
        assert serial(_create(phone)["case_number"]) > issued


def test_12_a_restore_onto_another_host_is_noticed_by_the_phones(database, tmp_path):
    host1 = {"CUNZHI_DATA_DIR": str(tmp_path / "host1")}
    host2 = {"CUNZHI_DATA_DIR": str(tmp_path / "host2")}
    with ProcessServer(host1) as srv:
        phone = login(srv.base, "wanfucun.mediator")
        case = _create(phone)
        epoch0 = _epoch(phone)
        backup(database, tmp_path / "backup")
        r = push(phone, [mutation("mediation_case", case["id"], {"title": "备份后改"}, base_rev=1)])
        assert r.json()["results"][0]["record"]["rev"] == 2
        issued = serial(_create(phone)["case_number"])
        _, cursor = pull_all(phone)
    restore(database, tmp_path / "backup")
    with ProcessServer(host2) as srv:  # no mark outside the database here
        phone = login(srv.base, "wanfucun.mediator", client_id=phone.client_id)
        r = phone.get("/api/v1/sync/pull", params={"cursor": cursor})  # ahead of the feed: a restore
        assert r.status_code == 409 and r.json()["code"] == "reset_required"
        assert _epoch(phone) != epoch0
        assert serial(_create(phone)["case_number"]) > issued


def test_12_a_push_ahead_of_the_database_on_another_host_is_noticed(database, tmp_path):
    host1 = {"CUNZHI_DATA_DIR": str(tmp_path / "host1")}
    host2 = {"CUNZHI_DATA_DIR": str(tmp_path / "host2")}
    with ProcessServer(host1) as srv:
        phone = login(srv.base, "wanfucun.mediator")
        case = _create(phone)
        epoch0 = _epoch(phone)
        backup(database, tmp_path / "backup")
        push(phone, [mutation("mediation_case", case["id"], {"title": "备份后改"}, base_rev=1)])
        issued = serial(_create(phone)["case_number"])
    restore(database, tmp_path / "backup")
    with ProcessServer(host2) as srv:
        phone = login(srv.base, "wanfucun.mediator", client_id=phone.client_id)
        # the phone's next edit was made on rev 2, which this database never had
        r = push(phone, [mutation("mediation_case", case["id"], {"place": "村口"}, base_rev=2, base_epoch=epoch0)])
        assert r.json()["results"][0]["status"] in ("applied", "merged"), r.text
        assert _epoch(phone) != epoch0
        assert serial(_create(phone)["case_number"]) > issued
