"""The webhook delivery worker: a daemon thread in every server process.

Workers of several processes share the ``webhook_delivery`` table: a worker claims a few due deliveries
with one conditional UPDATE (``claimed_until`` in the past), so no two send the same one; a delivery waits
while an earlier one of the same record and endpoint is still pending (in order per record). A crash
after the claim only delays the delivery until the claim expires: at least once, never lost.
"""

from __future__ import annotations

from collections.abc import Callable

import json
import logging
import threading
import time
import uuid
from datetime import timedelta

import httpx
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook

from cunzhi.core.clock import utcnow
from cunzhi.core.config import get_settings
from cunzhi.core.db import read_tx, write_tx
from cunzhi.integrations.models import UserNotice
from cunzhi.integrations.webhooks import attempt_t, backoff, check_url, delivery_t, endpoint_t

log = logging.getLogger("cunzhi.webhooks")
notice_t = UserNotice.__table__
CLAIM_SECONDS = 120
BATCH = 20


def _claim(worker_id: str) -> list[dict]:
    now = utcnow()
    claim = f"{worker_id}:{uuid.uuid4().hex[:8]}"
    d, earlier = delivery_t, delivery_t.alias("earlier")
    free = sa.or_(d.c.claimed_until.is_(None), d.c.claimed_until < now)
    due = (sa.select(d.c.id).join(endpoint_t, endpoint_t.c.id == d.c.endpoint_id)
           .where(d.c.state == "pending", d.c.next_attempt_at <= now, free,
                  endpoint_t.c.paused.is_(False), endpoint_t.c.disabled_at.is_(None),
                  endpoint_t.c.deleted_at.is_(None),
                  ~sa.exists().where(earlier.c.endpoint_id == d.c.endpoint_id, earlier.c.entity == d.c.entity,
                                     earlier.c.record_id == d.c.record_id, earlier.c.seq < d.c.seq,
                                     earlier.c.state == "pending"))
           .order_by(d.c.seq).limit(BATCH))
    with read_tx() as conn:  # most rounds find nothing: no write lock for that
        ids = list(conn.execute(due).scalars())
    if not ids:
        return []
    with write_tx() as conn:
        # the state and claim are checked again on the row itself: a worker of another process that claimed
        # it meanwhile makes this update skip it (PostgreSQL re-evaluates the WHERE on the locked row)
        conn.execute(d.update().where(d.c.id.in_(ids), d.c.state == "pending", free)
                     .values(claimed_by=claim, claimed_until=now + timedelta(seconds=CLAIM_SECONDS)))
        rows = conn.execute(sa.select(d, endpoint_t.c.url, endpoint_t.c.secret)
                            .join(endpoint_t, endpoint_t.c.id == d.c.endpoint_id)
                            .where(d.c.claimed_by == claim).order_by(d.c.seq)).mappings().all()
    return [dict(r) for r in rows]


def _send(client: httpx.Client, row: dict) -> tuple[int | None, str | None, str | None, int]:
    if check_url(row["url"], resolve=True):  # checked again when sent: a name may resolve elsewhere now
        return None, "url_refused", None, 0
    body = json.dumps(row["payload"], ensure_ascii=False, separators=(",", ":"))
    when = utcnow()
    headers = {"webhook-id": row["id"], "webhook-timestamp": str(int(when.timestamp())),
               "webhook-signature": Webhook(row["secret"]).sign(row["id"], when, body),
               "content-type": "application/json", "user-agent": "Cunzhi-Webhooks/1"}
    started = time.monotonic()
    try:
        r = client.post(row["url"], content=body.encode(), headers=headers)
        return r.status_code, None, r.text[:1024], int((time.monotonic() - started) * 1000)
    except httpx.TimeoutException:
        return None, "timeout", None, int((time.monotonic() - started) * 1000)
    except httpx.HTTPError as e:
        return None, type(e).__name__[:200], None, int((time.monotonic() - started) * 1000)


def _record(row: dict, status: int | None, error: str | None, response: str | None, ms: int) -> None:
    settings = get_settings()
    now = utcnow()
    d = delivery_t
    attempts = row["attempts"] + 1
    ok = status is not None and 200 <= status < 300
    retry = not ok and error != "url_refused" and (status is None or status == 429 or status >= 500)
    created = row["created_at"] if row["created_at"].tzinfo else row["created_at"].replace(tzinfo=now.tzinfo)
    expired = now - created > timedelta(days=settings.webhook_retry_days)
    values: dict = {"attempts": attempts, "claimed_by": None, "claimed_until": None}
    if ok:
        values |= {"state": "delivered", "delivered_at": now}
    elif retry and not expired:
        values |= {"next_attempt_at": now + backoff(attempts)}
    else:
        values |= {"state": "failed"}
    with write_tx() as conn:
        conn.execute(attempt_t.insert().values(delivery_id=row["id"], endpoint_id=row["endpoint_id"], at=now,
                                               status_code=status, duration_ms=ms, error=error, response=response))
        conn.execute(d.update().where(d.c.id == row["id"], d.c.claimed_by == row["claimed_by"]).values(**values))
        ep = conn.execute(sa.select(endpoint_t).where(endpoint_t.c.id == row["endpoint_id"])).mappings().one()
        if ok:
            if ep["failing_since"] is not None:
                conn.execute(endpoint_t.update().where(endpoint_t.c.id == ep["id"]).values(failing_since=None))
            return
        since = ep["failing_since"] or now
        if since.tzinfo is None:
            since = since.replace(tzinfo=now.tzinfo)
        gone = status == 410
        if ep["disabled_at"] is None and (gone or now - since >= timedelta(days=settings.webhook_retry_days)):
            conn.execute(endpoint_t.update().where(endpoint_t.c.id == ep["id"]).values(
                disabled_at=now, failing_since=since))
            if ep["created_by"]:
                conn.execute(notice_t.insert().values(
                    id=str(uuid.uuid4()), user_id=ep["created_by"], code="webhook_disabled", created_at=now,
                    params={"endpoint_id": ep["id"], "url": ep["url"], "reason": "gone" if gone else "failing"}))
        elif ep["failing_since"] is None:
            conn.execute(endpoint_t.update().where(endpoint_t.c.id == ep["id"]).values(failing_since=now))


def run_once(worker_id: str, client: Callable[[], httpx.Client]) -> int:
    """Claim and send what is due; answers how many were sent. ``client()`` gives the HTTP client (made on first
    use: its TLS context costs tens of milliseconds, and most servers have no webhooks)."""
    rows = _claim(worker_id)
    for row in rows:
        status, error, response, ms = _send(client(), row)
        _record(row, status, error, response, ms)
    return len(rows)


class Worker:
    def __init__(self) -> None:
        self.id = f"w{uuid.uuid4().hex[:10]}"
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="cunzhi-webhooks", daemon=True)
        self._client: httpx.Client | None = None

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(timeout=get_settings().webhook_timeout_s, follow_redirects=False)
        return self._client

    def _loop(self) -> None:
        settings = get_settings()
        try:
            while not self.stop.is_set():
                try:
                    sent = run_once(self.id, self._http)
                except Exception:  # noqa: BLE001 - a bad row or a busy database must not end the worker
                    log.exception("webhook worker round failed")
                    sent = 0
                if not sent:
                    self.stop.wait(settings.webhook_poll_s)
        finally:
            if self._client is not None:
                self._client.close()


def start() -> Worker | None:
    if not get_settings().webhook_worker:
        return None
    w = Worker()
    w.thread.start()
    return w
