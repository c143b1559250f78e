"""Items 3, 4 and 8 (attachments) of issue 11: decompression bombs, metadata, PDFs, quota, who may upload
and download, download headers, the audit of every delivery."""

from __future__ import annotations

import io
import struct
import time
import uuid
import zlib
from functools import lru_cache

from tests.api import helpers as h
from tests.mediation.support import Case
from tests.security.support import audit, setting


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


@lru_cache
def png_bomb(side: int = 13_000) -> bytes:
    """A valid RGB PNG of side × side pixels (500 MB decoded for 13,000) that is about 0.5 MB on the wire."""
    z = zlib.compressobj(9)
    row = b"\x00" * (1 + side * 3)
    body = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def _peak_rss_kb() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS
    except OSError:
        pass


def test_png_bomb_rejected_fast_with_memory_flat(as_user, database):
    m = as_user("wanfucun.mediator")
    case = Case(m)
    bomb = png_bomb()
    assert len(bomb) < 2 * 1024 * 1024
    _reset_peak()
    before = _peak_rss_kb()
    started = time.perf_counter()
    r = h.upload(m, str(uuid.uuid4()), bomb, case.id, name="photo.png")
    elapsed = time.perf_counter() - started
    body = h.assert_error(r, 413, "payload_too_large")
    assert body["details"][0]["code"] == "image_too_large"
    assert elapsed < 1.0, elapsed
    grown_mb = (_peak_rss_kb() - before) / 1024
    assert grown_mb < 60, f"memory grew by {grown_mb:.0f} MB"
    assert h.count(h.engine_for(database), "attachment") == 0


def test_every_image_is_reencoded_without_metadata(as_user):
    from PIL import Image, PngImagePlugin

    m = as_user("wanfucun.mediator")
    case = Case(m)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x9003] = "Xiaomi", "Redmi 9A", "2026:11:20 10:00:00"  # no GPS at all
    out = io.BytesIO()
    Image.new("RGB", (60, 40), (90, 10, 10)).save(out, "JPEG", exif=exif, comment=b"party: Zhang San 13812345678")
    jpeg = out.getvalue()
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Zhang San 340321199001011236")
    out = io.BytesIO()
    Image.new("RGB", (30, 20), (1, 2, 3)).save(out, "PNG", pnginfo=info)
    png = out.getvalue()
    for data, fmt in ((jpeg, "JPEG"), (png, "PNG")):
        aid = str(uuid.uuid4())
        assert h.upload(m, aid, data, case.id).status_code == 200
        got = m.get(f"/api/v1/attachments/{aid}").content
        for secret in (b"Xiaomi", b"Redmi", b"2026:11:20", b"Zhang San", b"13812345678", b"340321199001011236"):
            assert secret not in got, (fmt, secret)
        with Image.open(io.BytesIO(got)) as img:
            assert img.format == fmt and len(img.getexif()) == 0
            assert not {"exif", "comment", "Author", "icc_profile"} & set(img.info)


def test_pdf_must_parse(as_user, database):
    m = as_user("wanfucun.mediator")
    case = Case(m)
    fake = b"%PDF-1.7\n" + b"<script>alert(1)</script>" * 40
    body = h.assert_error(h.upload(m, str(uuid.uuid4()), fake, case.id, name="agreement.pdf"), 415,
                          "unsupported_media_type")
    assert body["details"][0]["code"] == "invalid_file"
    real = h.pdf_bytes()
    aid = str(uuid.uuid4())
    assert h.upload(m, aid, real, case.id, name="agreement.pdf").status_code == 200
    r = m.get(f"/api/v1/attachments/{aid}")
    assert r.headers["content-disposition"] == f'attachment; filename="{aid}.pdf"'
    assert h.count(h.engine_for(database), "attachment") == 1


def test_download_headers(as_user):
    m = as_user("wanfucun.mediator")
    case = Case(m)
    aid = str(uuid.uuid4())
    h.upload(m, aid, h.jpeg_bytes(), case.id)
    r = m.get(f"/api/v1/attachments/{aid}")
    assert r.status_code == 200
    assert r.headers["content-disposition"] == f'inline; filename="{aid}.jpg"'
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"
    assert "sandbox" in r.headers["content-security-policy"]


def test_per_user_quota(as_user, monkeypatch):
    m, va = as_user("wanfucun.mediator"), as_user("wanfucun.admin")
    case = Case(m)
    first = h.jpeg_bytes(size=(200, 200), color=(5, 5, 5))
    setting(monkeypatch, attachment_quota_bytes=len(first) + 200)
    assert h.upload(m, str(uuid.uuid4()), first, case.id).status_code == 200
    body = h.assert_error(h.upload(m, str(uuid.uuid4()), h.jpeg_bytes(size=(200, 200), color=(9, 9, 9)), case.id),
                          413, "quota_exceeded")
    assert body["details"][0]["code"] == "quota_exceeded"
    # the quota is per user: a colleague still uploads
    assert h.upload(va, str(uuid.uuid4()), h.jpeg_bytes(color=(7, 7, 7)), case.id).status_code == 200


def test_upload_only_for_a_record_the_caller_may_write(as_user, database):
    m, zm, tv = as_user("wanfucun.mediator"), as_user("zhendong.mediator"), as_user("wanfu.viewer")
    case = Case(m)
    data = h.jpeg_bytes()
    absent = h.upload(zm, str(uuid.uuid4()), data, str(uuid.uuid4()))
    out_of_scope = h.upload(zm, str(uuid.uuid4()), data, case.id)
    h.assert_error(out_of_scope, 404, "not_found")
    assert h.error_body(out_of_scope) == h.error_body(absent)  # out of scope looks exactly like absent
    h.assert_error(h.upload(tv, str(uuid.uuid4()), data, case.id), 403, "forbidden")  # a read-only role
    # a deleted record takes no more files
    va = as_user("wanfucun.admin")
    from tests.support.device import mutation, push

    res = push(va, [mutation("mediation_case", case.id, {}, base_rev=case.rev, op="delete")]).json()["results"][0]
    assert res["status"] == "applied", res
    h.assert_error(h.upload(m, str(uuid.uuid4()), data, case.id), 404, "not_found")
    assert h.count(h.engine_for(database), "attachment") == 0


def test_viewer_gets_404_for_an_agreement_photo_and_deliveries_are_audited(as_user, database):
    m, ta, tv, g = (as_user(u) for u in ("wanfucun.mediator", "wanfu.admin", "wanfu.viewer", "wanfucun.grid"))
    case = Case(m)
    aid = str(uuid.uuid4())
    assert h.upload(m, aid, h.jpeg_bytes(color=(250, 250, 240)), case.id, name="signed-agreement.jpg").status_code == 200
    case.ok(status="mediating")
    case.ok(status="agreed", agreement={"form": "written", "terms": "赔偿 800 元", "amount": "800.00",
                                        "performance": "一次性", "signed_on": h.days_ago(0),
                                        "attachment_ids": [aid]})
    for masked in (tv, g):  # they see the parties' numbers masked: no photo of the signed paper either
        r = masked.get(f"/api/v1/attachments/{aid}")
        h.assert_error(r, 404, "not_found")
        assert h.error_body(r) == h.error_body(masked.get(f"/api/v1/attachments/{uuid.uuid4()}"))
    assert ta.get(f"/api/v1/attachments/{aid}").status_code == 200
    assert m.get(f"/api/v1/attachments/{aid}").status_code == 200
    rows = audit(database, "attachment_download")
    assert len(rows) == 2
    assert {r["user_id"] for r in rows} == {h.user_id(h.engine_for(database), u)
                                           for u in ("wanfu.admin", "wanfucun.mediator")}
    assert all(case.id in (r["record_ids"] if isinstance(r["record_ids"], list) else __import__("json").loads(
        r["record_ids"])) for r in rows)
