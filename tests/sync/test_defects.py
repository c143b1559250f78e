"""Issue 6's defects (and issue 11's item 8 for push), each with the test that failed before its fix.
Restore-related defects (2, 11, 12) are in test_restore_detection.py; 10 in test_deadlocks.py."""

from __future__ import annotations


import sqlalchemy as sa

from cunzhi.core.db import get_engine
from tests.sync.util import (conflict_list, create_case, delete, get_case, get_conflict, mutation, new_case_fields,
                             one, push, records, resolve, uid, upd)

PHONE, IDN = "13812345678", "340321199001011236"
MASKED_PHONE, MASKED_IDN = "138****5678", "340321********1236"


def _codes(res):
    return [(d["field"], d["code"]) for d in res["error"]["details"]]


def _event(case_id, **over):
    return mutation("case_event", uid(), {"case_id": case_id, "kind": "note",
                                          "occurred_at": "2026-11-20T10:00:00+08:00", "content": "回访", **over})


# ---- 1. a child before its parent ----------------------------------------------------------------------
def test_1_a_child_before_its_parent_is_unknown_record_not_stored(as_user):
    m = as_user("wanfucun.mediator")
    case_id = uid()
    early = _event(case_id)
    res = one(m, early)
    assert res["status"] == "rejected" and res["error"]["code"] == "unknown_record", res
    # not stored: after the parent arrives the same mutation applies
    assert one(m, mutation("mediation_case", case_id, new_case_fields()))["status"] == "applied"
    again = one(m, early)
    assert again["status"] == "applied", again
    assert again["record"]["case_id"] == case_id


def test_1_a_deleted_parent_is_still_a_stored_validation_error(as_user):
    va = as_user("wanfucun.admin")
    case = create_case(va)
    assert one(va, delete(case["id"], 1))["status"] == "applied"
    ev = _event(case["id"])
    res = one(va, ev)
    assert res["status"] == "rejected" and _codes(res) == [("case_id", "case_not_found")]
    assert one(va, ev)["status"] == "duplicate"


# ---- 3. masked writers, masked values, lengths ----------------------------------------------------------
def _case_with_personal(as_user):
    m = as_user("wanfucun.mediator")
    case = create_case(m, parties=[{"name": "张三", "role": "applicant", "phone": PHONE, "id_number": IDN}])
    return m, case


def test_3_a_masked_writer_cannot_erase_personal_data(as_user):
    m, case = _case_with_personal(as_user)
    tm = as_user("wanfu.mediator")  # township mediator: sees village records masked, may update cases
    seen = records(tm)[case["id"]]["parties"][0]
    assert seen["phone"] == MASKED_PHONE
    for party, where in (({**seen, "phone": None}, "parties.0.phone"),
                         ({**seen, "id_number": ""}, "parties.0.id_number"),
                         ({k: v for k, v in seen.items() if k != "phone"}, "parties.0.phone")):
        res = one(tm, upd(case["id"], 1, parties=[party]))
        assert res["status"] == "rejected", res
        assert (where, "masked_field_readonly") in _codes(res), res
    # echoing the mask back keeps the value; an edit of another key of the party applies
    ok = one(tm, upd(case["id"], 1, parties=[{**seen, "address": "东庄 3 号"}]))
    assert ok["status"] == "applied", ok
    stored = get_case(m, case["id"])["parties"][0]
    assert stored["phone"] == PHONE and stored["id_number"] == IDN and stored["address"] == "东庄 3 号"


def test_3_a_masked_value_is_accepted_only_as_the_mask_of_the_stored_one(as_user):
    m, case = _case_with_personal(as_user)
    party = {"name": "张三", "role": "applicant"}
    for value, code in (("139****5678", "invalid_phone"), ("*" * 1000, "invalid_phone"), ("*\u0000", "invalid_phone"),
                        ("*", "invalid_phone")):
        res = one(m, upd(case["id"], 1, parties=[{**party, "phone": value, "id_number": IDN}]))
        assert res["status"] == "rejected" and ("parties.0.phone", code) in _codes(res), (value, res)
    res = one(m, upd(case["id"], 1, parties=[{**party, "phone": PHONE, "id_number": "340321*******1236"}]))
    assert res["status"] == "rejected" and ("parties.0.id_number", "invalid_id_number") in _codes(res)
    # on create nothing is stored: a mask is never a value
    new = one(m, mutation("mediation_case", uid(), new_case_fields(
        parties=[{**party, "phone": MASKED_PHONE}])))
    assert new["status"] == "rejected" and ("parties.0.phone", "invalid_phone") in _codes(new)
    # the mask of the stored value keeps it, for any writer
    ok = one(m, upd(case["id"], 1, parties=[{**party, "phone": MASKED_PHONE, "id_number": MASKED_IDN}]))
    assert ok["status"] == "applied"
    assert ok["record"]["parties"][0]["phone"] == PHONE and ok["record"]["parties"][0]["id_number"] == IDN


def test_3_a_nul_in_a_masked_value_rejects_one_mutation_not_the_batch(as_user):
    m, case = _case_with_personal(as_user)
    party = {"name": "张三", "role": "applicant"}
    good = mutation("mediation_case", uid(), new_case_fields())
    bad = upd(case["id"], 1, parties=[{**party, "phone": "*\u0000"}])
    r = push(m, [bad, good])
    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()["results"]] == ["rejected", "applied"]


# ---- 4. a duplicate answer masks against the record's org ------------------------------------------------
def test_4_a_duplicate_masks_against_the_records_org_after_the_user_moves(as_user):
    a, b = as_user("wanfucun.mediator"), as_user("wanfucun.mediator")
    case = create_case(a, parties=[{"name": "张三", "role": "applicant", "phone": PHONE, "id_number": IDN}])
    one(a, upd(case["id"], 1, parties=[{"name": "张三", "role": "applicant", "phone": "13900001111"}]))
    m = upd(case["id"], 1, parties=[{"name": "张三", "role": "applicant", "phone": "13700002222",
                                     "id_number": IDN}])
    first = one(b, m)
    assert first["status"] == "conflict"
    # the mediator moves to 镇东村 (another village): the resent mutation's answer must not show raw numbers
    with get_engine().begin() as conn:
        conn.execute(sa.text("UPDATE app_user SET org_code = '340321108201' WHERE username = 'wanfucun.mediator'"))
    moved = as_user("wanfucun.mediator")
    r = push(moved, [m])
    raw = r.text
    dup = r.json()["results"][0]
    assert dup["status"] == "duplicate"
    assert "record" not in dup
    for secret in ("13700002222", "13900001111", IDN):
        assert secret not in raw, f"{secret} leaks in a duplicate answer"
    assert dup["conflicts"][0]["client_value"][0]["phone"] == "137****2222"


# ---- 5. a conflict whose record was deleted afterwards --------------------------------------------------
def test_5_a_conflict_of_a_record_deleted_since_can_be_settled_online(as_user):
    m, va = as_user("wanfucun.mediator"), as_user("wanfucun.admin")
    rid = create_case(m)["id"]
    assert one(m, upd(rid, 1, title="甲"))["status"] == "applied"
    late = one(va, upd(rid, 1, title="乙"))
    assert late["status"] == "conflict"
    cid = late["conflict_id"]
    assert one(va, delete(rid, 2))["status"] == "applied"  # deleted after the conflict (rev 3)
    r = resolve(va, cid, 3, {"title": "server"})
    assert r.status_code == 200, r.text
    assert r.json()["deleted"] is True and r.json()["rev"] == 4
    assert get_conflict(va, cid)["status"] == "resolved"
    assert conflict_list(va, record_id=rid) == []


def test_5_choosing_the_devices_value_of_a_deleted_record_restores_it(as_user):
    m, va = as_user("wanfucun.mediator"), as_user("wanfucun.admin")
    rid = create_case(m)["id"]
    assert one(m, upd(rid, 1, title="甲"))["status"] == "applied"
    cid = one(va, upd(rid, 1, title="乙"))["conflict_id"]
    assert one(va, delete(rid, 2))["status"] == "applied"
    r = resolve(va, cid, 3, {"title": "client", "deleted": "client"})
    assert r.status_code == 200, r.text
    assert r.json()["deleted"] is False and r.json()["title"] == "乙"
    assert get_conflict(va, cid)["status"] == "resolved"


# ---- 6. create then update in one batch -----------------------------------------------------------------
def test_6_an_update_after_a_create_in_one_batch_answers_the_case_number(as_user):
    m = as_user("wanfucun.mediator")
    rid = uid()
    res = push(m, [mutation("mediation_case", rid, new_case_fields()), upd(rid, 1, title="改"),
                   upd(rid, 2, place="村口")]).json()["results"]
    assert [x["status"] for x in res] == ["applied"] * 3
    numbers = {x["record"]["case_number"] for x in res}
    assert len(numbers) == 1 and None not in numbers, res
    assert get_case(m, rid)["case_number"] in numbers


# ---- 7. a bad envelope field rejects that mutation only -------------------------------------------------
def test_7_bad_envelope_fields_reject_one_mutation(as_user):
    m = as_user("wanfucun.mediator")
    rid = create_case(m)["id"]
    bad = [upd(rid, 1, title="a", client_time=12345), upd(rid, 1, title="b", resolves_conflict="x" * 500),
           upd(rid, 1, title="c", base_epoch=["e"]), upd(rid, 1, title="d", client_time="yesterday"),
           upd(rid, 1, title="e", resolves_conflict=7)]
    good = mutation("mediation_case", uid(), new_case_fields())
    r = push(m, bad + [good])
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert [x["status"] for x in res] == ["rejected"] * 5 + ["applied"]
    assert [_codes(x)[0][0] for x in res[:5]] == ["client_time", "resolves_conflict", "base_epoch", "client_time",
                                                  "resolves_conflict"]
    assert get_case(m, rid)["rev"] == 1
    assert [x["status"] for x in push(m, bad).json()["results"]] == ["duplicate"] * 5


# ---- 8. a deterministic constraint violation is not "busy" ------------------------------------------------
def test_8_a_constraint_violation_rejects_its_mutation_not_the_push(server, as_user):
    with get_engine().begin() as conn:  # a rule only the database knows (e.g. one added by an operator)
        conn.execute(sa.text("CREATE TABLE test_guard (v TEXT)"))
        conn.execute(sa.text("CREATE UNIQUE INDEX ux_case_place ON mediation_case (place)"))
    m = as_user("wanfucun.mediator")
    first = mutation("mediation_case", uid(), new_case_fields(place="同一地点"))
    clash = mutation("mediation_case", uid(), new_case_fields(place="同一地点"))
    other = mutation("mediation_case", uid(), new_case_fields(place="别处"))
    r = push(m, [first, clash, other])
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert [x["status"] for x in res] == ["applied", "rejected", "applied"], res
    assert res[1]["error"]["code"] == "validation_error" and _codes(res[1]) == [("record", "constraint_violation")]
    again = push(m, [first, clash, other]).json()["results"]
    assert [x["status"] for x in again] == ["duplicate"] * 3


# ---- 9. a mutation id resent with other content ---------------------------------------------------------
def test_9_a_reused_mutation_id_is_rejected_not_duplicate(as_user):
    m = as_user("wanfucun.mediator")
    rid = create_case(m)["id"]
    first = upd(rid, 1, title="一")
    assert one(m, first)["status"] == "applied"
    for other in (dict(first, record_id=uid()), dict(first, entity="case_event"), dict(first, op="delete")):
        res = one(m, other)
        assert res["status"] == "rejected" and res["error"]["code"] == "mutation_id_reused", res
        assert "record" not in res
    assert one(m, first)["status"] == "duplicate"  # not stored: the original answer stays
    assert get_case(m, rid)["rev"] == 2


# ---- issue 11, item 8: out of scope looks exactly like absent -------------------------------------------
def test_out_of_scope_records_answer_like_absent_ones(as_user):
    m, zm = as_user("wanfucun.mediator"), as_user("zhendong.mediator")
    rid = create_case(m)["id"]
    absent = uid()
    for target in (rid, absent):
        for mut in (upd(target, 1, title="越权"), delete(target, 1), _event(target)):
            res = one(zm, mut)
            assert res["status"] == "rejected" and res["error"]["code"] == "unknown_record", (target, res)
            assert "record" not in res
    assert get_case(m, rid)["rev"] == 1


def test_another_users_mutation_id_is_simply_new_for_them(as_user):
    m, va = as_user("wanfucun.mediator"), as_user("wanfucun.admin")
    rid = create_case(m)["id"]
    theirs = upd(rid, 1, title="调解员改")
    assert one(m, theirs)["status"] == "applied"
    mine = dict(theirs, fields={"place": "村委会"}, base_rev=2)  # the same mutation id, by another user
    res = one(va, mine)
    assert res["status"] == "applied", res  # nothing reveals that the id exists
    assert one(va, mine)["status"] == "duplicate"
    assert one(m, theirs)["status"] == "duplicate" and one(m, theirs)["original_status"] == "applied"
    case = get_case(va, rid)
    assert case["title"] == "调解员改" and case["place"] == "村委会" and case["rev"] == 3
