"""Attachments: idempotent upload by id, content checks (not names), size limit, metadata stripped (images are
re-encoded), who may read (records with personal data: the roles that see it unmasked)."""

from __future__ import annotations

import io
import uuid

import pytest

from tests.api import helpers as h
from tests.mediation.support import Case


def _count(database) -> int:
    engine = h.engine_for(database)
    try:
        return h.count(engine, "attachment")
    finally:
        engine.dispose()


@pytest.mark.parametrize("fmt,ctype", [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp"),
                                       ("PDF", "application/pdf")])
def test_upload_each_type_idempotent_by_id(as_user, database, fmt, ctype):
    m = as_user("wanfucun.mediator")
    case = Case(m)
    data = h.pdf_bytes() if fmt == "PDF" else h.image_bytes(fmt, size=(40, 30))
    aid = str(uuid.uuid4())
    r1 = h.upload(m, aid, data, case.id, name="whatever.bin")  # the name says nothing; the bytes do
    assert r1.status_code == 200, r1.text
    got = m.get(f"/api/v1/attachments/{aid}")
    assert got.status_code == 200 and got.headers["content-type"] == ctype
    stored = got.content
    assert r1.json() == {"id": aid, "sha256": h.sha(data), "content_type": ctype, "size": len(stored)}
    if fmt == "PDF":
        assert stored == data
    else:  # images are stored re-encoded: the same picture
        from PIL import Image

        with Image.open(io.BytesIO(stored)) as img:
            assert img.format == fmt and img.size == (40, 30)
    # the same bytes again (a retry): the same answer, nothing new stored
    r2 = h.upload(m, aid, data, case.id, name="retry.jpg")
    assert r2.status_code == 200 and r2.json() == r1.json()
    assert _count(database) == 1
    # different bytes under the same id: 409, and the first file stays
    other = h.image_bytes("PNG", size=(41, 30))
    r3 = h.upload(m, aid, other, case.id)
    h.assert_error(r3, 409)
    assert r3.json()["details"][0]["code"] == "attachment_exists"
    assert m.get(f"/api/v1/attachments/{aid}").content == stored
    assert _count(database) == 1


def test_wrong_sha256_is_422(as_user, database):
    m = as_user("wanfucun.mediator")
    case = Case(m)
    data = h.jpeg_bytes()
    r = h.upload(m, str(uuid.uuid4()), data, case.id, digest=h.sha(data + b"x"))
    body = h.assert_error(r, 422, "validation_error")
    assert body["details"][0] == {"field": "sha256", "code": "checksum_mismatch",
                                  "message": body["details"][0]["message"]}
    r = h.upload(m, str(uuid.uuid4()), data, case.id, digest=h.sha(data).upper()[:-1] + "0",
                 ctype="image/jpeg")
    h.assert_error(r, 422, "validation_error")
    assert _count(database) == 0


@pytest.mark.parametrize("name,data", [
    ("photo.jpg", "这不是照片，只是文字。".encode()),
    ("photo.png", b"<html><script>alert(1)</script></html>"),
    ("doc.pdf", b"PK\x03\x04 a zip pretending"),
    ("truncated.jpg", None),
    ("fake.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 garbage"),
    ("empty.jpg", b""),
    ("gif.jpg", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
])
def test_content_not_name_decides(as_user, database, name, data):
    m = as_user("wanfucun.mediator")
    case = Case(m)
    if data is None:
        data = h.jpeg_bytes()[:40]  # a JPEG header and then nothing
    for lang in ("zh-CN", "en"):
        r = m.put(f"/api/v1/attachments/{uuid.uuid4()}", files={"file": (name, data, "image/jpeg")},
                  data={"sha256": h.sha(data), "entity": "mediation_case", "record_id": case.id},
                  headers={"Accept-Language": lang})
        h.assert_error(r, 415, "unsupported_media_type", lang="en" if lang == "en" else "zh")
    assert _count(database) == 0


def test_over_10_mb_is_413(as_user, database, tmp_path):
    m = as_user("wanfucun.mediator")
    rid = Case(m).id
    # a real (if silly) JPEG, padded past 10 MB with a comment-free tail so only the size is wrong
    data = h.jpeg_bytes() + b"\x00" * (10 * 1024 * 1024 + 1)
    r = h.upload(m, str(uuid.uuid4()), data, rid)
    h.assert_error(r, 413, "payload_too_large")
    # far over the limit (the body itself is refused while it streams)
    big = b"\xff\xd8\xff" + b"\x00" * (12 * 1024 * 1024)
    r = h.upload(m, str(uuid.uuid4()), big, rid)
    h.assert_error(r, 413, "payload_too_large")
    assert _count(database) == 0
    # just under the limit is fine
    from PIL import Image

    img = Image.effect_noise((1900, 1900), 80).convert("RGB")
    out = io.BytesIO()
    img.save(out, "PNG")
    under = out.getvalue()
    assert 1024 * 1024 < len(under) < 10 * 1024 * 1024
    r = h.upload(m, str(uuid.uuid4()), under, rid)
    assert r.status_code == 200, r.text


def _jpeg_with_gps() -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "Xiaomi"  # Make
    exif[0x0110] = "Redmi 9A"  # Model
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (32.0, 57.0, 30.0)
    gps[3] = "E"
    gps[4] = (117.0, 11.0, 15.0)
    data = h.jpeg_bytes(size=(64, 48), exif=exif)
    with Image.open(io.BytesIO(data)) as check:
        assert 0x8825 in check.getexif() and check.getexif().get_ifd(0x8825)
    return data


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "PNG"])
def test_all_metadata_is_stripped(as_user, fmt):
    from PIL import Image

    m = as_user("wanfucun.mediator")
    case = Case(m)
    if fmt == "JPEG":
        data = _jpeg_with_gps()
    else:
        with Image.open(io.BytesIO(_jpeg_with_gps())) as src:
            exif = src.getexif()
            out = io.BytesIO()
            src.save(out, fmt, exif=exif.tobytes())
            data = out.getvalue()
        with Image.open(io.BytesIO(data)) as check:
            assert 0x8825 in check.getexif()
    aid = str(uuid.uuid4())
    r = h.upload(m, aid, data, case.id)
    assert r.status_code == 200, r.text
    got = m.get(f"/api/v1/attachments/{aid}")
    assert got.status_code == 200
    with Image.open(io.BytesIO(got.content)) as img:
        exif = img.getexif()
        assert 0x8825 not in exif, "GPS IFD still present"
        assert not exif.get_ifd(0x8825)
        assert len(exif) == 0, "no metadata at all: not the phone's make and model either"
        assert "exif" not in img.info and "icc_profile" not in img.info
        assert img.size == (64, 48)
    assert b"Redmi" not in got.content and b"Xiaomi" not in got.content


def test_who_may_read(as_user, database):
    m, g, va, zm, ta, oa, tv, ca = (as_user(u) for u in ("wanfucun.mediator", "wanfucun.grid", "wanfucun.admin",
                                                         "zhendong.mediator", "wanfu.admin", "tangji.admin",
                                                         "wanfu.viewer", "county.admin"))
    from tests.support.device import mutation, new_case_fields, push

    # 1. no upload before its record exists: absent looks like out of scope (404), nothing stored
    rid = str(uuid.uuid4())
    data = h.jpeg_bytes()
    aid = str(uuid.uuid4())
    h.assert_error(h.upload(m, aid, data, rid), 404, "not_found")
    res = push(m, [mutation("mediation_case", rid, new_case_fields(received_on=h.days_ago(1),
                                                                   agreement=None))]).json()["results"][0]
    assert res["status"] == "applied"
    assert h.upload(m, aid, data, rid).status_code == 200
    # 2. a case holds personal data: its files reach only the roles that see personal data unmasked in it
    for reader in (m, va, ta):
        r = reader.get(f"/api/v1/attachments/{aid}")
        assert r.status_code == 200, reader.username
        assert r.headers["cache-control"] == "no-store"
    missing = h.error_body(m.get(f"/api/v1/attachments/{uuid.uuid4()}"))
    for masked in (g, tv, ca, zm, oa):  # masked readers and outsiders alike: the 404 of a missing file
        r = masked.get(f"/api/v1/attachments/{aid}")
        h.assert_error(r, 404, "not_found")
        assert h.error_body(r) == h.error_body(masked.get(f"/api/v1/attachments/{uuid.uuid4()}")) == missing
    # 3. an outsider cannot attach a file to a record outside its scope: the same 404 as an absent record
    r = h.upload(zm, str(uuid.uuid4()), h.jpeg_bytes(color=(1, 2, 3)), rid)
    h.assert_error(r, 404, "not_found")
    assert h.error_body(r) == h.error_body(h.upload(zm, str(uuid.uuid4()), h.jpeg_bytes(color=(1, 2, 3)),
                                                    str(uuid.uuid4())))
    # 4. read-only roles cannot upload at all
    for ro in (tv, ca):
        h.assert_error(h.upload(ro, str(uuid.uuid4()), h.jpeg_bytes(color=(4, 5, 6)), rid), 403, "forbidden")
    assert _count(database) == 1
    # 5. a case event's attachment follows its case: scope and personal data
    eid = str(uuid.uuid4())
    aid2 = str(uuid.uuid4())
    push(m, [mutation("case_event", eid, {"case_id": rid, "kind": "session", "occurred_at": "2026-11-22T10:00:00+08:00",
                                          "attachment_ids": [aid2]})])
    assert h.upload(m, aid2, h.image_bytes("PNG"), eid, entity="case_event").status_code == 200
    assert ta.get(f"/api/v1/attachments/{aid2}").status_code == 200
    for other in (zm, tv):
        h.assert_error(other.get(f"/api/v1/attachments/{aid2}"), 404, "not_found")


def test_upload_requires_a_session(as_user, server):
    import httpx

    data = h.jpeg_bytes()
    with httpx.Client(base_url=server.base) as anon:
        r = h.upload(anon, str(uuid.uuid4()), data, str(uuid.uuid4()))
        h.assert_error(r, 401, "not_authenticated")
        h.assert_error(anon.get(f"/api/v1/attachments/{uuid.uuid4()}"), 401, "not_authenticated")
