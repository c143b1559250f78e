"""A phone's local backup imported on the server (issue 12): replayed through the normal push as the original user
and device, so nothing applies twice; photos pass the upload checks."""

from __future__ import annotations

import base64
import hashlib
import io
import uuid

import pytest
from PIL import Image

from cunzhi.device_backup import BackupError, import_backup
from tests.support.device import mutation, new_case_fields, push


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(buf, "JPEG")
    return buf.getvalue()


def _backup(client, mutations: list[dict], photos: list[dict] | None = None) -> dict:
    me = client.get("/api/v1/me").json()
    return {"format": "cunzhi-device-backup", "version": 1, "exported_at": "2026-11-30T08:00:00Z",
            "user": {"id": me["id"], "username": me["username"], "org_code": me["org_code"]},
            "client_id": client.client_id, "mutations": mutations, "rejected": [], "attachments": photos or []}


def test_import_replays_as_the_original_user_and_never_twice(as_user):
    phone = as_user("wanfucun.mediator")
    sent = mutation("mediation_case", str(uuid.uuid4()), new_case_fields(title="手机上已发出"))
    assert push(phone, [sent]).json()["results"][0]["status"] == "applied"
    waiting = mutation("mediation_case", str(uuid.uuid4()), new_case_fields(title="手机坏了，没来得及同步"))
    data = _jpeg()
    photo = {"id": str(uuid.uuid4()), "entity": "mediation_case", "record_id": waiting["record_id"],
             "content_type": "image/jpeg", "sha256": hashlib.sha256(data).hexdigest(),
             "data_base64": base64.b64encode(data).decode()}
    backup = _backup(phone, [sent, waiting], [photo])

    out = import_backup(backup)
    assert out["user"] == "wanfucun.mediator"
    assert out["mutations"] == {"duplicate": 1, "applied": 1}
    assert out["photos"] == {"stored": 1}
    # the waiting case is on the server, written by the phone's user
    other = as_user("wanfucun.admin")
    got = other.get(f"/api/v1/mediation-cases/{waiting['record_id']}")
    assert got.status_code == 200 and got.json()["title"] == "手机坏了，没来得及同步"
    assert got.json()["created_by"] == phone.get("/api/v1/me").json()["id"]
    assert other.get(f"/api/v1/attachments/{photo['id']}").status_code == 200
    # importing the same file again changes nothing
    again = import_backup(backup)
    assert again["mutations"] == {"duplicate": 2} and again["photos"] == {"duplicate": 1}


def test_a_file_that_is_not_a_backup_or_names_another_user_is_refused(as_user):
    phone = as_user("wanfucun.mediator")
    with pytest.raises(BackupError):
        import_backup({"format": "something else"})
    forged = _backup(phone, [])
    forged["user"]["username"] = "wanfu.admin"
    with pytest.raises(BackupError):
        import_backup(forged)
