"""六无村创建: indicators derived from incidents through real pushes, in every order; who certifies."""

from __future__ import annotations

import uuid

import pytest

from cunzhi.six_no.rules import report_id
from cunzhi.sync.registry import SYSTEM_USER_ID
from tests.api import helpers as h
from tests.six_no.support import W, YEAR, Z, rejected
from tests.support.device import mutation, pull_all, push

RPT = "six_no_report"


def indicator(rec: dict, code: str) -> dict:
    return next(i for i in rec["indicators"] if i["code"] == code)


def report(town, who="VA", org=W) -> dict:
    return town.get(who, f"/api/v1/six-no-reports/{report_id(org, YEAR)}")


def test_incident_before_report_creates_it_broken_with_history_naming_the_cause(town):
    inc = town.incident(typ="criminal_case")
    rec = report(town)
    assert rec["state"] == "open" and rec["year"] == YEAR and rec["org_code"] == W
    broken = indicator(rec, "no_criminal_case")
    assert broken["status"] == "broken" and broken["incident_ids"] == [inc["id"]]
    assert {i["code"] for i in rec["indicators"]} == {"no_criminal_case", "no_mass_incident", "no_cult", "no_drugs",
                                                      "no_pyramid_selling", "no_major_safety_accident"}
    assert all(i["status"] == "ok" for i in rec["indicators"] if i["code"] != "no_criminal_case")
    hist = town.get("VA", f"/api/v1/six-no-reports/{rec['id']}/history")["items"]
    assert len(hist) == 1 and hist[0]["op"] == "derive"
    # it reaches the village admin's phone by pull like any record
    changes, _ = pull_all(town.c("VA"))
    assert any(c["entity"] == RPT and c["record"]["id"] == rec["id"] for c in changes)
    # not the other village's
    assert h.row(town.engine, RPT, report_id(Z, YEAR)) is None


def test_report_before_incident_keeps_the_village_evidence(town):
    rid = report_id(W, YEAR)
    rec = town.ok("VA", RPT, rid, {"org_code": W, "year": YEAR, "indicators": [
        {"code": "no_drugs", "evidence": "禁毒宣传 4 次", "attachment_ids": []}]})
    assert rec["state"] == "open" and indicator(rec, "no_drugs")["evidence"] == "禁毒宣传 4 次"
    assert all(i["status"] == "ok" for i in rec["indicators"])
    inc = town.incident(typ="drugs")
    after = report(town)
    assert after["rev"] == rec["rev"] + 1
    d = indicator(after, "no_drugs")
    assert (d["status"], d["incident_ids"], d["evidence"]) == ("broken", [inc["id"]], "禁毒宣传 4 次")
    # the phone's stale edit of the derived list is a conflict, not a silent loss
    res = town.push1("VA", RPT, rid, {"indicators": [{"code": "no_drugs", "evidence": "再加一条"}]},
                     base_rev=rec["rev"])
    assert res["status"] == "conflict" and res["conflicts"][0]["field"] == "indicators"
    # sent on the current rev, the evidence applies and the derived status stays the server's
    res = town.push1("VA", RPT, rid, {"indicators": [{"code": "no_drugs", "status": "ok", "incident_ids": [],
                                                      "evidence": "再加一条"}]}, base_rev=after["rev"])
    assert res["status"] == "applied", res
    d = indicator(res["record"], "no_drugs")
    assert (d["status"], d["incident_ids"], d["evidence"]) == ("broken", [inc["id"]], "再加一条")


def test_cancelling_mends_only_when_no_other_incident_breaks_it(town):
    a = town.incident(typ="cult")
    b = town.incident(typ="cult", at=f"{YEAR}-01-15T09:00:00+08:00")
    assert indicator(report(town), "no_cult")["incident_ids"] == [b["id"], a["id"]]
    town.cancel(a)
    ind = indicator(report(town), "no_cult")
    assert (ind["status"], ind["incident_ids"]) == ("broken", [b["id"]])
    town.cancel(b)
    ind = indicator(report(town), "no_cult")
    assert (ind["status"], ind["incident_ids"]) == ("ok", [])


def test_incidents_that_do_not_count(town):
    town.incident(typ="dispute")  # not a six-no type
    town.incident(typ="drugs", at=f"{YEAR - 1}-12-31T23:30:00+08:00")  # last year (Shanghai time)
    town.incident(org=Z, typ="drugs", who="ZA")
    assert h.row(town.engine, RPT, report_id(W, YEAR)) is None
    assert indicator(report(town, "ZA", Z), "no_drugs")["status"] == "broken"
    last = town.get("VA", f"/api/v1/six-no-reports/{report_id(W, YEAR - 1)}")
    assert last["year"] == YEAR - 1 and indicator(last, "no_drugs")["status"] == "broken"
    # 2026-01-01 00:30 in Shanghai is still 2025 in UTC: it counts for the Shanghai year
    town.incident(typ="pyramid_selling", at=f"{YEAR}-01-01T00:30:00+08:00")
    assert indicator(report(town), "no_pyramid_selling")["status"] == "broken"


def _certified(town) -> dict:
    rid = report_id(W, YEAR)
    rec = town.ok("VA", RPT, rid, {"org_code": W, "year": YEAR})
    rec = town.ok("VA", RPT, rid, {"state": "self_assessed", "self_assessment": "全年无六类案事件"}, rec["rev"])
    return town.ok("TA", RPT, rid, {"state": "township_certified"}, rec["rev"])


def test_veto_after_certification_reopens_and_a_broken_report_cannot_be_certified(town):
    rec = _certified(town)
    assert rec["state"] == "township_certified"
    inc = town.incident(typ="major_safety_accident")
    rec = report(town)
    assert rec["state"] == "reopened"
    assert indicator(rec, "no_major_safety_accident")["incident_ids"] == [inc["id"]]
    res = town.push1("TA", RPT, rec["id"], {"state": "township_certified"}, base_rev=rec["rev"])
    rejected(res, field="state", detail="indicator_broken")
    assert report(town)["rev"] == rec["rev"]  # nothing half-stored
    # the incident turns out to be a mistake: cancelled, the indicator mends, a new certification ends it
    town.cancel(inc)
    rec = report(town)
    assert rec["state"] == "reopened" and all(i["status"] == "ok" for i in rec["indicators"])
    rec = town.ok("TA", RPT, rec["id"], {"state": "township_certified"}, rec["rev"])
    assert rec["state"] == "township_certified"


def test_same_report_from_two_phones_offline_is_one_record(town):
    rid = report_id(W, YEAR)
    a, b, c = town.phone("VA"), town.phone("VA"), town.phone("VA")
    start = {"org_code": W, "year": YEAR}
    ra = push(a, [mutation(RPT, rid, start | {"indicators": [{"code": "no_cult", "evidence": "走访 120 户"}]})])
    ra = ra.json()["results"][0]
    rb = push(b, [mutation(RPT, rid, dict(start))]).json()["results"][0]
    assert ra["status"] == "applied", ra
    assert rb["status"] in ("applied", "merged"), rb  # the same start: one record, nothing to settle
    assert rb["record"]["id"] == rid and indicator(rb["record"], "no_cult")["evidence"] == "走访 120 户"
    # a third phone wrote its own self-assessment into its offline start: it fills what nobody had written
    rc = push(c, [mutation(RPT, rid, start | {"self_assessment": "初稿"})]).json()["results"][0]
    assert rc["status"] == "merged", rc
    assert h.count(town.engine, RPT) == 1
    rec = report(town)
    assert rec["self_assessment"] == "初稿" and indicator(rec, "no_cult")["evidence"] == "走访 120 户"


def test_the_same_offline_start_on_two_phones_merges_without_a_conflict(town):
    """Two creates of one report with the same evidence: the stored list carries the server's status and
    incident ids for every indicator, the phone's only its own part — still the same content, not a conflict."""
    rid = report_id(W, YEAR)
    start = {"org_code": W, "year": YEAR, "indicators": [{"code": "no_cult", "evidence": "走访 120 户"}],
             "self_assessment": "六无达标"}
    first = town.push1(town.phone("VA"), RPT, rid, start)
    second = town.push1(town.phone("VA"), RPT, rid, start)
    assert (first["status"], second["status"]) == ("applied", "merged"), second
    assert second["record"]["rev"] == first["record"]["rev"]  # nothing changed: no new rev
    assert town.get("VA", "/api/v1/conflicts")["items"] == []


def test_an_offline_start_meets_the_report_an_incident_made(town):
    """The server made the report (an incident broke an indicator); a phone's offline start with evidence for
    two indicators then arrives: the evidence fills in, the broken status and its incident stay the server's."""
    inc = town.incident(typ="drugs")
    made = report(town)
    assert made["created_by"] == SYSTEM_USER_ID
    res = town.push1(town.phone("VA"), RPT, report_id(W, YEAR), {"org_code": W, "year": YEAR, "indicators": [
        {"code": "no_drugs", "evidence": "禁毒宣传 4 次", "status": "ok"},
        {"code": "no_cult", "evidence": "走访 120 户"}]})
    assert res["status"] == "merged", res
    rec = report(town)
    d, c = indicator(rec, "no_drugs"), indicator(rec, "no_cult")
    assert (d["status"], d["incident_ids"], d["evidence"]) == ("broken", [inc["id"]], "禁毒宣传 4 次")
    assert (c["status"], c["evidence"]) == ("ok", "走访 120 户")
    assert rec["rev"] == made["rev"] + 1


def test_two_offline_starts_with_different_evidence_for_one_indicator_conflict(town):
    rid = report_id(W, YEAR)
    town.ok(town.phone("VA"), RPT, rid, {"org_code": W, "year": YEAR,
                                         "indicators": [{"code": "no_cult", "evidence": "走访 120 户"}]})
    res = town.push1(town.phone("VA"), RPT, rid, {"org_code": W, "year": YEAR,
                                                  "indicators": [{"code": "no_cult", "evidence": "走访 80 户"}]})
    assert res["status"] == "conflict" and res["conflicts"][0]["field"] == "indicators", res
    assert indicator(report(town), "no_cult")["evidence"] == "走访 120 户"  # kept until someone settles it


def test_a_report_id_not_derived_from_village_and_year_is_refused(town):
    for rid, fields in ((str(uuid.uuid4()), {"org_code": W, "year": YEAR}),
                        (report_id(W, YEAR - 1), {"org_code": W, "year": YEAR}),
                        (report_id(Z, YEAR), {"org_code": W, "year": YEAR})):
        res = town.push1("VA", RPT, rid, fields)
        rejected(res, field="id", detail="id_not_derived")
        assert h.row(town.engine, RPT, rid) is None


def test_year_is_fixed_and_unknown_indicators_are_refused(town):
    rid = report_id(W, YEAR)
    rec = town.ok("VA", RPT, rid, {"org_code": W, "year": YEAR})
    rejected(town.push1("VA", RPT, rid, {"year": YEAR - 1}, base_rev=rec["rev"]), field="year", detail="immutable")
    rejected(town.push1("VA", RPT, rid, {"indicators": [{"code": "no_littering"}]}, base_rev=rec["rev"]),
             field="indicators.0.code", detail="invalid_choice")
    rejected(town.push1("VA", RPT, rid, {"state": "self_assessed"}, base_rev=rec["rev"]),
             field="self_assessment", detail="self_assessment_required")
    rejected(town.push1("VA", RPT, report_id(W, YEAR + 1), {"org_code": W, "year": YEAR + 1}),
             field="year", detail="future_date")


# ---- every transition × role -----------------------------------------------------------------------
ROLES = ("VA", "TA", "M", "G", "TV", "ZA")
# (from, to, extra fields) → roles that may (the rest: forbidden, or not in scope)
CASES = [
    ("open", "self_assessed", {"self_assessment": "自评达标"}, {"VA"}),
    ("self_assessed", "township_certified", {}, {"TA"}),
    ("self_assessed", "rejected", {"decision_note": "证据不足"}, {"TA"}),
    ("rejected", "self_assessed", {"self_assessment": "补充证据后自评"}, {"VA"}),
    ("township_certified", "reopened", {}, set()),  # the server's only
    ("open", "township_certified", {}, set()),  # not a transition
]


def _to_state(town, state: str) -> dict:
    rid = report_id(W, YEAR)
    rec = town.ok("VA", RPT, rid, {"org_code": W, "year": YEAR})
    path = {"open": [], "self_assessed": [("VA", {"state": "self_assessed", "self_assessment": "自评"})],
            "rejected": [("VA", {"state": "self_assessed", "self_assessment": "自评"}),
                         ("TA", {"state": "rejected", "decision_note": "不充分"})],
            "township_certified": [("VA", {"state": "self_assessed", "self_assessment": "自评"}),
                                   ("TA", {"state": "township_certified"})]}[state]
    for who, fields in path:
        rec = town.ok(who, RPT, rid, fields, rec["rev"])
    return rec


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", range(len(CASES)))
def test_transition_by_role(town, case, role):
    before, after, extra, allowed = CASES[case]
    rec = _to_state(town, before)
    res = town.push1(role, RPT, rec["id"], {"state": after, **extra}, base_rev=rec["rev"])
    if role in allowed:
        assert res["status"] == "applied" and res["record"]["state"] == after, res
    elif role == "ZA":
        rejected(res, "unknown_record")  # another village's record answers as if absent
    elif role in ("M", "G", "TV"):
        rejected(res, "forbidden")  # not a writer of reports
    elif (before, after) in (("township_certified", "reopened"),):
        rejected(res, "forbidden")
    elif (before, after) == ("open", "township_certified"):
        rejected(res, field="state", detail="invalid_transition")
    else:
        rejected(res, "forbidden")
    stored = h.row(town.engine, RPT, rec["id"])
    assert stored["state"] == (after if role in allowed else before)


def test_evidence_is_the_village_and_the_decision_note_the_township(town):
    rec = _to_state(town, "self_assessed")
    rejected(town.push1("TA", RPT, rec["id"], {"indicators": [{"code": "no_cult", "evidence": "镇里代填"}]},
                        base_rev=rec["rev"]), "forbidden")
    rejected(town.push1("VA", RPT, rec["id"], {"decision_note": "村里自批"}, base_rev=rec["rev"]), "forbidden")
    rejected(town.push1("TA", RPT, rec["id"], {"state": "rejected"}, base_rev=rec["rev"]),
             field="decision_note", detail="decision_note_required")


@pytest.mark.parametrize("state", ["self_assessed", "township_certified"])
def test_what_the_township_reviews_or_certified_stays_as_the_village_submitted_it(town, state):
    """Finding 4: a village change to the self-assessment or evidence of a self-assessed or certified report is
    refused (report_locked), also from a phone whose change is based on the rev before the self-assessment."""
    rid = report_id(W, YEAR)
    first = town.ok("VA", RPT, rid, {"org_code": W, "year": YEAR,
                                     "indicators": [{"code": "no_cult", "evidence": "A：无邪教人员"}]})
    rec = _to_state(town, state)
    for fields, field in (({"self_assessment": "B：改过的自评"}, "self_assessment"),
                          ({"indicators": [{"code": "no_cult", "evidence": "B：改过的佐证"}]}, "indicators")):
        for base in (rec["rev"], first["rev"]):  # a phone that saw the certification, and one still offline
            res = town.push1("VA", RPT, rid, fields, base_rev=base)
            if res["status"] == "conflict":  # the offline phone's change meets the township's: choosing it is refused
                res = town.push1("VA", RPT, rid, fields, base_rev=res["record"]["rev"],
                                 resolves_conflict=res["conflict_id"])
            rejected(res, field=field, detail="report_locked")
    stored = report(town)
    assert stored["rev"] == rec["rev"] and stored["state"] == state
    assert stored["self_assessment"] == "自评" and indicator(stored, "no_cult")["evidence"] == "A：无邪教人员"
    # sending the same content again changes nothing and is no error; the township's note stays the township's
    assert town.push1("VA", RPT, rid, {"self_assessment": "自评"}, base_rev=rec["rev"])["status"] != "rejected"
    # after a rejection the village edits again
    if state == "self_assessed":
        rec = town.ok("TA", RPT, rid, {"state": "rejected", "decision_note": "佐证不足"}, rec["rev"])
        assert town.ok("VA", RPT, rid, {"self_assessment": "补充后自评"}, rec["rev"])["self_assessment"] == "补充后自评"
