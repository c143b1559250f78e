"""PUT/GET /attachments/{id}: idempotent upload of photos and scans; served to those who may read the record."""

from __future__ import annotations

import os
import uuid
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel

from cunzhi.api.deps import CurrentScope
from cunzhi.core.clock import utcnow
from cunzhi.core.config import get_settings
from cunzhi.core.db import read_tx, write_tx
from cunzhi.core.errors import AppError, FieldError
from cunzhi.sync.registry import get_entity
from cunzhi.sync.schemas import ErrorOut
from cunzhi.attachments import service
from cunzhi.attachments.models import Attachment

router = APIRouter(prefix="/attachments", tags=["attachments"])
att_t = Attachment.__table__
ERRORS = {401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}, 409: {"model": ErrorOut},
          413: {"model": ErrorOut}, 415: {"model": ErrorOut}, 422: {"model": ErrorOut}}


class AttachmentOut(BaseModel):
    id: str
    sha256: str
    content_type: str
    size: int


def _out(row) -> dict:
    return {"id": row["id"], "sha256": row["sha256"], "content_type": row["content_type"], "size": row["size"]}


@router.put("/{attachment_id}", response_model=AttachmentOut, responses=ERRORS)
async def upload(attachment_id: uuid.UUID, scope: CurrentScope, file: Annotated[UploadFile, File()],
                 sha256: Annotated[str, Form(pattern=r"^[0-9a-fA-F]{64}$")],
                 entity: Annotated[str, Form(max_length=40)], record_id: Annotated[uuid.UUID, Form()]) -> JSONResponse:
    """Upload once per id (a retry with the same bytes answers the same); JPEG, PNG, WebP or PDF ≤ 10 MB."""
    spec = get_entity(entity)
    if spec is None:
        raise AppError(422, "validation_error", [FieldError("entity", "unknown_entity")])
    if not any(scope.role in roles for roles in spec.writers.values()):
        raise AppError(403, "forbidden")
    limit = get_settings().max_attachment_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise AppError(413, "payload_too_large", [FieldError("file", "file_too_large")])
    if service.sha256_hex(data) != sha256.lower():
        raise AppError(422, "validation_error", [FieldError("sha256", "checksum_mismatch")])
    ctype = service.sniff(data)
    if ctype is None or not service.valid_image(data, ctype):
        raise AppError(415, "unsupported_media_type", [FieldError("file", "invalid_choice")])
    aid = str(attachment_id)
    with write_tx() as conn:
        existing = conn.execute(sa.select(att_t).where(att_t.c.id == aid)).mappings().first()
        if existing:
            if existing["sha256"] != sha256.lower():
                raise AppError(409, "validation_error", [FieldError("id", "attachment_exists")])
            return JSONResponse(_out(existing))
        record = conn.execute(sa.select(spec.table.c.org_code).where(spec.table.c.id == str(record_id))).scalar()
        if record is not None and not scope.contains(record):
            raise AppError(403, "forbidden")
        try:
            stored = service.strip_gps(data, ctype)
        except ValueError:
            raise AppError(415, "unsupported_media_type", [FieldError("file", "invalid_choice")]) from None
        path = service.path_for(aid)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(stored)
        os.replace(tmp, path)
        row = {"id": aid, "sha256": sha256.lower(), "content_type": ctype, "size": len(stored), "entity": entity,
               "record_id": str(record_id), "uploaded_by": scope.user_id, "created_at": utcnow()}
        conn.execute(att_t.insert().values(**row))
    return JSONResponse(_out(row))


@router.get("/{attachment_id}", responses={200: {"content": {"image/jpeg": {}, "application/pdf": {}}}, **ERRORS})
def download(attachment_id: uuid.UUID, scope: CurrentScope) -> FileResponse:
    """The file, for whoever may read its record (before the record arrives: its uploader)."""
    with read_tx() as conn:
        row = conn.execute(sa.select(att_t).where(att_t.c.id == str(attachment_id))).mappings().first()
        if row is None:
            raise AppError(404, "not_found")
        spec = get_entity(row["entity"])
        org = conn.execute(sa.select(spec.table.c.org_code).where(spec.table.c.id == row["record_id"])).scalar() \
            if spec else None
    allowed = scope.contains(org) if org is not None else row["uploaded_by"] == scope.user_id
    if not allowed:
        raise AppError(404, "not_found")
    path = service.path_for(row["id"])
    if not path.exists():
        raise AppError(404, "not_found")
    return FileResponse(path, media_type=row["content_type"], headers={"Cache-Control": "private, max-age=86400"})
