"""Households: who writes them, the rules of their fields, masking of phone and ID numbers by type, and
deleting only a mistaken entry."""

from __future__ import annotations

import pytest

from tests.api import helpers as h
from tests.grid.support import (GRID1, ZGRID, household_fields, incident_fields, new_id, ok, rejected)


@pytest.mark.parametrize("who,expected", [("VA", "applied"), ("TA", "applied"), ("G", "forbidden"),
                                          ("M", "forbidden"), ("TV", "forbidden"), ("ZA", "forbidden"),
                                          ("CA", "forbidden")])
def test_who_writes_households(g, who, expected):
    res = g.push1(who, "household", new_id(), household_fields())
    assert (res["status"] if res["status"] != "rejected" else res["error"]["code"]) == expected, res


def test_household_rules(g):
    rid = new_id()
    rec = ok(g.push1("VA", "household", rid, household_fields(tags=["left_behind", "military"],
                                                              safe_certified_years=[2025, 2024, 2025])))
    assert rec["active"] is True and rec["safe_certified_years"] == [2024, 2025]
    assert rec["tags"] == ["left_behind", "military"] and rec["grid_code"] == GRID1
    for fields, field, code in [
        ({"members": 0}, "members", "out_of_range"), ({"members": 31}, "members", "out_of_range"),
        ({"members": "4"}, "members", "invalid_type"), ({"head_name": ""}, "head_name", "required"),
        ({"head_name": "名" * 51}, "head_name", "too_long"), ({"address": "址" * 201}, "address", "too_long"),
        ({"phone": "12345"}, "phone", "invalid_phone"), ({"head_id_number": "340321198001010000"},
                                                         "head_id_number", "invalid_id_number"),
        ({"tags": ["rich"]}, "tags.0", "invalid_choice"), ({"safe_certified_years": [3000]},
                                                           "safe_certified_years.0", "out_of_range"),
        ({"safe_certified_years": [h.today().year + 1]}, "safe_certified_years.0", "future_date"),
        ({"grid_code": ZGRID}, "grid_code", "unknown_grid"),
    ]:
        bad = new_id()
        rejected(g.push1("VA", "household", bad, household_fields(**fields)), field=field, detail=code)
        assert g.row("household", bad) is None
        rejected(g.push1("VA", "household", rid, fields, base_rev=g.row("household", rid)["rev"]), field=field,
                 detail=code)
    assert g.row("household", rid)["rev"] == 1
    rejected(g.push1("VA", "household", new_id(), {"org_code": "340321108200", "head_name": "李四"}),
             field="members", detail="required")
    # a household belongs to a village, not a township
    rejected(g.push1("TA", "household", new_id(), household_fields(org_code="340321108", grid_code=None)),
             field="org_code", detail="org_not_village")
    ok(g.push1("VA", "household", rid, {"active": False}, base_rev=1))


def test_phone_and_id_are_masked_by_type_for_those_who_may_not_see_them(g):
    rid = new_id()
    phone, idn = h.phone(1, 1), h.id_number(1, 1)
    ok(g.push1("VA", "household", rid, household_fields()))
    for who, unmasked in (("VA", True), ("M", True), ("TA", True), ("G", False), ("TV", False), ("TM", False),
                          ("CA", False)):
        r = g.c(who).get(f"/api/v1/households/{rid}")
        assert r.status_code == 200, (who, r.text)
        rec = r.json()
        if unmasked:
            assert (rec["phone"], rec["head_id_number"]) == (phone, idn), who
        else:
            assert (rec["phone"], rec["head_id_number"]) == (h.mask_phone(phone), h.mask_id(idn)), who
            assert phone not in r.text and idn not in r.text
        for path in ("/api/v1/households", f"/api/v1/households/{rid}/history", "/api/v1/sync/pull"):
            body = g.c(who).get(path).text
            assert (phone in body) == unmasked, (who, path)
            assert (idn in body) == unmasked, (who, path)
    # unmasked reads leave an audit row
    uid = g.uid("VA")
    assert any(rid in r["record_ids"] for r in h.audit_rows(g.engine, uid))
    assert not any(rid in r["record_ids"] for r in h.audit_rows(g.engine, g.uid("G")))


def test_delete_only_a_mistaken_entry(g):
    rid = new_id()
    ok(g.push1("VA", "household", rid, household_fields()))
    rejected(g.push1("G", "household", rid, {}, base_rev=1, op="delete"), "forbidden")
    used = new_id()
    ok(g.push1("VA", "household", used, household_fields(head_name="李四")))
    ok(g.push1("G", "incident", new_id(), incident_fields(household_id=used)))
    rejected(g.push1("VA", "household", used, {}, base_rev=1, op="delete"), field="deleted",
             detail="household_referenced")
    assert g.row("household", used)["deleted"] in (False, 0)
    res = g.push1("VA", "household", rid, {}, base_rev=1, op="delete")
    assert res["status"] == "applied" and res["record"]["deleted"] is True
