"""HTTP face of the sync engine: push, pull, conflicts."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Header, Query, Request
from pydantic import PlainValidator, WithJsonSchema
from sqlalchemy.exc import IntegrityError

from cunzhi.core.jsonx import JSONBodyRoute, JSONResponse
from cunzhi.api.audit import audit_within
from cunzhi.api.deps import CurrentScope, Lang, audit
from cunzhi.core import metrics
from cunzhi.core.clock import iso, utcnow
from cunzhi.core.config import get_settings
from cunzhi.core.db import read_tx, write_tx
from cunzhi.core.errors import AppError, FieldError, ValidationFailed, render_error
from cunzhi.core.scope import Scope
from cunzhi.reference.service import settings_version
from cunzhi.sync import engine, watermark
from cunzhi.sync.mutation import PushBody, read_push
from cunzhi.sync.present import present_conflict_fields, present_record
from cunzhi.sync.registry import get_entity
from cunzhi.sync.schemas import ConflictOut, ConflictPage, ErrorOut, PullOut, PushIn, PushOut, ResolveIn, RecordOut

router = APIRouter(prefix="/sync", tags=["sync"], route_class=JSONBodyRoute)
conflicts_router = APIRouter(prefix="/conflicts", tags=["sync"])

SUPPORTED_PROTOCOLS = {"1"}
PULL_LIMIT_CAP = 5000  # the most a page may ask for (a server may set a lower CUNZHI_PULL_MAX_LIMIT)
# another version answers 426 upgrade_required (the header is absent: version 1)
Protocol = Annotated[str | None, Header(description="the sync protocol version the client speaks: 1 (another answers "
                                                   "426); absent: 1"),
                     WithJsonSchema({"type": "string", "enum": sorted(SUPPORTED_PROTOCOLS)})]
ERRORS = {400: {"model": ErrorOut}, 401: {"model": ErrorOut}, 409: {"model": ErrorOut}, 413: {"model": ErrorOut},
          422: {"model": ErrorOut}, 426: {"model": ErrorOut}, 503: {"model": ErrorOut}}


def check_protocol(value: str | None) -> None:
    if value is not None and value not in SUPPORTED_PROTOCOLS:
        raise AppError(426, "unsupported_protocol")


def render_result(res: engine.Result, viewer: Scope, lang: str) -> dict:
    out: dict = {"mutation_id": res.mutation_id, "status": res.status}
    spec = get_entity(res.entity or "")
    if res.original_status:
        out["original_status"] = res.original_status
    if res.row is not None and spec is not None and viewer.contains(res.row["org_code"]):
        out["record"] = present_record(spec, res.row, viewer)
    if res.conflict_id:
        out["conflict_id"] = res.conflict_id
    if res.conflicts and spec is not None:
        # masked against the record's org (kept with the stored answer), never the caller's: a duplicate
        # answered after the caller moved units must not unmask another unit's personal data
        org = res.org_code if res.org_code is not None else (res.row["org_code"] if res.row else "")
        out["conflicts"] = present_conflict_fields(spec, res.conflicts, org, viewer,
                                                   res.row["id"] if res.row else None)
    if res.error:
        out["error"] = render_error(res.error["code"],
                                    [FieldError(d["field"], d["code"]) for d in res.error.get("details", [])], lang)
    return out


# the body as FastAPI reads it (JSON, or its usual 422), documented as PushIn, judged and made into mutations by
# read_push alone (pydantic's model of each mutation was a second pass over the batch)
PushBodyIn = Annotated[PushBody, Body(), PlainValidator(read_push, json_schema_input_type=PushIn)]


@router.post("/push", response_model=PushOut, responses=ERRORS,
             summary="Push the device's outbox (sync protocol v1)")
def push(body: PushBodyIn, scope: CurrentScope, lang: Lang,
         x_cunzhi_protocol: Protocol = None) -> JSONResponse:
    """Apply the device's outbox: one result per mutation, in order (sync-protocol.md, Push)."""
    if body.errors:
        raise ValidationFailed(body.errors)
    check_protocol(x_cunzhi_protocol)
    if body.client_id != scope.client_id:
        raise AppError(422, "validation_error", [FieldError("client_id", "client_id_mismatch")])
    mutations = body.mutations
    if len(mutations) > get_settings().max_push_mutations:
        raise AppError(413, "too_many_mutations")
    try:
        run, results, rendered = _apply(scope, mutations, lang)
    except IntegrityError:
        # a constraint only the database knows, or a race with a concurrent push of the same ids: judge again,
        # each mutation in its own savepoint — the offender is rejected alone, a race now sees the winner
        # (a second IntegrityError outside any mutation answers 503 busy)
        scope.unmasked_ids.clear()  # the answer rendered for the rolled-back attempt is not sent
        run, results, rendered = _apply(scope, mutations, lang, isolate=True)
    watermark.observe(run.conn, run.epoch, run.top)  # committed: the feed reached this far
    metrics.record_push(results)  # ops (issue 14): push results by status, conflicts opened
    return JSONResponse({"results": rendered, "server_time": iso(utcnow())})


def _apply(scope: Scope, mutations: list, lang: str, isolate: bool = False) -> tuple[engine.Push, list, list[dict]]:
    """Judge and apply the batch, render the answer and write its audit row, all in one transaction: the row is
    durable with the push (a second transaction for it waited for the write lock again, behind other pushes)."""
    with write_tx() as conn:
        run = engine.Push(conn, scope)
        results = run.run(mutations, isolate=isolate)
        rendered = [render_result(r, scope, lang) for r in results]
        audit_within(conn, scope, "sync.push")
    return run, results, rendered


@router.get("/pull", response_model=PullOut, responses=ERRORS,
            summary="Pull what changed after a cursor: the change feed")
def pull(scope: CurrentScope, cursor: Annotated[str | None, Query(max_length=2000)] = None,
         limit: Annotated[int | None, Query(ge=1, le=PULL_LIMIT_CAP, description="changes per page at most (default "
                                                                             "500; the server's CUNZHI_PULL_MAX_LIMIT caps it)")] = None,
         x_cunzhi_protocol: Protocol = None) -> JSONResponse:
    """Everything in the caller's scope that changed after the cursor (sync-protocol.md, Pull)."""
    check_protocol(x_cunzhi_protocol)
    settings = get_settings()
    limit = settings.pull_default_limit if limit is None else limit
    if limit < 1 or limit > settings.pull_max_limit:
        raise AppError(422, "validation_error", [FieldError("limit", "out_of_range")])
    try:
        with read_tx() as conn:
            page = engine.pull(conn, scope, cursor or None, limit)
            page["settings_version"] = settings_version(conn, scope.org_code[:6])  # finding 5: refetch /reference
    except watermark.RestoreDetected as restored:
        watermark.settle(restored)  # new epoch, serials moved past the high-water mark; then answer as usual
        with read_tx() as conn:
            page = engine.pull(conn, scope, cursor or None, limit)
            page["settings_version"] = settings_version(conn, scope.org_code[:6])  # finding 5: refetch /reference
    watermark.observe(conn, page["server_epoch"], page["top"])
    del page["top"]
    audit(scope, "sync.pull")
    return JSONResponse(page)


@conflicts_router.get("", response_model=ConflictPage, responses=ERRORS,
                      summary="List stored conflicts in your scope")
def list_conflicts(scope: CurrentScope,
                   status: Annotated[str, Query(pattern="^(open|resolved|all)$", description="open, resolved or all")] = "open",
                   entity: Annotated[str | None, Query(max_length=40, description="only conflicts on this record type")] = None,
                   record_id: Annotated[uuid.UUID | None, Query(description="only conflicts on this record")] = None,
                   limit: Annotated[int, Query(ge=1, le=500)] = 100,
                   cursor: Annotated[str | None, Query(max_length=200)] = None) -> JSONResponse:
    """Stored conflicts in the caller's scope, newest first."""
    with read_tx() as conn:
        page = engine.list_conflicts(conn, scope, status, entity, str(record_id) if record_id else None, limit, cursor)
    audit(scope, "conflicts.list")
    return JSONResponse(page)


@conflicts_router.get("/{conflict_id}", response_model=ConflictOut, responses=ERRORS,
                      summary="One stored conflict")
def get_conflict(conflict_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    """A stored conflict with both values of each field (personal data masked by role), for the resolve screen."""
    import sqlalchemy as sa

    with read_tx() as conn:
        row = conn.execute(sa.select(engine.conflict_t).where(engine.conflict_t.c.id == str(conflict_id))).mappings().first()
        if row is None or not scope.contains(row["org_code"]):
            raise AppError(404, "not_found")
        out = engine.present_conflict(dict(row), scope)
    audit(scope, "conflicts.get")
    return JSONResponse(out)


@conflicts_router.post("/{conflict_id}/resolve", response_model=RecordOut, responses=ERRORS,
                       summary="Settle a conflict online")
def resolve(conflict_id: uuid.UUID, body: ResolveIn, scope: CurrentScope, request: Request) -> JSONResponse:
    """Settle a conflict online; every field of the conflict must be chosen."""
    with write_tx() as conn:
        res = engine.resolve_conflict(conn, scope, str(conflict_id), body.base_rev, body.choices)
    spec = get_entity(res.entity or "")
    out = present_record(spec, res.row, scope)
    audit(scope, "conflicts.resolve")
    return JSONResponse(out)
