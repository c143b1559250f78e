"""A phone's local backup, imported on the server (issue 12): the file the field app exports from its sync page
(what waits to sync: the outbox in order, photos not uploaded) is replayed through the normal push, as the original
user on the original device. Mutation ids are the phone's own, so whatever already arrived answers ``duplicate``;
photos go through the same checks as an upload. Nothing here bypasses the sync engine's rules."""

from __future__ import annotations

import base64
import os
import uuid
from collections import Counter
from typing import Any

import sqlalchemy as sa

from cunzhi.attachments import service as attachments
from cunzhi.attachments.models import Attachment
from cunzhi.core.clock import utcnow
from cunzhi.core.db import write_tx
from cunzhi.core.scope import Scope
from cunzhi.core.config import get_settings
from cunzhi.sync import engine
from cunzhi.sync.registry import get_entity
from cunzhi.users.models import User

FORMAT = "cunzhi-device-backup"


class BackupError(ValueError):
    """The file is not a device backup this server can import."""


def _actor(conn: sa.Connection, data: dict) -> Scope:
    who = data.get("user") or {}
    row = conn.execute(sa.select(User.__table__).where(User.__table__.c.id == str(who.get("id")))).mappings().first()
    if row is None or row["username"] != who.get("username"):
        raise BackupError("unknown_user")
    if not row["active"]:
        raise BackupError("user_disabled")
    try:
        client_id = str(uuid.UUID(str(data.get("client_id"))))
    except ValueError:
        raise BackupError("bad_client_id") from None
    return Scope(row["id"], row["username"], row["role"], row["org_code"], client_id)


def _mutation(m: dict) -> engine.Mutation:
    return engine.Mutation(str(uuid.UUID(m["mutation_id"])), m["entity"], m.get("op", "upsert"),
                           str(uuid.UUID(m["record_id"])), int(m.get("base_rev", 0)), m.get("fields") or {},
                           m.get("client_time"), m.get("base_epoch"), m.get("resolves_conflict"))


def _store_photo(conn: sa.Connection, actor: Scope, a: dict) -> str:
    """The checks of PUT /attachments/{id}: size, checksum, a real image or PDF, metadata stripped; idempotent by id."""
    att_t = Attachment.__table__
    aid = str(uuid.UUID(a["id"]))
    data = base64.b64decode(a["data_base64"], validate=True)
    if len(data) > get_settings().max_attachment_bytes:
        return "too_large"
    if attachments.sha256_hex(data) != str(a.get("sha256", "")).lower():
        return "checksum_mismatch"
    if get_entity(a.get("entity", "")) is None:
        return "unsupported"
    try:  # the upload's own checks (issue 11): re-encoded without any metadata, PDFs parsed
        prepared = attachments.prepare(data)
    except attachments.Refused:
        return "unsupported"
    ctype, stored = prepared.content_type, prepared.data
    if conn.execute(sa.select(att_t.c.id).where(att_t.c.id == aid)).first():
        return "duplicate"
    path = attachments.path_for(aid)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(stored)
    os.replace(tmp, path)
    conn.execute(att_t.insert().values(id=aid, sha256=a["sha256"].lower(), content_type=ctype, size=len(stored),
                                       entity=a["entity"], record_id=str(uuid.UUID(a["record_id"])),
                                       uploaded_by=actor.user_id, created_at=utcnow()))
    return "stored"


def import_backup(data: Any) -> dict[str, Any]:
    """Replays a device backup; returns counts of push answers and photos by outcome."""
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != 1:
        raise BackupError("not_a_device_backup")
    try:
        mutations = [_mutation(m) for m in data.get("mutations") or []]
    except (KeyError, TypeError, ValueError):
        raise BackupError("bad_mutation") from None
    photos: Counter[str] = Counter()
    answers: Counter[str] = Counter()
    with write_tx() as conn:
        actor = _actor(conn, data)
        for a in data.get("attachments") or []:
            photos[_store_photo(conn, actor, a)] += 1
    size = get_settings().max_push_mutations
    for i in range(0, len(mutations), size):
        with write_tx() as conn:
            for r in engine.Push(conn, actor).run(mutations[i:i + size]):
                answers[r.status] += 1
    return {"user": actor.username, "mutations": dict(answers), "photos": dict(photos)}
