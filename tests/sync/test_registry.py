"""What the engine offers every record type, proven with a test-only entity (tests/sync/testentity.py) and the
mediation case: derived ids, per-change permission, derived writes, personal data and attachments by type."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cunzhi.core.db import get_engine, write_tx
from cunzhi.sync.registry import SYSTEM_USER_ID, entities
from tests.sync import testentity as te
from tests.sync.util import create_case, mutation, new_case_fields, one, push, records, uid, upd

VILLAGE = "340321108200"
YEAR = 2026


@pytest.fixture
def report(server):
    with te.installed(get_engine()) as spec:
        yield spec


def _create(client, org=VILLAGE, year=YEAR, rid=None, **fields):
    return one(client, mutation(te.NAME, rid or te.report_id(org, year), {"org_code": org, "year": year, **fields}))


def _details(res):
    return [(d["field"], d["code"]) for d in res["error"]["details"]]


# ---- derived ids -------------------------------------------------------------------------------------
def test_a_create_with_another_id_is_id_not_derived(report, as_user):
    c = as_user("wanfucun.admin")
    res = _create(c, rid=uid(), note="x")
    assert res["status"] == "rejected" and res["error"]["code"] == "validation_error"
    assert _details(res) == [("id", "id_not_derived")]
    assert "record" not in res
    ok = _create(c, note="x")
    assert ok["status"] == "applied" and ok["record"]["id"] == te.report_id(VILLAGE, YEAR)


def test_two_offline_creates_of_one_key_merge(report, as_user):
    a, b = as_user("wanfucun.admin"), as_user("wanfucun.mediator")
    first = _create(a, note="甲的说明")
    second = _create(b, contact_phone="13812345678")  # same key, made offline on another phone
    assert first["status"] == "applied"
    assert second["status"] == "merged", second
    assert second["record"]["note"] == "甲的说明" and second["record"]["contact_phone"] == "13812345678"
    assert second["record"]["rev"] == 2
    same = _create(b, note="乙的说明")  # the same field differently: a conflict, never a second record
    assert same["status"] == "conflict" and same["conflicts"][0]["field"] == "note"
    got = [r for r in records(a).values() if r["id"] == te.report_id(VILLAGE, YEAR)]
    assert len(got) == 1 and got[0]["note"] == "甲的说明"


# ---- per-change permission ------------------------------------------------------------------------------
def test_authorize_is_checked_before_the_merge(report, as_user):
    va, ta = as_user("wanfucun.admin"), as_user("wanfu.admin")
    rec = _create(va, note="x")["record"]
    one(va, mutation(te.NAME, rec["id"], {"note": "y"}, base_rev=1))  # rev 2: the next base is stale
    res = one(va, mutation(te.NAME, rec["id"], {"state": "certified"}, base_rev=1))
    assert res["status"] == "rejected" and res["error"]["code"] == "forbidden", res  # not a conflict, not merged
    assert "record" not in res
    created = one(va, mutation(te.NAME, te.report_id(VILLAGE, 2025), {"org_code": VILLAGE, "year": 2025,
                                                                       "state": "certified"}))
    assert created["status"] == "rejected" and created["error"]["code"] == "forbidden"
    ok = one(ta, mutation(te.NAME, rec["id"], {"state": "certified"}, base_rev=2))
    assert ok["status"] == "applied" and ok["record"]["state"] == "certified"


# ---- derived writes -------------------------------------------------------------------------------------
def _history(engine, entity, record_id):
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(
            "SELECT rev, op, user_id, mutation_id, cause_entity, cause_record_id FROM record_history "
            "WHERE entity = :e AND record_id = :r ORDER BY rev"), {"e": entity, "r": record_id}).mappings()]


def test_a_derived_write_is_made_by_the_system_in_the_same_transaction(report, as_user):
    m = as_user("wanfucun.mediator")
    rid = te.report_id(VILLAGE, YEAR)
    # two red cases in one batch: each derive sees its own new row (the batched inserts are flushed first)
    muts = [mutation("mediation_case", uid(), new_case_fields(risk_level="red", received_on=f"{YEAR}-11-2{i}"))
            for i in range(2)]
    res = push(m, muts).json()["results"]
    assert [r["status"] for r in res] == ["applied", "applied"]
    assert all(r["record"]["case_number"] for r in res)
    pulled = records(m)
    rep = pulled[rid]
    assert rep["red_cases"] == 2 and rep["rev"] == 2 and rep["year"] == YEAR
    assert rep["created_by"] == SYSTEM_USER_ID and rep["updated_by"] == SYSTEM_USER_ID
    assert rep["derived_note"] == f"case {res[1]['record']['id']}"
    hist = _history(get_engine(), te.NAME, rid)
    assert [(h["rev"], h["op"], h["user_id"]) for h in hist] == [(1, "derive", SYSTEM_USER_ID),
                                                                 (2, "derive", SYSTEM_USER_ID)]
    for h, cause_mut, cause in zip(hist, muts, res, strict=True):
        assert (h["cause_entity"], h["cause_record_id"], h["mutation_id"]) == (
            "mediation_case", cause["record"]["id"], cause_mut["mutation_id"])
    # an edit of a case (not a create) derives too; a blue case derives nothing
    blue = create_case(m, received_on=f"{YEAR}-11-25")
    assert records(m)[rid]["rev"] == 2
    one(m, upd(blue["id"], 1, risk_level="red"))
    assert records(m)[rid]["red_cases"] == 3


def test_a_stale_device_edit_of_a_derived_field_conflicts(report, as_user):
    m, va = as_user("wanfucun.mediator"), as_user("wanfucun.admin")
    rec = _create(va, red_cases=0)["record"]  # rev 1, written by the device
    create_case(m, risk_level="red", received_on=f"{YEAR}-11-20")  # the server derives red_cases = 1 (rev 2)
    res = one(va, mutation(te.NAME, rec["id"], {"red_cases": 0, "note": "自评"}, base_rev=1))
    assert res["status"] == "conflict", res
    assert res["conflicts"] == [{"field": "red_cases", "client_value": 0, "server_value": 1}]
    assert res["record"]["red_cases"] == 1 and res["record"]["note"] == "自评"


def test_a_rejected_cause_derives_nothing(report, as_user):
    m = as_user("wanfucun.mediator")
    bad = one(m, mutation("mediation_case", uid(), new_case_fields(risk_level="red", category=None)))
    assert bad["status"] == "rejected"
    assert te.report_id(VILLAGE, YEAR) not in records(m)


def test_entities_without_derivations_keep_the_batch_insert(report, as_user, monkeypatch):
    """No derivation, no natural key: a batch of creates is one multi-row write (throughput): an executemany INSERT
    on SQLite, a COPY on PostgreSQL."""
    from cunzhi.sync.registry import unregister_derivation

    unregister_derivation("mediation_case", te._derive_red)
    m = as_user("wanfucun.mediator")
    statements: list[str] = []
    engine = get_engine()

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith(("INSERT INTO MEDIATION_CASE", "COPY MEDIATION_CASE ")):
            statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        res = push(m, [mutation("mediation_case", uid(), new_case_fields()) for _ in range(5)]).json()["results"]
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert [r["status"] for r in res] == ["applied"] * 5
    assert len(statements) == 1


# ---- personal data by type, anywhere ----------------------------------------------------------------------
PHONE, MASKED_PHONE = "13812345678", "138****5678"
IDN, MASKED_IDN = "340321199001011236", "340321********1236"


def test_personal_fields_are_found_by_type_and_masked_everywhere(report, as_user):
    va, tm = as_user("wanfucun.admin"), as_user("wanfu.mediator")  # tm: a township mediator, sees masked
    assert entities()[te.NAME].personal_paths() == ["contact_phone", "items.contact_id"]
    rec = _create(va, contact_phone=PHONE, items=[{"code": "a", "contact_id": IDN}])["record"]
    assert rec["contact_phone"] == PHONE and rec["items"][0]["contact_id"] == IDN
    seen = records(tm)[rec["id"]]
    assert seen["contact_phone"] == MASKED_PHONE and seen["items"][0]["contact_id"] == MASKED_IDN
    # a conflict on the phone: the answer and the stored conflict show it masked to a masked viewer
    one(va, mutation(te.NAME, rec["id"], {"contact_phone": "13900001111"}, base_rev=1))
    res = one(as_user("wanfucun.admin"),  # the same admin on another phone
              mutation(te.NAME, rec["id"], {"contact_phone": "13700002222"}, base_rev=1))
    assert res["status"] == "conflict"
    listed = tm.get("/api/v1/conflicts", params={"entity": te.NAME}).json()["items"]
    assert listed and listed[0]["fields"][0]["client_value"] == "137****2222"
    assert listed[0]["fields"][0]["server_value"] == "139****1111"
    text = tm.get(f"/api/v1/conflicts/{listed[0]['id']}").text
    assert "13700002222" not in text and "13900001111" not in text


def test_masked_writers_cannot_change_personal_fields(report, as_user):
    va, tm = as_user("wanfucun.admin"), as_user("wanfu.mediator")
    rec = _create(va, contact_phone=PHONE, items=[{"code": "a", "contact_id": IDN}])["record"]
    # echoing the masks back keeps the stored values
    res = one(tm, mutation(te.NAME, rec["id"], {"contact_phone": MASKED_PHONE, "note": "n",
                                                "items": [{"code": "b", "contact_id": MASKED_IDN}]}, base_rev=1))
    assert res["status"] == "applied", res
    assert records(va)[rec["id"]]["contact_phone"] == PHONE
    assert records(va)[rec["id"]]["items"][0] == {"code": "b", "contact_id": IDN, "attachment_ids": []}
    for fields, where in (({"contact_phone": None}, "contact_phone"),
                          ({"contact_phone": "13900001111"}, "contact_phone"),
                          ({"items": [{"code": "b", "contact_id": None}]}, "items.0.contact_id"),
                          ({"items": [{"code": "b"}]}, "items.0.contact_id")):
        res = one(tm, mutation(te.NAME, rec["id"], fields, base_rev=2))
        assert res["status"] == "rejected", (fields, res)
        assert (where, "masked_field_readonly") in _details(res), res
    assert records(va)[rec["id"]]["contact_phone"] == PHONE


def test_attachments_are_found_by_type_for_the_purge(report, as_user):
    from cunzhi.maintenance import referenced_attachment_ids

    va = as_user("wanfucun.admin")
    top, nested, agreement, event = uid(), uid(), uid(), uid()
    _create(va, photos=[top], items=[{"code": "a", "attachment_ids": [nested]}])
    case = create_case(va)
    assert one(va, upd(case["id"], 1, status="mediating"))["status"] == "applied"
    agreed = one(va, upd(case["id"], 2, status="agreed",
                         agreement={"form": "oral", "terms": "张三疏通排水沟", "attachment_ids": [agreement]}))
    assert agreed["status"] == "applied", agreed
    assert one(va, mutation("case_event", uid(), {"case_id": case["id"], "kind": "note",
                                           "occurred_at": "2026-11-20T10:00:00+08:00", "attachment_ids": [event]}))["status"] == "applied"
    with write_tx() as conn:
        found = referenced_attachment_ids(conn)
    assert {top, nested, agreement, event} <= found


def test_history_dumps_every_field_as_a_single_value_dump_does():
    # a history row keeps wire forms: the push's table-driven dump_values must agree with dump_value field by field
    from datetime import datetime, timezone

    from cunzhi.sync.present import dump_value, dump_values
    from cunzhi.sync.registry import load_entities

    load_entities()
    at = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)
    for spec in entities().values():
        stored = {name: _stored(spec.fields[name], value) for name, value in spec.json_example().items()
                  if name in spec.fields and name != "org_code"}
        stored |= {"org_code": VILLAGE, "deleted": 0, "updated_at": at, "missing": None}
        assert stored.keys() - {"org_code", "deleted", "updated_at", "missing"}, spec.name
        assert dump_values(spec, stored) == {k: dump_value(spec, k, v) for k, v in stored.items()}, spec.name


def _stored(ftype, value):
    from cunzhi.sync.fields import Invalid

    try:
        return ftype.load(value)
    except Invalid:  # an example that is only a shape (a route point without a position): its wire value
        return value
