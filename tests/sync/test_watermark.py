"""A restore noticed without `cunzhi db mark-restored`: the server keeps the feed's high-water mark outside
the database and, finding the restored feed behind it at start-up, rotates the epoch itself — so phones reset
and re-send even when later writes would carry the feed past their old cursors."""

from __future__ import annotations

import time

from tests.support.device import Device, login, mutation, new_case_fields
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
