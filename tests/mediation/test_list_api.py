"""The read API: list filters and cursor pagination, one case with its events, and the case history."""

from __future__ import annotations

import uuid
from datetime import datetime

from tests.api import helpers as h
from tests.mediation.support import Case
from tests.support.device import mutation, push


def _ids(c, **params) -> list[str]:
    out, cursor = [], None
    while True:
        r = c.get("/api/v1/mediation-cases", params={**params, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        body = r.json()
        out += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            return out


def test_filters(as_user):
    m, zm, ta, va = (as_user("wanfucun.mediator"), as_user("zhendong.mediator"), as_user("wanfu.admin"),
                     as_user("wanfucun.admin"))
    spec = [  # (client, org, received days ago, status path, category, risk, title)
        (m, "340321108200", 40, "mediating", "neighbor", "red", "排水沟纠纷"),       # overdue
        (m, "340321108200", 35, "registered", "homestead", "orange", "宅基地界址"),  # overdue
        (m, "340321108200", 40, "agreed", "neighbor", "blue", "院墙滴水"),           # ended: not overdue
        (m, "340321108200", 3, "registered", "labor_wage", "yellow", "工资拖欠"),
        (m, "340321108200", 10, "declined", "contract", "blue", "货款纠纷"),
        (zm, "340321108201", 50, "mediating", "neighbor", "red", "镇东排水"),        # overdue
        (zm, "340321108201", 1, "registered", "damages", "blue", "耕牛啃食庄稼"),
        (ta, "340321108", 20, "mediating", "land_acquisition", "orange", "征地补偿"),
    ]
    cases = []
    for client, org, ago, path, cat, risk, title in spec:
        case = Case(client, org=org, received_on=h.days_ago(ago), category=cat, risk_level=risk, title=title)
        case.to(path)
        cases.append(case)
    gone = Case(m, title="误录排水")
    push(va, [mutation("mediation_case", gone.id, {}, base_rev=gone.rev, op="delete")])

    def ids(*idx):
        return {cases[i].id for i in idx}

    every = set(range(len(spec)))
    assert set(_ids(ta)) == ids(*every)
    assert set(_ids(m)) == ids(0, 1, 2, 3, 4)  # the village's own only
    assert set(_ids(ta, status="mediating")) == ids(0, 5, 7)
    assert set(_ids(ta, status="registered,declined")) == ids(1, 3, 4, 6)
    assert set(_ids(ta, category="neighbor")) == ids(0, 2, 5)
    assert set(_ids(ta, category="neighbor,damages")) == ids(0, 2, 5, 6)
    assert set(_ids(ta, risk_level="red")) == ids(0, 5)
    assert set(_ids(ta, risk_level="orange,yellow")) == ids(1, 3, 7)
    assert set(_ids(ta, source="party_request")) == ids(*every)
    assert set(_ids(ta, overdue="true")) == ids(0, 1, 5)
    assert set(_ids(ta, overdue="false")) == ids(*(every - {0, 1, 5}))
    assert set(_ids(ta, org_code="340321108201")) == ids(5, 6)
    assert set(_ids(ta, org_code="340321108200")) == ids(0, 1, 2, 3, 4)
    assert set(_ids(ta, org_code="340321108")) == ids(*every)  # a prefix: the township and below
    assert set(_ids(m, org_code="340321108201")) == set()  # outside the caller's scope: nothing
    assert set(_ids(ta, received_from=h.days_ago(20))) == ids(3, 4, 6, 7)
    assert set(_ids(ta, received_to=h.days_ago(35))) == ids(0, 1, 2, 5)
    assert set(_ids(ta, received_from=h.days_ago(40), received_to=h.days_ago(35))) == ids(0, 1, 2)
    assert set(_ids(ta, q="排水")) == ids(0, 5)
    assert set(_ids(ta, q="纠纷", status="mediating")) == ids(0)
    assert set(_ids(ta, q="不存在的词")) == set()
    assert set(_ids(ta, status="mediating", risk_level="red", org_code="340321108201")) == ids(5)
    # tombstones only on request
    assert gone.id not in _ids(ta, q="排水")
    assert gone.id in _ids(ta, q="排水", include_deleted="true")
    # what a list item holds: the record as pull has it, with the computed colour
    item = next(i for i in ta.get("/api/v1/mediation-cases", params={"q": "宅基地"}).json()["items"])
    assert item["id"] == cases[1].id and item["deadline_color"] == "red" and item["case_number"]


def test_cursor_pagination_has_no_duplicates_or_gaps(as_user):
    m = as_user("wanfucun.mediator")
    created = []
    for i in range(23):
        created.append(Case(m, received_on=h.days_ago(i % 4), title=f"分页{i}").id)  # many share a date
    for limit in (1, 5, 7, 23, 50):
        seen, cursor, pages = [], None, 0
        while True:
            r = m.get("/api/v1/mediation-cases", params={"limit": limit, **({"cursor": cursor} if cursor else {})})
            body = r.json()
            assert len(body["items"]) <= limit
            seen += body["items"]
            pages += 1
            cursor = body["next_cursor"]
            if not cursor:
                break
        ids = [i["id"] for i in seen]
        assert len(ids) == len(set(ids)) == 23, limit
        assert set(ids) == set(created)
        keys = [(i["received_on"], i["id"]) for i in seen]
        assert keys == sorted(keys, reverse=True)  # newest intake first, ties by id
        assert -(-23 // limit) <= pages <= -(-23 // limit) + 1, (limit, pages)
    # a new case arriving between pages does not shift the pages already read
    r = m.get("/api/v1/mediation-cases", params={"limit": 10}).json()
    Case(m, received_on=h.days_ago(30), title="后来者")
    rest = _ids(m, limit=10, cursor=r["next_cursor"]) if r["next_cursor"] else []
    first = [i["id"] for i in r["items"]]
    assert not set(first) & set(rest)
    assert set(created) <= set(first) | set(rest)


def test_get_one_case_with_its_events(as_user):
    m = as_user("wanfucun.mediator")
    case = Case(m)
    times = ["2026-11-22T15:00:00+08:00", "2026-11-21T09:30:00+08:00", "2026-11-23T08:00:00+08:00"]
    eids = []
    for i, t in enumerate(times):
        eid = str(uuid.uuid4())
        res = push(m, [mutation("case_event", eid, {"case_id": case.id, "kind": ["session", "investigation",
                                                                                  "follow_up"][i],
                                                     "occurred_at": t, "content": f"第{i}次"})]).json()["results"][0]
        assert res["status"] == "applied", res
        eids.append(eid)
    other = Case(m)
    push(m, [mutation("case_event", str(uuid.uuid4()), {"case_id": other.id, "kind": "note",
                                                         "occurred_at": times[0]})])
    body = case.get()
    assert body["id"] == case.id and body["case_number"] == case.record["case_number"]
    assert [e["id"] for e in body["events"]] == [eids[1], eids[0], eids[2]]  # oldest first, only this case's
    assert all(e["case_id"] == case.id and e["org_code"] == case.record["org_code"] for e in body["events"])


def test_history_says_who_when_which_device_which_fields(as_user):
    m, va = as_user("wanfucun.mediator"), as_user("wanfucun.admin")
    case = Case(m)
    case.ok(title="改标题", place="村委会")
    case.ok(client=va, status="mediating")
    case.ok(client=va, deadline_extensions=[{"new_deadline": "2027-03-01", "reason": "双方同意"}])
    r = m.get(f"/api/v1/mediation-cases/{case.id}/history")
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["rev"] for i in items] == [1, 2, 3, 4]
    assert [i["op"] for i in items] == ["create", "update", "update", "update"]
    me_m, me_va = m.get("/api/v1/me").json()["id"], va.get("/api/v1/me").json()["id"]
    assert [i["user_id"] for i in items] == [me_m, me_m, me_va, me_va]
    assert [i["client_id"] for i in items] == [m.client_id, m.client_id, va.client_id, va.client_id]
    assert all(i["mutation_id"] for i in items)
    assert {"title", "category", "parties", "received_on", "org_code"} <= set(items[0]["fields"])
    assert items[1]["fields"] == ["place", "title"] and items[1]["changes"] == {"place": "村委会", "title": "改标题"}
    assert "status" in items[2]["fields"] and items[2]["changes"]["status"] == "mediating"
    assert {"deadline", "deadline_extensions"} <= set(items[3]["fields"])
    ats = [datetime.fromisoformat(i["at"]) for i in items]
    assert ats == sorted(ats) and all(a.utcoffset() is not None for a in ats)
    # a township viewer sees the same history, with parties masked
    tv = as_user("wanfu.viewer")
    masked = tv.get(f"/api/v1/mediation-cases/{case.id}/history").json()["items"]
    assert masked[0]["changes"]["parties"][0]["phone"] == h.mask_phone("13812345678")
    assert "13812345678" not in str(masked)


def test_read_apis_never_read_the_merge_bookkeeping(as_user):
    """``field_meta`` (per-field revisions for merging) never leaves the server: the list, one case with its events,
    and the history do not read it (decoding it was most of a list's CPU under the API mix), and answer the same."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    m = as_user("wanfucun.mediator")
    case = Case(m)
    r = push(m, [mutation("case_event", str(uuid.uuid4()), {"case_id": case.id, "kind": "session",
                                                           "occurred_at": "2026-11-21T09:00:00+08:00",
                                                           "content": "第一次调解"})])
    assert r.json()["results"][0]["status"] == "applied", r.text
    selects: list[str] = []

    def watch(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    event.listen(Engine, "before_cursor_execute", watch)
    try:
        listed = m.get("/api/v1/mediation-cases")
        one = m.get(f"/api/v1/mediation-cases/{case.id}")
        hist = m.get(f"/api/v1/mediation-cases/{case.id}/history")
    finally:
        event.remove(Engine, "before_cursor_execute", watch)
    assert listed.status_code == one.status_code == hist.status_code == 200
    assert any("mediation_case" in s for s in selects)
    assert not [s for s in selects if "field_meta" in s], [s for s in selects if "field_meta" in s][:1]
    assert [i["id"] for i in listed.json()["items"]] == [case.id]
    body = one.json()
    assert "field_meta" not in body and body["id"] == case.id and body["title"] == listed.json()["items"][0]["title"]
    assert [e["content"] for e in body["events"]] == ["第一次调解"] and "field_meta" not in body["events"][0]


def test_pages_walk_each_org_code_in_index_order_and_match_the_sorted_list(as_user):
    """A scope is a range of org codes: the list reads each code's page from the (org_code, received_on, id) index in
    order (``org_code = …``, so a village's list no longer sorts every case in it) and merges them. The pages are
    exactly the sorted list: several villages and the township's own cases, ties on received_on, cursor pages."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    m, zm, ta = as_user("wanfucun.mediator"), as_user("zhendong.mediator"), as_user("wanfu.admin")
    made = []
    for i in range(9):
        client, org = [(m, "340321108200"), (zm, "340321108201"), (ta, "340321108")][i % 3]
        made.append(Case(client, org=org, received_on=h.days_ago(i // 2)))  # pairs share a day: ties go by id
    expected = [c.id for c in sorted(made, key=lambda c: (c.record["received_on"], c.id), reverse=True)]
    selects: list[str] = []

    def watch(conn, cursor, statement, parameters, context, executemany):
        if "received_on DESC" in statement:
            selects.append(statement)

    event.listen(Engine, "before_cursor_execute", watch)
    try:
        assert _ids(ta, limit=2) == expected  # the township: three org codes, five pages
        village = _ids(m, limit=2)
    finally:
        event.remove(Engine, "before_cursor_execute", watch)
    assert village == [i for i in expected if i in {c.id for c in made[0::3]}]
    assert selects and all("org_code = " in s for s in selects), selects[:1]
