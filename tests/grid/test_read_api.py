"""The read API of households, patrols and incidents: filters on wire names, cursor pages, one by id,
history — in scope, masked like cases."""

from __future__ import annotations

from datetime import datetime, timedelta

from cunzhi.core.clock import today_shanghai
from tests.api import helpers as h
from tests.grid.support import (GRID1, GRID2, ZGRID, ZHENDONG_CUN, at, household_fields, incident_fields, new_id,
                                ok, patrol_fields)


def _all(c, path, **params) -> list[dict]:
    out, cursor = [], None
    while True:
        r = c.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        out += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if not cursor:
            return out


def ids(c, path, **params) -> set[str]:
    items = _all(c, path, **params)
    got = [i["id"] for i in items]
    assert len(got) == len(set(got)), "a record twice across pages"
    return set(got)


def test_incident_filters_and_pages(g):
    made = {}
    for n, (sev, typ, grid, hours) in enumerate([("major", "drugs", GRID1, 1), ("general", "dispute", GRID2, 30),
                                                 ("serious", "dispute", GRID1, 170), ("general", "other", GRID2, 500)]):
        made[n] = ok(g.push1("G", "incident", new_id(), incident_fields(severity=sev, type=typ, grid_code=grid,
                                                                          occurred_at=at(hours), title=f"事件{n}")))["id"]
    zid = ok(g.push1("zhendong.mediator", "incident", new_id(), incident_fields(org_code=ZHENDONG_CUN,
                                                                                grid_code=ZGRID)))["id"]
    va = g.c("VA")
    assert ok(g.push1("VA", "incident", made[1], {"state": "assigned", "assignee_id": g.uid("M")}, base_rev=1))
    ta = g.c("TA")
    assert ids(ta, "/api/v1/incidents") == set(made.values()) | {zid}
    assert ids(va, "/api/v1/incidents") == set(made.values())
    assert ids(va, "/api/v1/incidents", limit=1) == set(made.values())  # pages: no gap, no duplicate
    order = [i["id"] for i in _all(va, "/api/v1/incidents", limit=1)]
    assert order == [made[0], made[1], made[2], made[3]]  # newest occurrence first
    assert ids(va, "/api/v1/incidents", severity="major") == {made[0]}
    assert ids(va, "/api/v1/incidents", type="dispute") == {made[1], made[2]}
    assert ids(va, "/api/v1/incidents", grid_code=GRID2) == {made[1], made[3]}
    assert ids(va, "/api/v1/incidents", state="assigned") == {made[1]}
    assert ids(va, "/api/v1/incidents", assignee_id=g.uid("M")) == {made[1]}
    assert ids(va, "/api/v1/incidents", overdue="true") == {made[2], made[3]}  # past 3 and 7 days after they occurred
    assert ids(va, "/api/v1/incidents", q="事件0") == {made[0]}
    # 170 h ago is 7–8 Shanghai days ago and 500 h 20–21, whatever the hour: both sides of 9 days ago at any time
    start = (today_shanghai() - timedelta(days=9)).isoformat()
    assert ids(va, "/api/v1/incidents", occurred_from=start, occurred_to=today_shanghai().isoformat()) \
        == {made[0], made[1], made[2]}  # made[3] is ~21 days old
    assert ids(va, "/api/v1/incidents", occurred_to=start) == {made[3]}
    assert ids(ta, "/api/v1/incidents", org_code=ZHENDONG_CUN) == {zid}
    h.assert_error(va.get("/api/v1/incidents", params={"state": "done"}), 422, "validation_error")
    h.assert_error(va.get("/api/v1/incidents", params={"cursor": "garbage"}), 400, "invalid_cursor")
    item = _all(va, "/api/v1/incidents", q="事件2")[0]
    assert item["deadline_color"] == "red" and item["case_id"] is None
    # one by id, history; out of scope is 404
    assert va.get(f"/api/v1/incidents/{made[1]}").json()["assignee_id"] == g.uid("M")
    hist = va.get(f"/api/v1/incidents/{made[1]}/history").json()["items"]
    assert [x["rev"] for x in hist] == [1, 2] and hist[1]["user_id"] == g.uid("VA")
    h.assert_error(va.get(f"/api/v1/incidents/{zid}"), 404, "not_found")
    h.assert_error(va.get(f"/api/v1/incidents/{zid}/history"), 404, "not_found")


def test_patrol_and_household_lists(g):
    p1 = ok(g.push1("G", "patrol", new_id(), patrol_fields(started_at=at(50))))["id"]
    started = at(3)
    p2 = ok(g.push1("G", "patrol", new_id(), patrol_fields(grid=GRID2, started_at=started)))["id"]
    ended = (datetime.fromisoformat(started) + timedelta(hours=1)).isoformat()
    ok(g.push1("G", "patrol", p2, {"state": "completed", "ended_at": ended}, base_rev=1))
    va = g.c("VA")
    assert [i["id"] for i in _all(va, "/api/v1/patrols")] == [p2, p1]
    assert ids(va, "/api/v1/patrols", state="completed") == {p2}
    assert ids(va, "/api/v1/patrols", grid_code=GRID1) == {p1}
    assert ids(va, "/api/v1/patrols", created_by=g.uid("G")) == {p1, p2}
    assert ids(va, "/api/v1/patrols", started_from=today_shanghai().isoformat()) <= {p2}
    assert va.get(f"/api/v1/patrols/{p2}").json()["duration_s"] == 3600
    assert len(va.get(f"/api/v1/patrols/{p2}/history").json()["items"]) == 2
    hs = [ok(g.push1("VA", "household", new_id(), household_fields(head_name=f"户主{i}", address=f"东庄 {i} 号",
                                                                    tags=["low_income"] if i % 2 else [],
                                                                    grid_code=GRID1 if i < 3 else GRID2)))["id"]
          for i in range(6)]
    ok(g.push1("VA", "household", hs[0], {"active": False}, base_rev=1))
    assert ids(va, "/api/v1/households") == set(hs)
    assert ids(va, "/api/v1/households", limit=2) == set(hs)
    assert ids(va, "/api/v1/households", grid_code=GRID1) == set(hs[:3])
    assert ids(va, "/api/v1/households", active="false") == {hs[0]}
    assert ids(va, "/api/v1/households", tags="low_income") == {hs[1], hs[3], hs[5]}
    assert ids(va, "/api/v1/households", tags="low_income", limit=1) == {hs[1], hs[3], hs[5]}
    assert ids(va, "/api/v1/households", q="户主4") == {hs[4]}
    assert ids(g.c("ZA"), "/api/v1/households") == set()
    h.assert_error(g.c("ZA").get(f"/api/v1/households/{hs[1]}"), 404, "not_found")
