"""The demo's grid work: three grids in 万福村 (wanfucun.grid works 一组 and 二组), about 300 households, eight
weeks of patrols and incidents written through the engine with dates relative to today; loading twice changes
nothing."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from cunzhi.core.clock import SHANGHAI, today_shanghai


def test_demo_grid_work(demo_database):
    from cunzhi.core.db import get_engine, write_tx
    from cunzhi.demo.service import NS, load_demo

    first = load_demo(write_tx)
    assert first.applied > 1000 and first.duplicates == 0
    engine = get_engine()
    with engine.connect() as conn:
        grids = conn.execute(sa.text("SELECT g.code, o.name, g.worker_ids FROM grid g JOIN org_unit o ON o.code = g.code "
                                     "WHERE g.village_code = '340321108200' ORDER BY g.code")).all()
        assert [(c, n) for c, n, _ in grids] == [("340321108200001", "一组网格"), ("340321108200002", "二组网格"),
                                                 ("340321108200003", "三组网格")]
        import json
        import uuid

        grid_user = str(uuid.uuid5(NS, "user-wanfucun.grid"))
        worked = [c for c, _, w in grids if grid_user in (json.loads(w) if isinstance(w, str) else w)]
        assert worked == ["340321108200001", "340321108200002"]
        assert conn.execute(sa.text("SELECT COUNT(*) FROM household WHERE org_code = '340321108200'")).scalar() == 300
        from cunzhi.grid.models import Patrol

        starts = list(conn.execute(sa.select(Patrol.__table__.c.started_at)).scalars())
        days = {s.astimezone(SHANGHAI).date() for s in starts}
        today = today_shanghai()
        assert len(starts) >= 30 and min(days) >= today - timedelta(days=56) and max(days) < today
        states = dict(conn.execute(sa.text("SELECT state, COUNT(*) FROM incident GROUP BY state")).all())
        assert sum(states.values()) >= 20 and {"verified", "handling"} <= set(states)
        linked = conn.execute(sa.text("SELECT COUNT(*) FROM incident i JOIN mediation_case c ON c.incident_id = i.id "
                                      "AND i.case_id = c.id")).scalar()
        assert linked >= 2  # cases made from incidents, linked back by the engine
        assert conn.execute(sa.text("SELECT COUNT(*) FROM record_history WHERE entity = 'patrol'")).scalar() \
            == 2 * len(starts)  # started, then completed: history as from a phone
    again = load_demo(write_tx)
    # loading twice changes nothing; the six-no/points demo (issue 8) plans from the households' current state
    # (certifications already written are not planned again), so fewer mutations are sent the second time
    assert again.applied == 0 and 0 < again.duplicates <= first.applied
