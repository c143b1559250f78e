"""Pull cursors: opaque, signed, carrying the epoch, position, scope and issue time.

The signing key lives in the database (``server_state.cursor_key``, migration 20261130_0002), with the data it
signs: a restore onto a new host keeps every phone's cursor verifiable. A cursor that cannot be read is a 400;
a well-formed one the server cannot verify (signed by a key this database does not hold) answers 409
``reset_required``: the phone pulls from the beginning and recovers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from cunzhi.core.errors import AppError


@dataclass
class Cursor:
    epoch: str
    seq: int
    scope: str
    issued: int


def _sign(payload: bytes, key: str) -> str:
    return base64.urlsafe_b64encode(hmac.new(key.encode(), payload, hashlib.sha256).digest()[:16]).decode().rstrip("=")


def encode_cursor(c: Cursor, key: str) -> str:
    payload = json.dumps({"e": c.epoch, "s": c.seq, "sc": c.scope, "t": c.issued}, separators=(",", ":")).encode()
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{body}.{_sign(payload, key)}"


def decode_cursor(text: str, key: str) -> Cursor:
    try:
        body, sig = text.split(".", 1)
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        data = json.loads(payload)
        cursor = Cursor(str(data["e"]), int(data["s"]), str(data["sc"]), int(data["t"]))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, json.JSONDecodeError):
        raise AppError(400, "invalid_cursor") from None
    if not hmac.compare_digest(sig, _sign(payload, key)):
        raise AppError(409, "reset_required")  # well-formed, not ours to verify: start over
    return cursor


def now_ts() -> int:
    return int(time.time())
