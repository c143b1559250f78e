"""Every figure and breakdown of the dashboard against the hand-counted fixture (see conftest.py's table);
drill links return as many records as the figure says; masking of names by role; bad input."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import parse_qsl

import sqlalchemy as sa

from tests.api import helpers as h
from tests.dashboard.conftest import WT, W, Z

YEAR_START = f"{h.today().year}-01-01"


def get(client, **params):
    r = client.get("/api/v1/dashboard", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def drill_count(client, url: str) -> int:
    """How many records the drill link lists (all pages)."""
    path, _, query = url.partition("?")
    base = dict(parse_qsl(query))
    n, cursor = 0, None
    while True:
        params = base | {"limit": 500} | ({"cursor": cursor} if cursor else {})
        r = client.get(path, params=params)
        assert r.status_code == 200, (url, r.text)
        body = r.json()
        n += len(body["items"])
        cursor = body.get("next_cursor")
        if not cursor:
            return n


def test_township_figures(world):
    d = get(world.c("wanfu.viewer"))
    assert (d["org_code"], d["org_name"], d["from"], d["to"]) == (WT, "万福镇", YEAR_START, h.today().isoformat())
    f = dict(d["figures"])
    val = {k: v["value"] for k, v in f.items()}
    # received this year in 万福镇: C1–C9, C12 (C10 deleted, C11 received last year, C13 another township)
    assert val["disputes_received"] == 10
    # C1 and C7 carry the escalation flag
    assert val["escalations"] == 2
    # ended today as agreed: C4 C5 C9 C12; as terminated: C6 → 4 / 5
    assert (f["mediation_success_rate"]["numerator"], f["mediation_success_rate"]["denominator"]) == (4, 5)
    assert val["mediation_success_rate"] == 0.8
    assert val["cases_declined"] == 1  # C7
    assert val["cases_referred"] == 1  # C8
    # ended: C4 C5 C6 C7 C8 C9 C12 = 7; late: C4 (deadline 10 days ago), C8 (20 days ago) → 5 on time
    assert (f["on_time_rate"]["numerator"], f["on_time_rate"]["denominator"]) == (5, 7)
    assert val["on_time_rate"] == 0.7143
    # agreements due in the period and not after today: C4 (perform_by 3 days ago, not fulfilled), C5 (yesterday,
    # fulfilled), C12 (no perform_by: signed yesterday, fulfilled); C9 is due in 10 days → 2 / 3
    assert (f["agreement_fulfilment_rate"]["numerator"], f["agreement_fulfilment_rate"]["denominator"]) == (2, 3)
    assert val["agreement_fulfilment_rate"] == 0.6667
    assert val["cases_open"] == 4  # C1 C11 mediating, C2 C3 registered
    assert val["cases_overdue"] == 3  # C1 (10 days past), C2 (5 days past), C11 (since January)
    assert val["cases_red_risk_open"] == 2  # C1, C3 (C8 is red but referred)
    # 万福镇 has 16 villages in the fixture's org tree; mediators: wanfucun.mediator (万福村), zhendong.mediator
    # (镇东村); wanfu.mediator works at township level
    assert (f["mediators_township"]["value"], f["mediators_township"]["denominator"],
            f["mediators_township"]["target"]) == (1, 1, 2)
    assert (f["mediators_villages"]["numerator"], f["mediators_villages"]["denominator"]) == (2, 16)
    assert val["mediators_villages"] == 0.125 and f["mediators_villages"]["target"] == 1.0
    assert f["six_no_village_rate"]["target"] == 0.8 and f["safe_household_rate"]["target"] == 0.97
    for key, fig in f.items():
        assert fig["formula"] and "÷" in fig["formula"] if fig["denominator"] is not None and key != "mediators_township" \
            else fig["formula"], key


def test_every_key_of_the_spec_is_there(world):
    d = get(world.c("wanfu.admin"))
    assert list(d["figures"]) == [
        "disputes_received", "mediation_success_rate", "cases_declined", "cases_referred",
        "agreement_fulfilment_rate", "on_time_rate", "cases_open", "cases_overdue", "cases_red_risk_open",
        "escalations", "six_no_village_rate", "safe_household_rate", "patrols_completed", "incidents_reported",
        "incidents_overdue", "nominations_awarded", "mediators_township", "mediators_villages"]
    assert list(d["breakdowns"]) == [
        "disputes_by_category", "disputes_by_source", "disputes_by_risk", "cases_by_status", "incidents_by_type",
        "incidents_by_state", "nominations_by_state", "patrols_by_grid_week", "six_no_by_village",
        "points_top_households"]
    assert list(d["lists"]) == ["overdue_cases", "red_risk_cases", "overdue_incidents", "notices_in_progress"]
    for fig in d["figures"].values():
        assert set(fig) >= {"label", "value", "numerator", "denominator", "target", "formula", "drill", "available"}


def _counts(items):
    return {i["key"]: i["count"] for i in items}


def test_breakdowns(world):
    b = get(world.c("wanfu.viewer"))["breakdowns"]
    # received this year: neighbor C1 C3 C4 C8 C12; homestead C2; labor_wage C5; contract C6; damages C7;
    # land_acquisition C9
    assert _counts(b["disputes_by_category"]) == {"neighbor": 5, "homestead": 1, "labor_wage": 1, "contract": 1,
                                                  "damages": 1, "land_acquisition": 1}
    assert [i["key"] for i in b["disputes_by_category"]][:2] == ["neighbor", "homestead"]  # code-table order
    assert next(i for i in b["disputes_by_category"] if i["key"] == "neighbor")["label"] == "邻里"
    # party_request C1 C4 C5 C7 C12; patrol C2 C8; proactive C3; police_referral C6; government C9
    assert _counts(b["disputes_by_source"]) == {"party_request": 5, "patrol": 2, "proactive": 1,
                                                "police_referral": 1, "government": 1}
    # red C1 C3 C8; orange C2 C9; yellow C5; blue C4 C6 C7 C12
    assert _counts(b["disputes_by_risk"]) == {"red": 3, "orange": 2, "yellow": 1, "blue": 4}
    # now: registered C2 C3; mediating C1 C11; agreed C4 C9; fulfilled C5 C12; terminated C6; declined C7;
    # referred C8 (C10 deleted)
    assert _counts(b["cases_by_status"]) == {"registered": 2, "mediating": 2, "agreed": 2, "fulfilled": 2,
                                             "terminated": 1, "declined": 1, "referred": 1}
    # the village grid: every one of the 16 villages, in code order
    villages = b["six_no_by_village"]
    assert len(villages) == 16 and villages[0]["key"] == W and villages[1]["key"] == Z
    assert villages[0]["label"] == "万福村村民委员会"
    assert b["points_top_households"] == []  # village scope only


def test_village_admin_sees_the_village(world):
    d = get(world.c("wanfucun.admin"))
    assert d["org_code"] == W
    val = {k: v["value"] for k, v in d["figures"].items()}
    assert val["disputes_received"] == 5  # C1–C5 (C10 deleted, C11 last year)
    assert val["cases_open"] == 4  # C1 C2 C3 C11
    assert val["cases_overdue"] == 3  # C1 C2 C11
    # ended today: C4 and C5 as agreed, no terminated → 2 / 2; both on time? C4 late, C5 on time → 1 / 2
    assert (d["figures"]["mediation_success_rate"]["numerator"], d["figures"]["mediation_success_rate"]["denominator"]) == (2, 2)
    assert (d["figures"]["on_time_rate"]["numerator"], d["figures"]["on_time_rate"]["denominator"]) == (1, 2)
    assert (d["figures"]["mediators_villages"]["numerator"], d["figures"]["mediators_villages"]["denominator"]) == (1, 1)
    assert d["figures"]["mediators_township"]["denominator"] is None  # a village has no township level


def test_county_across_townships_and_compare(world):
    c = world.c("county.admin")
    d = get(c)
    assert d["org_code"] == "340321"
    val = {k: v["value"] for k, v in d["figures"].items()}
    assert val["disputes_received"] == 11  # 万福镇's 10 + C13 (唐集镇)
    assert val["cases_open"] == 5  # C1 C2 C3 C11 + C13
    assert val["cases_red_risk_open"] == 3  # C1 C3 C13
    # 23 townships in the county; one township-level mediator (万福镇) → target 2 × 23
    assert (d["figures"]["mediators_township"]["value"], d["figures"]["mediators_township"]["denominator"],
            d["figures"]["mediators_township"]["target"]) == (1, 23, 46)
    assert d["figures"]["mediators_villages"]["denominator"] == 369
    # a county admin looks into one township
    assert get(c, org_code=WT)["figures"]["disputes_received"]["value"] == 10
    r = c.get("/api/v1/dashboard/compare")
    assert r.status_code == 200, r.text
    cmp = r.json()
    assert len(cmp["townships"]) == 23
    by = {t["org_code"]: t for t in cmp["townships"]}
    assert by[WT]["org_name"] == "万福镇" and by[WT]["figures"]["disputes_received"]["value"] == 10
    assert by["340321109"]["figures"]["disputes_received"]["value"] == 1  # C13
    assert by["340321109"]["figures"]["cases_red_risk_open"]["value"] == 1
    assert by["340321100"]["figures"]["disputes_received"]["value"] == 0
    assert by[WT]["figures"]["mediation_success_rate"]["value"] == 0.8


def test_period_filters(world):
    c = world.c("wanfu.viewer")
    # a period that ended yesterday: nothing ended in it (every case ended today)
    d = get(c, **{"from": h.days_ago(45), "to": h.days_ago(1)})
    f = d["figures"]
    # received 45..1 days ago: C1 C2 C3 C4 C5 C6 C7 C9 C12 (C8 is 50 days ago)
    assert f["disputes_received"]["value"] == 9
    assert (f["mediation_success_rate"]["denominator"], f["mediation_success_rate"]["value"]) == (0, None)
    assert f["on_time_rate"]["denominator"] == 0
    # due 45..1 days ago: C4 (3 days ago), C5 (yesterday), C12 (signed yesterday) → 2 fulfilled of 3
    assert (f["agreement_fulfilment_rate"]["numerator"], f["agreement_fulfilment_rate"]["denominator"]) == (2, 3)
    # "now" figures ignore the period
    assert f["cases_open"]["value"] == 4
    # only today: nothing received today; 7 ended
    d = get(c, **{"from": h.today().isoformat(), "to": h.today().isoformat()})
    assert d["figures"]["disputes_received"]["value"] == 0
    assert d["figures"]["on_time_rate"]["denominator"] == 7
    # last year: C11 only
    d = get(c, **{"from": "2025-01-01", "to": "2025-12-31"})
    assert d["figures"]["disputes_received"]["value"] == 1
    assert d["figures"]["agreement_fulfilment_rate"]["denominator"] == 0


def _drills(fig):
    yield fig["drill"], fig["numerator"] if fig["numerator"] is not None else fig["value"]
    if fig.get("drill_denominator"):
        yield fig["drill_denominator"], fig["denominator"]


def test_drill_counts_equal_figures(world):
    for user, params in (("wanfu.viewer", {}), ("wanfucun.admin", {}), ("county.admin", {}),
                         ("wanfu.admin", {"from": h.days_ago(45), "to": h.days_ago(1)})):
        c = world.c(user)
        d = get(c, **params)
        checked = 0
        for key, fig in d["figures"].items():
            if not fig["available"]:
                continue
            for url, expected in _drills(fig):
                if expected is None:
                    continue
                assert drill_count(c, url) == expected, (user, key, url)
                checked += 1
        assert checked >= 16, checked  # every mediation and mediator figure (the others: when their types exist)
        for key in ("disputes_by_category", "disputes_by_source", "disputes_by_risk", "cases_by_status"):
            for item in d["breakdowns"][key]:
                assert drill_count(c, item["drill"]) == item["count"], (user, key, item)


def test_lists_and_masking(world):
    viewer = get(world.c("wanfu.viewer"))["lists"]
    # overdue, most urgent first: C11 (deadline in January), C1 (10 days past), C2 (5 days past)
    assert [i["id"] for i in viewer["overdue_cases"]] == [world.ids["C11"], world.ids["C1"], world.ids["C2"]]
    assert [i["title"] for i in viewer["overdue_cases"]] == ["C11 纠纷", "C1 纠纷", "C2 纠纷"]
    # open red: C1 (deadline 10 days ago), C3 (in 25 days)
    assert [i["id"] for i in viewer["red_risk_cases"]] == [world.ids["C1"], world.ids["C3"]]
    assert viewer["overdue_cases"][1]["days_overdue"] == 10
    # a township viewer sees names masked; a township admin in full (and that is audited)
    assert {i["parties"] for i in viewer["overdue_cases"]} == {"张*、欧***"}
    uid = h.user_id(world.engine, "wanfu.admin")
    before = len(h.audit_rows(world.engine, uid))
    admin = get(world.c("wanfu.admin"))["lists"]
    assert {i["parties"] for i in admin["overdue_cases"]} == {"张三、欧阳娜娜"}
    rows = h.audit_rows(world.engine, uid)[before:]
    assert rows and {world.ids["C1"], world.ids["C2"], world.ids["C11"]} <= {x for r in rows for x in r["record_ids"]}
    # a county admin: masked; a village admin: its own village in full
    county = get(world.c("county.admin"))["lists"]
    assert {i["parties"] for i in county["overdue_cases"]} == {"张*、欧***"}
    village = get(world.c("wanfucun.admin"))["lists"]
    assert {i["parties"] for i in village["overdue_cases"]} == {"张三、欧阳娜娜"}
    # phones never appear in the dashboard
    for c in ("wanfu.viewer", "wanfu.admin", "county.admin"):
        r = world.c(c).get("/api/v1/dashboard")
        assert h.phone(3, 1) not in r.text and h.mask_phone(h.phone(3, 1)) not in r.text
    assert get(world.c("wanfu.viewer"), org_code=Z)["lists"]["overdue_cases"] == []


def test_unit_and_mediator_drills(world):
    c = world.c("wanfu.viewer")
    r = c.get("/api/v1/dashboard/units", params={"level": "village", "has_mediator": "true"})
    assert [(i["org_code"], i["mediators"]) for i in r.json()["items"]] == [(W, 1), (Z, 1)]
    assert len(c.get("/api/v1/dashboard/units").json()["items"]) == 16
    r = c.get("/api/v1/dashboard/mediators")
    assert [i["org_code"] for i in r.json()["items"]] == [WT]


def test_bad_input(world):
    v = world.c("wanfu.viewer")
    for lang in ("zh", "en"):
        c = world.login("wanfu.viewer", lang="en" if lang == "en" else "zh-CN")
        body = h.assert_error(c.get("/api/v1/dashboard", params={"from": "2026-05-01", "to": "2026-04-30"}), 422,
                              "validation_error", lang)
        assert [(d["field"], d["code"]) for d in body["details"]] == [("to", "period_reversed")]
        body = h.assert_error(c.get("/api/v1/dashboard", params={"from": "2020-01-01", "to": "2025-01-02"}), 422,
                              "validation_error", lang)
        assert [(d["field"], d["code"]) for d in body["details"]] == [("to", "period_too_long")]
    assert v.get("/api/v1/dashboard", params={"from": "2020-01-01", "to": "2025-01-01"}).status_code == 200  # 5 years
    h.assert_error(v.get("/api/v1/dashboard", params={"from": "2026-13-01"}), 422, "validation_error")
    for params in ({"from": "0001-01-01", "to": "0001-01-02"}, {"from": "9999-12-30", "to": "9999-12-31"}):
        body = h.assert_error(v.get("/api/v1/dashboard", params=params), 422, "validation_error")
        assert body["details"][0]["code"] == "out_of_range"
        h.assert_error(v.get("/api/v1/dashboard/export", params=params), 422, "validation_error")
    h.assert_error(v.get("/api/v1/dashboard", params={"org_code": "abc"}), 422, "validation_error")
    # outside the caller's scope, or unknown: 404 (not 403)
    for org in ("340321109", "340322", "340321108299", "340321"):
        h.assert_error(v.get("/api/v1/dashboard", params={"org_code": org}), 404, "not_found")
    h.assert_error(world.c("wanfucun.admin").get("/api/v1/dashboard", params={"org_code": Z}), 404, "not_found")
    # roles without a dashboard
    for user in ("wanfucun.mediator", "wanfucun.grid", "wanfu.mediator"):
        for path in ("", "/export", "/compare", "/units", "/mediators"):
            h.assert_error(world.c(user).get(f"/api/v1/dashboard{path}"), 403, "dashboard_forbidden")
    en = world.login("wanfucun.grid", lang="en")
    assert "dashboard" in h.assert_error(en.get("/api/v1/dashboard"), 403, "dashboard_forbidden", "en")["message"]
    h.assert_error(v.get("/api/v1/dashboard/export", params={"format": "pdf"}), 422, "validation_error")
    h.assert_error(v.get("/api/v1/dashboard/export", params={"table": "nope"}), 422, "validation_error")
    h.assert_error(world.c("anon") if False else v.get("/api/v1/dashboard/units", params={"level": "grid"}), 422)


def test_english(world):
    c = world.login("wanfu.viewer", lang="en")
    d = get(c)
    f = d["figures"]["mediation_success_rate"]
    assert f["label"] == "Mediation success rate" and "terminated" in f["formula"]
    assert next(i for i in d["breakdowns"]["disputes_by_category"] if i["key"] == "neighbor")["label"] == "Neighbours"


def test_no_sql_in_the_count_path_reads_deleted(world):
    """C10 (deleted) is stored, and counted nowhere."""
    with world.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT deleted FROM mediation_case WHERE id = :i"),
                            {"i": world.ids["C10"]}).scalar() in (True, 1)
    d = get(world.c("wanfucun.admin"), **{"from": h.days_ago(2), "to": h.today().isoformat()})
    assert d["figures"]["disputes_received"]["value"] == 0  # C10 only was received 2 days ago in 万福村


def _week(days_ago: int) -> str:
    y, w, _ = (h.today() - timedelta(days=days_ago)).isocalendar()
    return f"{y}-W{w:02d}"


def test_grid_six_no_nominations_points(world):
    c = world.c("wanfu.viewer")
    d = get(c, **{"from": h.days_ago(30), "to": h.today().isoformat()})
    f, b, lists = d["figures"], d["breakdowns"], d["lists"]
    assert all(fig["available"] for fig in f.values())
    # 镇东村 certified (R-Z); 万福村's report is open and broken by I3; 16 villages
    assert (f["six_no_village_rate"]["numerator"], f["six_no_village_rate"]["denominator"]) == (1, 16)
    assert f["six_no_village_rate"]["value"] == 0.0625
    # active: H1 H2 H3 H5 H6 (H4 moved away); with this year: H1 H3 H5
    assert (f["safe_household_rate"]["numerator"], f["safe_household_rate"]["denominator"]) == (3, 5)
    assert f["safe_household_rate"]["value"] == 0.6
    assert f["patrols_completed"]["value"] == 3  # P1 P2 P3 (P4 in progress, P5 cancelled)
    assert f["incidents_reported"]["value"] == 4  # I1–I4 (I4 cancelled, still reported)
    assert f["incidents_overdue"]["value"] == 2  # I2, I3
    assert f["nominations_awarded"]["value"] == 0  # N3 was awarded on a clock 8 days ahead
    assert _counts(b["incidents_by_type"]) == {"safety_hazard": 1, "public_order": 1, "criminal_case": 1,
                                               "environment": 1}
    assert _counts(b["incidents_by_state"]) == {"reported": 3, "cancelled": 1}
    # states named as the code table names them (incident_state), as the incident's own page does
    assert {i["key"]: i["label"] for i in b["incidents_by_state"]} == {"reported": "已上报", "cancelled": "已撤销"}
    assert _counts(b["nominations_by_state"]) == {"nominated": 1, "public_notice": 1, "awarded": 1}
    g1, g2 = W + "001", W + "002"
    assert _counts(b["patrols_by_grid_week"]) == {f"{g1}/{_week(1)}": 2, f"{g2}/{_week(8)}": 1}
    # each row names its grid (with its village, in a township) and its week, not the grid's code
    with world.engine.connect() as conn:
        grid_names = dict(conn.execute(sa.text("SELECT code, name FROM org_unit WHERE code IN (:a, :b)"),
                                       {"a": g1, "b": g2}).all())
    first = date.fromisoformat(h.days_ago(30))
    for i in b["patrols_by_grid_week"]:
        n = int(i["week"][6:])
        monday = date.fromisocalendar(int(i["week"][:4]), n, 1)
        days = f"{max(monday, first).isoformat()[5:]}至{min(monday + timedelta(days=6), h.today()).isoformat()[5:]}"
        assert i["unit_name"] == "万福村" + grid_names[i["unit"]]
        assert i["label"] == f"{i['unit_name']} · 第{n}周 {days}"
    villages = {v["key"]: v for v in b["six_no_by_village"]}
    assert (villages[W]["state"], villages[W]["broken"]) == ("open", ["no_criminal_case"])
    assert (villages[Z]["state"], villages[Z]["broken"], villages[Z]["state_label"]) == ("township_certified", [], "乡镇已认定")
    assert villages["340321108202"]["state"] == "none"
    # follow-up lists: overdue incidents, most overdue first; the notice in progress (name masked for a viewer)
    assert [i["id"] for i in lists["overdue_incidents"]] == [world.ids["I2"], world.ids["I3"]]
    assert [i["days_overdue"] for i in lists["overdue_incidents"]] == [7, 2]
    assert {i["org_name"] for items in lists.values() for i in items} == {"万福村村民委员会"}  # each names its unit
    assert [(i["id"], i["nominee_name"]) for i in lists["notices_in_progress"]] == [(world.ids["N1"], "李**")]
    admin = get(world.c("wanfu.admin"))["lists"]["notices_in_progress"]
    assert [i["nominee_name"] for i in admin] == ["李桂花"]
    # awarded within a period that reaches the award day (today + 8)
    later = get(c, **{"from": h.days_ago(30), "to": (h.today() + timedelta(days=10)).isoformat()})
    assert later["figures"]["nominations_awarded"]["value"] == 1  # N3
    for user, params in (("wanfu.viewer", {"from": h.days_ago(30)}), ("wanfucun.admin", {})):
        cl = world.c(user)
        dd = get(cl, **params)
        for key in ("incidents_by_type", "incidents_by_state", "nominations_by_state", "patrols_by_grid_week"):
            for item in dd["breakdowns"][key]:
                assert drill_count(cl, item["drill"]) == item["count"], (user, key, item)


def test_points_ranking_in_a_village(world):
    # H1: 5 + 10 = 15; H3: 2 − 5 = −3 (E1–E4)
    d = get(world.c("wanfucun.admin"))
    assert [(i["key"], i["label"], i["count"]) for i in d["breakdowns"]["points_top_households"]] == [
        (world.ids["H1"], "王建国", 15), (world.ids["H3"], "张德明", -3)]
    viewer = get(world.c("wanfu.viewer"), org_code=W)["breakdowns"]["points_top_households"]
    assert [(i["label"], i["count"]) for i in viewer] == [("王**", 15), ("张**", -3)]
    assert get(world.c("wanfu.viewer"))["breakdowns"]["points_top_households"] == []  # village scope only
    assert drill_count(world.c("wanfucun.admin"), d["breakdowns"]["points_top_households"][0]["drill"]) == 2


def test_county_compare_has_grid_figures(world):
    cmp = world.c("county.admin").get("/api/v1/dashboard/compare",
                                      params={"from": h.days_ago(30), "to": h.today().isoformat()}).json()
    wf = next(t for t in cmp["townships"] if t["org_code"] == WT)["figures"]
    assert (wf["patrols_completed"]["value"], wf["incidents_reported"]["value"], wf["six_no_village_rate"]["value"],
            wf["safe_household_rate"]["value"]) == (3, 4, 0.0625, 0.6)
    tj = next(t for t in cmp["townships"] if t["org_code"] == "340321109")["figures"]
    assert (tj["patrols_completed"]["value"], tj["safe_household_rate"]["value"]) == (0, None)
