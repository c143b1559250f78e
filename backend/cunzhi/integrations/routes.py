"""/api-keys, /webhooks and /notices: township and county admins manage integrations in their scope."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, WithJsonSchema

from cunzhi.core.jsonx import JSONResponse
from cunzhi.api.deps import CurrentScope, require
from cunzhi.api.listing import IsoDate, IsoDateTime
from cunzhi.core.clock import iso, utcnow
from cunzhi.core.db import read_tx, write_tx
from cunzhi.core.errors import AppError, FieldError
from cunzhi.integrations import keys, webhooks
from cunzhi.integrations.models import UserNotice
from cunzhi.sync.schemas import ErrorOut

router = APIRouter(tags=["integrations"])
ERRORS: dict[int | str, dict[str, Any]] = {401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}, 422: {"model": ErrorOut}}
notice_t = UserNotice.__table__


def _entity_enum(schema: dict[str, Any]) -> None:
    """The record types a key or an endpoint may name: the registered ones (read when the schema is made)."""
    from cunzhi.sync.registry import entities

    for alt in schema.get("anyOf", [schema]):
        if alt.get("type") == "array":
            alt["items"] = {**alt.get("items", {}), "enum": sorted(entities())}


class KeyIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "县综治平台", "org_code": "340321108", "entities": ["mediation_case", "incident"], "expires_on": "2027-06-30", "unmasked": False}]})
    name: str = Field(min_length=1, max_length=100, description="what the key is for, e.g. 县综治平台")
    org_code: str = Field(min_length=6, max_length=24, pattern=r"^[0-9]+$",
                          description="the unit whose subtree the key reads (within the creator's scope)")
    entities: list[str] | None = Field(default=None, min_length=1, max_length=20, json_schema_extra=_entity_enum,
                                       description="record types the key may read; absent: every type")
    expires_on: IsoDate | None = Field(default=None, description="last day before the key stops working")
    unmasked: StrictBool = Field(default=False, description="see ID and phone numbers in full (only for a creator "
                                                      "who sees them unmasked in that unit)")


class KeyOut(BaseModel):
    id: str
    name: str
    org_code: str
    entities: list[str] | None = Field(description="record types the key may read; null: every type")
    unmasked: bool = Field(description="whether the key sees ID and phone numbers in full")
    prefix: str = Field(description="the secret's first characters, to tell keys apart")
    expires_on: str | None = Field(description="the last day the key works; null: no expiry")
    created_by: str | None
    created_at: str
    last_used_at: str | None = Field(description="when the key was used last (at most once a minute)")
    revoked_at: str | None


class KeyCreated(KeyOut):
    model_config = ConfigDict(json_schema_extra={"examples": [{"id": "6c5b4a39-2817-4f6e-9d5c-4b3a29180f7e", "name": "县综治平台", "org_code": "340321108", "entities": ["mediation_case", "incident"], "unmasked": False, "prefix": "czk_AB12", "expires_on": "2027-06-30", "created_by": "9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f", "created_at": "2026-11-20T01:30:00Z", "last_used_at": None, "revoked_at": None, "secret": "czk_AB12CD34EF56GH78IJ90KL12MN34OP56QR78ST90UV12WX34"}]})
    secret: str = Field(description="czk_…: shown this once, stored only as a hash")


class KeyPage(BaseModel):
    items: list[KeyOut]
    next_cursor: str | None = None


class EndpointIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"url": "https://bi.example.gov.cn/cunzhi/webhook", "entities": ["mediation_case"], "events": ["created", "state_changed"], "org_code": "340321108"}]})
    url: Annotated[str, WithJsonSchema({"type": "string", "minLength": 8, "maxLength": 2000,
                                        "pattern": webhooks.URL_PATTERN})] = Field(min_length=8, max_length=2000,
                     description="https URL that receives the deliveries (http, and loopback or private hosts, only "
                                 "when the server allows them: CUNZHI_WEBHOOK_ALLOW_PRIVATE=1)")
    entities: list[str] = Field(min_length=1, max_length=20, json_schema_extra=_entity_enum,
                                description="record types to announce")
    events: list[Literal["created", "updated", "deleted", "state_changed"]] = Field(min_length=1, max_length=4, description="events to announce: created, updated, deleted, state_changed")
    org_code: str | None = Field(default=None, min_length=6, max_length=24, pattern=r"^[0-9]+$",
                                 description="announce records of this unit's subtree (default: the caller's)")


class EndpointPatch(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"paused": True}]})
    paused: StrictBool | None = Field(default=None, description="pause or resume (resuming re-enables a disabled one)")


class EndpointOut(BaseModel):
    id: str
    url: str = Field(description="the receiver's URL")
    org_code: str
    entities: list[str] = Field(description="record types announced")
    events: list[str] = Field(description="events announced")
    created_by: str | None
    created_at: str
    paused: bool = Field(description="paused by an admin: deliveries wait")
    disabled_at: str | None = Field(description="when the server disabled it after 3 days of failures")
    failing_since: str | None = Field(description="since when every attempt failed; null while it works")


class EndpointCreated(EndpointOut):
    model_config = ConfigDict(json_schema_extra={"examples": [{"id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "url": "https://bi.example.gov.cn/cunzhi/webhook", "org_code": "340321108", "entities": ["mediation_case"], "events": ["created", "state_changed"], "created_by": "9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f", "created_at": "2026-11-20T01:30:00Z", "paused": False, "disabled_at": None, "failing_since": None, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]})
    secret: str = Field(description="whsec_…: the Standard Webhooks signing secret, shown this once")


class EndpointPage(BaseModel):
    items: list[EndpointOut]
    next_cursor: str | None = None


class AttemptOut(BaseModel):
    at: str = Field(description="when the attempt was made")
    status_code: int | None = Field(description="the receiver's HTTP status; null: no answer")
    duration_ms: int = Field(description="how long it took")
    error: str | None = Field(description="timeout or connection error, if any")
    response: str | None = Field(description="the first 1 KB of the receiver's answer")


class DeliveryOut(BaseModel):
    id: str = Field(description="the webhook-id header")
    type: str = Field(description="the event: <entity>.<created|updated|deleted|state_changed>")
    entity: str = Field(description="the record type")
    record_id: str = Field(description="the record's id")
    rev: int = Field(description="the record's revision the delivery announces")
    state: Literal["pending", "delivered", "failed"] = Field(description="pending, delivered or failed")
    attempts: int = Field(description="attempts made so far")
    next_attempt_at: str | None = Field(description="when the next attempt is due (pending ones)")
    created_at: str = Field(description="when the change was made (the delivery written)")
    delivered_at: str | None = Field(description="when a 2xx answer came")
    attempt_log: list[AttemptOut] = Field(description="every attempt, oldest first")


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None = None


class ReplayIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"since": "2026-11-20T00:00:00+08:00"}], "oneOf": [{"required": ["delivery_id"]}, {"required": ["since"]}]})
    delivery_id: str = Field(default=None, max_length=40, description="send this delivery again")  # type: ignore[assignment]
    since: IsoDateTime = Field(default=None, description="send again every delivery made since this time")  # type: ignore[assignment]


class ReplayOut(BaseModel):
    replayed: int = Field(description="how many deliveries were queued again")


class NoticeOut(BaseModel):
    id: str
    code: str = Field(description="the notice's kind (e.g. webhook_disabled)")
    params: dict = Field(description="the values the message names (e.g. the endpoint's URL)")
    created_at: str
    read_at: str | None = Field(description="when it was marked read; null: unread")


class NoticePage(BaseModel):
    items: list[NoticeOut]
    next_cursor: str | None = None


# ---- API keys ---------------------------------------------------------------------------------------
@router.post("/api-keys", status_code=201, response_model=KeyCreated, responses=ERRORS,
             summary="Create a read-only API key (the secret is answered once)")
def create_key(body: KeyIn, scope: CurrentScope) -> JSONResponse:
    """Township and county admins: a key reading the subtree of ``org_code`` (within the caller's scope), optionally only some record types, until ``expires_on``. The answer holds ``secret`` (czk_…) this once: the server keeps only its hash. ``unmasked`` only for a creator who sees personal data unmasked in that unit."""
    require(scope, *keys.MANAGERS)
    with write_tx() as conn:
        out = keys.create_key(conn, name=body.name, org_code=body.org_code, entities=body.entities,
                              expires_on=body.expires_on, unmasked=body.unmasked, creator=scope)
    return JSONResponse(out, status_code=201)


@router.get("/api-keys", response_model=KeyPage, responses=ERRORS, summary="List the API keys in your scope")
def list_keys(scope: CurrentScope) -> JSONResponse:
    """Township and county admins: the keys of units in their scope, newest first, with when each was used last (never the secret)."""
    require(scope, *keys.MANAGERS)
    with read_tx() as conn:
        rows = conn.execute(keys.visible_keys(scope).order_by(keys.key_t.c.created_at.desc())).mappings().all()
    return JSONResponse({"items": [keys.present_key(r) for r in rows], "next_cursor": None})


@router.delete("/api-keys/{key_id}", response_model=KeyOut, responses=ERRORS,
               summary="Revoke an API key (it answers 401 from the next request)")
def revoke_key(key_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    """Township and county admins: the key answers 401 from the next request on; revoking twice answers the same."""
    require(scope, *keys.MANAGERS)
    with write_tx() as conn:
        return JSONResponse(keys.revoke_key(conn, scope, str(key_id)))


# ---- webhooks ---------------------------------------------------------------------------------------
@router.post("/webhooks", status_code=201, response_model=EndpointCreated, responses=ERRORS,
             summary="Register a webhook endpoint (the signing secret is answered once)")
def create_endpoint(body: EndpointIn, scope: CurrentScope) -> JSONResponse:
    """Township and county admins: deliveries of the given record types and events in the unit's subtree are POSTed to ``url`` (https; http and private addresses only with CUNZHI_WEBHOOK_ALLOW_PRIVATE=1), signed by the Standard Webhooks convention with ``secret`` (whsec_…, answered this once)."""
    require(scope, *webhooks.MANAGERS)
    with write_tx() as conn:
        out = webhooks.create_endpoint(conn, scope, body.url, body.entities, list(body.events), body.org_code)
    return JSONResponse(out, status_code=201)


@router.get("/webhooks", response_model=EndpointPage, responses=ERRORS, summary="List webhook endpoints")
def list_endpoints(scope: CurrentScope) -> JSONResponse:
    """Township and county admins: the webhook endpoints of units in their scope (never the secret)."""
    require(scope, *webhooks.MANAGERS)
    with read_tx() as conn:
        rows = conn.execute(webhooks.visible_endpoints(scope)
                            .order_by(webhooks.endpoint_t.c.created_at.desc())).mappings().all()
    return JSONResponse({"items": [webhooks.present_endpoint(r) for r in rows], "next_cursor": None})


@router.get("/webhooks/{endpoint_id}", response_model=EndpointOut, responses=ERRORS,
            summary="One webhook endpoint")
def get_endpoint(endpoint_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    """One webhook endpoint in the caller's scope, with its state (paused, disabled, failing since)."""
    require(scope, *webhooks.MANAGERS)
    with read_tx() as conn:
        return JSONResponse(webhooks.present_endpoint(webhooks.get_endpoint(conn, scope, str(endpoint_id))))


@router.patch("/webhooks/{endpoint_id}", response_model=EndpointOut, responses=ERRORS,
              summary="Pause or resume a webhook endpoint")
def patch_endpoint(endpoint_id: uuid.UUID, body: EndpointPatch, scope: CurrentScope) -> JSONResponse:
    """``paused: true`` holds deliveries (they wait); ``false`` resumes, and re-enables an endpoint the server disabled."""
    require(scope, *webhooks.MANAGERS)
    with write_tx() as conn:
        return JSONResponse(webhooks.update_endpoint(conn, scope, str(endpoint_id), body.paused))


@router.delete("/webhooks/{endpoint_id}", status_code=204, responses=ERRORS,
               summary="Delete a webhook endpoint (its pending deliveries are dropped)")
def delete_endpoint(endpoint_id: uuid.UUID, scope: CurrentScope) -> Response:
    """The endpoint stops at once; its pending deliveries are dropped, its log kept."""
    require(scope, *webhooks.MANAGERS)
    with write_tx() as conn:
        webhooks.delete_endpoint(conn, scope, str(endpoint_id))
    return Response(status_code=204)


@router.get("/webhooks/{endpoint_id}/deliveries", response_model=DeliveryPage, responses=ERRORS,
            summary="The attempt log: deliveries of an endpoint, newest first, with every attempt")
def list_deliveries(endpoint_id: uuid.UUID, scope: CurrentScope,
                    state: Annotated[Literal["pending", "delivered", "failed"] | None,
                                     Query(description="only deliveries in this state")] = None,
                    limit: Annotated[int, Query(ge=1, le=500)] = 100,
                    cursor: Annotated[str | None, Query(max_length=40, pattern=r"^[0-9]+$")] = None) -> JSONResponse:
    """Deliveries of an endpoint, newest first, each with every attempt (time, status, duration, the first 1 KB of the answer)."""
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
    """``delivery_id``: send that delivery again; ``since``: every delivery made since then. Exactly one of the two."""
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
    """The caller's notices, newest first (at most 100): e.g. a webhook endpoint the server disabled after 3 days of failures."""
    with read_tx() as conn:
        rows = conn.execute(sa.select(notice_t).where(notice_t.c.user_id == scope.user_id)
                            .order_by(notice_t.c.created_at.desc()).limit(100)).mappings().all()
    return JSONResponse({"items": [{"id": r["id"], "code": r["code"], "params": r["params"],
                                    "created_at": iso(r["created_at"]), "read_at": iso(r["read_at"])}
                                   for r in rows], "next_cursor": None})


@router.post("/notices/{notice_id}/read", response_model=NoticeOut, responses=ERRORS,
             summary="Mark a notice read")
def read_notice(notice_id: uuid.UUID, scope: CurrentScope) -> JSONResponse:
    """Mark one of the caller's notices read (again: the same answer)."""
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
