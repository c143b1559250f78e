"""Photos and scanned agreements: stored as files under DATA_DIR/attachments, described here."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from cunzhi.core.db import UUIDStr


class Attachment(SQLModel, table=True):
    __tablename__ = "attachment"

    id: str = Field(sa_type=UUIDStr, primary_key=True)
    sha256: str = Field(max_length=64)
    content_type: str = Field(max_length=40)
    size: int
    entity: str = Field(max_length=40)
    record_id: str = Field(sa_type=UUIDStr, index=True)
    uploaded_by: str = Field(sa_type=UUIDStr, index=True)
    created_at: datetime = Field(index=True)
