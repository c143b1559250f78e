"""Wire shapes of push, pull and conflicts (documented in OpenAPI; records are open objects)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr


class MutationIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    mutation_id: str = Field(pattern=r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
    entity: StrictStr = Field(max_length=100)
    op: Literal["upsert", "delete"]
    record_id: str = Field(pattern=r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
    base_rev: StrictInt = Field(ge=0, le=2**62)
    fields: dict[str, Any] = Field(default_factory=dict)
    # judged per mutation by the engine (a bad value rejects that mutation only, never the batch)
    client_time: Any = None
    base_epoch: Any = None
    resolves_conflict: Any = None


class PushIn(BaseModel):
    client_id: StrictStr = Field(min_length=1, max_length=64)
    mutations: list[MutationIn]


class ErrorDetail(BaseModel):
    field: str
    code: str
    message: str


class ErrorOut(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail] = []


class ConflictField(BaseModel):
    field: str
    client_value: Any = None
    server_value: Any = None


class MutationResultOut(BaseModel):
    mutation_id: str
    status: Literal["applied", "merged", "conflict", "duplicate", "rejected"]
    original_status: str | None = None
    record: dict[str, Any] | None = None
    conflict_id: str | None = None
    conflicts: list[ConflictField] | None = None
    error: ErrorOut | None = None


class PushOut(BaseModel):
    results: list[MutationResultOut]
    server_time: str


class ChangeOut(BaseModel):
    entity: str
    record: dict[str, Any]


class PullOut(BaseModel):
    changes: list[ChangeOut]
    cursor: str
    has_more: bool
    server_epoch: str


class ConflictOut(BaseModel):
    id: str
    entity: str
    record_id: str
    client_id: str
    created_by: str
    base_rev: int
    fields: list[ConflictField]
    status: Literal["open", "resolved"]
    created_at: str
    resolved_at: str | None = None
    resolved_by: str | None = None


class ConflictPage(BaseModel):
    items: list[ConflictOut]
    next_cursor: str | None = None


class ResolveIn(BaseModel):
    base_rev: StrictInt = Field(ge=0, le=2**62)
    choices: dict[str, Any]


class RecordOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    org_code: str
    rev: int
    deleted: bool
