"""Wire shapes of push, pull and conflicts (documented in OpenAPI; records are open objects)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictStr
from pydantic_core import PydanticCustomError


def _json_int(value: Any) -> Any:
    """An integer as JSON Schema has it: 3 or 3.0, never true, "3" or 3.5 (pydantic's strict mode refuses 3.0,
    its lax mode takes "3")."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("int_type", "not an integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise PydanticCustomError("int_type", "not an integer")
        return int(value)
    return value


JsonInt = Annotated[int, BeforeValidator(_json_int)]
# revisions: far below what a float holds exactly (a JSON number is a double to most clients)
MAX_REV = 2**53 - 1
UUID_PATTERN = r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
ENTITY_MAX = 100
CLIENT_ID_MAX = 64


# PushIn and MutationIn document the push body; sync/mutation.py ``read_push`` judges it by the same rules in one pass
# (tests/sync/test_push_body.py holds the two to the same answers)
class MutationIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    mutation_id: str = Field(pattern=UUID_PATTERN, description="the mutation's id (UUID, chosen once by the device: a retry is answered as a duplicate)")
    entity: StrictStr = Field(max_length=ENTITY_MAX, description="the record type")
    op: Literal["upsert", "delete"] = Field(description="upsert (create or change) or delete")
    record_id: str = Field(pattern=UUID_PATTERN, description="the record's id (UUID)")
    base_rev: JsonInt = Field(ge=0, le=MAX_REV)
    fields: dict[str, Any] = Field(default_factory=dict, description="wire field → new value (for upsert): only the fields changed")
    # judged per mutation by the engine (a bad value rejects that mutation only, never the batch)
    client_time: Any = Field(default=None, description="when the change was made on the device (ISO 8601), for the record's history")
    base_epoch: Any = Field(default=None, description="the server_epoch the device's base_rev came from (a restored server asks to pull again)")
    resolves_conflict: Any = Field(default=None, description="the id of the stored conflict this change settles")


class PushIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"client_id": "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "mutations": [{"mutation_id": "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b", "entity": "mediation_case", "op": "upsert", "record_id": "0b6f3c1e-8a55-4d0e-9a53-5c2f0b0e7a11", "base_rev": 2, "fields": {"status": "mediating"}, "client_time": "2026-11-21T10:02:00+08:00"}]}]})
    client_id: StrictStr = Field(min_length=1, max_length=CLIENT_ID_MAX, description="the device's id: must be the session's")
    mutations: list[MutationIn] = Field(description="the device's outbox, oldest first (at most the server's limit)")


class ErrorDetail(BaseModel):
    field: str = Field(description="the wire name of the field (nested keys joined with dots)")
    code: str = Field(description="what is wrong with it")
    message: str = Field(description="the message in the request's language")


class ErrorOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "code": "validation_error", "message": "提交的数据有误",
        "details": [{"field": "parties.0.phone", "code": "invalid_phone", "message": "电话号码格式不正确"}],
        "request_id": "9485cafd576c485dbd8649b5bd81a4fa"}]})
    code: str = Field(description="the error's code (stable; e.g. validation_error, not_found)")
    message: str = Field(description="the message in the request's language (Accept-Language: zh-CN or en)")
    details: list[ErrorDetail] = Field(description="one entry per wrong field (empty when no field is to blame)")
    request_id: str | None = Field(default=None, description="the request's id (X-Request-ID), to find it in the "
                                                             "server's logs")


class ConflictField(BaseModel):
    field: str = Field(description="the wire name of the field")
    client_value: Any = Field(default=None, description="the value the device sent")
    server_value: Any = Field(default=None, description="the value the server holds")


class MutationResultOut(BaseModel):
    mutation_id: str = Field(description="the mutation's id")
    status: Literal["applied", "merged", "conflict", "duplicate", "rejected"] = Field(description="applied, merged, conflict, duplicate or rejected")
    original_status: str | None = Field(default=None, description="for a duplicate: the status the first answer had")
    record: dict[str, Any] | None = Field(default=None, description="the record as stored now (its type's XxxRecord schema)")
    conflict_id: str | None = Field(default=None, description="the stored conflict, for a conflict")
    conflicts: list[ConflictField] | None = Field(default=None, description="the fields in conflict")
    error: ErrorOut | None = Field(default=None, description="why it was rejected")


class PushOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"results": [{"mutation_id": "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b", "status": "applied", "record": {"id": "0b6f3c1e-8a55-4d0e-9a53-5c2f0b0e7a11", "org_code": "340321108200", "rev": 3, "deleted": False, "status": "mediating"}}], "server_time": "2026-11-21T02:02:01Z"}]})
    results: list[MutationResultOut] = Field(description="one result per mutation, in order")
    server_time: str = Field(description="the server's clock (ISO 8601, UTC)")


class ChangeOut(BaseModel):
    entity: str = Field(description="the record type")
    record: dict[str, Any] = Field(description="the record as stored now (its type's XxxRecord schema; deleted: true for a tombstone)")


class PullOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"changes": [{"entity": "mediation_case", "record": {"id": "0b6f3c1e-8a55-4d0e-9a53-5c2f0b0e7a11", "org_code": "340321108200", "rev": 3, "deleted": False, "status": "mediating"}}], "cursor": "eyJlIjoiMjAyNi0xMS0yMCIsInMiOjQyfQ", "has_more": False, "server_epoch": "2026-11-20T00:00:00Z"}]})
    changes: list[ChangeOut] = Field(description="records changed after the cursor, in feed order")
    cursor: str = Field(description="pass it back for the next page (keep it for incremental loads)")
    has_more: bool = Field(description="true: pull again now")
    server_epoch: str = Field(description="the server's epoch: changes after a restore from backup")
    settings_version: str = Field(default="", description="the caller's county's settings and code tables, as a "
                                  "stamp: the app refetches /reference when it differs from its copy's")


class ConflictOut(BaseModel):
    id: str = Field(description="the conflict's id")
    entity: str = Field(description="the record type")
    record_id: str = Field(description="the record's id")
    client_id: str = Field(description="the device that sent the change")
    created_by: str = Field(description="the user who sent it")
    base_rev: int = Field(description="the revision the change was made on")
    fields: list[ConflictField] = Field(description="the fields in conflict")
    status: Literal["open", "resolved"] = Field(description="open or resolved")
    created_at: str = Field(description="when it was stored")
    resolved_at: str | None = Field(default=None, description="when it was settled")
    resolved_by: str | None = Field(default=None, description="who settled it")


class ConflictPage(BaseModel):
    items: list[ConflictOut] = Field(description="the conflicts of this page")
    next_cursor: str | None = Field(default=None, description="the cursor of the next page; null on the last page")


class ResolveIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"base_rev": 4, "choices": {"parties": [{"name": "张三", "role": "applicant", "phone": "13800001234"}]}}]})
    base_rev: JsonInt = Field(ge=0, le=MAX_REV, description="the record's revision the choices were made on")
    choices: dict[str, Any] = Field(description="field → the value chosen (every field of the conflict)")


class RecordOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(description="the record's id")
    org_code: str = Field(description="the record's unit")
    rev: int = Field(description="the record's revision after the change")
    deleted: bool = Field(description="true for a tombstone")
