"""Bad input at every endpoint: a clear 4xx in the one error shape (zh-CN by default, en on request), never a
500, and nothing stored half (counts in the database are checked after every bad request)."""

from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa

from tests.api import helpers as h
from tests.api.conftest import World
from tests.support.device import mutation, new_case_fields, push

TABLES = ("mediation_case", "case_event", "sync_mutation", "record_history", "sync_feed", "sync_conflict",
          "attachment", "auth_session", "app_user", "audit_entry")


class Counts:
    """Row counts of every table a request could write; ``same()`` asserts nothing was stored."""

    def __init__(self, world: World, tables=TABLES):
        self.world, self.tables = world, tables
        self.before = self.snapshot()

    def snapshot(self) -> dict[str, int]:
        return {t: h.count(self.world.engine, t) for t in self.tables}

    def same(self, *, allow: tuple[str, ...] = ()) -> None:
        after = self.snapshot()
        for t in self.tables:
            if t not in allow:
                assert after[t] == self.before[t], (t, self.before[t], after[t])


def good_case(**over) -> dict:
    return new_case_fields("340321108200", received_on=h.days_ago(3), **over)


# ---- wrong types and bad values for every mediation_case field ----------------------------------------
R = str(uuid.uuid4())
BAD_FIELDS: list[tuple[str, object, str]] = [
    ("org_code", 340321108200, "invalid_type"), ("org_code", ["340321108200"], "invalid_type"),
    ("org_code", "", "required"), ("org_code", "3403211082009", "unknown_org"),
    ("title", 123, "invalid_type"), ("title", None, "required"), ("title", "", "required"),
    ("title", "  ", "required"), ("title", "长" * 201, "too_long"), ("title", ["a"], "invalid_type"),
    ("title", {"a": 1}, "invalid_type"), ("title", True, "invalid_type"), ("title", "a\x00b", "invalid_type"),
    ("description", 123, "invalid_type"), ("description", [], "invalid_type"), ("description", "x" * 10001, "too_long"),
    ("category", 123, "invalid_type"), ("category", "nope", "invalid_choice"), ("category", None, "required"),
    ("category", "NEIGHBOR", "invalid_choice"), ("category", "x" * 41, "invalid_choice"),
    ("source", 1, "invalid_type"), ("source", "nope", "invalid_choice"), ("source", None, "required"),
    ("received_on", "2026-13-01", "invalid_date"), ("received_on", "yesterday", "invalid_date"),
    ("received_on", 20261120, "invalid_date"), ("received_on", "2026-11-20T00:00:00+08:00", "invalid_date"),
    ("received_on", "1899-12-31", "out_of_range"), ("received_on", None, "required"),
    ("received_on", "2026-02-30", "invalid_date"),
    ("place", 5, "invalid_type"), ("place", "x" * 201, "too_long"),
    ("parties", "张三", "invalid_type"), ("parties", [], "required"), ("parties", None, "required"),
    ("parties", [1], "invalid_type"), ("parties", {"name": "a", "role": "applicant"}, "invalid_type"),
    ("parties", [{"role": "applicant"}], "required"), ("parties", [{"name": "a", "role": "boss"}], "invalid_choice"),
    ("parties", [{"name": "a"}], "required"),
    ("parties", [{"name": "a", "role": "applicant", "gender": "x"}], "invalid_choice"),
    ("parties", [{"name": "a", "role": "applicant", "phone": "12345"}], "invalid_phone"),
    ("parties", [{"name": "a", "role": "applicant", "phone": 13812345678}], "invalid_phone"),
    ("parties", [{"name": "a", "role": "applicant", "id_number": "340321199001011235"}], "invalid_id_number"),
    ("parties", [{"name": "a", "role": "applicant", "id_number": "34032119900101123"}], "invalid_id_number"),
    # full-width digits: a Unicode digit is not an ID number's digit (the schema's pattern is ASCII)
    ("parties", [{"name": "a", "role": "applicant", "id_number": "３４０３２１１９９００１０１１２３6"}],
     "invalid_id_number"),
    ("parties", [{"name": "a", "role": "applicant", "nation": "汉"}], "unknown_field"),
    ("parties", [{"name": "x" * 51, "role": "applicant"}], "too_long"),
    ("parties", [{"name": "a", "role": "applicant"}] * 51, "invalid_type"),
    ("people_involved", "3", "invalid_type"), ("people_involved", -1, "out_of_range"),
    ("people_involved", 1.5, "invalid_type"), ("people_involved", True, "invalid_type"),
    ("people_involved", 10**30, "out_of_range"), ("people_involved", 10**7, "out_of_range"),
    ("amount_in_dispute", "abc", "invalid_amount"), ("amount_in_dispute", -1, "invalid_amount"),
    ("amount_in_dispute", "1.234", "invalid_amount"), ("amount_in_dispute", 1.5, "invalid_amount"),
    ("amount_in_dispute", True, "invalid_amount"), ("amount_in_dispute", "1e20", "invalid_amount"),
    ("amount_in_dispute", "NaN", "invalid_amount"), ("amount_in_dispute", "Infinity", "invalid_amount"),
    ("mediator_ids", "x", "invalid_type"), ("mediator_ids", ["not-a-uuid"], "invalid_uuid"),
    ("mediator_ids", [1], "invalid_uuid"), ("mediator_ids", [R], "unknown_mediator"),
    ("risk_level", "purple", "invalid_choice"), ("risk_level", 1, "invalid_type"), ("risk_level", None, "required"),
    ("escalation_flag", "yes", "invalid_type"), ("escalation_flag", 1, "invalid_type"),
    ("escalation_flag", None, "required"),
    ("escalation_note", 1, "invalid_type"),
    ("status", "agreed", "invalid_initial_status"), ("status", "foo", "invalid_choice"), ("status", 1, "invalid_type"),
    ("deadline", "x", "invalid_date"), ("deadline", "2099-01-01", "deadline_needs_extension"),
    ("deadline_extensions", "x", "invalid_type"), ("deadline_extensions", [1], "invalid_type"),
    ("deadline_extensions", [{"new_deadline": "bad", "reason": "r"}], "invalid_date"),
    ("deadline_extensions", [{"new_deadline": "2027-01-01"}], "required"),
    ("deadline_extensions", [{"new_deadline": "2027-01-01", "reason": "r", "x": 1}], "unknown_field"),
    ("agreement", "x", "invalid_type"), ("agreement", {"form": "video"}, "invalid_choice"),
    ("agreement", {"form": "written", "amount": "-1"}, "invalid_amount"),
    ("agreement", {"form": "oral", "signed_on": "x"}, "invalid_date"),
    ("agreement", {"form": "oral", "attachment_ids": ["x"]}, "invalid_uuid"),
    ("agreement", {"form": "oral", "court_confirmation": "maybe"}, "invalid_choice"),
    ("agreement", {"form": "oral", "extra": 1}, "unknown_field"),
    ("outcome_note", 5, "invalid_type"),
    ("incident_id", "not-a-uuid", "invalid_uuid"), ("incident_id", 5, "invalid_uuid"),
    ("unknown_thing", 1, "unknown_field"), ("deadline_color", "red", "unknown_field"),
    ("rev", 5, "server_owned"), ("case_number", "340321108200-2026-9999", "server_owned"),
    ("created_by", R, "server_owned"), ("deleted", True, "server_owned"), ("ended_on", "2026-01-01", "server_owned"),
]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_wrong_types_for_every_case_field(world, lang):
    covered = {f for f, _, _ in BAD_FIELDS}
    from cunzhi.mediation.entities import mediation_case

    assert set(mediation_case.fields) <= covered, set(mediation_case.fields) - covered
    c = world.login("wanfucun.admin", lang=lang)
    counts = Counts(world)
    muts = []
    for name, value, _ in BAD_FIELDS:
        fields = good_case()
        if value is None and name in fields:
            fields[name] = None
        else:
            fields[name] = value
        muts.append(mutation("mediation_case", str(uuid.uuid4()), fields))
    r = push(c, muts)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    for (name, value, code), m, res in zip(BAD_FIELDS, muts, results, strict=True):
        assert res["status"] == "rejected", (name, value, res)
        assert "record" not in res
        err = res["error"]
        assert err["code"] == "validation_error", (name, value, err)
        h.assert_lang(err, "en" if lang == "en" else "zh")
        fields_codes = {(d["field"].split(".")[0], d["code"]) for d in err["details"]}
        assert (name if name != "deadline" or code != "deadline_needs_extension" else "deadline", code) \
            in fields_codes, (name, value, err)
        assert h.row(world.engine, "mediation_case", m["record_id"]) is None
        if isinstance(value, str) and len(value) > 8:
            assert value not in json.dumps(res, ensure_ascii=False), "error echoes the value sent"
    # nothing but the stored answers (so a resend is "duplicate")
    counts.same(allow=("sync_mutation",))
    assert h.count(world.engine, "sync_mutation") == counts.before["sync_mutation"] + len(muts)


BAD_EVENT_FIELDS = [
    ("case_id", "x", "case_not_found"), ("case_id", None, "case_not_found"), ("kind", "party", "invalid_choice"),
    ("kind", None, "required"), ("occurred_at", "2026-11-20T10:00:00", "invalid_datetime"),
    ("occurred_at", "2026-11-20", "invalid_datetime"), ("occurred_at", 1700000000, "invalid_datetime"),
    ("occurred_at", "3026-11-20T10:00:00+08:00", "out_of_range"), ("satisfaction", 6, "out_of_range"),
    ("satisfaction", 0, "out_of_range"), ("satisfaction", "5", "invalid_type"), ("fulfilled", "yes", "invalid_type"),
    ("escalation_signs", 0, "invalid_type"), ("participants", ["a"], "invalid_type"), ("content", {}, "invalid_type"),
    ("outcome", 1, "invalid_type"), ("attachment_ids", ["x"], "invalid_uuid"), ("attachment_ids", "x", "invalid_type"),
    ("nope", 1, "unknown_field"),
]


def test_wrong_types_for_every_event_field(world):
    c = world.c("VA")
    case_id = world.seeds["W"].case_id
    counts = Counts(world)
    muts = []
    for name, value, _ in BAD_EVENT_FIELDS:
        fields = {"case_id": case_id, "kind": "session", "occurred_at": "2026-11-20T10:00:00+08:00", name: value}
        muts.append(mutation("case_event", str(uuid.uuid4()), fields))
    results = push(c, muts).json()["results"]
    for (name, _value, code), res in zip(BAD_EVENT_FIELDS, results, strict=True):
        assert res["status"] == "rejected" and res["error"]["code"] == "validation_error", (name, res)
        assert (name, code) in {(d["field"].split(".")[0], d["code"]) for d in res["error"]["details"]}, (name, res)
    counts.same(allow=("sync_mutation",))


# ---- the push envelope ------------------------------------------------------------------------------
def _envelopes(client_id: str) -> list[tuple[str, object]]:
    m = mutation("mediation_case", str(uuid.uuid4()), good_case())
    return [
        ("no client_id", {"mutations": [m]}),
        ("client_id not string", {"client_id": 5, "mutations": [m]}),
        ("other client_id", {"client_id": str(uuid.uuid4()), "mutations": [m]}),
        ("no mutations", {"client_id": client_id}),
        ("mutations not array", {"client_id": client_id, "mutations": {"a": m}}),
        ("mutations null", {"client_id": client_id, "mutations": None}),
        ("mutation not object", {"client_id": client_id, "mutations": [m, "x"]}),
        ("bad mutation_id", {"client_id": client_id, "mutations": [m, dict(m, mutation_id="123")]}),
        ("bad record_id", {"client_id": client_id, "mutations": [m, dict(m, record_id="'; DROP TABLE x;--")]}),
        ("entity not string", {"client_id": client_id, "mutations": [m, dict(m, entity=["mediation_case"])]}),
        ("bad op", {"client_id": client_id, "mutations": [m, dict(m, op="patch")]}),
        ("base_rev negative", {"client_id": client_id, "mutations": [m, dict(m, base_rev=-1)]}),
        ("base_rev string", {"client_id": client_id, "mutations": [m, dict(m, base_rev="0")]}),
        ("base_rev float", {"client_id": client_id, "mutations": [m, dict(m, base_rev=1.5)]}),
        ("base_rev huge", {"client_id": client_id, "mutations": [m, dict(m, base_rev=2**70)]}),
        ("base_rev bool", {"client_id": client_id, "mutations": [m, dict(m, base_rev=True)]}),
        ("fields not object", {"client_id": client_id, "mutations": [m, dict(m, fields=["title"])]}),
        ("body is a list", [m]),
        ("body is a string", "push"),
        ("body is null", None),
    ]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_bad_push_envelopes_are_422_and_store_nothing(world, lang):
    c = world.login("wanfucun.mediator", lang=lang)
    counts = Counts(world)
    for name, body in _envelopes(c.client_id):
        r = c.post("/api/v1/sync/push", json=body)
        err = h.assert_error(r, 422, lang="en" if lang == "en" else "zh")
        assert err["code"] == "validation_error", (name, err)
        assert err["details"], name
        assert "DROP TABLE" not in r.text
    counts.same()


@pytest.mark.parametrize("raw,ctype", [
    (b"not json at all", "application/json"),
    (b'{"client_id": "x", "mutations": [', "application/json"),
    (b'{"client_id": "\xff\xfe", "mutations": []}', "application/json"),
    (b"\xff\xfe\xfd", "application/json"),
    (b'{"client_id": "a", "mutations": []}\x00', "application/json"),
    (b"client_id=a&mutations=b", "application/x-www-form-urlencoded"),
    (b'{"client_id": "a", "mutations": []}', "text/plain"),
    (b'<?xml version="1.0"?><push/>', "application/xml"),
    (b"", "application/json"),
    (b"[" * 100_000 + b"]" * 100_000, "application/json"),
    (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "application/json"),
])
def test_non_json_and_bad_utf8_bodies(world, raw, ctype):
    c = world.c("M")
    counts = Counts(world)
    for lang in ("zh-CN", "en"):
        r = c.post("/api/v1/sync/push", content=raw, headers={"Content-Type": ctype, "Accept-Language": lang})
        err = h.assert_error(r, 422, lang="en" if lang == "en" else "zh")
        assert err["code"] in ("invalid_json", "validation_error"), err
    counts.same()


def test_deeply_nested_json_inside_fields(world):
    c = world.c("M")
    counts = Counts(world)
    m = mutation("mediation_case", str(uuid.uuid4()), good_case(parties="DEEP"))
    body = json.dumps({"client_id": c.client_id, "mutations": [m]}).replace('"DEEP"', "[" * 5000 + "1" + "]" * 5000)
    r = c.post("/api/v1/sync/push", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code in (200, 422), r.text[:300]
    if r.status_code == 200:
        res = r.json()["results"][0]
        assert res["status"] == "rejected" and res["error"]["code"] == "validation_error"
        counts.same(allow=("sync_mutation",))
    else:
        h.assert_error(r, 422)
        counts.same()


# ---- sizes --------------------------------------------------------------------------------------------
def test_push_over_5_mib_is_413(world):
    c = world.c("M")
    counts = Counts(world)
    big = good_case(description="长" * 9000)  # about 27 KB of UTF-8 per mutation
    muts = [mutation("mediation_case", str(uuid.uuid4()), big) for _ in range(200)]
    body = json.dumps({"client_id": c.client_id, "mutations": muts}, ensure_ascii=False).encode()
    assert len(body) > 5 * 1024 * 1024
    h.assert_error(c.post("/api/v1/sync/push", content=body, headers={"Content-Type": "application/json"}),
                   413, "payload_too_large")
    # streamed without a Content-Length (chunked): still 413, nothing stored

    def chunks():
        for i in range(0, len(body), 65536):
            yield body[i:i + 65536]

    r = c.post("/api/v1/sync/push", content=chunks(), headers={"Content-Type": "application/json",
                                                               "Accept-Language": "en"})
    h.assert_error(r, 413, "payload_too_large", lang="en")
    counts.same()


def test_more_than_500_mutations_is_413(world):
    c = world.c("M")
    counts = Counts(world)
    muts = [mutation("mediation_case", str(uuid.uuid4()), good_case()) for _ in range(501)]
    h.assert_error(push(c, muts), 413, "too_many_mutations")
    r = push(c, muts, headers={"Accept-Language": "en"})
    h.assert_error(r, 413, "too_many_mutations", lang="en")
    counts.same()
    # exactly 500 is fine
    r = push(c, muts[:500])
    assert r.status_code == 200 and all(x["status"] == "applied" for x in r.json()["results"])


def test_login_body_over_1_mib_is_413(world):
    c = world.anon()
    counts = Counts(world)
    data = {"username": "wanfucun.mediator", "password": "x" * (1024 * 1024 + 10), "client_id": str(uuid.uuid4())}
    h.assert_error(c.post("/api/v1/auth/token", data=data), 413, "payload_too_large")
    counts.same()


def test_other_json_bodies_over_1_mib_are_413(world):
    c = world.c("VA")
    counts = Counts(world)
    body = {"base_rev": 1, "choices": {"title": {"value": "x" * (1024 * 1024 + 10)}}}
    h.assert_error(c.post(f"/api/v1/conflicts/{world.seeds['W'].conflict_id}/resolve", json=body), 413,
                   "payload_too_large")
    counts.same()


# ---- the login form -----------------------------------------------------------------------------------
@pytest.mark.parametrize("body,ctype,status", [
    (b"username=wanfucun.mediator&password=cunzhi-demo&client_id=not-a-uuid", "application/x-www-form-urlencoded", 422),
    (b"username=wanfucun.mediator&password=cunzhi-demo", "application/x-www-form-urlencoded", 422),
    (b"username=%FF%FE&password=cunzhi-demo&client_id=3f0e8a70-9a8e-4a53-9d38-2f7c0f5b1a01",
     "application/x-www-form-urlencoded", 401),
    (b"username=\xff\xfe&password=\xff&client_id=3f0e8a70-9a8e-4a53-9d38-2f7c0f5b1a01",
     "application/x-www-form-urlencoded", 401),
    (b"username=a%00b&password=cunzhi-demo&client_id=3f0e8a70-9a8e-4a53-9d38-2f7c0f5b1a01",
     "application/x-www-form-urlencoded", 401),
    (b"username=wanfucun.mediator'--&password=' OR '1'='1&client_id=3f0e8a70-9a8e-4a53-9d38-2f7c0f5b1a01",
     "application/x-www-form-urlencoded", 401),
    (json.dumps({"username": "wanfucun.mediator", "password": "cunzhi-demo",
                 "client_id": "3f0e8a70-9a8e-4a53-9d38-2f7c0f5b1a01"}).encode(), "application/json", 422),
    (b"garbage", "text/plain", 422),
    (b"username=" + b"u" * 65 + b"&password=x&client_id=3f0e8a70-9a8e-4a53-9d38-2f7c0f5b1a01",
     "application/x-www-form-urlencoded", 422),
])
def test_bad_login_forms(world, body, ctype, status):
    c = world.anon()
    counts = Counts(world)
    for lang in ("zh-CN", "en"):
        r = c.post("/api/v1/auth/token", content=body, headers={"Content-Type": ctype, "Accept-Language": lang})
        h.assert_error(r, status, lang="en" if lang == "en" else "zh")
        assert "cunzhi-demo" not in r.text
    # a refused login (401) is a failed login: security (issue 11) audits it ("login_failed") and counts it for
    # the throttle (login_attempt); a malformed form (422) is refused before that and leaves no trace
    counts.same(allow=("audit_entry",) if status == 401 else ())
    if status == 401:
        assert _actions_since(world, counts) <= {"login_failed"}


def _actions_since(world: World, counts: Counts) -> set[str]:
    with world.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT action FROM audit_entry ORDER BY id")).scalars().all()
    return set(rows[counts.before["audit_entry"]:])


def test_multipart_login_with_bad_utf8(world):
    c = world.anon()
    counts = Counts(world)
    boundary = "XyZ"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\n").encode() + b"\xff\xfe\xfd" + (
        f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nx\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"client_id\"\r\n\r\n{uuid.uuid4()}\r\n"
        f"--{boundary}--\r\n").encode()
    r = c.post("/api/v1/auth/token", content=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert 400 <= r.status_code < 500, r.text
    h.assert_error(r, r.status_code)
    counts.same(allow=("audit_entry",) if r.status_code == 401 else ())  # a failed login is audited (issue 11)
    if r.status_code == 401:
        assert _actions_since(world, counts) <= {"login_failed"}


# ---- injection strings are data ----------------------------------------------------------------------
INJECTIONS = ["'; DROP TABLE mediation_case; --", "\" OR 1=1 --", "<script>alert('x')</script>",
              "<img src=x onerror=alert(1)>", "Robert'); DROP TABLE app_user;--", "%' OR '%'='", "_%_",
              "{{7*7}}", "${jndi:ldap://x}", "\\x00\\'", "😀𠀀 \u202e"]


def test_sql_and_html_strings_are_stored_verbatim(world):
    c = world.c("VA")
    ids = []
    for i, s in enumerate(INJECTIONS):
        rid = str(uuid.uuid4())
        fields = good_case(title=f"注入{i} {s}"[:200], description=s, place=s[:200], outcome_note=None,
                           escalation_note=s, parties=[{"name": s[:50], "role": "applicant", "address": s}])
        res = push(c, [mutation("mediation_case", rid, fields)]).json()["results"][0]
        assert res["status"] == "applied", (s, res)
        ids.append((rid, s))
    assert h.count(world.engine, "mediation_case") > 0 and h.count(world.engine, "app_user") >= 10
    for rid, s in ids:
        r = c.get(f"/api/v1/mediation-cases/{rid}")
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
        body = r.json()
        assert body["description"] == s.strip() and body["escalation_note"] == s.strip()
        assert body["parties"][0]["name"] == s[:50].strip() and body["parties"][0]["address"] == s.strip()
    # searching for them finds exactly them: LIKE wildcards are escaped
    for i, s in enumerate(INJECTIONS):
        r = c.get("/api/v1/mediation-cases", params={"q": f"注入{i} {s}"[:100].strip(), "limit": 500})
        assert r.status_code == 200, r.text
        got = [x["id"] for x in r.json()["items"]]
        assert got == [ids[i][0]], (s, got)
    r = c.get("/api/v1/mediation-cases", params={"q": "%", "limit": 500})
    assert {x["id"] for x in r.json()["items"]} == {ids[5][0], ids[6][0]}  # only the titles holding a '%'
    # pull carries them verbatim too
    from tests.support.device import pull_all

    changes, _ = pull_all(c)
    by_id = {ch["record"]["id"]: ch["record"] for ch in changes}
    for rid, s in ids:
        assert by_id[rid]["description"] == s.strip()


@pytest.mark.parametrize("params,status", [
    ({"q": "' OR 1=1 --"}, 200), ({"q": "\x00"}, 422), ({"q": "a\x00b"}, 422), ({"q": "x" * 101}, 422),
    ({"status": "' OR '1'='1"}, 422), ({"status": "registered,foo"}, 422), ({"risk_level": "<script>"}, 422),
    ({"category": "x' OR 1=1 --"}, 200), ({"source": "\x00"}, 422), ({"org_code": "340321' OR 1=1"}, 422),
    ({"org_code": "abc"}, 422), ({"received_from": "2026-13-45"}, 422), ({"received_to": "'; --"}, 422),
    ({"overdue": "maybe"}, 422), ({"escalation_flag": "2"}, 422), ({"limit": "0"}, 422), ({"limit": "501"}, 422),
    ({"limit": str(10**30)}, 422), ({"limit": "-1"}, 422), ({"limit": "1e3"}, 422), ({"limit": "abc"}, 422),
    ({"cursor": "'; DROP TABLE mediation_case;--"}, 400), ({"cursor": "\x00"}, 422), ({"cursor": "W10="}, 400),
    ({"cursor": "WyIyMDI2LTAxLTAxIiwgIng7In0="}, 400), ({"cursor": "x" * 401}, 422),
    ({"updated_since": "x" * 41}, 422), ({"include_deleted": "yes please"}, 422),
])
def test_bad_list_query_params(world, params, status):
    c = world.c("TA")
    counts = Counts(world)
    for lang in ("zh-CN", "en"):
        r = c.get("/api/v1/mediation-cases", params=params, headers={"Accept-Language": lang})
        if status == 200:
            assert r.status_code == 200, r.text
            assert r.json()["items"] == [] or "q" in params
        else:
            h.assert_error(r, status, lang="en" if lang == "en" else "zh")
            assert "DROP" not in r.text and "<script>" not in r.text
    counts.same(allow=("audit_entry",))


@pytest.mark.parametrize("path,params,status", [
    ("/api/v1/sync/pull", {"limit": str(10**30)}, 422), ("/api/v1/sync/pull", {"limit": "5001"}, 422),
    ("/api/v1/sync/pull", {"limit": "0"}, 422), ("/api/v1/sync/pull", {"limit": "x"}, 422),
    ("/api/v1/sync/pull", {"cursor": "'; DROP TABLE sync_feed;--"}, 400),
    ("/api/v1/sync/pull", {"cursor": "\x00\x01"}, 422), ("/api/v1/sync/pull", {"cursor": "x" * 2001}, 422),
    ("/api/v1/conflicts", {"status": "open' OR 1=1"}, 422), ("/api/v1/conflicts", {"record_id": "x"}, 422),
    ("/api/v1/conflicts", {"limit": str(10**30)}, 422), ("/api/v1/conflicts", {"cursor": "x|y"}, 400),
    ("/api/v1/conflicts", {"cursor": "\x00"}, 422), ("/api/v1/conflicts", {"entity": "\x00' OR 1=1"}, 422),
    ("/api/v1/conflicts", {"entity": "' OR 1=1 --"}, 200),
    ("/api/v1/sessions", {"active_only": "perhaps"}, 422), ("/api/v1/me", {"x": "\x00"}, 422),
    ("/api/v1/reference", {"x": "a\x00"}, 422),
])
def test_bad_query_params_elsewhere(world, path, params, status):
    c = world.c("TA")
    counts = Counts(world)
    r = c.get(path, params=params)
    if status == 200:
        assert r.status_code == 200 and r.json()["items"] == [], r.text
    else:
        h.assert_error(r, status)
    r = c.get(path, params=params, headers={"Accept-Language": "en"})
    assert r.status_code == status
    if status != 200:
        h.assert_lang(r.json(), "en")
    counts.same(allow=("audit_entry",))


# ---- paths ---------------------------------------------------------------------------------------------
BAD_IDS = ["not-a-uuid", "1", "' OR 1=1 --", "%00", "3f0e8a70-9a8e-4a53-9d38-2f7c0f5b1a0", "x" * 300]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_bad_uuids_in_paths(world, bad):
    c = world.c("TA")
    counts = Counts(world)
    from urllib.parse import quote

    b = quote(bad, safe="")
    for method, path, kw in [
        ("GET", f"/api/v1/mediation-cases/{b}", {}), ("GET", f"/api/v1/mediation-cases/{b}/history", {}),
        ("GET", f"/api/v1/conflicts/{b}", {}),
        ("POST", f"/api/v1/conflicts/{b}/resolve", {"json": {"base_rev": 1, "choices": {}}}),
        ("GET", f"/api/v1/attachments/{b}", {}), ("DELETE", f"/api/v1/sessions/{b}", {}),
        ("PUT", f"/api/v1/attachments/{b}", {"files": {"file": ("a.png", h.image_bytes("PNG"), "image/png")},
                                              "data": {"sha256": "0" * 64, "entity": "mediation_case",
                                                       "record_id": str(uuid.uuid4())}}),
    ]:
        for lang in ("zh-CN", "en"):
            r = c.request(method, path, headers={"Accept-Language": lang}, **kw)
            err = h.assert_error(r, 422, "validation_error", lang="en" if lang == "en" else "zh")
            assert {d["code"] for d in err["details"]} & {"invalid_uuid"}, (method, path, err)
    counts.same()


def test_unknown_paths_and_methods(world):
    c = world.c("TA")
    h.assert_error(c.get("/api/v1/nope"), 404, "not_found")
    h.assert_error(c.get("/api/v2/mediation-cases"), 404, "not_found")
    h.assert_error(c.post("/api/v1/mediation-cases", json={}), 405, "method_not_allowed")
    h.assert_error(c.delete("/api/v1/me", headers={"Accept-Language": "en"}), 405, "method_not_allowed", lang="en")
    h.assert_error(c.patch("/api/v1/sync/push", json={}), 405)


# ---- resolve bodies -----------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [
    {}, {"base_rev": "1", "choices": {"parties": "client"}}, {"base_rev": -1, "choices": {"parties": "client"}},
    {"base_rev": 2**70, "choices": {"parties": "client"}}, {"base_rev": 1}, {"base_rev": 1, "choices": []},
    {"base_rev": 1, "choices": {}}, {"base_rev": 2, "choices": {"parties": "mine"}},
    {"base_rev": 2, "choices": {"parties": {"val": 1}}}, {"base_rev": 1, "choices": {"title": "client"}},
    {"base_rev": 1, "choices": {"parties": "client", "title": "server"}}, [1, 2], "x", None,
    {"base_rev": 2, "choices": {"parties": {"value": [{"name": "a", "role": "boss"}]}}},
    {"base_rev": 2, "choices": {"parties": {"value": "<script>"}}},
])
def test_bad_resolve_bodies(world, body):
    seed = world.seeds["W"]
    c = world.c("VA")
    counts = Counts(world)
    r = c.post(f"/api/v1/conflicts/{seed.conflict_id}/resolve", json=body)
    h.assert_error(r, 422)
    assert h.row(world.engine, "sync_conflict", seed.conflict_id)["status"] == "open"
    assert seed.phones[2] not in r.text
    counts.same()


# ---- unknown fields and wrong content types elsewhere -------------------------------------------------
def test_unknown_entity_and_unknown_envelope_fields(world):
    c = world.c("M")
    counts = Counts(world)
    body = {"client_id": c.client_id, "extra": 1, "mutations": [
        dict(mutation("patrol_v9", str(uuid.uuid4()), {"a": 1}), surprise=True),
        mutation("<script>", str(uuid.uuid4()), {}),
    ]}
    r = c.post("/api/v1/sync/push", json=body)
    assert r.status_code == 200, r.text
    for res in r.json()["results"]:
        assert res["status"] == "rejected" and res["error"]["code"] == "unknown_entity", res
        assert "record" not in res
    counts.same(allow=("sync_mutation",))


def test_attachment_upload_with_wrong_content_types(world):
    c = world.c("M")
    counts = Counts(world)
    url = f"/api/v1/attachments/{uuid.uuid4()}"
    h.assert_error(c.put(url, json={"file": "x"}), 422)
    h.assert_error(c.put(url, content=h.image_bytes("PNG"), headers={"Content-Type": "image/png"}), 422)
    h.assert_error(c.put(url, data={"sha256": "0" * 64, "entity": "mediation_case", "record_id": str(uuid.uuid4())}),
                   422)
    r = c.put(url, files={"file": ("a.png", h.image_bytes("PNG"), "image/png")},
              data={"sha256": "zz", "entity": "mediation_case", "record_id": str(uuid.uuid4())})
    h.assert_error(r, 422)
    r = c.put(url, files={"file": ("a.png", h.image_bytes("PNG"), "image/png")},
              data={"sha256": "0" * 64, "entity": "nope", "record_id": str(uuid.uuid4())})
    assert h.assert_error(r, 422)["details"][0]["code"] == "unknown_entity"
    r = c.put(url, files={"file": ("a.png", h.image_bytes("PNG"), "image/png")},
              data={"sha256": "0" * 64, "entity": "mediation_case", "record_id": "x"})
    h.assert_error(r, 422)
    counts.same()


def test_unauthenticated_bad_requests_are_401_first(world):
    c = world.anon()
    for method, path in [("GET", "/api/v1/me"), ("POST", "/api/v1/sync/push"), ("GET", "/api/v1/sync/pull"),
                         ("GET", "/api/v1/mediation-cases"), ("GET", "/api/v1/reference")]:
        r = c.request(method, path, headers={"Authorization": "Bearer " + "x" * 5000})
        h.assert_error(r, 401, "not_authenticated")
        r = c.request(method, path, headers={"Authorization": "Basic dXNlcjpwYXNz", "Accept-Language": "en"})
        h.assert_error(r, 401, "not_authenticated", lang="en")


def test_nul_in_entity_name_is_rejected_per_mutation(world):
    c = world.c("M")
    counts = Counts(world)
    good = mutation("mediation_case", str(uuid.uuid4()), good_case())
    r = c.post("/api/v1/sync/push", json={"client_id": c.client_id,
                                          "mutations": [mutation("\x00", str(uuid.uuid4()), {}), good]})
    assert r.status_code == 200, r.text  # one rejected mutation, not a failed push (PostgreSQL cannot store a NUL)
    bad, ok = r.json()["results"]
    assert bad["status"] == "rejected" and bad["error"]["code"] == "unknown_entity"
    assert ok["status"] == "applied"
    # the good case and the bookkeeping of both mutations were stored; nothing else
    counts.same(allow=("mediation_case", "sync_mutation", "record_history", "sync_feed", "audit_entry"))
    after = counts.snapshot()
    assert after["mediation_case"] == counts.before["mediation_case"] + 1
    assert after["sync_mutation"] == counts.before["sync_mutation"] + 2


@pytest.mark.parametrize("header,lang", [(None, "zh"), ("zh-CN", "zh"), ("zh", "zh"), ("en", "en"),
                                         ("en-US,en;q=0.9", "en"), ("en-GB", "en"), ("fr-FR", "zh"),
                                         ("zh-TW,en;q=0.5", "zh"), ("", "zh"), ("*", "zh"), ("\u00e9\u00e8".encode("latin-1"), "zh")])
def test_language_of_error_messages(world, header, lang):
    c = world.c("M")
    headers = {"Accept-Language": header} if header is not None else {}
    if header is None:
        c = world.anon()
        c.headers.pop("Accept-Language", None)
        c.headers["Authorization"] = world.c("M").headers["Authorization"]
    r = c.get(f"/api/v1/mediation-cases/{uuid.uuid4()}", headers=headers)
    h.assert_error(r, 404, "not_found", lang=lang)
    r = c.get("/api/v1/mediation-cases/not-a-uuid", headers=headers)
    h.assert_error(r, 422, "validation_error", lang=lang)


def test_every_error_code_has_both_languages():
    from cunzhi.core.i18n import MESSAGES

    for code, (zh, en) in MESSAGES.items():
        assert h._HAN.search(zh), code
        assert en and not h._HAN.search(en), code


@pytest.mark.parametrize("literal,where", [("1e400", "field"), ("-1e400", "field"), ("NaN", "field"),
                                           ("Infinity", "field"), ("1e400", "base_rev"), ("NaN", "base_rev"),
                                           ("9" * 5000, "field"), ("9" * 5000, "base_rev")])
def test_non_finite_and_enormous_numbers(world, literal, where):
    c = world.c("M")
    counts = Counts(world)
    m = mutation("mediation_case", str(uuid.uuid4()), good_case(people_involved="__N__"))
    if where == "base_rev":
        m["base_rev"] = "__N__"
        m["fields"]["people_involved"] = 2
    body = json.dumps({"client_id": c.client_id, "mutations": [m]}).replace('"__N__"', literal)
    r = c.post("/api/v1/sync/push", content=body, headers={"Content-Type": "application/json"})
    if where == "base_rev" or r.status_code != 200:
        h.assert_error(r, 422)
        counts.same()
    else:
        res = r.json()["results"][0]
        assert res["status"] == "rejected" and res["error"]["code"] == "validation_error", res
        assert res["error"]["details"][0]["field"] == "people_involved"
        counts.same(allow=("sync_mutation",))
