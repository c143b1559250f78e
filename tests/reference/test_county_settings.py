"""County settings and code tables changed by the county admin over the API (finding 5): the next push uses them,
/reference and the pull's stamp change, old records stay valid, every change is in the audit trail."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import sqlalchemy as sa

from tests.api import helpers as h
from tests.six_no.support import W, rejected
from tests.support.device import new_case_fields

C = "/api/v1/counties/340321"


def _case(town, who: str = "M", **over) -> dict:
    return town.push1(who, "mediation_case", str(uuid.uuid4()), new_case_fields(W, **over))


def _plus(day: str, n: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=n)).isoformat()


def _pull_stamp(client) -> str:
    r = client.get("/api/v1/sync/pull", params={"limit": 1})
    assert r.status_code == 200, r.text
    return r.json()["settings_version"]


def _county_rows(town, table: str, county: str = "340321") -> int:
    return h.count(town.engine, "code_entry", "WHERE table_name = :t AND county_code = :c", t=table, c=county)


def test_a_deadline_set_over_the_api_counts_for_the_next_push_and_reaches_reference(town):
    ca, m = town.c("CA"), town.c("M")
    before = town.get("M", "/api/v1/reference")
    stamp = _pull_stamp(m)
    assert stamp == before["settings_version"]
    received = h.days_ago(1)
    assert _case(town, received_on=received)["record"]["deadline"] == _plus(received, 30)

    r = ca.patch(f"{C}/settings", json={"deadline_days": 45, "notice_days": 10})
    assert r.status_code == 200, r.text
    values = {s["key"]: s for s in r.json()["settings"]}
    assert (values["deadline_days"]["value"], values["deadline_days"]["own"]) == (45, True)
    assert values["notice_days"]["value"] == 10 and values["deadline_warn_days"]["own"] is False

    assert _case(town, received_on=received)["record"]["deadline"] == _plus(received, 45)
    after = town.get("M", "/api/v1/reference")
    assert after["settings"]["deadline_days"] == 45 and after["settings"]["notice_days"] == 10
    assert after["version"] != before["version"]
    assert after["settings_version"] != before["settings_version"]
    assert _pull_stamp(m) == after["settings_version"] != stamp
    # the same value again changes nothing (no new audit row, the same stamp)
    n = h.count(town.engine, "audit_entry", "WHERE action LIKE 'county_config.%'")
    assert ca.patch(f"{C}/settings", json={"deadline_days": 45}).status_code == 200
    assert h.count(town.engine, "audit_entry", "WHERE action LIKE 'county_config.%'") == n == 2
    assert _pull_stamp(m) == after["settings_version"]


def test_settings_are_validated_per_key(town):
    ca = town.c("CA")
    for body, field, code in (({"deadline_days": 0}, "deadline_days", "out_of_range"),
                              ({"deadline_days": 366}, "deadline_days", "out_of_range"),
                              ({"notice_days": "7"}, "notice_days", "invalid_type"),
                              ({"points_field_writers": 1}, "points_field_writers", "invalid_type"),
                              ({"safe_household_target": 90}, "safe_household_target", "invalid_type")):
        body_ = h.assert_error(ca.patch(f"{C}/settings", json=body), 422, "validation_error")
        assert (body_["details"][0]["field"], body_["details"][0]["code"]) == (field, code), body_
    assert h.count(town.engine, "county_setting", "WHERE county_code = '340321'") == 0
    # a boolean is stored as the existing values are ("0"/"1"), and counts: mediators may now add points
    hh = town.household()
    entry = {"org_code": W, "household_id": hh["id"], "rule": "volunteer", "reason": "清扫村道"}
    rejected(town.push1("M", "points_entry", str(uuid.uuid4()), entry), "forbidden")
    r = ca.patch(f"{C}/settings", json={"points_field_writers": True})
    assert {s["key"]: s["value"] for s in r.json()["settings"]}["points_field_writers"] is True
    with town.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT value FROM county_setting WHERE county_code = '340321' "
                                    "AND key = 'points_field_writers'")).scalar() == "1"
    assert town.ok("M", "points_entry", str(uuid.uuid4()), entry)["points"] == 5
    assert town.get("M", "/api/v1/reference")["settings"]["points_field_writers"] == 1


def test_a_deactivated_category_is_refused_for_new_values_and_old_records_stay_valid(town):
    ca = town.c("CA")
    old = _case(town, category="homestead")["record"]
    assert _county_rows(town, "case_category") == 0
    before = town.get("M", "/api/v1/reference")

    r = ca.patch(f"{C}/code-tables/case_category/codes/homestead", json={"active": False})
    assert r.status_code == 200, r.text
    entries = {e["code"]: e for e in r.json()["entries"]}
    assert entries["homestead"]["active"] is False and entries["homestead"]["name_zh"] == "房屋宅基地"
    # the first change copied the defaults: the county's rows now replace them; other counties keep the defaults
    assert _county_rows(town, "case_category") == 12
    assert _county_rows(town, "case_category", "") == 12
    assert h.count(town.engine, "code_entry", "WHERE county_code = '' AND code = 'homestead' AND active = :t", t=True) == 1

    rejected(_case(town, category="homestead"), field="category", detail="invalid_choice")
    # the old case keeps its category and can still be edited (also when its category is sent back unchanged)
    res = town.push1("M", "mediation_case", old["id"], {"title": "宅基地界址争议（复查）", "category": "homestead"},
                     base_rev=old["rev"])
    assert res["status"] == "applied" and res["record"]["category"] == "homestead", res
    # moving an old case onto the deactivated code is a new value: refused
    other = _case(town)["record"]
    rejected(town.push1("M", "mediation_case", other["id"], {"category": "homestead"}, base_rev=other["rev"]),
             field="category", detail="invalid_choice")

    ref = town.get("M", "/api/v1/reference")
    assert "homestead" not in {c["code"] for c in ref["code_tables"]["case_category"]}
    assert ref["inactive_codes"]["case_category"] == [
        {"code": "homestead", "name_zh": "房屋宅基地", "name_en": "Housing and homestead"}]
    assert ref["version"] != before["version"]
    # the dashboard still labels the old cases
    dash = town.get("TA", "/api/v1/dashboard")
    labels = {b["key"]: b["label"] for b in dash["breakdowns"]["disputes_by_category"]}
    assert labels.get("homestead") == "房屋宅基地"

    # reactivated: offered and accepted again
    assert ca.patch(f"{C}/code-tables/case_category/codes/homestead", json={"active": True}).status_code == 200
    assert _case(town, category="homestead")["status"] == "applied"
    assert "case_category" not in town.get("M", "/api/v1/reference")["inactive_codes"]


def test_add_rename_reorder_and_the_rules_of_a_code_table(town):
    ca = town.c("CA")
    r = ca.post(f"{C}/code-tables/case_category/codes", json={"code": "water_use", "name_zh": "用水纠纷", "name_en": "Water use"})
    assert r.status_code == 201, r.text
    codes = [e["code"] for e in r.json()["entries"]]
    assert codes[-1] == "water_use" and len(codes) == 13 and r.json()["own"] is True
    assert _case(town, category="water_use")["status"] == "applied"

    r = ca.patch(f"{C}/code-tables/case_category/codes/water_use", json={"name_zh": " 灌溉用水纠纷 ", "name_en": "Irrigation"})
    assert {e["code"]: e["name_zh"] for e in r.json()["entries"]}["water_use"] == "灌溉用水纠纷"
    new_order = ["water_use", *codes[:-1]]
    r = ca.put(f"{C}/code-tables/case_category/order", json={"codes": new_order})
    assert [e["code"] for e in r.json()["entries"]] == new_order
    ref = town.get("M", "/api/v1/reference")["code_tables"]["case_category"]
    assert [c["code"] for c in ref][:2] == ["water_use", "marriage_family"]
    assert ref[0] == {"code": "water_use", "name_zh": "灌溉用水纠纷", "name_en": "Irrigation"}

    def refused(resp, status, code, detail=None):
        body = h.assert_error(resp, status, code)
        if detail:
            assert body["details"][0]["code"] == detail, body

    refused(ca.post(f"{C}/code-tables/case_category/codes", json={"code": "water_use", "name_zh": "x", "name_en": "x"}),
            422, "validation_error", "code_exists")
    refused(ca.post(f"{C}/code-tables/case_category/codes", json={"code": "Water", "name_zh": "x", "name_en": "x"}),
            422, "validation_error", "invalid_type")
    refused(ca.post(f"{C}/code-tables/case_category/codes", json={"code": "blank", "name_zh": "  ", "name_en": "x"}),
            422, "validation_error")
    refused(ca.post(f"{C}/code-tables/case_status/codes", json={"code": "paused", "name_zh": "暂停", "name_en": "Paused"}),
            403, "table_fixed")
    refused(ca.patch(f"{C}/code-tables/risk_level/codes/red", json={"name_zh": "红"}), 403, "table_fixed")
    refused(ca.post(f"{C}/code-tables/no_such_table/codes", json={"code": "a1", "name_zh": "x", "name_en": "x"}),
            404, "not_found")
    refused(ca.patch(f"{C}/code-tables/case_category/codes/no_such_code", json={"name_zh": "x"}), 404, "not_found")
    refused(ca.put(f"{C}/code-tables/case_category/order", json={"codes": new_order[1:]}), 422, "validation_error",
            "code_order_mismatch")
    refused(ca.post(f"{C}/code-tables/case_category/codes", json={"code": "pts", "name_zh": "x", "name_en": "x",
                                                             "points": 3}), 422, "validation_error",
            "table_has_no_points")
    # the code itself never changes (not a field), and the last active code cannot go
    refused(ca.patch(f"{C}/code-tables/case_category/codes/water_use", json={"code": "irrigation"}), 422,
            "validation_error", "invalid_type")
    src = [e["code"] for e in ca.get(f"{C}/settings").json()["code_tables"][0]["entries"]]
    table = ca.get(f"{C}/settings").json()["code_tables"][0]["table"]
    for code in src[:-1]:
        assert ca.patch(f"{C}/code-tables/{table}/codes/{code}", json={"active": False}).status_code == 200
    refused(ca.patch(f"{C}/code-tables/{table}/codes/{src[-1]}", json={"active": False}), 422, "validation_error",
            "last_active_code")
    # English messages
    body = h.assert_error(ca.patch(f"{C}/code-tables/case_status/codes/registered", json={"name_zh": "x"},
                                   headers={"Accept-Language": "en"}), 403, "table_fixed", lang="en")
    assert "fixed" in body["message"]


def test_points_rules_carry_their_default_points_and_reversals_keep_a_deactivated_rule(town):
    ca = town.c("CA")
    r = ca.post(f"{C}/code-tables/points_rule/codes", json={"code": "tree_planting", "name_zh": "植树", "name_en": "Tree planting",
                                                      "points": 3})
    assert r.status_code == 201, r.text
    assert {e["code"]: e["points"] for e in r.json()["entries"]} == {
        "volunteer": 5, "filial": 10, "clean_yard": 2, "littering": -5, "redeem": None, "tree_planting": 3}
    hh = town.household()
    base = {"org_code": W, "household_id": hh["id"], "reason": "植树节"}
    e1 = town.ok("VA", "points_entry", str(uuid.uuid4()), base | {"rule": "tree_planting"})
    assert e1["points"] == 3
    assert ca.patch(f"{C}/code-tables/points_rule/codes/volunteer", json={"points": 8}).status_code == 200
    assert town.ok("VA", "points_entry", str(uuid.uuid4()), base | {"rule": "volunteer"})["points"] == 8
    h.assert_error(ca.patch(f"{C}/code-tables/points_rule/codes/volunteer", json={"points": 0}), 422, "validation_error")
    ref = {c["code"]: c for c in town.get("VA", "/api/v1/reference")["code_tables"]["points_rule"]}
    assert ref["tree_planting"]["points"] == 3 and ref["volunteer"]["points"] == 8

    assert ca.patch(f"{C}/code-tables/points_rule/codes/tree_planting", json={"active": False}).status_code == 200
    rejected(town.push1("VA", "points_entry", str(uuid.uuid4()), base | {"rule": "tree_planting"}),
             field="rule", detail="invalid_choice")
    rev = town.ok("VA", "points_entry", str(uuid.uuid4()), base | {"reverses_id": e1["id"], "reason": "误录"})
    assert (rev["rule"], rev["points"]) == ("tree_planting", -3)


def test_a_deactivated_household_tag_stays_on_a_household_that_has_it(town):
    ca = town.c("CA")
    hh = town.household(tags=["low_income"])
    assert ca.patch(f"{C}/code-tables/household_tag/codes/low_income", json={"active": False}).status_code == 200
    rejected(town.push1("VA", "household", str(uuid.uuid4()), {
        "org_code": W, "head_name": "李四", "address": "西庄 1 号", "members": 2, "tags": ["low_income"]}),
        field="tags.0", detail="invalid_choice")
    res = town.push1("VA", "household", hh["id"], {"tags": ["low_income", "military"]}, base_rev=hh["rev"])
    assert res["status"] == "applied" and res["record"]["tags"] == ["low_income", "military"], res


def test_every_change_is_in_the_audit_trail_and_the_history(town):
    ca = town.c("CA")
    ca.patch(f"{C}/settings", json={"deadline_days": 40})
    ca.post(f"{C}/code-tables/incident_type/codes", json={"code": "flooding", "name_zh": "内涝", "name_en": "Flooding"})
    ca.patch(f"{C}/code-tables/incident_type/codes/flooding", json={"active": False})
    items = ca.get(f"{C}/settings/history").json()["items"]
    assert [(i["action"], i["key"] or i["code"]) for i in items] == [
        ("code_deactivated", "flooding"), ("code_added", "flooding"), ("setting", "deadline_days")]
    assert items[2]["before"] == "30" and items[2]["after"] == "40"
    assert items[0]["before"] == {"active": True} and items[0]["after"] == {"active": False}
    assert all(i["display_name"] == "县综治中心管理员" and i["user_id"] == h.user_id(town.engine, "county.admin")
               for i in items)
    assert h.count(town.engine, "audit_entry", "WHERE action LIKE 'county_config.%' AND user_id = :u",
                   u=h.user_id(town.engine, "county.admin")) == 3


def test_a_deactivated_six_no_indicator_stays_on_the_report_that_has_it(town):
    ca = town.c("CA")
    year = h.today().year
    from cunzhi.six_no.rules import report_id

    rep = town.ok("VA", "six_no_report", report_id(W, year), {"org_code": W, "year": year})
    codes = [i["code"] for i in rep["indicators"]]
    assert "no_cult" in codes
    assert ca.patch(f"{C}/code-tables/six_no_indicator/codes/no_cult", json={"active": False}).status_code == 200
    items = [dict(i, evidence="已排查") if i["code"] == "no_cult" else i for i in rep["indicators"]]
    res = town.push1("VA", "six_no_report", rep["id"], {"indicators": items}, base_rev=rep["rev"])
    assert res["status"] == "applied", res
    assert {i["code"]: i["evidence"] for i in res["record"]["indicators"]}["no_cult"] == "已排查"
    # a new village's report lists the county's indicators only
    z = town.ok("ZA", "six_no_report", report_id("340321108201", year), {"org_code": "340321108201", "year": year})
    assert "no_cult" not in [i["code"] for i in z["indicators"]]
