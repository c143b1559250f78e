"""Webhooks against a real receiver on loopback: signed by Standard Webhooks (checked with the library's
verifier), every change delivered at least once and in order per record through drops, hangs and 5xx,
nothing sent twice by two server processes, nothing lost by a kill -9 between commit and send."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook

from tests.integrations.receiver import Receiver
from tests.support.device import login, mutation, new_case_fields, push
from tests.support.server import ProcessServer, ThreadServer

W = "340321108200"
FAST = {"CUNZHI_WEBHOOK_ALLOW_PRIVATE": "1", "CUNZHI_WEBHOOK_TIMEOUT_S": "1", "CUNZHI_WEBHOOK_POLL_S": "0.1",
        "CUNZHI_WEBHOOK_BACKOFF_S": "0.1"}


@pytest.fixture
def hook_env(monkeypatch):
    from cunzhi.core.config import get_settings

    for k, v in FAST.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def hook_server(database, hook_env):
    with ThreadServer() as srv:
        yield srv


def _register(admin, url: str, events=("created", "updated", "deleted", "state_changed"),
              entities=("mediation_case", "case_event")) -> dict:
    r = admin.post("/api/v1/webhooks", json={"url": url, "entities": list(entities), "events": list(events)})
    assert r.status_code == 201, r.text
    return r.json()


def _verified(rcv: Receiver, secret: str) -> list[dict]:
    """Accepted deliveries, each checked by the Standard Webhooks library (raises on a bad signature)."""
    wh = Webhook(secret)
    out = []
    for g in rcv.accepted():
        payload = wh.verify(g["body"], g["headers"])
        out.append({"id": g["headers"]["webhook-id"], **payload})
    return out


def _case_changes(client, case_id: str, n_updates: int) -> int:
    """Create a case, move it along, edit it: answers the last rev."""
    r = push(client, [mutation("mediation_case", case_id, new_case_fields(W))])
    rev = r.json()["results"][0]["record"]["rev"]
    for i in range(n_updates):
        fields = {"status": "mediating"} if i == 0 else {"place": f"东庄 {i} 号"}
        r = push(client, [mutation("mediation_case", case_id, fields, base_rev=rev)])
        assert r.json()["results"][0]["status"] == "applied", r.text
        rev = r.json()["results"][0]["record"]["rev"]
    return rev


def test_every_change_arrives_signed_in_order_through_faults(hook_server, as_user):
    def behave(_id: str, n: int) -> str:  # every message fails its first tries in turn: 503, drop, hang
        return {1: "fail", 2: "drop", 3: "hang"}.get(n, "ok")

    with Receiver(behave) as rcv:
        admin = as_user("wanfu.admin")
        ep = _register(admin, rcv.url)
        assert ep["secret"].startswith("whsec_")
        assert "secret" not in admin.get("/api/v1/webhooks").json()["items"][0]
        mediator = as_user("wanfucun.mediator")
        cases = [str(uuid.uuid4()) for _ in range(3)]
        last = {c: _case_changes(mediator, c, 3) for c in cases}
        want = {(c, rev) for c in cases for rev in range(1, last[c] + 1)}
        rcv.wait_for(lambda: {(d["data"]["id"], d["data"]["rev"]) for d in _verified(rcv, ep["secret"])} >= want)
        got = _verified(rcv, ep["secret"])
        for c in cases:  # in order per record: revs arrive rising
            revs = [d["data"]["rev"] for d in got if d["data"]["id"] == c]
            assert revs == sorted(revs) and set(revs) == set(range(1, last[c] + 1))
        types = {(d["data"]["id"], d["data"]["rev"]): d["type"] for d in got}
        assert types[(cases[0], 1)] == "mediation_case.created"
        assert types[(cases[0], 2)] == "mediation_case.state_changed"
        assert types[(cases[0], 3)] == "mediation_case.updated"
        first = next(d for d in got if d["data"]["id"] == cases[0] and d["data"]["rev"] == 1)
        assert first["data"]["state"] == "registered" and first["data"]["record"]["case_number"]
        assert first["data"]["record"]["parties"][0]["phone"] == "138****5678"  # the record as a key sees it
        # the attempt log: four attempts for each, the first three failed with their reasons
        # the receiver holds a message before its 200 reaches the worker, which then marks it delivered
        def log_now() -> list[dict]:
            return admin.get(f"/api/v1/webhooks/{ep['id']}/deliveries").json()["items"]

        rcv.wait_for(lambda: all(d["state"] == "delivered" for d in log_now()))
        log = log_now()
        assert len(log) == len(want) and all(d["state"] == "delivered" for d in log)
        tries = log[0]["attempt_log"]
        assert [t["status_code"] for t in tries] == [503, None, None, 200]
        assert tries[2]["error"] == "timeout"


def test_two_server_processes_never_send_one_delivery_twice(database, hook_env, tmp_path):
    env = {**FAST, "CUNZHI_DATABASE_URL": database, "CUNZHI_DATA_DIR": str(tmp_path),
           "CUNZHI_SECRET_KEY": "test-secret-key-not-for-production"}
    with Receiver() as rcv, ProcessServer(env) as a, ProcessServer(env) as b:
        admin = login(a.base, "wanfu.admin")
        ep = _register(admin, rcv.url)
        devices = [login(a.base, "wanfucun.mediator"), login(b.base, "wanfucun.mediator")]
        n = 0
        for i in range(12):
            _case_changes(devices[i % 2], str(uuid.uuid4()), 1)
            n += 2
        rcv.wait_for(lambda: len(rcv.accepted()) >= n)
        import time

        time.sleep(1.5)  # time for a second send, were there one
        ids = [g["headers"]["webhook-id"] for g in rcv.accepted()]
        assert len(ids) == n and len(set(ids)) == n
        _verified(rcv, ep["secret"])


def test_kill_between_commit_and_send_loses_nothing(database, hook_env, tmp_path):
    env = {**FAST, "CUNZHI_DATABASE_URL": database, "CUNZHI_DATA_DIR": str(tmp_path),
           "CUNZHI_SECRET_KEY": "test-secret-key-not-for-production"}
    with Receiver() as rcv:
        with ProcessServer({**env, "CUNZHI_WEBHOOK_WORKER": "0"}) as srv:  # commits, never sends
            admin = login(srv.base, "wanfu.admin")
            ep = _register(admin, rcv.url)
            mediator = login(srv.base, "wanfucun.mediator")
            cases = [str(uuid.uuid4()) for _ in range(4)]
            for c in cases:
                _case_changes(mediator, c, 1)
            srv.kill()
        assert rcv.got == []
        with ProcessServer(env):
            rcv.wait_for(lambda: len(rcv.accepted()) >= 8)
        got = {(d["data"]["id"], d["data"]["rev"]) for d in _verified(rcv, ep["secret"])}
        assert got == {(c, r) for c in cases for r in (1, 2)}


def test_gone_stops_and_tells_the_creator(hook_server, as_user):
    with Receiver(lambda _id, _n: "gone") as rcv:
        admin = as_user("wanfu.admin")
        ep = _register(admin, rcv.url)
        _case_changes(as_user("wanfucun.mediator"), str(uuid.uuid4()), 0)
        rcv.wait_for(lambda: len(rcv.got) >= 1)
        rcv.wait_for(lambda: admin.get(f"/api/v1/webhooks/{ep['id']}").json()["disabled_at"] is not None)
        notices = admin.get("/api/v1/notices").json()["items"]
        assert [(n["code"], n["params"]["endpoint_id"]) for n in notices] == [("webhook_disabled", ep["id"])]
        _case_changes(as_user("wanfucun.mediator"), str(uuid.uuid4()), 0)
        import time

        time.sleep(1)
        assert len(rcv.got) == 1  # a disabled endpoint gets nothing more
        # resuming enables it again
        r = admin.patch(f"/api/v1/webhooks/{ep['id']}", json={"paused": False})
        assert r.status_code == 200 and r.json()["disabled_at"] is None


def test_failing_for_three_days_disables(hook_server, as_user, database):
    with Receiver(lambda _id, _n: "fail") as rcv:
        admin = as_user("wanfu.admin")
        ep = _register(admin, rcv.url)
        engine = sa.create_engine(database)
        with engine.begin() as conn:
            conn.execute(sa.text("update webhook_endpoint set failing_since = :t where id = :i"),
                         {"t": datetime.now(timezone.utc) - timedelta(days=3, minutes=1), "i": ep["id"]})
        engine.dispose()
        _case_changes(as_user("wanfucun.mediator"), str(uuid.uuid4()), 0)
        rcv.wait_for(lambda: admin.get(f"/api/v1/webhooks/{ep['id']}").json()["disabled_at"] is not None)
        assert admin.get("/api/v1/notices").json()["items"][0]["params"]["reason"] == "failing"


def test_a_4xx_stops_a_delivery_and_replay_sends_it_again(hook_server, as_user):
    answers = {"mode": "bad"}
    with Receiver(lambda _id, _n: answers["mode"]) as rcv:
        admin = as_user("wanfu.admin")
        ep = _register(admin, rcv.url, events=("created",))
        _case_changes(as_user("wanfucun.mediator"), str(uuid.uuid4()), 2)  # one created, two updates unsent
        rcv.wait_for(lambda: len(rcv.got) >= 1)
        log = admin.get(f"/api/v1/webhooks/{ep['id']}/deliveries").json()["items"]
        rcv.wait_for(lambda: admin.get(f"/api/v1/webhooks/{ep['id']}/deliveries").json()["items"][0]["state"]
                     == "failed")
        assert len(log) == 1 and len(rcv.got) == 1
        answers["mode"] = "ok"
        r = admin.post(f"/api/v1/webhooks/{ep['id']}/replay", json={"delivery_id": log[0]["id"]})
        assert r.status_code == 200 and r.json() == {"replayed": 1}
        rcv.wait_for(lambda: len(rcv.accepted()) == 1)
        assert rcv.accepted()[0]["headers"]["webhook-id"] == log[0]["id"]  # the same id: receivers de-duplicate
        since = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
        assert admin.post(f"/api/v1/webhooks/{ep['id']}/replay", json={"since": since}).json() == {"replayed": 1}
        rcv.wait_for(lambda: len(rcv.accepted()) == 2)
        r = admin.post(f"/api/v1/webhooks/{ep['id']}/replay", json={"delivery_id": "msg_nope"})
        assert r.status_code == 404
        assert admin.post(f"/api/v1/webhooks/{ep['id']}/replay", json={}).status_code == 422


def test_paused_endpoints_wait_and_deleted_ones_stop(hook_server, as_user):
    with Receiver() as rcv:
        admin = as_user("wanfu.admin")
        ep = _register(admin, rcv.url)
        assert admin.patch(f"/api/v1/webhooks/{ep['id']}", json={"paused": True}).json()["paused"] is True
        _case_changes(as_user("wanfucun.mediator"), str(uuid.uuid4()), 0)
        import time

        time.sleep(1)
        assert rcv.got == []
        admin.patch(f"/api/v1/webhooks/{ep['id']}", json={"paused": False})
        rcv.wait_for(lambda: len(rcv.accepted()) == 1)
        assert admin.delete(f"/api/v1/webhooks/{ep['id']}").status_code == 204
        assert admin.get(f"/api/v1/webhooks/{ep['id']}").status_code == 404


def test_endpoint_urls_and_who_may_register(server, as_user, monkeypatch):
    admin = as_user("wanfu.admin")

    def bad(url: str) -> str:
        r = admin.post("/api/v1/webhooks", json={"url": url, "entities": ["mediation_case"], "events": ["created"]})
        assert r.status_code == 422, r.text
        return r.json()["details"][0]["code"]

    assert bad("http://hooks.example.org/hook") == "url_not_https"
    assert bad("https://127.0.0.1/hook") == "url_private"
    assert bad("https://10.1.2.3/hook") == "url_private"
    assert bad("https://localhost/hook") == "url_private"
    assert bad("ftp://hooks.example.org/") == "invalid_url"
    r = admin.post("/api/v1/webhooks", json={"url": "https://hooks.example.org/h", "entities": ["nope"],
                                             "events": ["created"]})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "entities"
    r = as_user("wanfucun.mediator").post("/api/v1/webhooks", json={"url": "https://hooks.example.org/h",
                                                                    "entities": ["mediation_case"],
                                                                    "events": ["created"]})
    assert r.status_code == 403
    r = admin.post("/api/v1/webhooks", json={"url": "https://hooks.example.org/h", "entities": ["mediation_case"],
                                             "events": ["created"], "org_code": "340321109"})
    assert r.status_code == 404  # another township looks absent
    other = as_user("tangji.admin")
    ep = admin.post("/api/v1/webhooks", json={"url": "https://hooks.example.org/h", "entities": ["mediation_case"],
                                              "events": ["created"]}).json()
    assert other.get(f"/api/v1/webhooks/{ep['id']}").status_code == 404
    assert other.get(f"/api/v1/webhooks/{ep['id']}/deliveries").status_code == 404
    assert json.dumps(admin.get("/api/v1/webhooks").json()).count("whsec_") == 0
