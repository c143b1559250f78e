"""Grids over HTTP: village and township admins create, rename, re-assign and retire; others read in scope;
devices get them in /reference."""

from __future__ import annotations

import pytest

from tests.api import helpers as h
from tests.grid.support import pairs, GRID1, GRID2, GRID3, WANFU_CUN, ZGRID, ZHENDONG_CUN, new_id, ok, patrol_fields


def test_admins_manage_grids(g):
    va = g.c("VA")
    r = va.post("/api/v1/grids", json={"village_code": WANFU_CUN, "name": "四组网格", "worker_ids": [g.uid("G")]})
    assert r.status_code == 201, r.text
    grid = r.json()
    assert grid["code"] == WANFU_CUN + "004" and grid["level"] == "grid" and grid["worker_ids"] == [g.uid("G")]
    assert grid["retired"] is False and grid["village_code"] == WANFU_CUN
    r = va.patch(f"/api/v1/grids/{grid['code']}", json={"name": "四组（新）网格"})
    assert r.status_code == 200 and r.json()["name"] == "四组（新）网格" and r.json()["worker_ids"] == [g.uid("G")]
    r = va.patch(f"/api/v1/grids/{grid['code']}", json={"worker_ids": []})
    assert r.json()["worker_ids"] == []
    r = va.patch(f"/api/v1/grids/{grid['code']}", json={"retired": True})
    assert r.json()["retired"] is True
    # a retired grid takes no new records, keeps its code; the next grid gets the next serial
    res = g.push1("G", "patrol", new_id(), patrol_fields(grid=grid["code"]))
    assert pairs(res) == [("grid_code", "grid_retired")]
    r = g.c("TA").post("/api/v1/grids", json={"village_code": WANFU_CUN, "name": "四组（新）网格"})
    assert r.status_code == 201 and r.json()["code"] == WANFU_CUN + "005"  # the retired one's name is free
    listed = {x["code"]: x for x in va.get("/api/v1/grids").json()["items"]}
    assert {GRID1, GRID2, GRID3, WANFU_CUN + "004", WANFU_CUN + "005"} == set(listed)
    assert {x["code"] for x in va.get("/api/v1/grids", params={"include_retired": "false"}).json()["items"]} \
        == {GRID1, GRID2, GRID3, WANFU_CUN + "005"}


def test_bad_grid_input_is_a_clear_error(g):
    va = g.c("VA")
    h.assert_error(va.post("/api/v1/grids", json={"village_code": WANFU_CUN, "name": "一组网格"}), 422,
                   "validation_error")
    body = h.assert_error(va.post("/api/v1/grids", json={"village_code": WANFU_CUN, "name": ""}), 422)
    assert body["details"][0]["field"] == "name"
    body = h.assert_error(va.post("/api/v1/grids", json={"village_code": WANFU_CUN, "name": "五组",
                                                         "worker_ids": [g.uid("M")]}), 422)
    assert body["details"] == [{"field": "worker_ids.0", "code": "unknown_worker", "message": "不是本村的网格员"}]
    body = h.assert_error(va.post("/api/v1/grids", json={"village_code": WANFU_CUN, "name": "五组",
                                                         "worker_ids": [g.uid("zhendong.grid")]}), 422)
    assert body["details"][0]["code"] == "unknown_worker"  # a grid worker of another village
    body = h.assert_error(va.post("/api/v1/grids", json={"village_code": WANFU_CUN, "name": "五组",
                                                         "worker_ids": ["x\u0000y"]}), 422)
    assert body["details"][0]["code"] == "invalid_uuid"
    h.assert_error(va.post("/api/v1/grids", json={"village_code": "34032110820\u0000", "name": "五组"}), 422)
    h.assert_error(va.post("/api/v1/grids", json={"village_code": ZHENDONG_CUN, "name": "五组"}), 403, "forbidden")
    h.assert_error(g.c("TA").post("/api/v1/grids", json={"village_code": "340321108", "name": "五组"}), 422)
    h.assert_error(va.patch(f"/api/v1/grids/{GRID1}", json={"colour": "red"}), 422, "validation_error")
    h.assert_error(va.patch(f"/api/v1/grids/{GRID1}", json={"name": "二组网格"}), 422, "validation_error")
    h.assert_error(va.patch(f"/api/v1/grids/{ZGRID}", json={"name": "x"}), 404, "not_found")
    h.assert_error(va.get("/api/v1/grids/123"), 422, "validation_error")
    with g.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM grid").scalar() == 4  # nothing half-made


@pytest.mark.parametrize("who", ["M", "G", "TV", "TM", "CA"])
def test_others_only_read(g, who):
    c = g.c(who)
    h.assert_error(c.post("/api/v1/grids", json={"village_code": WANFU_CUN, "name": "五组"}), 403, "forbidden")
    h.assert_error(c.patch(f"/api/v1/grids/{GRID1}", json={"name": "五组"}), 403, "forbidden")
    r = c.get("/api/v1/grids")
    assert r.status_code == 200 and GRID1 in {x["code"] for x in r.json()["items"]}
    assert c.get(f"/api/v1/grids/{GRID1}").status_code == 200


def test_grids_are_in_scope_and_in_reference(g):
    assert ZGRID not in g.c("G").get("/api/v1/grids").text
    h.assert_error(g.c("G").get(f"/api/v1/grids/{ZGRID}"), 404, "not_found")
    assert {x["code"] for x in g.c("TA").get("/api/v1/grids").json()["items"]} == {GRID1, GRID2, GRID3, ZGRID}
    assert g.c("OA").get("/api/v1/grids").json()["items"] == []
    ref = g.c("G").get("/api/v1/reference").json()
    grids = {x["code"]: x for x in ref["grids"]}
    assert set(grids) == {GRID1, GRID2, GRID3}
    assert grids[GRID1]["name"] == "一组网格" and g.uid("G") in grids[GRID1]["worker_ids"]
    assert g.uid("G") not in grids[GRID3]["worker_ids"]
    assert ref["incident_transitions"]["reported"] == ["assigned", "handling", "cancelled"]
    assert {c["code"] for c in ref["code_tables"]["patrol_checklist_item"]} >= {"fire_safety", "disputes"}
    assert {c["code"] for c in ref["code_tables"]["incident_type"]} >= {"criminal_case", "dispute"}
    assert ref["settings"]["incident_deadline_days_major"] == 1
    ok(g.push1("G", "patrol", new_id(), patrol_fields(grid=GRID2)))
