"""A restore noticed without `cunzhi db mark-restored`: the server keeps the feed's high-water mark outside
the database and, finding the restored feed behind it at start-up, rotates the epoch itself — so phones reset
and re-send even when later writes would carry the feed past their old cursors."""

from __future__ import annotations

import time
import uuid

from tests.support.device import Device, login, mutation, new_case_fields, push
from tests.support.server import ProcessServer
from tests.sync.test_restart_restore import backup, restore, serial


def test_restore_without_mark_restored_is_detected_at_start(database, tmp_path):
    env = {"CUNZHI_WATERMARK_SECONDS": "0.1"}
    srv = ProcessServer(env).start()
    try:
        phone = Device(login(srv.base, "wanfucun.mediator"))
        a_id, b_id = mutation("x", "00000000-0000-4000-8000-00000000000a", {})["record_id"], None
        phone.outbox = [mutation("mediation_case", a_id, new_case_fields(title="备份前"))]
        phone.sync()
        epoch0 = phone.client.get("/api/v1/sync/pull").json()["server_epoch"]
        backup(database, tmp_path / "backup")
        later = mutation("mediation_case", "00000000-0000-4000-8000-00000000000b", new_case_fields(title="备份后"))
        b_id = later["record_id"]
        phone.outbox = [later]
        results = phone.sync()
        issued = serial(results[0]["record"]["case_number"])
        time.sleep(1.0)  # the running server notes the feed's position
    finally:
        srv.kill()
    restore(database, tmp_path / "backup")

    with ProcessServer(env) as srv2:
        admin = login(srv2.base, "wanfucun.admin")
        # many writes after the restore: enough to carry the feed past the phone's old cursor
        for i in range(5):
            r = admin.post("/api/v1/sync/push", json={"client_id": admin.client_id, "mutations": [
                mutation("mediation_case", f"00000000-0000-4000-8000-0000000001{i:02d}",
                         new_case_fields(title=f"恢复后{i}"))]})
            assert r.json()["results"][0]["status"] == "applied"
            assert serial(r.json()["results"][0]["record"]["case_number"]) > issued  # never reused
        assert admin.get("/api/v1/sync/pull").json()["server_epoch"] != epoch0
        phone.client = login(srv2.base, "wanfucun.mediator", client_id=phone.client.client_id)
        assert phone.client.get("/api/v1/sync/pull", params={"cursor": phone.cursor}).status_code == 409
        phone.pull()  # reset: pull from scratch, re-send the acknowledged log, then the outbox
        phone.pull()
        titles = {r["title"] for (e, _), r in phone.replica.items() if e == "mediation_case"}
        assert {"备份前", "备份后"} <= titles
        assert b_id in {rid for (_, rid) in phone.replica}


def test_a_push_committing_while_a_pull_reads_is_not_a_restore(as_user, monkeypatch):
    """A pull reads the feed's top; before it compares that with the highest top this process has seen, another
    push commits and is noted. The pull's top is then behind the mark, yet nothing was restored: under the API mix
    this rotated the epoch (every phone reset) and answered some pulls 500."""
    from cunzhi.sync import state

    mediator, admin = as_user("wanfucun.mediator"), as_user("wanfucun.admin")
    assert push(mediator, [mutation("mediation_case", str(uuid.uuid4()), new_case_fields())]).status_code == 200
    epoch0 = mediator.get("/api/v1/sync/pull").json()["server_epoch"]
    real, raced, busy = state.read_counter, [], []

    def read_counter(conn, name):
        top = real(conn, name)
        if name == "seq" and not busy:  # the pull's read: another phone's push commits right after it
            busy.append(1)  # (that push reads the counter too)
            raced.append(push(admin, [mutation("mediation_case", str(uuid.uuid4()), new_case_fields())]))
        return top

    monkeypatch.setattr(state, "read_counter", read_counter)
    r = mediator.get("/api/v1/sync/pull")
    monkeypatch.undo()
    assert raced and raced[0].status_code == 200 and raced[0].json()["results"][0]["status"] == "applied"
    assert r.status_code == 200 and r.json()["server_epoch"] == epoch0, r.text
    again = mediator.get("/api/v1/sync/pull").json()
    assert again["server_epoch"] == epoch0 and len(again["changes"]) == 2
