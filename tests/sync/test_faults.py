"""Fault scenarios 1–6 and 8 of sync-protocol.md, over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest

from tests.support.proxy import LossyProxy
from tests.sync.util import (conflict_list, create_case, delete, get_case, get_conflict, history, is_push, login,
                             mutation, new_case_fields, one, push, records, resolve, uid, upd)

SHANGHAI = timezone(timedelta(hours=8))


# ---- 1. lost answer ---------------------------------------------------------------------------------
def test_lost_answer_retry_changes_nothing(server, as_user):
    with LossyProxy(server.port) as proxy:
        phone = login(proxy.base, "wanfucun.mediator")
        rid = uid()
        create = mutation("mediation_case", rid, new_case_fields(title="丢失应答"))
        proxy.drop_answers(1, only=is_push)
        with pytest.raises(httpx.TransportError):
            push(phone, [create])
        assert proxy.answers_dropped == 1

        # the server committed although the phone never heard it
        admin = as_user("wanfucun.admin")
        committed = get_case(admin, rid)
        assert committed["rev"] == 1 and committed["title"] == "丢失应答"
        number = committed["case_number"]
        assert number.startswith("340321108200-2026-")

        for _ in range(2):  # the retry (and a second one) changes nothing
            res = one(phone, create)
            assert res["status"] == "duplicate" and res["original_status"] == "applied", res
            assert res["record"]["rev"] == 1 and res["record"]["case_number"] == number

        # an update whose answer is lost: applied once, retries are duplicates
        edit = upd(rid, 1, place="村东头")
        proxy.drop_answers(1, only=is_push)
        with pytest.raises(httpx.TransportError):
            push(phone, [edit])
        for _ in range(2):
            res = one(phone, edit)
            assert res["status"] == "duplicate" and res["original_status"] == "applied", res
            assert res["record"]["rev"] == 2 and res["record"]["place"] == "村东头"
        phone.close()

    everything = records(admin)
    assert list(everything) == [rid]
    assert everything[rid]["rev"] == 2 and everything[rid]["case_number"] == number
    assert [h["rev"] for h in history(admin, rid)] == [1, 2]
    assert conflict_list(admin, status="all") == []


# ---- 2. batch with one invalid mutation -------------------------------------------------------------
def test_batch_with_one_invalid_mutation(as_user):
    phone = as_user("wanfucun.mediator")
    ids = [uid() for _ in range(5)]
    batch = [mutation("mediation_case", rid, new_case_fields(title=f"第{i}件")) for i, rid in enumerate(ids)]
    # mutation 2: bad category, missing title, bad phone (personal data that must not be echoed)
    bad = new_case_fields(category="not-a-category", parties=[{"name": "王五", "role": "applicant",
                                                                "phone": "99988877766"}])
    del bad["title"]
    batch[2] = mutation("mediation_case", ids[2], bad)
    r = push(phone, batch)
    assert r.status_code == 200, r.text
    assert "99988877766" not in r.text
    results = r.json()["results"]
    assert [x["mutation_id"] for x in results] == [m["mutation_id"] for m in batch]
    assert [x["status"] for x in results] == ["applied", "applied", "rejected", "applied", "applied"]
    err = results[2]["error"]
    assert err["code"] == "validation_error"
    fields = {d["field"] for d in err["details"]}
    assert {"title", "parties.0.phone"} <= fields, err
    assert all(d["message"] for d in err["details"])
    assert "record" not in results[2] or results[2]["record"] is None

    # stored as rejected: resending answers duplicate with the same error; nothing applied
    again = push(phone, batch).json()["results"]
    assert [x["status"] for x in again] == ["duplicate"] * 5
    assert [x["original_status"] for x in again] == ["applied", "applied", "rejected", "applied", "applied"]
    assert again[2]["error"]["code"] == "validation_error"
    assert {d["field"] for d in again[2]["error"]["details"]} == fields
    assert phone.get(f"/api/v1/mediation-cases/{ids[2]}").status_code == 404
    held = records(phone)
    assert set(held) == set(ids) - {ids[2]} and all(rec["rev"] == 1 for rec in held.values())

    # to retry, the device sends a new mutation
    fixed = one(phone, mutation("mediation_case", ids[2], new_case_fields(title="改正后")))
    assert fixed["status"] == "applied"


# ---- 3. different fields on two devices: merged ---------------------------------------------------
def test_different_fields_both_survive(as_user):
    a, b = as_user("wanfucun.mediator"), as_user("wanfucun.admin")
    rec = create_case(a)
    rid = rec["id"]
    # both devices have rev 1; both edit offline
    ra = one(a, upd(rid, 1, title="甲改标题"))
    rb = one(b, upd(rid, 1, place="乙改地点", risk_level="yellow"))
    assert ra["status"] == "applied" and ra["record"]["rev"] == 2
    assert rb["status"] == "merged" and rb["record"]["rev"] == 3, rb
    assert "conflicts" not in rb or not rb["conflicts"]
    for dev in (a, b):
        got = records(dev)[rid]
        assert (got["title"], got["place"], got["risk_level"], got["rev"]) == ("甲改标题", "乙改地点", "yellow", 3)
    assert conflict_list(a, status="all") == []


def test_own_queued_edits_never_conflict(as_user):
    a = as_user("wanfucun.mediator")
    rid = create_case(a)["id"]
    res = push(a, [upd(rid, 1, title="第一次"), upd(rid, 1, title="第二次"), upd(rid, 1, title="第三次")]).json()
    assert [x["status"] for x in res["results"]] == ["applied", "merged", "merged"]
    assert get_case(a, rid)["title"] == "第三次"
    # the same user on another phone is another sender: its stale edit of that field conflicts
    a2 = as_user("wanfucun.mediator")
    res = one(a2, upd(rid, 1, title="另一台手机"))
    assert res["status"] == "conflict"


# ---- 4. same field: one wins, the other is a stored conflict; both ways of settling ---------------------
def _same_field_conflict(a, b, **over):
    rid = create_case(a)["id"]
    won = one(a, upd(rid, 1, title="甲的标题", risk_level="orange"))
    assert won["status"] == "applied"
    lost = one(b, upd(rid, 1, title="乙的标题", risk_level="red", place="乙补充地点", **over))
    assert lost["status"] == "conflict", lost
    assert lost["conflict_id"]
    assert sorted(lost["conflicts"], key=lambda c: c["field"]) == [
        {"field": "risk_level", "client_value": "red", "server_value": "orange"},
        {"field": "title", "client_value": "乙的标题", "server_value": "甲的标题"}]
    # the server value stays, the non-conflicting field applies
    assert lost["record"]["title"] == "甲的标题" and lost["record"]["place"] == "乙补充地点"
    assert lost["record"]["rev"] == 3
    return rid, lost


def test_same_field_conflict_resolved_online(as_user):
    a, b = as_user("wanfucun.mediator"), as_user("wanfucun.admin")
    viewer = as_user("wanfu.admin")
    rid, lost = _same_field_conflict(a, b)
    cid = lost["conflict_id"]
    listed = conflict_list(viewer, record_id=rid)
    assert [c["id"] for c in listed] == [cid]
    item = listed[0]
    assert item["status"] == "open" and item["entity"] == "mediation_case" and item["base_rev"] == 1
    assert item["client_id"] == b.client_id
    assert sorted(f["field"] for f in item["fields"]) == ["risk_level", "title"]
    assert conflict_list(viewer, status="resolved") == []

    # partial choices → 422; stale base_rev → 409
    assert resolve(a, cid, 3, {"title": "client"}).status_code == 422
    r = resolve(a, cid, 2, {"title": "client", "risk_level": "server"})
    assert r.status_code == 409, r.text
    assert resolve(a, cid, 3, {"title": "client", "risk_level": "bogus"}).status_code == 422
    # a result that fails validation → 422, nothing changes
    assert resolve(a, cid, 3, {"title": "client", "risk_level": {"value": "purple"}}).status_code == 422
    assert get_case(a, rid)["rev"] == 3

    cursor_before = records_cursor(b)
    r = resolve(a, cid, 3, {"title": "client", "risk_level": {"value": "yellow"}})
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["rev"], out["title"], out["risk_level"]) == (4, "乙的标题", "yellow")
    assert get_conflict(viewer, cid)["status"] == "resolved"
    assert conflict_list(viewer, record_id=rid) == []
    assert [c["id"] for c in conflict_list(viewer, record_id=rid, status="resolved")] == [cid]
    # already resolved → 409
    assert resolve(a, cid, 4, {"title": "client", "risk_level": "server"}).status_code == 409
    # an ordinary change: in the feed after the device's cursor; every device converges
    feed = records(b, cursor_before)
    assert feed[rid]["rev"] == 4
    assert records(a)[rid] == records(b)[rid] == records(viewer)[rid]


def records_cursor(client) -> str:
    from tests.support.device import pull_all

    return pull_all(client)[1]


def test_same_field_conflict_resolved_server_side_bumps_rev(as_user):
    a, b = as_user("wanfucun.mediator"), as_user("wanfucun.admin")
    rid, lost = _same_field_conflict(a, b)
    r = resolve(b, lost["conflict_id"], 3, {"title": "server", "risk_level": "server"})
    assert r.status_code == 200, r.text
    assert (r.json()["rev"], r.json()["title"], r.json()["risk_level"]) == (4, "甲的标题", "orange")
    assert get_conflict(a, lost["conflict_id"])["status"] == "resolved"
    assert records(a)[rid]["rev"] == 4


def test_same_field_conflict_resolved_by_push(as_user):
    a, b = as_user("wanfucun.mediator"), as_user("wanfucun.admin")
    rid, lost = _same_field_conflict(a, b)
    cid = lost["conflict_id"]
    other = create_case(a)["id"]
    # unknown conflict, or one of another record → rejected validation_error on resolves_conflict
    for m in (upd(rid, 3, title="x", risk_level="red", resolves_conflict=uid()),
              upd(other, 1, title="x", risk_level="red", resolves_conflict=cid)):
        res = one(b, m)
        assert res["status"] == "rejected", res
        assert res["error"]["code"] == "validation_error"
        assert [d["field"] for d in res["error"]["details"]] == ["resolves_conflict"]
    # covering only part of the conflict applies but leaves it open
    part = one(b, upd(rid, 3, title="乙的标题", resolves_conflict=cid))
    assert part["status"] == "applied" and part["record"]["rev"] == 4
    assert get_conflict(a, cid)["status"] == "open"
    # covering every field closes it; an ordinary change (new rev) every device pulls
    done = one(b, upd(rid, 4, title="乙的标题", risk_level="red", resolves_conflict=cid))
    assert done["status"] == "applied", done
    assert done["record"]["rev"] == 5 and done["record"]["risk_level"] == "red"
    assert get_conflict(a, cid)["status"] == "resolved"
    assert conflict_list(a, record_id=rid) == []
    final = get_case(a, rid)
    assert (final["title"], final["risk_level"]) == ("乙的标题", "red")
    assert records(a)[rid] == records(b)[rid]
    # a resolves_conflict naming a resolved conflict is merged normally: a differing stale value conflicts anew
    again = one(a, upd(rid, 3, title="甲又改", resolves_conflict=cid))
    assert again["status"] == "conflict" and again["conflict_id"] != cid


# ---- 5. delete against edit, both arrival orders ----------------------------------------------------
def test_delete_then_edit_converges_and_keeps_the_edit(as_user):
    mediator, admin = as_user("wanfucun.mediator"), as_user("wanfucun.admin")
    rid = create_case(mediator)["id"]
    gone = one(admin, delete(rid, 1))
    assert gone["status"] == "applied" and gone["record"]["deleted"] is True and gone["record"]["rev"] == 2
    late = one(mediator, upd(rid, 1, title="删除后才到的编辑"))
    assert late["status"] == "conflict", late
    fields = {c["field"]: c for c in late["conflicts"]}
    assert fields["deleted"] == {"field": "deleted", "client_value": False, "server_value": True}
    assert fields["title"]["client_value"] == "删除后才到的编辑"
    assert late["record"]["deleted"] is True and late["record"]["rev"] == 2
    stored = get_conflict(admin, late["conflict_id"])
    assert {f["field"] for f in stored["fields"]} == {"deleted", "title"} and stored["status"] == "open"
    assert records(mediator)[rid] == records(admin)[rid]
    assert records(admin)[rid]["deleted"] is True

    # choosing the device's side restores the record (a registered case) with the edit
    r = resolve(admin, late["conflict_id"], 2, {"deleted": "client", "title": "client"})
    assert r.status_code == 200, r.text
    assert (r.json()["deleted"], r.json()["title"], r.json()["rev"]) == (False, "删除后才到的编辑", 3)
    assert records(mediator)[rid] == records(admin)[rid]


def test_edit_then_delete_converges_and_keeps_the_delete_intent(as_user):
    mediator, admin = as_user("wanfucun.mediator"), as_user("wanfucun.admin")
    rid = create_case(mediator)["id"]
    assert one(mediator, upd(rid, 1, title="先到的编辑"))["status"] == "applied"
    late = one(admin, delete(rid, 1))
    assert late["status"] == "conflict", late
    assert late["conflicts"] == [{"field": "deleted", "client_value": True, "server_value": False}]
    assert late["record"]["deleted"] is False and late["record"]["title"] == "先到的编辑"
    assert get_conflict(mediator, late["conflict_id"])["fields"][0]["field"] == "deleted"
    assert records(mediator)[rid] == records(admin)[rid]
    # the admin settles it by a delete that names the conflict
    done = one(admin, delete(rid, 2, resolves_conflict=late["conflict_id"]))
    assert done["status"] == "applied" and done["record"]["deleted"] is True
    assert get_conflict(mediator, late["conflict_id"])["status"] == "resolved"
    assert records(mediator)[rid]["deleted"] is True


def test_delete_rules(as_user):
    mediator, admin, township = as_user("wanfucun.mediator"), as_user("wanfucun.admin"), as_user("wanfu.admin")
    rid = create_case(mediator)["id"]
    res = one(mediator, delete(rid, 1))
    assert res["status"] == "rejected" and res["error"]["code"] == "forbidden" and not res.get("record")
    assert one(mediator, upd(rid, 1, status="mediating"))["status"] == "applied"
    res = one(admin, delete(rid, 2))
    assert res["status"] == "rejected" and res["error"]["code"] == "validation_error"
    assert [(d["field"], d["code"]) for d in res["error"]["details"]] == [("deleted", "not_deletable")]
    assert get_case(admin, rid)["deleted"] is False and get_case(admin, rid)["rev"] == 2
    # a township admin in scope may delete a registered case
    other = create_case(mediator)["id"]
    assert one(township, delete(other, 1))["status"] == "applied"
    # a village admin of another village: the record looks absent (issue 11), no record
    zd = as_user("zhendong.admin")
    third = create_case(mediator)["id"]
    res = one(zd, delete(third, 1))
    assert res["status"] == "rejected" and res["error"]["code"] == "unknown_record" and not res.get("record")


# ---- 6. create + updates queued offline, the create's answer lost ---------------------------------------
def test_create_answer_lost_then_whole_outbox_resent(server, as_user):
    with LossyProxy(server.port) as proxy:
        phone = login(proxy.base, "wanfucun.mediator")
        rid = uid()
        outbox = [mutation("mediation_case", rid, new_case_fields(title="离线登记")),
                  upd(rid, 0, place="离线补充地点"),
                  upd(rid, 0, title="离线改标题"),
                  upd(rid, 0, status="mediating")]
        proxy.drop_answers(1, only=is_push)
        with pytest.raises(httpx.TransportError):
            push(phone, outbox[:1])  # only the create got out before the link died
        res = push(phone, outbox).json()["results"]
        assert res[0]["status"] == "duplicate" and res[0]["original_status"] == "applied"
        assert [x["status"] for x in res[1:]] == ["merged", "merged", "merged"], res
        assert res[-1]["record"]["rev"] == 4
        number = res[0]["record"]["case_number"]
        # and the whole outbox's answer lost again: still exactly once
        proxy.drop_answers(1, only=is_push)
        with pytest.raises(httpx.TransportError):
            push(phone, outbox)
        res = push(phone, outbox).json()["results"]
        assert [x["status"] for x in res] == ["duplicate"] * 4
        assert [x["original_status"] for x in res] == ["applied", "merged", "merged", "merged"]
        phone.close()
    admin = as_user("wanfucun.admin")
    everything = records(admin)
    assert list(everything) == [rid]
    rec = everything[rid]
    assert (rec["rev"], rec["title"], rec["place"], rec["status"], rec["case_number"]) == (
        4, "离线改标题", "离线补充地点", "mediating", number)
    assert conflict_list(admin, status="all") == []


def test_replayed_create_does_not_resurrect(server, as_user):
    with LossyProxy(server.port) as proxy:
        phone = login(proxy.base, "wanfucun.mediator")
        rid = uid()
        create = mutation("mediation_case", rid, new_case_fields())
        proxy.drop_answers(1, only=is_push)
        with pytest.raises(httpx.TransportError):
            push(phone, [create])
        admin = as_user("wanfucun.admin")
        assert one(admin, delete(rid, 1))["status"] == "applied"
        res = one(phone, create)
        assert res["status"] == "duplicate" and res["record"]["deleted"] is True and res["record"]["rev"] == 2
        phone.close()
    assert records(admin)[rid]["deleted"] is True


def test_update_before_its_create_is_not_stored(as_user):
    phone, other = as_user("wanfucun.mediator"), as_user("wanfucun.admin")
    rid = uid()
    early = upd(rid, 1, title="先到的更新")
    early_delete = delete(rid, 1)
    res = push(other, [early, early_delete]).json()["results"]
    assert [(x["status"], x["error"]["code"]) for x in res] == [("rejected", "unknown_record")] * 2
    # not stored: resending before the create still says unknown_record, not duplicate
    assert one(other, early)["error"]["code"] == "unknown_record"
    assert one(phone, mutation("mediation_case", rid, new_case_fields()))["status"] == "applied"
    res = one(other, early)
    assert res["status"] == "applied", res  # the same mutation id, now applied
    assert res["record"]["title"] == "先到的更新" and res["record"]["rev"] == 2
    assert one(other, early)["status"] == "duplicate"


# ---- 8. a phone clock a day (and a year) wrong -------------------------------------------------------
def test_wrong_phone_clock_does_not_matter(as_user):
    fast, slow = as_user("wanfucun.mediator"), as_user("wanfucun.admin")
    reader = as_user("wanfu.admin")
    now = datetime.now(SHANGHAI)
    tomorrow = (now + timedelta(days=1)).isoformat(timespec="seconds")
    last_year = (now - timedelta(days=365)).isoformat(timespec="seconds")
    _, cursor0 = _pull(reader)
    ra = one(fast, mutation("mediation_case", uid(), new_case_fields(title="快钟"), client_time=tomorrow))
    _, cursor1 = _pull(reader)
    rb = one(slow, mutation("mediation_case", uid(), new_case_fields(title="慢钟"), client_time=last_year))
    for res in (ra, rb):
        created = datetime.fromisoformat(res["record"]["created_at"])
        assert abs((created - datetime.now(timezone.utc)).total_seconds()) < 120  # server time
    # change order is arrival order, whatever the phones' clocks say
    changes, _ = _pull(reader, cursor0)
    assert [c["record"]["id"] for c in changes] == [ra["record"]["id"], rb["record"]["id"]]
    changes, _ = _pull(reader, cursor1)
    assert [c["record"]["id"] for c in changes] == [rb["record"]["id"]]
    # a later change with an older client_time still wins (no last-writer-wins on the phone's clock)
    rid = ra["record"]["id"]
    assert one(fast, upd(rid, 1, title="明天写的", client_time=tomorrow))["status"] == "applied"
    res = one(fast, upd(rid, 2, title="去年写的", client_time=last_year))
    assert res["status"] == "applied" and res["record"]["title"] == "去年写的" and res["record"]["rev"] == 3
    changes, _ = _pull(reader, cursor1)
    assert [c["record"]["id"] for c in changes] == [rb["record"]["id"], rid]


def _pull(client, cursor=None):
    from tests.support.device import pull_all

    return pull_all(client, cursor)
