"""The sync engine, written once for every entity (see registry.py), split by job:

- push.py        judge and apply a device's mutations (idempotency, permission, merge, validation, writes)
- derive.py      writes the server derives (as the system actor, in the same transaction)
- guard.py       personal data on write (masked writers, masked echoes)
- conflicts.py   stored conflicts: list, get, settle online
- pull.py        the change feed
- purge.py       stored answers past retention
- watermark.py   noticing a restored database; state.py the epoch and counters; cursor.py pull cursors
- present.py     the one output layer (masking, audit)

This module re-exports what the routes, the demo and the CLI use.
"""

from __future__ import annotations

from cunzhi.sync.conflicts import conflict_t, list_conflicts, present_conflict, resolve_conflict
from cunzhi.sync.mutation import Mutation, Reject, Result
from cunzhi.sync.pull import pull
from cunzhi.sync.purge import purge_expired
from cunzhi.sync.push import Push

__all__ = ["Mutation", "Push", "Reject", "Result", "conflict_t", "list_conflicts", "present_conflict", "pull",
           "purge_expired", "resolve_conflict"]
