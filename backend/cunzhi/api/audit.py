"""The audit rows of personal data returned unmasked, written by group commit.

A request that returns ID or phone numbers in full must have its audit row durable before the answer leaves
(product.md). Writing each row in a transaction of its own made every unmasked read take the write lock (on
SQLite the only one) and pay a commit: the API mix saturated at 60–78 requests/s. Here one writer thread takes
the rows of all requests waiting at that moment and commits them together, so concurrent reads share commits.

Inside the server a request does not wait on its thread: ``audit`` queues the row and the handler returns, and
``AuditGate`` holds the answer's first byte until the commit that holds its row is done — a failed commit
answers 503 busy in place of the answer. A handler thread that waited instead kept one of the few request threads
(``CUNZHI_REQUEST_THREADS``) idle for a commit. Outside a request (the CLI) ``audit`` waits itself.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from contextvars import ContextVar

from sqlalchemy.engine import Connection
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope as ASGIScope, Send

from cunzhi.core.clock import utcnow
from cunzhi.core.db import write_tx
from cunzhi.core.errors import database_error
from cunzhi.core.scope import Scope
from cunzhi.users.models import AuditEntry

audit_t = AuditEntry.__table__
_INSERT = audit_t.insert()  # built once: every write of audit rows runs it

# the commits a request's answer waits for (set by AuditGate for each request; None outside a request)
_awaited: ContextVar[list[Future] | None] = ContextVar("cunzhi_audit_awaited", default=None)


class GroupCommit:
    def __init__(self) -> None:
        self._queue: list[tuple[dict, Future]] = []
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="cunzhi-audit", daemon=True)
            self._thread.start()

    def submit(self, row: dict) -> Future:
        """Queue one row: the future is done once the transaction that holds it has committed (or failed)."""
        done: Future = Future()
        with self._cv:
            self._ensure_thread()
            self._queue.append((row, done))
            self._cv.notify()
        return done

    def write(self, row: dict) -> None:
        """Queue one row and wait until the transaction that holds it has committed."""
        self.submit(row).result()

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._queue:
                    self._cv.wait()
                batch, self._queue = self._queue, []
            error: BaseException | None = None
            try:
                with write_tx() as conn:
                    conn.execute(_INSERT, [row for row, _ in batch])
            except BaseException as e:  # noqa: BLE001 - handed to every waiting request (a 503 busy, say)
                error = e
            for _, done in batch:
                if error is None:
                    done.set_result(None)
                else:
                    done.set_exception(error)


_writer = GroupCommit()


def _row(scope: Scope, action: str) -> dict:
    row = {"user_id": scope.user_id, "at": utcnow(), "action": action[:80], "record_ids": sorted(scope.unmasked_ids)}
    scope.unmasked_ids.clear()
    return row


def audit_within(conn: Connection, scope: Scope, action: str) -> None:
    """The audit row for what the answer will show unmasked, in the caller's own write transaction (a push renders
    its answer before committing): durable with it, no second commit to wait for."""
    if scope.unmasked_ids:
        conn.execute(_INSERT, _row(scope, action))


def audit(scope: Scope, action: str) -> None:
    """Write the audit row for personal data this request returned unmasked (if any), durably before the answer
    leaves: in a request, AuditGate waits for it; elsewhere, here."""
    if not scope.unmasked_ids:
        return
    row = _row(scope, action)
    awaited = _awaited.get()
    if awaited is None:
        _writer.write(row)
    else:
        awaited.append(_writer.submit(row))


class AuditGate:
    """ASGI middleware: an answer's first message leaves once the audit rows its handler queued are committed;
    if their commit failed, 503 busy (the one error shape) goes out instead and the answer is dropped."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        awaited: list[Future] = []
        token = _awaited.set(awaited)
        dropped = False

        async def gated(message: Message) -> None:
            nonlocal dropped
            if dropped:
                return
            if message["type"] == "http.response.start" and awaited:
                failed = await _settled(awaited)
                if failed is not None:
                    dropped = True
                    await database_error(Request(scope), failed)(scope, receive, send)
                    return
            await send(message)

        try:
            await self.app(scope, receive, gated)
        finally:
            _awaited.reset(token)


async def _settled(awaited: list[Future]) -> BaseException | None:
    """Wait for every queued commit (on the event loop, no thread held); the first failure, if any."""
    pending, awaited[:] = list(awaited), []
    for done in pending:
        try:
            await asyncio.wrap_future(done)
        except Exception as e:  # noqa: BLE001 - the commit's error: answered below, never raised into the app
            return e
    return None


