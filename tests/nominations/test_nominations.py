"""Nominations through their notice: who moves them, disqualifiers, the notice period on a moved clock,
objections that pause it, approval only after it, the 好人档案, and masking of the nominee's data."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from cunzhi.core import clock
from tests.api import helpers as h
from tests.six_no.support import W, Z, rejected

NOM, OBJ = "nomination", "nomination_objection"
CHECK = {"criminal_record": False, "vice": False, "cult": False, "checked_by": "张德明", "checked_on": None}


def propose(town, who="M", org=W, **over) -> dict:
    fields = {"org_code": org, "category": "filial_piety", "nominee_name": "李桂花", "deeds": "照顾瘫痪婆婆十二年",
              "source": "villagers", "nominator_name": "村民代表", "nominee_phone": h.phone(3, 1),
              "nominee_id_number": h.id_number(3, 1)} | over
    return town.ok(who, NOM, str(uuid.uuid4()), fields)


def step(town, who, rec, **fields) -> dict:
    return town.ok(who, NOM, rec["id"], fields, rec["rev"])


def to_notice(town, **over) -> dict:
    rec = propose(town, **over)
    rec = step(town, "VA", rec, state="village_reviewed", disqualifiers=CHECK | {"checked_on": h.days_ago(0)},
               review_note="两委评议通过")
    return step(town, "VA", rec, state="public_notice")


def objection(town, nom: dict, who="VA", **over) -> dict:
    fields = {"nomination_id": nom["id"], "content": "反映其曾与邻居争吵", "objector_name": None,
              "contact": h.phone(4, 2)} | over
    return town.ok(who, OBJ, str(uuid.uuid4()), fields)


def nom(town, rec, who="VA") -> dict:
    return town.get(who, f"/api/v1/nominations/{rec['id']}")


def test_notice_period_objection_and_approval_on_a_moved_clock(town):
    rec = to_notice(town)
    today = h.today()
    assert rec["notice_starts_on"] == today.isoformat()
    assert rec["notice_ends_on"] == (today + timedelta(days=7)).isoformat()
    assert rec["paused"] is False
    # during the notice: no approval
    res = town.push1("TA", NOM, rec["id"], {"state": "township_approved"}, base_rev=rec["rev"])
    rejected(res, field="state", detail="notice_not_over")
    # an objection recorded by the village admin pauses it (server-derived, with its own rev)
    o = objection(town, rec)
    assert o["state"] == "open" and o["org_code"] == W
    rec = nom(town, rec)
    assert rec["paused"] is True
    award_day = (today + timedelta(days=8)).isoformat()
    with clock.moved(timedelta(days=8)):
        assert h.today().isoformat() == award_day  # the server's clock, moved for this test
        res = town.push1("TA", NOM, rec["id"], {"state": "township_approved"}, base_rev=rec["rev"])
        rejected(res, field="state", detail="objection_open")
        # dismissed: the pause lifts, and after the notice's last day the township approves
        rejected(town.push1("VA", OBJ, o["id"], {"state": "dismissed"}, base_rev=o["rev"]),
                 field="decision_note", detail="decision_note_required")
        town.ok("VA", OBJ, o["id"], {"state": "dismissed", "decision_note": "经核实不属实"}, o["rev"])
        rec = nom(town, rec)
        assert rec["paused"] is False
        rec = step(town, "TA", rec, state="township_approved")
        rejected(town.push1("TA", NOM, rec["id"], {"state": "awarded"}, base_rev=rec["rev"]),
                 field="award_title", detail="award_title_required")
        rec = step(town, "TA", rec, state="awarded", award_title="万福镇孝老爱亲模范")
        assert rec["awarded_on"] == award_day
    # the last notice day itself is still the notice
    late = to_notice(town, nominee_name="赵大勇", category="bravery")
    with clock.moved(timedelta(days=7)):
        rejected(town.push1("TA", NOM, late["id"], {"state": "township_approved"}, base_rev=late["rev"]),
                 field="state", detail="notice_not_over")
    honours = town.get("TA", "/api/v1/honours", org_code=W, year=int(award_day[:4]))["items"]
    assert [i["id"] for i in honours] == [rec["id"]]
    assert honours[0]["award_title"] == "万福镇孝老爱亲模范"
    assert h.phone(3, 1) not in str(honours) and h.id_number(3, 1) not in str(honours)
    hist = town.get("VA", f"/api/v1/nominations/{rec['id']}/history")["items"]
    assert [e["op"] for e in hist].count("derive") == 2  # paused on, paused off


def test_an_upheld_objection_rejects_the_nomination(town):
    rec = to_notice(town)
    o = objection(town, rec, contact=None, objector_name="匿名")
    town.ok("TA", OBJ, o["id"], {"state": "upheld", "decision_note": "查实有赌博行为"}, o["rev"])
    rec = nom(town, rec)
    assert rec["state"] == "rejected" and rec["paused"] is False
    # an objection only while a notice runs
    res = town.push1("VA", OBJ, str(uuid.uuid4()), {"nomination_id": rec["id"], "content": "晚了"})
    rejected(res, field="nomination_id", detail="not_in_notice")


def test_disqualifiers_are_checked_before_review_and_block_approval(town):
    rec = propose(town)
    rejected(town.push1("VA", NOM, rec["id"], {"state": "village_reviewed"}, base_rev=rec["rev"]),
             field="disqualifiers", detail="disqualifiers_unchecked")
    rejected(town.push1("VA", NOM, rec["id"], {"disqualifiers": CHECK | {"gambling": True}}, base_rev=rec["rev"]),
             field="disqualifiers.gambling", detail="unknown_field")
    rec = step(town, "VA", rec, state="village_reviewed",
               disqualifiers=CHECK | {"vice": True, "checked_on": h.days_ago(1)})
    # a disqualified nominee is not published on the public poster (finding 8); the township rejects it
    rejected(town.push1("VA", NOM, rec["id"], {"state": "public_notice"}, base_rev=rec["rev"]),
             field="disqualifiers", detail="disqualified_notice")
    rec = step(town, "TA", rec, state="rejected", review_note="存在否决情形")
    assert rec["state"] == "rejected"
    # one published before the rule (or whose check turned true afterwards) still cannot be approved
    late = to_notice(town, nominee_name="赵铁柱")
    late = step(town, "VA", late, disqualifiers=CHECK | {"criminal_record": True, "checked_on": h.days_ago(0)})
    with clock.moved(timedelta(days=8)):
        rejected(town.push1("TA", NOM, late["id"], {"state": "township_approved"}, base_rev=late["rev"]),
                 field="disqualifiers", detail="disqualified")


def test_bad_input_names_the_field_and_stores_nothing(town):
    for fields, field, code in (
            ({"category": "best_family"}, "household_id", "household_required"),
            ({"category": "kindness"}, "category", "invalid_choice"),
            ({"deeds": ""}, "deeds", "required"),
            ({"nominee_phone": "12345"}, "nominee_phone", "invalid_phone"),
            ({"nominee_id_number": "340321199001011234"}, "nominee_id_number", "invalid_id_number"),
            ({"state": "public_notice"}, "state", "invalid_initial_status"),
            ({"household_id": str(uuid.uuid4())}, "household_id", "household_not_found")):
        rid = str(uuid.uuid4())
        base = {"org_code": W, "category": "honesty", "nominee_name": "周文华", "deeds": "拾金不昧", "source": "self"}
        res = town.push1("M", NOM, rid, base | fields)
        rejected(res, field=field, detail=code)
        assert "12345" not in str(res) and "340321199001011234" not in str(res)
        assert h.row(town.engine, NOM, rid) is None
    # a server field from a phone
    res = town.push1("VA", NOM, str(uuid.uuid4()), {"org_code": W, "category": "honesty", "nominee_name": "周",
                                                    "deeds": "拾金不昧", "source": "self", "paused": True})
    rejected(res, field="paused", detail="server_owned")
    hh = town.household()
    rec = propose(town, category="best_family", household_id=hh["id"], nominee_name="王建国家庭")
    assert rec["household_id"] == hh["id"]
    other = town.household(org=Z, who="ZA")
    res = town.push1("VA", NOM, str(uuid.uuid4()), {"org_code": W, "category": "best_family", "nominee_name": "X家",
                                                    "deeds": "和睦", "source": "self", "household_id": other["id"]})
    rejected(res, field="household_id", detail="household_not_found")


def test_nominee_personal_fields_are_masked_by_role(town):
    rec = to_notice(town)
    o = objection(town, rec)
    for who, full in (("VA", True), ("TA", True), ("M", True), ("G", False), ("TV", False), ("TM", False)):
        got = town.get(who, f"/api/v1/nominations/{rec['id']}")
        assert (got["nominee_phone"] == h.phone(3, 1)) is full, who
        assert (got["nominee_id_number"] == h.id_number(3, 1)) is full, who
        if not full:
            assert got["nominee_phone"] == h.mask_phone(h.phone(3, 1))
            assert got["nominee_id_number"] == h.mask_id(h.id_number(3, 1))
        ob = town.get(who, f"/api/v1/nomination-objections/{o['id']}")
        assert (ob["contact"] == h.phone(4, 2)) is full, who
        lst = town.c(who).get("/api/v1/nominations").text
        assert (h.phone(3, 1) in lst) is full, who


# ---- every transition × role -----------------------------------------------------------------------
ROLES = ("VA", "TA", "M", "G", "TV", "ZA")
CASES = [  # (from, to, fields, roles that may, days the clock moves)
    ("nominated", "village_reviewed", {"disqualifiers": CHECK | {"checked_on": "2026-01-05"}}, {"VA"}, 0),
    ("village_reviewed", "public_notice", {}, {"VA"}, 0),
    ("public_notice", "township_approved", {}, {"TA"}, 8),
    ("public_notice", "rejected", {"review_note": "群众意见较大"}, {"TA"}, 0),
    ("township_approved", "awarded", {"award_title": "好人"}, {"TA"}, 8),
    ("nominated", "rejected", {"review_note": "不符合条件"}, {"TA"}, 0),
    ("nominated", "public_notice", {}, set(), 0),  # skips the review: not a transition
]


def _at(town, state: str) -> dict:
    rec = propose(town)
    if state == "nominated":
        return rec
    rec = step(town, "VA", rec, state="village_reviewed", disqualifiers=CHECK | {"checked_on": "2026-01-05"})
    if state == "village_reviewed":
        return rec
    rec = step(town, "VA", rec, state="public_notice")
    if state == "public_notice":
        return rec
    with clock.moved(timedelta(days=8)):
        return step(town, "TA", rec, state="township_approved")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", range(len(CASES)))
def test_transition_by_role(town, case, role):
    before, after, fields, allowed, days = CASES[case]
    rec = _at(town, before)
    with clock.moved(timedelta(days=days)):
        res = town.push1(role, NOM, rec["id"], {"state": after, **fields}, base_rev=rec["rev"])
    if role in allowed:
        assert res["status"] == "applied" and res["record"]["state"] == after, res
    elif role == "ZA":
        rejected(res, "unknown_record")  # another village's record answers as if absent
    elif not allowed:
        if role in ("VA", "TA"):
            rejected(res, field="state", detail="invalid_transition")
        else:
            rejected(res, "forbidden")
    else:
        rejected(res, "forbidden")
    assert h.row(town.engine, NOM, rec["id"])["state"] == (after if role in allowed else before)


def test_objections_are_recorded_and_decided_by_admins_only(town):
    rec = to_notice(town)
    for who in ("M", "G", "TV", "ZA"):
        res = town.push1(who, OBJ, str(uuid.uuid4()), {"nomination_id": rec["id"], "content": "有意见"})
        assert res["status"] == "rejected" and res["error"]["code"] in ("forbidden", "unknown_record"), (who, res)
    o = objection(town, rec)
    for who in ("M", "G", "TV", "ZA"):
        res = town.push1(who, OBJ, o["id"], {"state": "dismissed", "decision_note": "x"}, base_rev=o["rev"])
        rejected(res, "unknown_record" if who == "ZA" else "forbidden")
    assert town.ok("TA", OBJ, o["id"], {"state": "dismissed", "decision_note": "不属实"}, o["rev"])["state"] == "dismissed"


def test_a_township_admin_proposes_for_one_of_its_villages_not_for_the_township(town):
    """Finding 2: the township's own code is refused with a message that says a village is needed."""
    rejected(town.push1("TA", NOM, str(uuid.uuid4()), {"org_code": "340321108", "category": "bravery",
                                                       "nominee_name": "徐宝山", "deeds": "救火", "source": "organisation"}),
             field="org_code", detail="org_not_village")
    rec = propose(town, who="TA", org=Z, nominee_name="徐宝山")
    assert rec["org_code"] == Z and rec["state"] == "nominated"
