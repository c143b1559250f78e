"""/api-keys, /webhooks and /notices: township and county admins manage integrations in their scope."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from cunzhi.core.jsonx import JSONResponse
from cunzhi.api.deps import CurrentScope, require
from cunzhi.core.clock import iso, utcnow
from cunzhi.core.db import read_tx, write_tx
from cunzhi.core.errors import AppError, FieldError
from cunzhi.integrations import keys, webhooks
from cunzhi.integrations.models import UserNotice
from cunzhi.sync.schemas import ErrorOut

router = APIRouter(tags=["integrations"])
ERRORS: dict[int | str, dict[str, Any]] = {401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}, 422: {"model": ErrorOut}}
notice_t = UserNotice.__table__


class KeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="what the key is for, e.g. 县综治平台")
    org_code: str = Field(min_length=6, max_length=24, pattern=r"^\d+$",
                          description="the unit whose subtree the key reads (within the creator's scope)")
    entities: list[str] | None = Field(default=None, max_length=20,
                                       description="record types the key may read; absent: every type")
    expires_on: date | None = Field(default=None, description="last day before the key stops working")
    unmasked: bool = Field(default=False, description="see ID and phone numbers in full (only for a creator "
                                                      "who sees them unmasked in that unit)")


class KeyOut(BaseModel):
    id: str
    name: str
    org_code: str
    entities: list[str] | None
    unmasked: bool
    prefix: str = Field(description="the secret's first characters, to tell keys apart")
    expires_on: str | None
    created_by: str | None
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


class KeyCreated(KeyOut):
    secret: str = Field(description="czk_…: shown this once, stored only as a hash")


class KeyPage(BaseModel):
    items: list[KeyOut]
    next_cursor: str | None = None


class EndpointIn(BaseModel):
    url: str = Field(min_length=8, max_length=2000, description="https URL that receives the deliveries")
    entities: list[str] = Field(min_length=1, max_length=20, description="record types to announce")
    events: list[Literal["created", "updated", "deleted", "state_changed"]] = Field(min_length=1, max_length=4)
    org_code: str | None = Field(default=None, min_length=6, max_length=24, pattern=r"^\d+$",
                                 description="announce records of this unit's subtree (default: the caller's)")


class EndpointPatch(BaseModel):
    paused: bool | None = Field(default=None, description="pause or resume (resuming re-enables a disabled one)")


class EndpointOut(BaseModel):
    id: str
    url: str
    org_code: str
    entities: list[str]
    events: list[str]
    created_by: str | None
    created_at: str
    paused: bool
    disabled_at: str | None
    failing_since: str | None


class EndpointCreated(EndpointOut):
    secret: str = Field(description="whsec_…: the Standard Webhooks signing secret, shown this once")


class EndpointPage(BaseModel):
    items: list[EndpointOut]
    next_cursor: str | None = None


class AttemptOut(BaseModel):
    at: str
    status_code: int | None
    duration_ms: int
    error: str | None
    response: str | None = Field(description="the first 1 KB of the receiver's answer")


class DeliveryOut(BaseModel):
    id: str = Field(description="the webhook-id header")
    type: str
    entity: str
    record_id: str
    rev: int
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: str | None
    created_at: str
    delivered_at: str | None
    attempt_log: list[AttemptOut]


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None = None


class ReplayIn(BaseModel):
    delivery_id: str | None = Field(default=None, max_length=40, description="send this delivery again")
    since: datetime | None = Field(default=None, description="send again every delivery made since this time")


class ReplayOut(BaseModel):
    replayed: int


class NoticeOut(BaseModel):
    id: str
    code: str
    params: dict
    created_at: str
    read_at: str | None


class NoticePage(BaseModel):
    items: list[NoticeOut]
    next_cursor: str | None = None


# ---- API keys ---------------------------------------------------------------------------------------
@router.post("/api-keys", status_code=201, response_model=KeyCreated, responses=ERRORS,
             summary="Create a read-only API key (the secret is answered once)")
def create_key(body: KeyIn, scope: CurrentScope) -> JSONResponse:
    require(scope, *keys.MANAGERS)
    with write_tx() as conn:
        out = keys.create_key(conn, name=body.name, org_code=body.org_code, entities=body.entities,
                              expires_on=body.expires_on, unmasked=body.unmasked, creator=scope)
    return JSONResponse(out, status_code=201)


@router.get("/api-keys", response_model=KeyPage, responses=ERRORS, summary="List the API keys in your scope")
def list_keys(scope: CurrentScope) -> JSONResponse:
    require(scope, *keys.MANAGERS)
    with read_tx() as conn:
        rows = conn.execute(keys.visible_keys(scope).order_by(keys.key_t.c.created_at.desc())).mappings().all()
    return JSONResponse({"items": [keys.present_key(r) for r in rows], "next_cursor": None})


@router.delete("/api-keys/{key_id}", response_model=KeyOut, responses=ERRORS,
               summary="Revoke an API key (it answers 401 from the next request)")
def revoke_key(key_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    require(scope, *keys.MANAGERS)
    with write_tx() as conn:
        return JSONResponse(keys.revoke_key(conn, scope, str(key_id)))


# ---- webhooks ---------------------------------------------------------------------------------------
@router.post("/webhooks", status_code=201, response_model=EndpointCreated, responses=ERRORS,
             summary="Register a webhook endpoint (the signing secret is answered once)")
def create_endpoint(body: EndpointIn, scope: CurrentScope) -> JSONResponse:
    require(scope, *webhooks.MANAGERS)
    with write_tx() as conn:
        out = webhooks.create_endpoint(conn, scope, body.url, body.entities, list(body.events), body.org_code)
    return JSONResponse(out, status_code=201)


@router.get("/webhooks", response_model=EndpointPage, responses=ERRORS, summary="List webhook endpoints")
def list_endpoints(scope: CurrentScope) -> JSONResponse:
    require(scope, *webhooks.MANAGERS)
    with read_tx() as conn:
        rows = conn.execute(webhooks.visible_endpoints(scope)
                            .order_by(webhooks.endpoint_t.c.created_at.desc())).mappings().all()
    return JSONResponse({"items": [webhooks.present_endpoint(r) for r in rows], "next_cursor": None})


@router.get("/webhooks/{endpoint_id}", response_model=EndpointOut, responses=ERRORS,
            summary="One webhook endpoint")
def get_endpoint(endpoint_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    require(scope, *webhooks.MANAGERS)
    with read_tx() as conn:
        return JSONResponse(webhooks.present_endpoint(webhooks.get_endpoint(conn, scope, str(endpoint_id))))


@router.patch("/webhooks/{endpoint_id}", response_model=EndpointOut, responses=ERRORS,
              summary="Pause or resume a webhook endpoint")
def patch_endpoint(endpoint_id: uuid.UUID, body: EndpointPatch, scope: CurrentScope) -> JSONResponse:
    require(scope, *webhooks.MANAGERS)
    with write_tx() as conn:
        return JSONResponse(webhooks.update_endpoint(conn, scope, str(endpoint_id), body.paused))


@router.delete("/webhooks/{endpoint_id}", status_code=204, responses=ERRORS,
               summary="Delete a webhook endpoint (its pending deliveries are dropped)")
def delete_endpoint(endpoint_id: uuid.UUID, scope: CurrentScope) -> Response:
    require(scope, *webhooks.MANAGERS)
    with write_tx() as conn:
        webhooks.delete_endpoint(conn, scope, str(endpoint_id))
    return Response(status_code=204)


@router.get("/webhooks/{endpoint_id}/deliveries", response_model=DeliveryPage, responses=ERRORS,
            summary="The attempt log: deliveries of an endpoint, newest first, with every attempt")
def list_deliveries(endpoint_id: uuid.UUID, scope: CurrentScope,
                    state: Annotated[Literal["pending", "delivered", "failed"] | None, Query()] = None,
                    limit: Annotated[int, Query(ge=1, le=500)] = 100,
                    cursor: Annotated[str | None, Query(max_length=40, pattern=r"^\d+$")] = None) -> JSONResponse:
    require(scope, *webhooks.MANAGERS)
    d, a = webhooks.delivery_t, webhooks.attempt_t
    with read_tx() as conn:
        webhooks.get_endpoint(conn, scope, str(endpoint_id))
        q = sa.select(d).where(d.c.endpoint_id == str(endpoint_id)).order_by(d.c.seq.desc()).limit(limit + 1)
        if state:
            q = q.where(d.c.state == state)
        if cursor:
            q = q.where(d.c.seq < int(cursor))
        rows = conn.execute(q).mappings().all()
        page = rows[:limit]
        attempts: dict[str, list] = {}
        if page:
            for r in conn.execute(sa.select(a).where(a.c.delivery_id.in_([r["id"] for r in page]))
                                  .order_by(a.c.id)).mappings():
                attempts.setdefault(r["delivery_id"], []).append(r)
    nxt = str(page[-1]["seq"]) if len(rows) > limit else None
    return JSONResponse({"items": [webhooks.present_delivery(r, attempts.get(r["id"], [])) for r in page],
                         "next_cursor": nxt})


@router.post("/webhooks/{endpoint_id}/replay", response_model=ReplayOut, responses=ERRORS,
             summary="Send again one delivery, or every delivery since a time")
def replay(endpoint_id: uuid.UUID, body: ReplayIn, scope: CurrentScope) -> JSONResponse:
    require(scope, *webhooks.MANAGERS)
    if (body.delivery_id is None) == (body.since is None):
        raise AppError(422, "validation_error", [FieldError("delivery_id", "required")])
    since = body.since
    if since is not None and since.tzinfo is None:
        raise AppError(422, "validation_error", [FieldError("since", "invalid_datetime")])
    with write_tx() as conn:
        n = webhooks.replay(conn, scope, str(endpoint_id), body.delivery_id, since)
    return JSONResponse({"replayed": n})


# ---- notices ----------------------------------------------------------------------------------------
@router.get("/notices", response_model=NoticePage, responses=ERRORS,
            summary="Messages for the caller (e.g. a webhook endpoint the server disabled)")
def list_notices(scope: CurrentScope) -> JSONResponse:
    with read_tx() as conn:
        rows = conn.execute(sa.select(notice_t).where(notice_t.c.user_id == scope.user_id)
                            .order_by(notice_t.c.created_at.desc()).limit(100)).mappings().all()
    return JSONResponse({"items": [{"id": r["id"], "code": r["code"], "params": r["params"],
                                    "created_at": iso(r["created_at"]), "read_at": iso(r["read_at"])}
                                   for r in rows], "next_cursor": None})


@router.post("/notices/{notice_id}/read", response_model=NoticeOut, responses=ERRORS,
             summary="Mark a notice read")
def read_notice(notice_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    with write_tx() as conn:
        found = conn.execute(sa.select(notice_t).where(notice_t.c.id == str(notice_id),
                                                       notice_t.c.user_id == scope.user_id)).mappings().first()
        if found is None:
            raise AppError(404, "not_found")
        row = dict(found)
        if row["read_at"] is None:
            row["read_at"] = utcnow()
            conn.execute(notice_t.update().where(notice_t.c.id == row["id"]).values(read_at=row["read_at"]))
    return JSONResponse({"id": row["id"], "code": row["code"], "params": row["params"],
                         "created_at": iso(row["created_at"]), "read_at": iso(row["read_at"])})
