"""Shared helpers for the API, mediation, CLI and attachment suites: personal data, masks, error shape, DB."""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from datetime import date, timedelta

import sqlalchemy as sa

from cunzhi.core.clock import today_shanghai

_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_C = "10X98765432"


def id_number(i: int, j: int = 0, region: str = "340321") -> str:
    """A valid GB 11643 ID number, distinct per (i, j)."""
    body = f"{region}1980{1 + i % 12:02d}{1 + j % 28:02d}{i % 10}{j % 10}7"
    return body + _C[sum(int(c) * w for c, w in zip(body, _W, strict=True)) % 11]


def phone(i: int, j: int = 0) -> str:
    """A valid mainland mobile number, distinct per (i, j) for i, j < 10."""
    return f"13{i % 10}{j % 10}{i % 10}{j % 10}{i % 10}{j % 10}678"


def mask_id(v: str) -> str:
    return v[:6] + "*" * 8 + v[-4:]


def mask_phone(v: str) -> str:
    return v[:3] + "****" + v[-4:]


MASKED_ID = re.compile(r"^\d{6}\*{8}[\dX]{4}$")
MASKED_PHONE = re.compile(r"^\d{3}\*{4}\d{4}$")


def today() -> date:
    return today_shanghai()


def days_ago(n: int) -> str:
    return (today() - timedelta(days=n)).isoformat()


def error_body(resp) -> dict:
    """An error answer without its request_id (unique per request), to compare two answers' contents."""
    return {k: v for k, v in resp.json().items() if k != "request_id"}


def assert_error(resp, status: int, code: str | None = None, lang: str = "zh") -> dict:
    """The one error shape, with a message in the expected language."""
    assert resp.status_code == status, (resp.status_code, resp.text[:500])
    body = resp.json()
    assert set(body) == {"code", "message", "details", "request_id"}, body  # request_id: the log line's (ops)
    assert body["request_id"] == resp.headers["x-request-id"], body
    assert isinstance(body["code"], str) and isinstance(body["message"], str) and body["message"]
    assert isinstance(body["details"], list)
    for d in body["details"]:
        assert set(d) == {"field", "code", "message"}, d
        assert all(isinstance(d[k], str) for k in d)
    if code is not None:
        assert body["code"] == code, body
    assert_lang(body, lang)
    return body


_HAN = re.compile(r"[\u4e00-\u9fff]")


def assert_lang(body: dict, lang: str) -> None:
    texts = [body["message"]] + [d["message"] for d in body.get("details", [])]
    for t in texts:
        if lang == "zh":
            assert _HAN.search(t), f"expected a Chinese message, got {t!r}"
        else:
            assert not _HAN.search(t), f"expected an English message, got {t!r}"


def count(engine, table: str, where: str = "", **params) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT COUNT(*) FROM {table} {where}"), params).scalar()


def row(engine, table: str, record_id: str) -> dict | None:
    with engine.connect() as conn:
        r = conn.execute(sa.text(f"SELECT * FROM {table} WHERE id = :id"), {"id": record_id}).mappings().first()
        return dict(r) if r else None


def user_id(engine, username: str) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT id FROM app_user WHERE username = :u"), {"u": username}).scalar()


def audit_rows(engine, uid: str) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM audit_entry WHERE user_id = :u ORDER BY id"), {"u": uid}).mappings()
        out = []
        for r in rows:
            r = dict(r)
            if isinstance(r["record_ids"], str):
                import json

                r["record_ids"] = json.loads(r["record_ids"])
            out.append(r)
        return out


def engine_for(url: str):
    from cunzhi.core.db import make_engine

    return make_engine(url)


def new_id() -> str:
    return str(uuid.uuid4())


def jpeg_bytes(size=(32, 24), color=(200, 30, 30), exif=None) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    img = Image.new("RGB", size, color)
    if exif is not None:
        img.save(out, "JPEG", exif=exif)
    else:
        img.save(out, "JPEG")
    return out.getvalue()


def image_bytes(fmt: str, size=(16, 16)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, fmt)
    return out.getvalue()


def pdf_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (20, 20), (255, 255, 255)).save(out, "PDF")
    return out.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload(client, aid: str, data: bytes, record_id: str, entity: str = "mediation_case", name: str = "photo.jpg",
           digest: str | None = None, ctype: str = "application/octet-stream"):
    return client.put(f"/api/v1/attachments/{aid}", files={"file": (name, data, ctype)},
                      data={"sha256": digest or sha(data), "entity": entity, "record_id": record_id})
