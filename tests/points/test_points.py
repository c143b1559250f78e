"""道德银行: entries from the county's rules, bounds, reversals only, balances and monthly rankings."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa

from tests.api import helpers as h
from tests.six_no.support import W, Z, rejected

PE = "points_entry"


def entry(town, hh: dict, rule: str = "volunteer", who: str = "VA", **over) -> dict:
    fields = {"org_code": hh["org_code"], "household_id": hh["id"], "rule": rule, "reason": "参加村道清扫"} | over
    return town.ok(who, PE, str(uuid.uuid4()), fields)


def test_points_default_to_the_rule_and_bad_input_is_refused(town):
    hh = town.household()
    assert entry(town, hh)["points"] == 5
    assert entry(town, hh, "filial")["points"] == 10
    assert entry(town, hh, "littering", reason="乱倒垃圾")["points"] == -5
    assert entry(town, hh, "clean_yard", points=3)["points"] == 3  # the admin may set other points
    assert entry(town, hh, "redeem", points=-12, reason="兑换洗衣粉")["points"] == -12
    assert entry(town, hh)["occurred_on"] == h.today().isoformat()
    base = {"org_code": W, "household_id": hh["id"], "rule": "volunteer", "reason": "x"}
    for over, field, code in (({"points": 0}, "points", "points_zero"),
                              ({"points": 5000}, "points", "out_of_range"),
                              ({"points": -1001}, "points", "out_of_range"),
                              ({"rule": "redeem"}, "points", "required"),
                              ({"rule": "redeem", "points": 20}, "points", "points_must_be_negative"),
                              ({"rule": "jaywalking"}, "rule", "invalid_choice"),
                              ({"reason": ""}, "reason", "required"),
                              ({"occurred_on": (h.today() + timedelta(days=1)).isoformat()}, "occurred_on", "future_date"),
                              ({"household_id": str(uuid.uuid4())}, "household_id", "household_not_found")):
        rid = str(uuid.uuid4())
        rejected(town.push1("VA", PE, rid, base | over), field=field, detail=code)
        assert h.row(town.engine, PE, rid) is None
    other = town.household(org=Z, who="ZA", head_name="镇东户")
    rejected(town.push1("VA", PE, str(uuid.uuid4()), base | {"household_id": other["id"]}),
             field="household_id", detail="household_not_found")


def test_entries_are_never_edited_corrections_reverse_and_balances_add_up(town):
    a, b = town.household(head_name="王建国"), town.household(head_name="李秀英", address="西庄 3 号")
    e1 = entry(town, a, "filial")
    e2 = entry(town, a, "volunteer")
    entry(town, b, "clean_yard")
    # an entry is never edited nor deleted
    rejected(town.push1("VA", PE, e1["id"], {"points": 8}, base_rev=1), "append_only")
    rejected(town.push1("VA", PE, e1["id"], {}, base_rev=1, op="delete"), "append_only")
    # a reversal: points default to minus the reversed entry's, the rule to its rule
    rev = entry(town, a, rule=None, reverses_id=e1["id"], reason="误录，冲正")
    assert (rev["points"], rev["rule"], rev["reverses_id"]) == (-10, "filial", e1["id"])
    base = {"org_code": W, "household_id": a["id"], "reason": "再冲正"}
    rejected(town.push1("VA", PE, str(uuid.uuid4()), base | {"reverses_id": e1["id"]}),
             field="reverses_id", detail="already_reversed")
    rejected(town.push1("VA", PE, str(uuid.uuid4()), base | {"reverses_id": rev["id"]}),
             field="reverses_id", detail="reversal_of_reversal")
    rejected(town.push1("VA", PE, str(uuid.uuid4()), base | {"reverses_id": e2["id"], "points": -4}),
             field="reverses_id", detail="reversal_mismatch")
    rejected(town.push1("VA", PE, str(uuid.uuid4()), base | {"reverses_id": str(uuid.uuid4())}),
             field="reverses_id", detail="entry_not_found")
    # two reversals of one entry in one push: the second is refused, the push does not fail
    from tests.support.device import mutation, push
    r = push(town.c("VA"), [mutation(PE, str(uuid.uuid4()), base | {"reverses_id": e2["id"]}),
                            mutation(PE, str(uuid.uuid4()), base | {"reverses_id": e2["id"]})])
    assert r.status_code == 200, r.text
    first, second = r.json()["results"]
    assert first["status"] == "applied"
    rejected(second, field="reverses_id", detail="already_reversed")
    # an entry and its reversal queued offline in one push: the reversal finds the entry of the same batch
    eid, rid2 = str(uuid.uuid4()), str(uuid.uuid4())
    r = push(town.c("VA"), [mutation(PE, eid, {"org_code": W, "household_id": b["id"], "rule": "littering",
                                               "reason": "记错了"}),
                            mutation(PE, rid2, {"org_code": W, "household_id": b["id"], "reverses_id": eid,
                                                "reason": "冲正"})])
    assert [x["status"] for x in r.json()["results"]] == ["applied", "applied"], r.text
    assert r.json()["results"][1]["record"]["points"] == 5
    assert h.row(town.engine, PE, rid2)["reverses_id"] == eid  # stored, not only answered
    balances = {i["household_id"]: i for i in town.get("VA", "/api/v1/points/balances", org_code=W)["items"]}
    with town.engine.connect() as conn:
        sums = dict(conn.execute(sa.text("SELECT household_id, SUM(points) FROM points_entry GROUP BY household_id")).all())
    assert balances[a["id"]]["points"] == sums[a["id"]] == 10 + 5 - 10 - 5 == 0
    assert balances[b["id"]]["points"] == sums[b["id"]] == 2
    assert [i["household_id"] for i in town.get("VA", "/api/v1/points/balances", org_code=W)["items"]][0] == b["id"]
    hist = town.get("VA", f"/api/v1/points/households/{a['id']}")
    assert hist["balance"] == 0 and [i["balance"] for i in hist["items"]] == [10, 15, 5, 0]
    assert hist["head_name"] == "王建国"


def test_monthly_rankings(town):
    a, b, c = (town.household(head_name=n, address=f"{n}家") for n in ("甲", "乙", "丙"))
    today = h.today()
    last_month = (today.replace(day=1) - timedelta(days=1))
    entry(town, a, "filial", occurred_on=last_month.isoformat())
    entry(town, b, "volunteer")
    entry(town, c, "volunteer")
    entry(town, a, "clean_yard")
    month = town.get("VA", "/api/v1/points/rankings", org_code=W, month=today.strftime("%Y-%m"))
    got = [(i["rank"], i["head_name"], i["points"]) for i in month["items"]]
    assert sorted(got) == [(1, "丙", 5), (1, "乙", 5), (3, "甲", 2)] and got[2] == (3, "甲", 2)  # ties share a rank
    prev = town.get("VA", "/api/v1/points/rankings", org_code=W, month=last_month.strftime("%Y-%m"))
    assert [(i["head_name"], i["points"]) for i in prev["items"]] == [("甲", 10)]
    for bad in ("2026-13", "2026-1", "x"):
        h.assert_error(town.c("VA").get("/api/v1/points/rankings", params={"month": bad}), 422, "validation_error")
    # out of scope: nothing of 万福村 for 镇东村's admin
    assert town.get("ZA", "/api/v1/points/rankings", org_code=W)["items"] == []


def test_who_may_add_entries_and_the_county_switch(town):
    hh = town.household()
    fields = {"org_code": W, "household_id": hh["id"], "rule": "volunteer", "reason": "清扫"}
    for who in ("M", "G", "TV", "ZA", "OA", "CA"):
        rejected(town.push1(who, PE, str(uuid.uuid4()), fields), "forbidden")
    assert town.ok("TA", PE, str(uuid.uuid4()), fields)["points"] == 5
    with town.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO county_setting (county_code, key, value) "
                             "VALUES ('340321', 'points_field_writers', '1')"))
    for who in ("M", "G"):
        assert town.ok(who, PE, str(uuid.uuid4()), fields)["points"] == 5
    rejected(town.push1("TV", PE, str(uuid.uuid4()), fields), "forbidden")


def test_me_offers_points_entries_to_field_workers_only_where_the_county_allows(town):
    """/me's permissions follow the county switch the push checks: a phone offers 记积分 only when it would pass."""
    def perms(who: str) -> dict:
        return town.get(who, "/api/v1/me")["permissions"]

    for who in ("M", "G"):
        assert PE not in perms(who), who
    for who in ("VA", "TA"):
        assert perms(who)[PE] == ["create"], who
    with town.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO county_setting (county_code, key, value) "
                             "VALUES ('340321', 'points_field_writers', '1')"))
    for who in ("M", "G"):
        assert perms(who)[PE] == ["create"], who


def test_county_rules_override_the_defaults(town):
    with town.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO code_entry (table_name, county_code, code, name_zh, name_en, sort, active, points) "
                             "VALUES ('points_rule', '340321', 'volunteer', '志愿服务', 'Volunteering', 0, true, 8)"))
    hh = town.household()
    assert entry(town, hh)["points"] == 8
    rejected(town.push1("VA", PE, str(uuid.uuid4()), {"org_code": W, "household_id": hh["id"], "rule": "filial",
                                                      "reason": "x"}), field="rule", detail="invalid_choice")
    ref = town.get("VA", "/api/v1/reference")
    assert ref["code_tables"]["points_rule"] == [{"code": "volunteer", "name_zh": "志愿服务",
                                                  "name_en": "Volunteering", "points": 8}]
