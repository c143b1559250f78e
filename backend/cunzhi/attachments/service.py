"""Attachment storage: content sniffing, safe decoding, re-encoding without metadata, files under
DATA_DIR/attachments.

Everything here is CPU work on untrusted bytes and runs in a worker thread, never on the event loop and
never inside a database transaction. Images are measured from their header before any pixel is decoded
(a 1 MB PNG can claim 13,000 × 13,000 pixels: 500 MB decoded); PDFs must parse.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from cunzhi.core.config import get_settings

SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)
_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "application/pdf": "pdf"}


class Refused(Exception):
    """The file is not acceptable; ``code`` is the field error code, ``status`` the HTTP status."""

    def __init__(self, status: int, code: str):
        super().__init__(code)
        self.status, self.code = status, code


@dataclass
class Prepared:
    content_type: str
    data: bytes


def sniff(data: bytes) -> str | None:
    """The content type by the bytes themselves, never by the file name."""
    for sig, ctype in SIGNATURES:
        if data.startswith(sig):
            return ctype
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def prepare(data: bytes) -> Prepared:
    """Check and normalise an upload: images re-encoded with no metadata at all, PDFs parsed. Raises Refused."""
    ctype = sniff(data)
    if ctype is None:
        raise Refused(415, "invalid_choice")
    if ctype == "application/pdf":
        check_pdf(data)
        return Prepared(ctype, data)
    return Prepared(ctype, reencode_image(data, ctype))


def reencode_image(data: bytes, content_type: str) -> bytes:
    """Decode (after the pixel count is checked from the header) and encode afresh: no EXIF (GPS, device,
    time), no XMP, no ICC profile, no comments — only the pixels, turned upright."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    limit = get_settings().max_image_pixels
    # Pillow's own bomb guard as a second line (it raises at twice this): our check below comes first
    Image.MAX_IMAGE_PIXELS = limit
    try:
        with Image.open(io.BytesIO(data), formats=[_FORMATS[content_type]]) as img:  # reads the header only
            width, height = img.size
            if width <= 0 or height <= 0 or width * height > limit:
                raise Refused(413, "image_too_large")
            img.seek(0)  # the first frame of an animation
            img.load()
            upright = ImageOps.exif_transpose(img)
            fmt = _FORMATS[content_type]
            if fmt == "JPEG":
                clean = upright.convert("L" if upright.mode in ("L", "1") else "RGB")
            elif upright.mode in ("RGB", "RGBA", "L", "LA"):
                clean = upright.copy()
            else:
                clean = upright.convert("RGBA" if "transparency" in upright.info or "A" in upright.mode else "RGB")
            clean.info = {}  # nothing carried over: no exif, icc_profile, xmp, comments, dpi
            out = io.BytesIO()
            params: dict = {"JPEG": {"quality": 90, "optimize": True}, "WEBP": {"quality": 90},
                            "PNG": {"optimize": False}}[fmt]
            clean.save(out, fmt, **params)
            return out.getvalue()
    except Refused:
        raise
    except Image.DecompressionBombError:
        raise Refused(413, "image_too_large") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, KeyError, IndexError):
        raise Refused(415, "invalid_file") from None
    except Exception:  # noqa: BLE001 - decoders of hostile files raise many kinds of errors
        raise Refused(415, "invalid_file") from None


def check_pdf(data: bytes) -> None:
    """A PDF must parse: its page tree read and at least one page (pypdf, pure Python)."""
    import logging

    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise Refused(415, "invalid_file")
        if len(reader.pages) < 1:
            raise Refused(415, "invalid_file")
        _ = reader.pages[0].mediabox
    except Refused:
        raise
    except Exception:  # noqa: BLE001 - a parser of hostile files raises many kinds of errors
        raise Refused(415, "invalid_file") from None


def path_for(attachment_id: str) -> Path:
    base = get_settings().data_dir / "attachments" / attachment_id[:2]
    base.mkdir(parents=True, exist_ok=True)
    return base / attachment_id


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
