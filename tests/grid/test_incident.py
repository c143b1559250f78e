"""Incidents: the state machine with a permission per transition (admins assign, verify, cancel; only the
assignee starts handling and resolves), deadlines from severity and their colours, the assignee of the
village, and the derived link when a mediation case is made from an incident."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cunzhi.core.clock import today_shanghai
from tests.api import helpers as h
from tests.grid.support import (GRID1, pairs, WANFU_CUN, ZGRID, ZHENDONG_CUN, at, incident_fields, new_id, ok,
                                rejected)
from tests.support.device import new_case_fields

PATH = {  # how to reach a state (who, fields)
    "reported": [],
    "assigned": [("VA", {"state": "assigned", "assignee_id": "@G"})],
    "handling": [("VA", {"state": "assigned", "assignee_id": "@G"}), ("G", {"state": "handling"})],
    "resolved": [("VA", {"state": "assigned", "assignee_id": "@G"}), ("G", {"state": "handling"}),
                 ("G", {"state": "resolved", "resolution": "已加装护栏"})],
    "verified": [("VA", {"state": "assigned", "assignee_id": "@G"}), ("G", {"state": "handling"}),
                 ("G", {"state": "resolved", "resolution": "已加装护栏"}), ("VA", {"state": "verified"})],
    "cancelled": [("VA", {"state": "cancelled"})],
}


class Incident:
    def __init__(self, g, who: str = "G", **over):
        self.g, self.id = g, new_id()
        self.record = ok(g.push1(who, "incident", self.id, incident_fields(**over)))

    @property
    def rev(self) -> int:
        return self.g.row("incident", self.id)["rev"]

    def push(self, who: str, fields: dict) -> dict:
        fields = {k: self.g.uid(v[1:]) if isinstance(v, str) and v.startswith("@") else v for k, v in fields.items()}
        return self.g.push1(who, "incident", self.id, fields, base_rev=self.rev)

    def to(self, state: str) -> None:
        for who, fields in PATH[state]:
            self.record = ok(self.push(who, fields))
        assert self.record["state"] == state


# (from, to, extra fields) × who → applied | forbidden | validation_error | unknown_record (another village's admin:
# a record out of scope answers exactly like an absent one — the sync engine's rule, issues 6 and 11)
TRANSITIONS = [
    ("reported", "assigned", {"assignee_id": "@G"}, {"VA": "applied", "TA": "applied", "G": "forbidden",
                                                     "M": "forbidden", "TV": "forbidden", "ZA": "unknown_record"}),
    ("reported", "cancelled", {}, {"VA": "applied", "TA": "applied", "G": "forbidden", "M": "forbidden",
                                   "TV": "forbidden", "ZA": "unknown_record"}),
    ("reported", "handling", {}, {"VA": "forbidden", "G": "forbidden", "M": "forbidden"}),  # nobody is assigned
    ("reported", "resolved", {"resolution": "x"}, {"VA": "validation_error", "G": "validation_error"}),
    ("reported", "verified", {}, {"VA": "validation_error", "G": "validation_error"}),
    ("assigned", "handling", {}, {"G": "applied", "VA": "forbidden", "TA": "forbidden", "M": "forbidden",
                                  "TV": "forbidden"}),
    ("assigned", "cancelled", {}, {"VA": "applied", "TA": "applied", "G": "forbidden", "M": "forbidden"}),
    ("assigned", "resolved", {"resolution": "x"}, {"G": "validation_error", "VA": "validation_error"}),
    ("assigned", "assigned", {"assignee_id": "@M"}, {"VA": "applied", "G": "forbidden", "M": "forbidden"}),
    ("handling", "resolved", {"resolution": "已加装护栏"}, {"G": "applied", "VA": "forbidden", "TA": "forbidden",
                                                       "M": "forbidden"}),
    ("handling", "cancelled", {}, {"VA": "applied", "G": "forbidden"}),
    ("handling", "verified", {}, {"VA": "validation_error", "G": "validation_error"}),
    ("resolved", "verified", {}, {"VA": "applied", "TA": "applied", "G": "forbidden", "M": "forbidden",
                                  "TV": "forbidden", "ZA": "unknown_record"}),
    ("resolved", "handling", {}, {"VA": "applied", "G": "forbidden"}),  # sent back by an admin
    ("resolved", "cancelled", {}, {"VA": "validation_error", "G": "validation_error", "TV": "forbidden"}),
    ("verified", "handling", {}, {"VA": "validation_error", "G": "validation_error"}),
    ("verified", "cancelled", {}, {"VA": "validation_error"}),
    ("cancelled", "reported", {}, {"VA": "validation_error", "G": "validation_error", "ZA": "unknown_record"}),
    ("cancelled", "assigned", {"assignee_id": "@G"}, {"VA": "validation_error"}),
]
STARTS = sorted({a for a, *_ in TRANSITIONS}, key=list(PATH).index)


@pytest.mark.parametrize("start", STARTS)
def test_every_transition_by_every_role(g, start):
    """Each cell on a fresh incident in ``start``: the outcome, and nothing stored of a refused change."""
    cells = [(b, extra, who, exp) for a, b, extra, whos in TRANSITIONS if a == start for who, exp in whos.items()]
    for target, extra, who, expected in cells:
        inc = Incident(g)
        inc.to(start)
        before = g.row("incident", inc.id)
        res = inc.push(who, {"state": target, **extra})
        outcome = res["status"] if res["status"] != "rejected" else res["error"]["code"]
        assert outcome == expected, (start, target, who, res)
        after = g.row("incident", inc.id)
        if expected == "applied":
            assert after["state"] == target and after["rev"] == before["rev"] + 1
        else:
            assert after == before, (start, target, who)  # nothing of a refused change is stored
            if expected in ("forbidden", "unknown_record"):
                assert not res.get("record")
            else:
                assert ("state", "invalid_transition") in pairs(res) or target == start, res


@pytest.mark.parametrize("who,expected", [("G", "applied"), ("M", "applied"), ("VA", "applied"),
                                          ("TA", "applied"), ("TV", "forbidden"), ("CA", "forbidden"),
                                          ("ZM", "forbidden"), ("OA", "forbidden")])
def test_who_reports(g, who, expected):
    res = g.push1(who, "incident", new_id(), incident_fields())
    assert (res["status"] if res["status"] != "rejected" else res["error"]["code"]) == expected, res


def test_reporters_may_not_assign_nor_set_the_deadline(g):
    rejected(g.push1("G", "incident", new_id(), incident_fields(state="assigned", assignee_id=g.uid("G"))),
             "forbidden")
    rejected(g.push1("M", "incident", new_id(), incident_fields(deadline="2030-01-01")), "forbidden")
    # an admin may report one already assigned
    rec = ok(g.push1("VA", "incident", new_id(), incident_fields(assignee_id=g.uid("G"))))
    assert rec["state"] == "assigned"


def test_edits_by_the_reporter_the_assignee_and_admins_only(g):
    inc = Incident(g, "M")  # reported by the mediator
    ok(inc.push("M", {"description": "补充：塘边有小孩玩耍"}))
    rejected(inc.push("G", {"description": "网格员改别人的事件"}), "forbidden")
    inc.to("assigned")  # assigned to the grid worker: now they may
    ok(inc.push("G", {"description": "已到现场查看"}))
    ok(inc.push("VA", {"place": "东庄池塘"}))


def test_deadline_follows_severity_and_colour_is_computed(g):
    for severity, days in (("major", 1), ("serious", 3), ("general", 7)):
        rec = Incident(g, severity=severity, occurred_at=at(1)).record
        occurred = h.today() if at(1)[:10] == h.today().isoformat() else h.today() - timedelta(days=1)
        assert rec["deadline"] == (occurred + timedelta(days=days)).isoformat(), (severity, rec)
    # the county can change the days
    with g.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO county_setting (county_code, key, value) "
                             "VALUES ('340321', 'incident_deadline_days_general', '10')")
    old = (today_shanghai() - timedelta(days=20)).isoformat() + "T09:00:00+08:00"
    inc = Incident(g, occurred_at=old)
    assert inc.record["deadline"] == (today_shanghai() - timedelta(days=10)).isoformat()
    assert inc.record["deadline_color"] == "red"  # open past its deadline
    # changing the severity moves the deadline (an admin may also set one)
    rec = ok(inc.push("G", {"severity": "major"}))
    assert rec["deadline"] == (today_shanghai() - timedelta(days=19)).isoformat()
    rec = ok(inc.push("VA", {"deadline": (today_shanghai() + timedelta(days=1)).isoformat()}))
    assert rec["deadline_color"] == "yellow"
    rec = ok(inc.push("VA", {"deadline": (today_shanghai() + timedelta(days=5)).isoformat()}))
    assert rec["deadline_color"] == "green"
    inc.to("cancelled")
    assert g.c("VA").get(f"/api/v1/incidents/{inc.id}").json()["deadline_color"] == "grey"
    late = Incident(g, occurred_at=old)
    late.to("resolved")
    assert late.record["resolved_on"] == today_shanghai().isoformat()
    assert late.record["deadline_color"] == "red"  # resolved after its deadline
    on_time = Incident(g)
    on_time.to("verified")
    assert on_time.record["deadline_color"] == "green"


def test_the_assignee_is_a_user_of_the_village(g):
    inc = Incident(g)
    rejected(inc.push("VA", {"state": "assigned", "assignee_id": g.uid("zhendong.mediator")}),
             field="assignee_id", detail="unknown_assignee")
    rejected(inc.push("VA", {"state": "assigned", "assignee_id": new_id()}), field="assignee_id",
             detail="unknown_assignee")
    rejected(inc.push("VA", {"state": "assigned"}), field="assignee_id", detail="assignee_required")
    rejected(inc.push("TA", {"state": "assigned", "assignee_id": g.uid("TA")}), field="assignee_id",
             detail="unknown_assignee")  # a township user is not a user of the village
    assert g.row("incident", inc.id)["rev"] == 1
    ok(inc.push("VA", {"state": "assigned", "assignee_id": g.uid("M")}))


def test_resolution_is_required_to_resolve(g):
    inc = Incident(g)
    inc.to("handling")
    rejected(inc.push("G", {"state": "resolved"}), field="resolution", detail="resolution_required")
    assert g.row("incident", inc.id)["state"] == "handling"


@pytest.mark.parametrize("fields,field,code", [
    ({"type": "alien_visit"}, "type", "invalid_choice"),
    ({"severity": "huge"}, "severity", "invalid_choice"),
    ({"title": ""}, "title", "required"),
    ({"title": "长" * 201}, "title", "too_long"),
    ({"occurred_at": at(-2)}, "occurred_at", "future_date"),
    ({"location": {"lat": 100, "lon": 117}}, "location.lat", "out_of_range"),
    ({"location": {"lat": 32.9}}, "location.lon", "required"),
    ({"grid_code": ZGRID}, "grid_code", "unknown_grid"),
    ({"state": "handling"}, "state", None),
    ({"case_id": "11111111-1111-4111-8111-111111111111"}, "case_id", "server_owned"),
])
def test_bad_incidents_are_refused_whole(g, fields, field, code):
    rid = new_id()
    res = g.push1("VA", "incident", rid, incident_fields(**fields))
    assert res["status"] == "rejected", res
    assert any(d["field"] == field and (code is None or d["code"] == code) for d in res["error"]["details"]), res
    assert g.row("incident", rid) is None


def test_links_to_records_of_another_village_are_refused(g):
    zpatrol = new_id()
    ok(g.push1("zhendong.grid", "patrol", zpatrol, {"org_code": ZHENDONG_CUN, "grid_code": ZGRID,
                                                     "started_at": at(2)}))
    rejected(g.push1("G", "incident", new_id(), incident_fields(patrol_id=zpatrol)), field="patrol_id",
             detail="other_village")


# ---- the derivation on mediation_case -------------------------------------------------------------
@pytest.mark.parametrize("start", ["reported", "assigned", "handling", "resolved"])
def test_a_case_made_from_an_incident_links_it_and_moves_it_to_handling(g, start):
    inc = Incident(g, type="dispute", title="两户因排水沟发生争执")
    inc.to(start)
    before = g.row("incident", inc.id)
    case_id = new_id()
    res = g.push1("G", "mediation_case", case_id, new_case_fields(WANFU_CUN, source="patrol", incident_id=inc.id))
    assert res["status"] == "applied", res
    after = g.row("incident", inc.id)
    assert after["case_id"] == case_id and after["rev"] == before["rev"] + 1
    assert after["state"] == ("handling" if start in ("reported", "assigned") else start)
    if start == "reported":
        assert after["assignee_id"] == g.uid("G")  # whoever made the case handles it
    # the change is the system's, with its cause, and reaches devices
    hist = g.c("VA").get(f"/api/v1/incidents/{inc.id}/history").json()["items"]
    assert hist[-1]["rev"] == after["rev"] and "case_id" in hist[-1]["fields"]
    pulled = {c["record"]["id"]: c["record"] for c in _pull(g.c("M"))}
    assert pulled[inc.id]["case_id"] == case_id and pulled[inc.id]["rev"] == after["rev"]


def test_an_incident_and_its_case_in_one_push(g):
    """Offline, a grid worker reports a dispute and turns it into a case in one tap: one push, in order."""
    from tests.support.device import mutation, push

    iid, cid = new_id(), new_id()
    r = push(g.c("G"), [mutation("incident", iid, incident_fields(type="dispute")),
                        mutation("mediation_case", cid, new_case_fields(WANFU_CUN, source="patrol", incident_id=iid))])
    assert [x["status"] for x in r.json()["results"]] == ["applied", "applied"], r.text
    row = g.row("incident", iid)
    assert (row["case_id"], row["state"], row["assignee_id"], row["rev"]) == (cid, "handling", g.uid("G"), 2)


def test_a_township_case_from_a_village_incident(g):
    """wanfu.admin makes a township-level case of a 万福村 incident: linked and handling, nobody assigned
    (a township user is not a user of the village)."""
    inc = Incident(g, type="dispute", title="村民集体反映征地补偿")
    case_id = new_id()
    res = g.push1("TA", "mediation_case", case_id, new_case_fields("340321108", source="patrol", incident_id=inc.id))
    assert res["status"] == "applied", res
    after = g.row("incident", inc.id)
    assert (after["case_id"], after["state"], after["assignee_id"]) == (case_id, "handling", None)
    # an admin then assigns someone of the village; the assignee resolves it
    ok(inc.push("VA", {"assignee_id": g.uid("G")}))
    ok(inc.push("G", {"state": "resolved", "resolution": "已转入调解，双方达成协议"}))


def test_a_case_naming_an_unknown_or_foreign_incident_changes_nothing(g):
    zinc = new_id()
    ok(g.push1("zhendong.mediator", "incident", zinc, incident_fields(org_code=ZHENDONG_CUN, grid_code=ZGRID)))
    before = g.row("incident", zinc)
    res = g.push1("M", "mediation_case", new_id(), new_case_fields(WANFU_CUN, incident_id=zinc))
    assert res["status"] == "applied", res
    assert g.row("incident", zinc) == before
    res = g.push1("M", "mediation_case", new_id(), new_case_fields(WANFU_CUN, incident_id=new_id()))
    assert res["status"] == "applied", res


def _pull(client) -> list[dict]:
    from tests.support.device import pull_all

    changes, _ = pull_all(client)
    return changes


_ = GRID1
