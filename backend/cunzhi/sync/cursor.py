"""Pull cursors: opaque, signed, carrying the epoch, position, scope and issue time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from cunzhi.core.config import get_settings
from cunzhi.core.errors import AppError


@dataclass
class Cursor:
    epoch: str
    seq: int
    scope: str
    issued: int


def _sign(payload: bytes) -> str:
    key = get_settings().resolved_secret_key.encode()
    return base64.urlsafe_b64encode(hmac.new(key, payload, hashlib.sha256).digest()[:16]).decode().rstrip("=")


def encode_cursor(c: Cursor) -> str:
    payload = json.dumps({"e": c.epoch, "s": c.seq, "sc": c.scope, "t": c.issued}, separators=(",", ":")).encode()
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{body}.{_sign(payload)}"


def decode_cursor(text: str) -> Cursor:
    try:
        body, sig = text.split(".", 1)
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        if not hmac.compare_digest(sig, _sign(payload)):
            raise ValueError("signature")
        data = json.loads(payload)
        return Cursor(str(data["e"]), int(data["s"]), str(data["sc"]), int(data["t"]))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, json.JSONDecodeError):
        raise AppError(400, "invalid_cursor") from None


def now_ts() -> int:
    return int(time.time())
