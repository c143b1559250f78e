"""Item 7 of issue 11: `cunzhi erase` anonymises a person everywhere they are kept (records, history,
conflicts, stored answers, child records, files), and the retention rule does it for old closed records."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import sqlalchemy as sa

from tests.api import helpers as h
from tests.mediation.support import Case
from tests.security.support import audit, cli, dump, execute, setting
from tests.six_no.support import W
from tests.support.device import login, mutation, pull_all, push

X = h.id_number(7, 1)  # the person who asks to be erased
Y, Z = h.id_number(7, 2), h.id_number(7, 3)  # other people, who stay
P1, P3, P4, P5 = h.phone(7, 1), h.phone(7, 3), h.phone(7, 4), h.phone(7, 5)
OTHER_PHONE = h.phone(7, 6)


def _party(name, idn, phone, role="applicant"):
    return {"name": name, "role": role, "id_number": idn, "phone": phone, "address": f"{name}家住万福村前庄"}


def _world(server, database):
    m = login(server.base, "wanfucun.mediator")
    a = Case(m, title="张三与李四排水纠纷", description=f"张三（电话 {P1}）称李四堵塞排水沟",
             parties=[_party("张三", X, P1), _party("李四", Y, OTHER_PHONE, "respondent")])
    a.ok(parties=[_party("张三", X, P3), _party("李四", Y, OTHER_PHONE, "respondent")])  # history holds P1 and P3
    # two devices of the same user edit the parties from the same base: a stored conflict holds P4
    d1, d2 = login(server.base, "wanfucun.mediator"), login(server.base, "wanfucun.mediator")
    r1 = push(d1, [mutation("mediation_case", a.id, {"parties": [_party("张三", X, P5),
                                                                 _party("李四", Y, OTHER_PHONE, "respondent")]},
                            base_rev=a.rev)]).json()["results"][0]
    r2 = push(d2, [mutation("mediation_case", a.id, {"parties": [_party("张三", X, P4),
                                                                 _party("李四", Y, OTHER_PHONE, "respondent")]},
                            base_rev=a.rev)]).json()["results"][0]
    assert (r1["status"], r2["status"]) == ("applied", "conflict"), (r1, r2)
    ev = str(uuid.uuid4())
    assert push(m, [mutation("case_event", ev, {"case_id": a.id, "kind": "session", "occurred_at":
                                                 "2026-11-21T10:00:00+08:00", "participants": "张三、李四",
                                                 "content": f"张三到场，留电话 {P5}"})]).json()["results"][0][
        "status"] == "applied"
    b = Case(m, title="王五借款纠纷", parties=[_party("王五", Z, h.phone(8, 1)),
                                               _party("张三", X, P5, "respondent")])
    aid = str(uuid.uuid4())
    assert h.upload(m, aid, h.jpeg_bytes(), a.id).status_code == 200
    return m, a, b, ev, aid


def _raw_files(database: str) -> bytes:
    if not database.startswith("sqlite"):
        return b""
    path = Path(database.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_erase_by_id_number_leaves_it_nowhere(server, database, tmp_path):
    m, a, b, ev, aid = _world(server, database)
    before = dump(database)
    assert X in before and P1 in before and P4 in before
    r = cli("erase", "id-number", "--reason", "当事人申请删除（第47条）", stdin=X + "\n")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output.strip().splitlines()[-1])
    assert summary["records"] >= 3 and summary["attachments_deleted"] == 1
    after = dump(database)
    for secret in (X, P1, P3, P4, P5, "张三家住万福村前庄"):
        assert secret not in after, secret
    assert X.encode() not in _raw_files(database) and P1.encode() not in _raw_files(database)
    # the other people stay
    for kept in (Y, Z, OTHER_PHONE, "李四", "王五"):
        assert kept in after, kept
    # phones get the anonymised records on their next pull
    records = {ch["record"]["id"]: ch["record"] for ch in pull_all(m)[0]}
    pa = records[a.id]["parties"]
    assert pa[0]["name"] == "（已删除）" and pa[0]["id_number"] is None and pa[0]["phone"] is None
    assert pa[1]["id_number"] == Y and records[a.id]["rev"] > a.rev
    assert "张三" not in records[a.id]["title"] and "张三" not in records[ev]["content"]
    assert [p["name"] for p in records[b.id]["parties"]] == ["王五", "（已删除）"]
    h.assert_error(m.get(f"/api/v1/attachments/{aid}"), 404, "not_found")
    # one audit row: what was erased, never the number itself
    rows = audit(database, "erase_id_number")
    assert len(rows) == 1 and X not in repr(rows)
    ids = rows[0]["record_ids"] if isinstance(rows[0]["record_ids"], list) else json.loads(rows[0]["record_ids"])
    assert {a.id, b.id, ev} <= set(ids)


def test_erase_a_record(server, database):
    m, a, b, ev, aid = _world(server, database)
    r = cli("erase", "record", "mediation_case", b.id, "--reason", "mistaken intake")
    assert r.exit_code == 0, r.output
    after = dump(database)
    assert Z not in after and h.phone(8, 1) not in after and "王五" not in after
    assert X in after  # the erased record's parties only: 张三 stays on the other case
    rec = next(ch["record"] for ch in pull_all(m)[0] if ch["record"]["id"] == b.id)
    assert {p["name"] for p in rec["parties"]} == {"（已删除）"}
    assert cli("erase", "record", "mediation_case", str(uuid.uuid4())).exit_code == 2


def test_retention_anonymises_old_closed_records(server, database, monkeypatch):
    m = login(server.base, "wanfucun.mediator")
    old = Case(m, parties=[_party("赵六", h.id_number(9, 1), h.phone(9, 1))])
    recent = Case(m, parties=[_party("钱七", h.id_number(9, 2), h.phone(9, 2))])
    for c in (old, recent):
        c.ok(status="declined", outcome_note="当事人拒绝调解")
    execute(database, "UPDATE mediation_case SET ended_on = :d WHERE id = :i", d="2014-05-01", i=old.id)
    setting(monkeypatch, personal_data_retention_years=10)
    r = cli("maintain")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output.strip().splitlines()[-1])["records_anonymised"] == 1
    after = dump(database)
    assert h.id_number(9, 1) not in after and "赵六" not in after
    assert h.id_number(9, 2) in after and "钱七" in after
    assert len(audit(database, "retention_anonymise")) == 1
    assert json.loads(cli("maintain").output.strip().splitlines()[-1])["records_anonymised"] == 0  # once


# ---- personal fields of every record type, top level too (found by type: f.phone, f.id_number) ----------
HX, HY = h.id_number(6, 1), h.id_number(6, 2)  # a household head who asks to be erased; one who stays
PH, PH2, PN, PY = h.phone(6, 1), h.phone(6, 2), h.phone(6, 3), h.phone(6, 4)
PH3, PH4 = h.phone(6, 5), h.phone(6, 6)  # the head's phone edited on two phones at once: PH4 waits in a conflict
CHECK = {"criminal_record": False, "vice": False, "cult": False, "checked_by": "张德明", "checked_on": None}


def _nomination(town, **over) -> dict:
    fields = {"org_code": W, "category": "filial_piety", "nominee_name": "李桂花", "deeds": "照顾瘫痪婆婆十二年",
              "source": "villagers", "nominator_name": "村民代表"} | over
    return town.ok("VA", "nomination", str(uuid.uuid4()), fields)


def _in_notice(town, **over) -> dict:
    rec = _nomination(town, **over)
    rec = town.ok("VA", "nomination", rec["id"], {"state": "village_reviewed", "review_note": "两委评议通过",
                                                  "disqualifiers": CHECK | {"checked_on": h.days_ago(0)}}, rec["rev"])
    return town.ok("VA", "nomination", rec["id"], {"state": "public_notice"}, rec["rev"])


def _roster(town):
    hx = town.household(head_name="周大海", phone=PH, head_id_number=HX)
    hx = town.ok("VA", "household", hx["id"], {"phone": PH2}, hx["rev"])  # the history holds PH and PH2
    d1, d2 = town.phone("VA"), town.phone("VA")
    hx = town.ok(d1, "household", hx["id"], {"phone": PH3}, hx["rev"])
    clash = town.push1(d2, "household", hx["id"], {"phone": PH4}, hx["rev"] - 1)
    assert clash["status"] == "conflict", clash
    hy = town.household(head_name="吴小山", address="西庄 3 号", phone=PY, head_id_number=HY)
    nx = _nomination(town, nominee_name="周大海", nominee_phone=PN, nominee_id_number=HX,
                     deeds=f"周大海（电话 {PN}）义务修路十年")
    ny = _in_notice(town, nominee_name="吴小山", nominee_phone=PY, nominee_id_number=HY)
    # an objection recorded with the erased person's phone as its contact (no ID number to match it by)
    ob = town.ok("VA", "nomination_objection", str(uuid.uuid4()),
                 {"nomination_id": ny["id"], "content": "反映其曾与邻居争吵", "contact": PH2})
    return hx, hy, nx, ny, ob


def _pulled(town, who="VA") -> dict:
    return {ch["record"]["id"]: ch["record"] for ch in pull_all(town.c(who))[0]}


def test_erase_by_id_number_reaches_top_level_personal_fields(town, database):
    hook = town.c("TA").post("/api/v1/webhooks", json={"url": "https://hooks.example.org/h",
                                                        "entities": ["household"], "events": ["updated"]})
    assert hook.status_code == 201, hook.text
    hx, hy, nx, ny, ob = _roster(town)
    assert all(s in dump(database) for s in (HX, PH, PH2, PH3, PH4, PN))
    _, cursor = pull_all(town.c("VA"))
    r = cli("erase", "id-number", "--reason", "户主申请删除", stdin=HX + "\n")
    assert r.exit_code == 0, r.output
    after = dump(database)
    for secret in (HX, PH, PH2, PH3, PH4, PN):
        assert secret not in after, secret
    for kept in (HY, PY, "吴小山"):
        assert kept in after, kept
    # phones that pulled before get every record that changed (the objection only held the phone number)
    since = {ch["record"]["id"] for ch in pull_all(town.c("VA"), cursor)[0]}
    assert {hx["id"], nx["id"], ob["id"]} <= since and hy["id"] not in since
    # a pull shows the erased fields empty (not a mask, not "***"), at a new rev; the others untouched
    got = _pulled(town)
    assert (got[hx["id"]]["phone"], got[hx["id"]]["head_id_number"]) == (None, None)
    assert got[hx["id"]]["rev"] > hx["rev"]
    assert (got[nx["id"]]["nominee_phone"], got[nx["id"]]["nominee_id_number"]) == (None, None)
    assert PN not in got[nx["id"]]["deeds"] and got[nx["id"]]["rev"] > nx["rev"]
    assert got[ob["id"]]["contact"] is None and got[ob["id"]]["content"] == "反映其曾与邻居争吵"
    assert got[ob["id"]]["rev"] > ob["rev"]
    assert (got[hy["id"]]["phone"], got[hy["id"]]["head_id_number"]) == (PY, HY) and got[hy["id"]]["rev"] == hy["rev"]
    assert (got[ny["id"]]["nominee_phone"], got[ny["id"]]["nominee_id_number"]) == (PY, HY)
    # the read API and the history (unmasked for the village admin, masked for the township viewer)
    one = town.get("VA", f"/api/v1/households/{hx['id']}")
    assert (one["phone"], one["head_id_number"], one["rev"]) == (None, None, got[hx["id"]]["rev"])
    assert town.get("VA", f"/api/v1/nominations/{nx['id']}")["nominee_id_number"] is None
    masks = (h.mask_id(HX), h.mask_phone(PH), h.mask_phone(PH2), h.mask_phone(PN))
    for who in ("VA", "TV"):
        for path in (f"/api/v1/households/{hx['id']}/history", f"/api/v1/nominations/{nx['id']}/history",
                     f"/api/v1/nomination-objections/{ob['id']}/history"):
            text = json.dumps(town.get(who, path), ensure_ascii=False)
            for s in (HX, PH, PH2, PN, *masks):
                assert s not in text, (who, path, s)
        text = json.dumps(town.get(who, f"/api/v1/households/{hx['id']}/history"), ensure_ascii=False)
        assert "***" not in text  # erased, not cut: a phone field never holds a fragment
        items = town.get(who, f"/api/v1/households/{hx['id']}/history")["items"]
        assert items[-1]["op"] == "erase" and items[-1]["changes"] == {"phone": None, "head_id_number": None}
        assert items[0]["changes"]["head_name"] == "周大海"  # what is not personal stays in the history
    # the stored conflict: still there to settle, without the number it held
    conflicts = [c for c in town.get("VA", "/api/v1/conflicts", status="open")["items"] if c["record_id"] == hx["id"]]
    assert [(f["field"], f["client_value"], f["server_value"]) for c in conflicts for f in c["fields"]] == [
        ("phone", None, None)]
    # integrations hear of it like of any change: an "updated" delivery at the erased rev, without the numbers
    with town.engine.connect() as conn:
        sent = conn.execute(sa.text("SELECT type, rev, payload FROM webhook_delivery WHERE record_id = :r "
                                    "ORDER BY seq"), {"r": hx["id"]}).all()
    assert sent[-1][:2] == ("household.updated", got[hx["id"]]["rev"]), sent
    last = sent[-1][2] if isinstance(sent[-1][2], dict) else json.loads(sent[-1][2])
    assert (last["data"]["record"]["phone"], last["data"]["record"]["head_id_number"]) == (None, None)
    rows = audit(database, "erase_id_number")
    assert len(rows) == 1 and HX not in repr(rows) and PH not in repr(rows)
    ids = rows[0]["record_ids"] if isinstance(rows[0]["record_ids"], list) else json.loads(rows[0]["record_ids"])
    assert {hx["id"], nx["id"], ob["id"]} <= set(ids) and hy["id"] not in ids


def test_erase_a_record_with_top_level_personal_fields(town, database):
    hx, hy, nx, ny, ob = _roster(town)
    for entity, rec in (("household", hx), ("nomination", nx)):
        r = cli("erase", "record", entity, rec["id"], "--reason", "mistaken entry")
        assert r.exit_code == 0, r.output
    after = dump(database)
    for secret in (HX, PH, PN):
        assert secret not in after, secret
    assert PH2 in after  # the objection on another record still holds it: erasing a record erases that record
    got = _pulled(town)
    assert (got[hx["id"]]["phone"], got[hx["id"]]["head_id_number"]) == (None, None)
    assert got[hx["id"]]["address"] == "东庄 12 号"  # a household's address is not personal data (records.md)
    assert (got[nx["id"]]["nominee_phone"], got[nx["id"]]["nominee_id_number"]) == (None, None)
    assert (got[hy["id"]]["phone"], got[hy["id"]]["head_id_number"]) == (PY, HY)
    text = json.dumps(town.get("VA", f"/api/v1/households/{hx['id']}/history"), ensure_ascii=False)
    assert HX not in text and PH not in text and PH2 not in text and "***" not in text


def test_erasure_finds_personal_fields_by_type_in_any_registered_record_type(town, database):
    """A record type erasure has never heard of (registered by the tests: a top-level f.phone, f.id_number nested
    in list items) is erased like the product's: found through the registry, by field type."""
    from cunzhi.core.db import get_engine
    from tests.sync import testentity as te

    with te.installed(get_engine(), derive=False):
        town.household(head_name="周大海", phone=PH, head_id_number=HX)
        rid = te.report_id(W, 2026)
        rec = town.ok("VA", te.NAME, rid, {"org_code": W, "year": 2026, "note": f"联系 {PH}", "contact_phone": PH,
                                           "items": [{"code": "a", "contact_id": HX}, {"code": "b", "contact_id": HY}]})
        r = cli("erase", "id-number", stdin=HX + "\n")
        assert r.exit_code == 0, r.output
        got = _pulled(town)[rid]
        assert got["rev"] > rec["rev"] and got["contact_phone"] is None and PH not in got["note"]
        assert [(i["code"], i["contact_id"]) for i in got["items"]] == [("a", None), ("b", HY)]
        assert HX not in dump(database) and PH not in dump(database) and HY in dump(database)
