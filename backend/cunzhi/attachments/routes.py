"""PUT/GET /attachments/{id}: idempotent upload of photos and scans; served to those who may read the record
and, for records with personal data, see it unmasked.

An upload is checked in this order: the caller's role may write the entity; the record exists, is not
deleted and is in scope (absent and out of scope answer the same 404); the size; the checksum; the user's
quota. The decoding and re-encoding run in a worker thread with no transaction open; the write transaction
only inserts the row.
"""

from __future__ import annotations

import os
import secrets
import uuid
from typing import Annotated

import sqlalchemy as sa
from anyio import to_thread
from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

from cunzhi.core.jsonx import JSONResponse
from cunzhi.api.deps import CurrentScope
from cunzhi.attachments import service
from cunzhi.attachments.models import Attachment
from cunzhi.core.clock import utcnow
from cunzhi.core.config import get_settings
from cunzhi.core.db import read_tx, write_tx
from cunzhi.core.errors import AppError, FieldError
from cunzhi.core.scope import Scope
from cunzhi.sync.registry import EntitySpec, entities, get_entity
from cunzhi.sync.schemas import ErrorOut
from cunzhi.users.service import audit_event

router = APIRouter(prefix="/attachments", tags=["attachments"])
att_t = Attachment.__table__
ERRORS = {401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}, 409: {"model": ErrorOut},
          413: {"model": ErrorOut}, 415: {"model": ErrorOut}, 422: {"model": ErrorOut}}


class AttachmentOut(BaseModel):
    id: str
    sha256: str = Field(description="the SHA-256 of the stored bytes (hex)")
    content_type: str = Field(description="image/jpeg or application/pdf")
    size: int = Field(description="the size in bytes")


def _out(row) -> dict:
    return {"id": row["id"], "sha256": row["sha256"], "content_type": row["content_type"], "size": row["size"]}


def holds_personal_data(spec: EntitySpec) -> bool:
    """Records with personal data, and records that belong to one (a case's events: session photos, the
    signed agreement), keep their files for the roles that see personal data unmasked."""
    personal_tables = {s.table.name for s in entities().values() if s.personal_fields}
    return bool(spec.personal_fields) or any(fk.column.table.name in personal_tables for fk in spec.table.foreign_keys)


def _record(conn, spec: EntitySpec, record_id: str) -> dict | None:
    t = spec.table
    return conn.execute(sa.select(t.c.org_code, t.c.deleted).where(t.c.id == record_id)).mappings().first()


@router.put("/{attachment_id}", response_model=AttachmentOut, responses=ERRORS,
            summary="Upload an attachment (photo or PDF) of a record")
async def upload(attachment_id: uuid.UUID, scope: CurrentScope,
                 file: Annotated[UploadFile, File(description="the file: a JPEG photo or a PDF, within the size limit")],
                 sha256: Annotated[str, Form(pattern=r"^[0-9a-fA-F]{64}$", description="the SHA-256 of the file (hex): "
                                             "checked against the bytes received",
                                             examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"])],
                 entity: Annotated[str, Form(min_length=1, max_length=40, description="the record type the file belongs to",
                                             examples=["mediation_case"])],
                 record_id: Annotated[uuid.UUID, Form(description="the record the file belongs to (the caller may write it)",
                                                      examples=["0b6f3c1e-8a55-4d0e-9a53-5c2f0b0e7a11"])]) -> JSONResponse:
    """Upload once per id (a retry with the same bytes answers the same) for a record the caller may write;
    JPEG, PNG, WebP or PDF ≤ 10 MB; images are stored re-encoded without any metadata."""
    spec = get_entity(entity)
    if spec is None:
        raise AppError(422, "validation_error", [FieldError("entity", "unknown_entity")])
    if not any(scope.role in roles for roles in spec.writers.values()):
        raise AppError(403, "forbidden")
    aid, rid, digest = str(attachment_id), str(record_id), sha256.lower()
    settings = get_settings()
    # database work and decoding run in worker threads: the event loop never waits on a lock or a decoder
    existing, used = await to_thread.run_sync(_precheck, scope, spec, aid, rid)
    limit = settings.max_attachment_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise AppError(413, "payload_too_large", [FieldError("file", "file_too_large")])
    if service.sha256_hex(data) != digest:
        raise AppError(422, "validation_error", [FieldError("sha256", "checksum_mismatch")])
    if existing:
        if existing["sha256"] != digest:
            raise AppError(409, "validation_error", [FieldError("id", "attachment_exists")])
        return JSONResponse(_out(existing))
    if used + len(data) > settings.attachment_quota_bytes:
        raise AppError(413, "quota_exceeded", [FieldError("file", "quota_exceeded")])
    try:
        prepared = await to_thread.run_sync(service.prepare, data)
    except service.Refused as e:
        raise AppError(e.status, "payload_too_large" if e.status == 413 else "unsupported_media_type",
                       [FieldError("file", e.code)]) from None
    row = {"id": aid, "sha256": digest, "content_type": prepared.content_type, "size": len(prepared.data),
           "entity": entity, "record_id": rid, "uploaded_by": scope.user_id, "created_at": utcnow()}
    return JSONResponse(_out(await to_thread.run_sync(_store, row, prepared.data)))


def _precheck(scope: Scope, spec: EntitySpec, aid: str, rid: str) -> tuple[dict | None, int]:
    """The record may be written by the caller (else 404, absent or not); an earlier upload; the quota used."""
    with read_tx() as conn:
        record = _record(conn, spec, rid)
        if record is None or record["deleted"] or not scope.contains(record["org_code"]):
            raise AppError(404, "not_found")  # absent and out of scope look the same
        existing = conn.execute(sa.select(att_t).where(att_t.c.id == aid)).mappings().first()
        used = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(att_t.c.size), 0))
                            .where(att_t.c.uploaded_by == scope.user_id)).scalar()
    if existing and (existing["uploaded_by"] != scope.user_id or existing["record_id"] != rid):
        raise AppError(409, "validation_error", [FieldError("id", "attachment_exists")])
    return (dict(existing) if existing else None), int(used or 0)


def _store(row: dict, data: bytes) -> dict:
    """Write the file, then its row in a short transaction (a concurrent upload of the same id: the first wins)."""
    path = service.path_for(row["id"])
    tmp = path.with_name(f".{row['id']}.{secrets.token_hex(4)}.part")
    tmp.write_bytes(data)
    try:
        with write_tx() as conn:
            again = conn.execute(sa.select(att_t).where(att_t.c.id == row["id"])).mappings().first()
            if again:
                if again["sha256"] != row["sha256"]:
                    raise AppError(409, "validation_error", [FieldError("id", "attachment_exists")])
                return dict(again)
            conn.execute(att_t.insert().values(**row))
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return row


def may_read(conn, scope: Scope, row: dict) -> bool:
    spec = get_entity(row["entity"])
    if spec is not None and not scope.may_read(spec.name):  # a key limited to other record types: absent
        return False
    record = _record(conn, spec, row["record_id"]) if spec else None
    if record is None:
        return row["uploaded_by"] == scope.user_id  # before its record arrives: the uploader only
    if not scope.contains(record["org_code"]):
        return False
    if holds_personal_data(spec):
        return scope.sees_personal_data(record["org_code"])
    return True


@router.get("/{attachment_id}", response_class=Response, responses={200: {"description": "the file", "content": {"image/jpeg": {}, "application/pdf": {}}}, **ERRORS},
            summary="Download an attachment")
def download(attachment_id: uuid.UUID, scope: CurrentScope) -> FileResponse:
    """The file, for whoever may read its record — and for records with personal data, sees it unmasked
    (everyone else: the same 404 as a missing file). Every delivery is audited."""
    with read_tx() as conn:
        row = conn.execute(sa.select(att_t).where(att_t.c.id == str(attachment_id))).mappings().first()
        allowed = row is not None and may_read(conn, scope, dict(row))
    if not allowed:
        raise AppError(404, "not_found")
    path = service.path_for(row["id"])
    if not path.exists():
        raise AppError(404, "not_found")
    with write_tx() as conn:
        audit_event(conn, scope.user_id, "attachment_download", [row["record_id"]],
                    {"attachment_id": row["id"], "entity": row["entity"]})
    ext = service.EXTENSIONS.get(row["content_type"], "bin")
    disposition = "inline" if row["content_type"].startswith("image/") else "attachment"
    return FileResponse(path, media_type=row["content_type"], headers={
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'{disposition}; filename="{row["id"]}.{ext}"',
        "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"})
