"""Settling conflicts that involve a deleted record (pseudo-field ``deleted``), both ways of settling."""

from __future__ import annotations

from tests.sync.util import conflict_list, create_case, delete, get_case, get_conflict, one, records, resolve, upd


def _edit_of_deleted(as_user):
    mediator, admin = as_user("wanfucun.mediator"), as_user("wanfucun.admin")
    rid = create_case(mediator)["id"]
    assert one(admin, delete(rid, 1))["status"] == "applied"
    late = one(mediator, upd(rid, 1, title="删除后才到的编辑"))
    assert late["status"] == "conflict"
    return mediator, admin, rid, late["conflict_id"]


def test_keep_deleted_online(as_user):
    """Choosing the server's side of an edit of a deleted record: it stays deleted, the conflict closes."""
    mediator, admin, rid, cid = _edit_of_deleted(as_user)
    r = resolve(admin, cid, 2, {"deleted": "server", "title": "server"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["deleted"] is True and out["rev"] == 3  # an ordinary change: a new rev
    assert get_conflict(admin, cid)["status"] == "resolved"
    assert get_case(admin, rid)["rev"] == 3 and get_case(admin, rid)["deleted"] is True
    assert records(mediator)[rid] == records(admin)[rid]


def test_keep_deleted_by_push(as_user):
    """The offline way: a delete naming the conflict settles it (the record is already gone)."""
    mediator, admin, rid, cid = _edit_of_deleted(as_user)
    res = one(admin, delete(rid, 2, resolves_conflict=cid))
    assert res["status"] == "applied", res
    assert res["record"]["deleted"] is True and res["record"]["rev"] == 3
    assert get_conflict(admin, cid)["status"] == "resolved"
    assert conflict_list(admin, record_id=rid) == []
    assert records(mediator)[rid]["rev"] == 3


def test_keep_record_online_answers_the_new_rev(as_user):
    """A stale delete against an edit, settled for the server's side (keep the record): the answer is the
    record as now stored (new rev), the same every device pulls."""
    mediator, admin = as_user("wanfucun.mediator"), as_user("wanfucun.admin")
    rid = create_case(mediator)["id"]
    assert one(mediator, upd(rid, 1, title="先到的编辑"))["status"] == "applied"
    late = one(admin, delete(rid, 1))
    assert late["status"] == "conflict"
    r = resolve(admin, late["conflict_id"], 2, {"deleted": "server"})
    assert r.status_code == 200, r.text
    assert r.json()["rev"] == get_case(admin, rid)["rev"] == 3
    assert r.json()["deleted"] is False and r.json()["title"] == "先到的编辑"
    assert get_conflict(admin, late["conflict_id"])["status"] == "resolved"
    assert records(mediator)[rid]["rev"] == 3


def test_resolves_conflict_cannot_smuggle_a_delete(as_user):
    """``deleted`` is accepted in fields only to settle a conflict about deleting; an upsert may not delete
    (that is op delete: the role and the delete rule), even while naming an open conflict."""
    mediator, admin = as_user("wanfucun.mediator"), as_user("wanfucun.admin")
    rid = create_case(mediator)["id"]
    assert one(mediator, upd(rid, 1, status="mediating"))["status"] == "applied"
    assert one(admin, upd(rid, 1, title="管理员改"))["status"] == "merged"
    mine = one(mediator, upd(rid, 2, title="调解员改"))
    assert mine["status"] == "conflict"
    cid = mine["conflict_id"]
    for who in (mediator, admin):
        res = one(who, upd(rid, 3, deleted=True, title="调解员改", resolves_conflict=cid))
        assert res["status"] == "rejected", res
        assert res["error"]["code"] in ("validation_error", "forbidden")
    case = get_case(admin, rid)
    assert case["deleted"] is False and case["rev"] == 3
    assert get_conflict(admin, cid)["status"] == "open"
