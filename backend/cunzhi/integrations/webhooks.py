"""Webhook endpoints and their durable deliveries (Standard Webhooks).

A delivery is written by :func:`enqueue`, a change listener of the sync engine, in the transaction of the
change it announces, so a crash after the commit loses nothing; :mod:`cunzhi.integrations.worker` sends it.
"""

from __future__ import annotations

import base64
import ipaddress
import re
import secrets
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cunzhi.core.clock import iso, utcnow
from cunzhi.core.config import get_settings
from cunzhi.core.errors import AppError, FieldError
from cunzhi.core.scope import Scope
from cunzhi.integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from cunzhi.orgs.models import OrgUnit

endpoint_t = WebhookEndpoint.__table__
delivery_t = WebhookDelivery.__table__
attempt_t = WebhookAttempt.__table__
EVENTS = ("created", "updated", "deleted", "state_changed")
STATE_FIELDS = ("status", "state")  # a change of one of these is a state change
MANAGERS = ("township_admin", "county_admin")


def _new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


# what the API accepts as a URL (declared in OpenAPI): http(s), an authority of RFC 3986 characters (a
# Chinese host name in punycode), then printable ASCII; check_url judges the rest (https, host, port, private)
URL_PATTERN = r"^https?://[A-Za-z0-9._~%!$&'()*+,;=:@\[\]-]+([/?#][!-~]*)?$"


def check_url(url: str, resolve: bool = False) -> list[FieldError]:
    """https only; http and loopback/private hosts only with CUNZHI_WEBHOOK_ALLOW_PRIVATE. A name is resolved
    only when a delivery is about to be sent (``resolve``), so it cannot be pointed inward after registration."""
    if not isinstance(url, str) or len(url) > 2000 or "\x00" in url or not re.fullmatch(URL_PATTERN, url):
        return [FieldError("url", "invalid_url")]
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return [FieldError("url", "invalid_url")]
    if parts.scheme not in ("https", "http") or not host:
        return [FieldError("url", "invalid_url")]
    if get_settings().webhook_allow_private:
        return []
    if parts.scheme != "https":
        return [FieldError("url", "url_not_https")]
    if _private(host, resolve):
        return [FieldError("url", "url_private")]
    return []


def _private(host: str, resolve: bool) -> bool:
    """A loopback, private, link-local or reserved address — literal, or (``resolve``) what the name resolves to."""
    try:
        addrs = [ipaddress.ip_address(host)]
    except ValueError:
        if host.lower() == "localhost" or host.lower().endswith(".localhost"):
            return True
        if not resolve:
            return False
        try:
            infos = socket.getaddrinfo(host, None)
        except (OSError, UnicodeError):
            return False  # not resolvable now: judged again when a delivery is sent
        addrs = [ipaddress.ip_address(i[4][0]) for i in infos]
    return any(a.is_private or a.is_loopback or a.is_link_local or a.is_reserved or a.is_unspecified
               or a.is_multicast for a in addrs)


def create_endpoint(conn: Connection, scope: Scope, url: str, entities: list[str], events: list[str],
                    org_code: str | None) -> dict:
    from cunzhi.sync.registry import entities as registered

    org_code = org_code or scope.org_code
    if not scope.contains(org_code) or conn.execute(
            sa.select(OrgUnit.__table__.c.code).where(OrgUnit.__table__.c.code == org_code)).first() is None:
        raise AppError(404, "not_found")
    errors = check_url(url)
    if not entities or any(e not in registered() for e in entities):
        errors.append(FieldError("entities", "invalid_choice"))
    if not events or any(e not in EVENTS for e in events):
        errors.append(FieldError("events", "invalid_choice"))
    if errors:
        raise AppError(422, "validation_error", errors)
    row = {"id": str(uuid.uuid4()), "url": url, "org_code": org_code, "entities": sorted(set(entities)),
           "events": sorted(set(events)), "secret": _new_secret(), "created_by": scope.user_id,
           "created_at": utcnow(), "paused": False}
    conn.execute(endpoint_t.insert().values(**row))
    return {**present_endpoint(row), "secret": row["secret"]}


def present_endpoint(row) -> dict:
    return {"id": row["id"], "url": row["url"], "org_code": row["org_code"], "entities": row["entities"],
            "events": row["events"], "created_by": row["created_by"], "created_at": iso(row["created_at"]),
            "paused": bool(row["paused"]), "disabled_at": iso(row.get("disabled_at")),
            "failing_since": iso(row.get("failing_since"))}


def visible_endpoints(scope: Scope):
    return sa.select(endpoint_t).where(scope.clause(endpoint_t.c.org_code), endpoint_t.c.deleted_at.is_(None))


def get_endpoint(conn: Connection, scope: Scope, endpoint_id: str) -> dict:
    row = conn.execute(visible_endpoints(scope).where(endpoint_t.c.id == endpoint_id)).mappings().first()
    if row is None:
        raise AppError(404, "not_found")
    return dict(row)


def update_endpoint(conn: Connection, scope: Scope, endpoint_id: str, paused: bool | None) -> dict:
    """Pause or resume; resuming a disabled endpoint enables it again."""
    row = get_endpoint(conn, scope, endpoint_id)
    if paused is not None:
        values: dict = {"paused": paused}
        if not paused:
            values |= {"disabled_at": None, "failing_since": None}
        conn.execute(endpoint_t.update().where(endpoint_t.c.id == endpoint_id).values(**values))
        row |= values
    return present_endpoint(row)


def delete_endpoint(conn: Connection, scope: Scope, endpoint_id: str) -> None:
    get_endpoint(conn, scope, endpoint_id)
    now = utcnow()
    conn.execute(endpoint_t.update().where(endpoint_t.c.id == endpoint_id).values(deleted_at=now))
    conn.execute(delivery_t.update().where(delivery_t.c.endpoint_id == endpoint_id,
                                           delivery_t.c.state == "pending").values(state="failed"))


def replay(conn: Connection, scope: Scope, endpoint_id: str, delivery_id: str | None,
           since: datetime | None) -> int:
    """Send again one delivery, or every delivery made since a time (same ids: receivers can de-duplicate)."""
    get_endpoint(conn, scope, endpoint_id)
    q = delivery_t.update().where(delivery_t.c.endpoint_id == endpoint_id)
    if delivery_id is not None:
        q = q.where(delivery_t.c.id == delivery_id)
    else:
        q = q.where(delivery_t.c.created_at >= since)
    n = conn.execute(q.values(state="pending", attempts=0, next_attempt_at=utcnow(), claimed_by=None,
                              claimed_until=None, delivered_at=None, created_at=utcnow())).rowcount
    if delivery_id is not None and n == 0:
        raise AppError(404, "not_found")
    return n


def present_delivery(row, attempts: list) -> dict:
    return {"id": row["id"], "type": row["type"], "entity": row["entity"], "record_id": row["record_id"],
            "rev": row["rev"], "state": row["state"], "attempts": row["attempts"],
            "next_attempt_at": iso(row["next_attempt_at"]) if row["state"] == "pending" else None,
            "created_at": iso(row["created_at"]), "delivered_at": iso(row["delivered_at"]),
            "attempt_log": [{"at": iso(a["at"]), "status_code": a["status_code"], "duration_ms": a["duration_ms"],
                             "error": a["error"], "response": a["response"]} for a in attempts]}


# ---- the change listener: deliveries written in the transaction of the change ----------------------
_LIVE_ENDPOINTS = sa.select(endpoint_t).where(endpoint_t.c.deleted_at.is_(None), endpoint_t.c.disabled_at.is_(None))


def enqueue(conn: Connection, changes: list[tuple[dict, dict]]) -> None:
    """A change listener of the sync engine, called before it commits a batch: one delivery per change per
    matching endpoint. ``changes`` pairs each history row (entity, record_id, org_code, rev, op, changes, at)
    with the record as stored at that rev."""
    if not changes:
        return
    endpoints = conn.execute(_LIVE_ENDPOINTS).mappings().all()
    if not endpoints:
        return
    from cunzhi.sync import state
    from cunzhi.sync.present import present_record
    from cunzhi.sync.registry import get_entity

    wanted: list[tuple[dict, dict, Any, str]] = []
    for ch, row in changes:
        event = _event_of(ch)
        for ep in endpoints:
            if ch["entity"] not in ep["entities"] or not ch["org_code"].startswith(ep["org_code"]):
                continue
            if event in ep["events"]:
                wanted.append((ch, row, ep, event))
            elif event == "state_changed" and "updated" in ep["events"]:
                wanted.append((ch, row, ep, "updated"))
    if not wanted:
        return
    top = state.next_values(conn, "webhook_delivery", len(wanted))
    now = utcnow()
    out = []
    for i, (ch, row, ep, event) in enumerate(wanted):
        spec = get_entity(ch["entity"])
        viewer = Scope(user_id="webhook", username="webhook", role="integration", org_code=ep["org_code"])
        data = {"entity": ch["entity"], "id": ch["record_id"], "org_code": ch["org_code"], "rev": ch["rev"]}
        for f in STATE_FIELDS:
            if f in spec.fields:
                data["state"] = row.get(f)
        data["record"] = present_record(spec, row, viewer)
        kind = f"{ch['entity']}.{event}"
        out.append({"id": "msg_" + uuid.uuid4().hex, "seq": top - len(wanted) + 1 + i, "endpoint_id": ep["id"],
                    "type": kind, "entity": ch["entity"], "record_id": ch["record_id"], "rev": ch["rev"],
                    "payload": {"type": kind, "timestamp": iso(ch["at"]), "data": data},
                    "state": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now})
    conn.execute(delivery_t.insert(), out)


def _event_of(change: dict) -> str:
    op = change["op"]
    if op == "create":
        return "created"
    if op == "delete" or (change.get("changes") or {}).get("deleted") is True:
        return "deleted"
    if set(change.get("changes") or {}) & set(STATE_FIELDS):
        return "state_changed"
    return "updated"


def backoff(attempts: int) -> timedelta:
    """Exponential with jitter: ~5 s, 10 s, 20 s … (CUNZHI_WEBHOOK_BACKOFF_S) capped at an hour."""
    base = min(3600.0, get_settings().webhook_backoff_s * (2 ** max(attempts - 1, 0)))
    return timedelta(seconds=base / 2 + secrets.randbelow(int(base * 500) + 1) / 1000)
