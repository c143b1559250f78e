"""Fault scenario 10: seeded randomized convergence runs (see randomized.py for what each run checks).

200 seeds on SQLite (10 batches of 20, each batch one fresh database and server) and 20 on PostgreSQL
(2 batches of 10) when CUNZHI_TEST_POSTGRES_URL is set; then runs with a masked writer and a restore under the
running server mid-run (children replayed before their parents): 30 seeds on SQLite, 6 on PostgreSQL.
The bench soak runs thousands through ``tests.sync.randomized.run_seed``.
"""

from __future__ import annotations

import pytest

from tests.support import databases
from tests.sync.randomized import MASKED_ROSTER, DevicePool, Run

STEPS = 24
PLAN = [("sqlite", b, 20) for b in range(10)] + [("postgresql", b, 10) for b in range(2) if databases.PG_URL]


@pytest.mark.parametrize(("db_kind", "batch", "seeds"), PLAN, ids=[f"{k}-batch{b}" for k, b, _ in PLAN])
def test_randomized_convergence(server, db_kind, batch, seeds):
    pool = DevicePool(server.base)
    totals: dict[str, int] = {}
    try:
        for seed in range(batch * 1000, batch * 1000 + seeds):
            stats = Run(pool.devices, seed, STEPS).run()
            for k, v in stats.statuses.items():
                totals[k] = totals.get(k, 0) + v
            for k in ("answers_lost", "requests_dropped", "delayed", "duplicated", "reordered", "records"):
                totals[k] = totals.get(k, 0) + getattr(stats, k)
    finally:
        pool.close()
    # the faults and outcomes the runs are meant to exercise did happen
    for k in ("applied", "duplicate", "answers_lost", "requests_dropped", "records"):
        assert totals.get(k, 0) > 0, totals


RESTORE_PLAN = [("sqlite", b, 10) for b in range(3)] + [("postgresql", b, 3) for b in range(2) if databases.PG_URL]


@pytest.mark.parametrize(("db_kind", "batch", "seeds"), RESTORE_PLAN, ids=[f"{k}-batch{b}" for k, b, _ in RESTORE_PLAN])
def test_randomized_restore_replays_and_masked_writers(server, database, tmp_path, db_kind, batch, seeds):
    from tests.sync.test_restart_restore import backup
    from tests.sync.test_restore_detection import _restore_live

    path = tmp_path / "backup"
    restore = (lambda: backup(database, path), lambda: _restore_live(database, path))
    pool = DevicePool(server.base, MASKED_ROSTER)
    totals: dict[str, int] = {}
    try:
        for seed in range(50000 + batch * 1000, 50000 + batch * 1000 + seeds):
            stats = Run(pool.devices, seed, STEPS + 12, restore=restore).run()
            for k, v in stats.statuses.items():
                totals[k] = totals.get(k, 0) + v
            for k in ("resets", "masked_edits", "records", "unknown_record"):
                totals[k] = totals.get(k, 0) + getattr(stats, k)
    finally:
        pool.close()
    for k in ("applied", "duplicate", "resets", "masked_edits", "records", "unknown_record"):
        assert totals.get(k, 0) > 0, totals
