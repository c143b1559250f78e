"""Attachment storage: content sniffing, GPS stripping, files under DATA_DIR/attachments."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from cunzhi.core.config import get_settings

SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)


def sniff(data: bytes) -> str | None:
    """The content type by the bytes themselves, never by the file name."""
    for sig, ctype in SIGNATURES:
        if data.startswith(sig):
            return ctype
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def strip_gps(data: bytes, content_type: str) -> bytes:
    """Remove location metadata from photos (EXIF GPS); other metadata and pixels stay."""
    if content_type not in ("image/jpeg", "image/webp", "image/png"):
        return data
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            exif = img.getexif()
            if 0x8825 not in exif:
                return data
            del exif[0x8825]
            out = io.BytesIO()
            fmt = {"image/jpeg": "JPEG", "image/webp": "WEBP", "image/png": "PNG"}[content_type]
            params = {"exif": exif.tobytes()}
            if fmt == "JPEG":
                params["quality"] = 92
            img.save(out, fmt, **params)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ValueError("unreadable image") from None


def valid_image(data: bytes, content_type: str) -> bool:
    if content_type == "application/pdf":
        return True
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
        return True
    except Exception:  # noqa: BLE001 - Pillow raises many types for broken files
        return False


def path_for(attachment_id: str) -> Path:
    base = get_settings().data_dir / "attachments" / attachment_id[:2]
    base.mkdir(parents=True, exist_ok=True)
    return base / attachment_id


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
