"""Exactly-once details, the pull contract and the 401 codes (sync-protocol.md: Push 1, Pull, Sessions)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import httpx

from tests.support.device import pull_all
from tests.sync.util import (create_case, delete, get_case, history, mutation, new_case_fields, one, push,
                             records, uid, upd)


# ---- exactly once ------------------------------------------------------------------------------
def test_known_mutation_id_from_another_user_is_new_for_them(as_user):
    """Mutation ids are per user (issue 11: nothing reveals that another user's id exists)."""
    mediator, admin = as_user("wanfucun.mediator"), as_user("wanfucun.admin")
    rid = uid()
    create = mutation("mediation_case", rid, new_case_fields(title="调解员的"))
    assert one(mediator, create)["status"] == "applied"
    # another user sends the same mutation id (with other content): judged as their own new mutation
    theirs = dict(create, fields={"title": "管理员改"}, base_rev=1)
    res = one(admin, theirs)
    assert res["status"] == "applied", res
    assert get_case(admin, rid)["title"] == "管理员改" and get_case(admin, rid)["rev"] == 2
    # the owner on another phone (same user): a duplicate of the first answer
    again = one(as_user("wanfucun.mediator"), create)
    assert again["status"] == "duplicate" and again["original_status"] == "applied"


def test_duplicate_repeats_first_answer_conflicts_and_error(as_user):
    a, b = as_user("wanfucun.mediator"), as_user("wanfucun.admin")
    rid = create_case(a)["id"]
    assert one(a, upd(rid, 1, title="甲"))["status"] == "applied"
    m = upd(rid, 1, title="乙")
    first = one(b, m)
    assert first["status"] == "conflict"
    dup = one(b, m)
    assert dup["status"] == "duplicate" and dup["original_status"] == "conflict"
    assert dup["conflicts"] == first["conflicts"] and dup["conflict_id"] == first["conflict_id"]
    assert dup["record"]["rev"] == first["record"]["rev"] == 2  # nothing new written
    bad = upd(rid, 2, status="agreed")  # agreement missing, and not a transition from registered
    first = one(a, bad)
    assert first["status"] == "rejected" and first["error"]["code"] == "validation_error"
    dup = one(a, bad)
    assert dup["status"] == "duplicate" and dup["original_status"] == "rejected"
    assert dup["error"] == first["error"]
    assert [h["rev"] for h in history(a, rid)] == [1, 2]


def test_duplicate_of_record_now_out_of_scope_carries_no_record(as_user, database):
    from cunzhi.core.db import write_tx
    from cunzhi.users.models import User

    phone = as_user("wanfucun.mediator")
    create = mutation("mediation_case", uid(), new_case_fields())
    assert one(phone, create)["status"] == "applied"
    users = User.__table__
    with write_tx() as conn:  # the mediator moves to 镇东村: the case is no longer in their scope
        conn.execute(users.update().where(users.c.username == "wanfucun.mediator").values(org_code="340321108201"))
    dup = one(phone, create)
    assert dup["status"] == "duplicate" and dup["original_status"] == "applied"
    assert "record" not in dup or dup["record"] is None
    assert "张三" not in json.dumps(dup, ensure_ascii=False)


# ---- pull --------------------------------------------------------------------------------------
def test_pull_each_record_once_at_latest_state_with_tombstones(as_user):
    a, admin = as_user("wanfucun.mediator"), as_user("wanfucun.admin")
    r1, r2, r3 = (create_case(a, title=f"案{i}")["id"] for i in range(3))
    _, cursor = pull_all(admin)
    for rev in range(1, 4):
        assert one(a, upd(r1, rev, title=f"第{rev}次修改"))["status"] == "applied"
    assert one(admin, delete(r2, 1))["status"] == "applied"
    changes, cursor2 = pull_all(admin, cursor, limit=1)  # page by one: still each record once
    assert [(c["record"]["id"], c["record"]["rev"]) for c in changes] == [(r1, 4), (r2, 2)]
    assert changes[1]["record"]["deleted"] is True
    everything = records(admin)
    assert set(everything) == {r1, r2, r3}
    assert everything[r2]["deleted"] is True and everything[r1]["title"] == "第3次修改"
    # the feed is ordered by latest change: r3 (untouched) first
    changes, _ = pull_all(admin, limit=2)
    assert [c["record"]["id"] for c in changes] == [r3, r1, r2]
    # a quiet cursor gives nothing
    body = admin.get("/api/v1/sync/pull", params={"cursor": cursor2}).json()
    assert body["changes"] == [] and body["has_more"] is False and body["server_epoch"]
    # 镇东村 sees nothing of 万福村
    assert records(as_user("zhendong.mediator")) == {}


def test_pull_cursor_and_limit_errors(as_user):
    a = as_user("wanfucun.mediator")
    create_case(a)
    _, cursor = pull_all(a)
    for other in ("zhendong.mediator", "wanfucun.grid", "wanfu.admin"):  # another scope (org or role)
        r = as_user(other).get("/api/v1/sync/pull", params={"cursor": cursor})
        assert r.status_code == 409 and r.json()["code"] == "reset_required", (other, r.text)
    # the same user on another phone may continue from it
    assert as_user("wanfucun.mediator").get("/api/v1/sync/pull", params={"cursor": cursor}).status_code == 200
    body, sig = cursor.split(".", 1)
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps(dict(payload, s=0)).encode()).decode().rstrip("=") + "." + sig
    for garbage in ("garbage", "a.b", "!!!"):
        r = a.get("/api/v1/sync/pull", params={"cursor": garbage})
        assert r.status_code == 400, (garbage, r.text)
        assert r.json()["code"] == "invalid_cursor"
    # well-formed but not verifiable (altered, or signed by a key this database does not hold): start over
    for unverifiable in (forged, cursor[:-2]):
        r = a.get("/api/v1/sync/pull", params={"cursor": unverifiable})
        assert r.status_code == 409 and r.json()["code"] == "reset_required", (unverifiable, r.text)
    for limit in (0, -1, 5001):
        r = a.get("/api/v1/sync/pull", params={"limit": limit})
        assert r.status_code == 422, (limit, r.text)
    assert a.get("/api/v1/sync/pull", params={"limit": 5000}).status_code == 200
    assert a.get("/api/v1/sync/pull", params={"cursor": ""}).status_code == 200  # empty = from the beginning


# ---- sessions ----------------------------------------------------------------------------------
def test_401_codes(server, as_user):
    anon = httpx.Client(base_url=server.base)
    for r in (anon.get("/api/v1/sync/pull"),
              anon.post("/api/v1/sync/push", json={"client_id": uid(), "mutations": []}),
              anon.get("/api/v1/sync/pull", headers={"Authorization": "Bearer not-a-token"})):
        assert r.status_code == 401 and r.json()["code"] == "not_authenticated", r.text
    anon.close()

    victim = as_user("wanfucun.mediator")
    assert victim.get("/api/v1/sync/pull").status_code == 200
    mine = victim.get("/api/v1/sessions").json()["items"]
    sid = next(s["id"] for s in mine if s["client_id"] == victim.client_id)
    boss = as_user("wanfu.admin")
    assert boss.delete(f"/api/v1/sessions/{sid}").status_code == 200
    for r in (victim.get("/api/v1/sync/pull"),
              push(victim, [mutation("mediation_case", uid(), new_case_fields())])):
        assert r.status_code == 401 and r.json()["code"] == "session_revoked", r.text

    from cunzhi.core.clock import utcnow
    from cunzhi.core.db import write_tx
    from cunzhi.users.models import AuthSession

    late = as_user("wanfucun.admin")
    s = AuthSession.__table__
    with write_tx() as conn:
        conn.execute(s.update().where(s.c.client_id == late.client_id)
                     .values(expires_at=utcnow() - timedelta(minutes=1)))
    for r in (late.get("/api/v1/sync/pull"), push(late, [])):
        assert r.status_code == 401 and r.json()["code"] == "session_expired", r.text
    # the revoked session's writes were never applied
    assert records(boss) == {}


def test_push_envelope_errors(as_user):
    a = as_user("wanfucun.mediator")
    good = mutation("mediation_case", uid(), new_case_fields())
    cases = [
        {"client_id": uid(), "mutations": [good]},  # not the session's client_id
        {"client_id": a.client_id},  # no mutations
        {"client_id": a.client_id, "mutations": [dict(good, mutation_id="nope")]},
        {"client_id": a.client_id, "mutations": [dict(good, op="merge")]},
        {"client_id": a.client_id, "mutations": [dict(good, base_rev=-1)]},
        {"client_id": a.client_id, "mutations": [dict(good, fields=[1])]},
    ]
    for body in cases:
        r = a.post("/api/v1/sync/push", json=body)
        assert r.status_code == 422, (body, r.text)
    assert records(a) == {}
    res = one(a, mutation("no_such_entity", uid(), {}))
    assert res["status"] == "rejected" and res["error"]["code"] == "unknown_entity"
    r = a.post("/api/v1/sync/push", json={"client_id": a.client_id, "mutations": [good] * 501})
    assert r.status_code == 413
    # a write out of scope looks like one of a missing record (issue 11) and carries no record
    other = login_other(as_user)
    res = one(other, upd(create_case(a)["id"], 1, title="越权"))
    assert res["status"] == "rejected" and res["error"]["code"] == "unknown_record" and not res.get("record")


def login_other(as_user):
    return as_user("zhendong.mediator")


def test_same_mutation_twice_in_one_batch(as_user):
    a = as_user("wanfucun.mediator")
    rid = uid()
    create = mutation("mediation_case", rid, new_case_fields())
    edit = upd(rid, 1, title="一次")
    res = push(a, [create, edit, create, edit]).json()["results"]
    assert [x["status"] for x in res] == ["applied", "applied", "duplicate", "duplicate"]
    assert [x.get("original_status") for x in res[2:]] == ["applied", "applied"]
    assert get_case(a, rid)["rev"] == 2 and [h["rev"] for h in history(a, rid)] == [1, 2]


def test_masked_viewer_sees_masked_answers_and_conflicts(as_user):
    """A township-level mediator sees village parties masked in push answers, duplicates and conflicts,
    and echoing the masked values back does not overwrite the stored ones."""
    village, township = as_user("wanfucun.mediator"), as_user("wanfu.mediator")
    rec = create_case(village)
    rid = rec["id"]
    seen = records(township)[rid]["parties"]
    assert seen[0]["phone"] == "138****5678" and seen[0]["id_number"] == "340321********1236"
    echoed = seen + [{"name": "王五", "role": "other"}]
    m = upd(rid, 1, parties=echoed)
    res = one(township, m)
    assert res["status"] == "applied", res
    assert res["record"]["parties"][0]["phone"] == "138****5678"
    full = get_case(village, rid)["parties"]
    assert full[0]["phone"] == "13812345678" and full[0]["id_number"] == "340321199001011236"
    assert [p["name"] for p in full] == ["张三", "李四", "王五"]
    dup = one(township, m)
    assert dup["status"] == "duplicate" and "13812345678" not in json.dumps(dup)
    # a conflict on parties shows the township mediator masked values only
    assert one(village, upd(rid, 2, parties=full[:2]))["status"] == "applied"
    late = one(township, upd(rid, 2, parties=echoed[:1]))
    assert late["status"] == "conflict", late
    text = json.dumps(late) + json.dumps(as_user("wanfu.mediator").get(
        f"/api/v1/conflicts/{late['conflict_id']}").json())
    assert "13812345678" not in text and "340321199001011236" not in text
    # the village mediator sees the same conflict unmasked
    mine = village.get(f"/api/v1/conflicts/{late['conflict_id']}").json()
    assert "13812345678" in json.dumps(mine)


def test_unmasked_conflict_values_are_audited(as_user, database):
    """Conflicts (list and get) deliver parties unmasked to the village's own mediator: each such request
    writes an audit row naming the record; a viewer who sees them masked leaves none."""
    from cunzhi.core.db import read_tx
    from cunzhi.users.models import AuditEntry

    a, b = as_user("wanfucun.mediator"), as_user("wanfucun.admin")
    rid = create_case(a)["id"]
    full = get_case(a, rid)["parties"]
    assert one(a, upd(rid, 1, parties=full[:1]))["status"] == "applied"
    late = one(b, upd(rid, 1, parties=full + [{"name": "王五", "role": "other"}]))
    assert late["status"] == "conflict"
    audit_t = AuditEntry.__table__

    def rows(action):
        with read_tx() as conn:
            return [r for r in conn.execute(audit_t.select().where(audit_t.c.action == action)).mappings()]

    assert "13812345678" in a.get(f"/api/v1/conflicts/{late['conflict_id']}").text
    assert "13812345678" in a.get("/api/v1/conflicts").text
    for action in ("conflicts.get", "conflicts.list"):
        got = rows(action)
        assert len(got) == 1 and rid in got[0]["record_ids"], (action, got)
    masked = as_user("wanfu.mediator")
    assert "13812345678" not in masked.get(f"/api/v1/conflicts/{late['conflict_id']}").text
    assert len(rows("conflicts.get")) == 1


def test_nul_characters_are_judged_per_mutation(as_user):
    """A NUL in an entity name or a field name (PostgreSQL text cannot hold one) is one rejected mutation,
    stored like any other — never a failed push that loses the good mutations next to it."""
    a = as_user("wanfucun.mediator")
    rid = uid()
    bad_entity = mutation("\x00case", uid(), {})
    bad_field = mutation("mediation_case", uid(), new_case_fields(**{"ti\x00tle": "x"}))
    bad_party = mutation("mediation_case", uid(), new_case_fields(parties=[{"name": "甲", "role": "applicant",
                                                                            "n\x00ote": "x"}]))
    good = mutation("mediation_case", rid, new_case_fields())
    bad_resolve = upd(rid, 1, title="x", resolves_conflict="\x00")
    batch = [bad_entity, bad_field, bad_party, good, bad_resolve]
    r = push(a, batch)
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert [x["status"] for x in res] == ["rejected", "rejected", "rejected", "applied", "rejected"], res
    assert [d["field"] for d in res[4]["error"]["details"]] == ["resolves_conflict"]
    assert res[0]["error"]["code"] == "unknown_entity"
    assert res[1]["error"]["code"] == res[2]["error"]["code"] == "validation_error"
    again = push(a, batch).json()["results"]
    assert [x["status"] for x in again] == ["duplicate"] * 5
    assert [x["original_status"] for x in again] == ["rejected", "rejected", "rejected", "applied", "rejected"]
    assert list(records(a)) == [rid]
