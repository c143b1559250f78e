"""What docs/api.md says of mutation ids (push, step 1): they belong to their user. Resent by the same user with
other fields, the id is still the change it first stood for (``duplicate``, nothing applied again); with another
record it is ``mutation_id_reused``; from another user it is a different mutation (tests/sync cover that)."""

from __future__ import annotations

from tests.sync.util import create_case, get_case, history, one, uid, upd


def test_the_same_users_id_with_other_fields_is_a_duplicate_and_changes_nothing(as_user):
    m = as_user("wanfucun.mediator")
    rid = create_case(m)["id"]
    first = upd(rid, 1, title="第一次")
    assert one(m, first)["status"] == "applied"
    changed = dict(first, fields={"title": "第二次", "place": "村委会"})
    res = one(as_user("wanfucun.mediator"), changed)  # the same user, from another phone
    assert res["status"] == "duplicate" and res["original_status"] == "applied", res
    case = get_case(m, rid)
    assert (case["title"], case["rev"]) == ("第一次", 2) and case["place"] != "村委会"
    assert [h["rev"] for h in history(m, rid)] == [1, 2]
    reused = one(m, dict(first, record_id=uid()))
    assert reused["status"] == "rejected" and reused["error"]["code"] == "mutation_id_reused", reused
