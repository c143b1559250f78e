"""The audit rows of personal data returned unmasked, written by group commit.

A request that returns ID or phone numbers in full must have its audit row durable before the answer leaves
(product.md). Writing each row in a transaction of its own made every unmasked read take the write lock (on
SQLite the only one) and pay a commit: the API mix saturated at 60–78 requests/s. Here one writer thread takes
the rows of all requests waiting at that moment and commits them together; each request blocks until the commit
that holds its row is done (or re-raises its error), so the promise holds and concurrent reads share commits.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from cunzhi.core.clock import utcnow
from cunzhi.core.db import write_tx
from cunzhi.core.scope import Scope
from cunzhi.users.models import AuditEntry

audit_t = AuditEntry.__table__


@dataclass
class _Ticket:
    row: dict
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class GroupCommit:
    def __init__(self) -> None:
        self._queue: list[_Ticket] = []
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="cunzhi-audit", daemon=True)
            self._thread.start()

    def write(self, row: dict) -> None:
        """Queue one row and wait until the transaction that holds it has committed."""
        ticket = _Ticket(row)
        with self._cv:
            self._ensure_thread()
            self._queue.append(ticket)
            self._cv.notify()
        ticket.done.wait()
        if ticket.error is not None:
            raise ticket.error

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._queue:
                    self._cv.wait()
                batch, self._queue = self._queue, []
            try:
                with write_tx() as conn:
                    conn.execute(audit_t.insert(), [t.row for t in batch])
            except BaseException as e:  # noqa: BLE001 - handed to every waiting request (a 503 busy, say)
                for t in batch:
                    t.error = e
            for t in batch:
                t.done.set()


_writer = GroupCommit()


def audit(scope: Scope, action: str) -> None:
    """Write the audit row for personal data this request returned unmasked (if any), durably, then return."""
    if not scope.unmasked_ids:
        return
    row = {"user_id": scope.user_id, "at": utcnow(), "action": action[:80], "record_ids": sorted(scope.unmasked_ids)}
    scope.unmasked_ids.clear()
    _writer.write(row)
