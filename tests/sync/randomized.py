"""A seeded fuzzer for sync (fault scenario 10): simulated phones edit offline while a fault injector drops
requests before they are sent, loses answers after the server committed, duplicates, delays (delivers
late, out of order) and reorders pushes; at the end every phone syncs until quiet and the run checks:

- every device's replica equals what the server now serves that user (records by id, rev and fields);
- no duplicate records, no duplicate case numbers, revs 1..n each once in every record's history;
- exactly once: each mutation id appears at most once in history; re-sending every acknowledged mutation
  answers ``duplicate`` with the first answer's status and changes nothing;
- no lost write: every acknowledged change is either the record's current value, or was changed later
  (history), or — for a conflict — kept in the stored conflict with the device's values; a rejected
  mutation wrote nothing; every acknowledged create exists once, every rejected one not at all.

Two optional twists (``Run(..., restore=…)`` and the roster's masked writer):

- **restore replays**: mid-run the database is backed up, and later restored under the running server; the
  server notices by itself, every phone gets ``reset_required``, pulls from scratch and re-sends its log of
  acknowledged mutations, then its outbox — so children (case events) often arrive before their parents (cases
  another phone re-sends later): ``unknown_record``, kept, sent again; in the end nothing acknowledged is lost;
- **a masked writer** (a township mediator: sees the village's phone and ID numbers masked) edits parties by
  echoing the masks and sometimes tries to erase a number: the mask keeps the stored value, the erase is
  rejected, and no stored number is ever a mask.

``run_seed(base_url, seed, steps)`` runs one seed against any running server (the bench soak calls it for
thousands of seeds); ``DevicePool`` lets many seeds share logins (a login costs an argon2 hash).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.device import login

VILLAGE = "340321108200"
# (username, may delete cases[, sees the village masked])
ROSTER = [("wanfucun.mediator", False), ("wanfucun.mediator", False), ("wanfucun.admin", True), ("wanfu.admin", True)]
MASKED_ROSTER = ROSTER + [("wanfu.mediator", False, True)]
TITLES = ["排水沟纠纷", "宅基地边界", "借款未还", "噪音扰民"]
PLACES = [None, "村东头", "村西头", "村委会"]
RISKS = ["red", "orange", "yellow", "blue"]
SIMPLE = {"title", "place", "description", "risk_level", "people_involved", "escalation_flag", "escalation_note",
          "status", "outcome_note"}


class Fault(Exception):
    pass


class FaultyTransport(httpx.BaseTransport):
    """Performs the request unless told to drop it; may lose the answer after the server handled it."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.mode: str | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        mode, self.mode = self.mode, None
        if mode == "drop_request":
            raise httpx.ConnectError("dropped before it was sent", request=request)
        response = self.inner.handle_request(request)
        if mode == "drop_answer":
            response.read()
            response.close()
            raise httpx.ReadError("the answer was lost", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


@dataclass
class Acked:
    mutation: dict
    status: str  # the effective (first) status
    conflict_id: str | None
    conflicts: list[dict]
    error_code: str | None


@dataclass
class Device:
    name: str
    client: httpx.Client
    transport: FaultyTransport
    user_id: str
    can_delete: bool
    masked: bool = False
    replica: dict[tuple[str, str], dict] = field(default_factory=dict)
    cursor: str | None = None
    outbox: list[dict] = field(default_factory=list)
    acked: list[Acked] = field(default_factory=list)
    conflicts: list[dict] = field(default_factory=list)  # open conflicts this device heard of

    def reset(self) -> None:
        """A new run on this phone: it keeps its replica and cursor (it synced before), nothing queued."""
        self.outbox, self.acked, self.conflicts = [], [], []


class DevicePool:
    """Logged-in simulated phones, reused across seeds (state is reset at the start of every seed)."""

    def __init__(self, base_url: str, roster=ROSTER) -> None:
        self.devices: list[Device] = []
        for i, (username, can_delete, *masked) in enumerate(roster):
            transport = FaultyTransport()
            client = login(base_url, username, transport=transport)
            me = client.get("/api/v1/me")
            me.raise_for_status()
            self.devices.append(Device(f"{username}#{i}", client, transport, me.json()["id"], can_delete,
                                       bool(masked and masked[0])))

    def close(self) -> None:
        for d in self.devices:
            d.client.close()


@dataclass
class Stats:
    seed: int
    pushes: int = 0
    answers_lost: int = 0
    requests_dropped: int = 0
    delayed: int = 0
    duplicated: int = 0
    reordered: int = 0
    resets: int = 0
    unknown_record: int = 0  # answers "send it again after the create / the parent"
    masked_edits: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    records: int = 0


class Run:
    def __init__(self, devices: list[Device], seed: int, steps: int, restore=None) -> None:
        """``restore``: (backup, restore) callables — the run backs the database up a third of the way in and
        restores it under the running server two thirds of the way in."""
        self.restore = restore
        self.rng = random.Random(seed)
        self.devices = devices
        self.steps = steps
        self.stats = Stats(seed)
        self.delayed: list[tuple[Device, list[dict]]] = []
        self.created: set[tuple[str, str]] = set()  # (entity, id) of every create this run queued
        self.faults = True

    # ---- local, offline edits ------------------------------------------------------------------
    def local_cases(self, d: Device) -> dict[str, dict]:
        """The device's view: pulled records of this run with its queued fields laid over them."""
        view: dict[str, dict] = {}
        for (entity, rid), rec in d.replica.items():
            if entity == "mediation_case" and (entity, rid) in self.created:
                view[rid] = dict(rec)
        for m in d.outbox:
            if m["entity"] != "mediation_case":
                continue
            rec = view.setdefault(m["record_id"], {"rev": 0, "deleted": False, "status": "registered"})
            if m["op"] == "delete":
                rec["deleted"] = True
            else:
                rec.update(m["fields"])
        return view

    def base_rev(self, d: Device, rid: str) -> int:
        rec = d.replica.get(("mediation_case", rid))
        return rec["rev"] if rec else 0

    def queue(self, d: Device, entity: str, rid: str, fields: dict, op: str = "upsert", **extra: Any) -> None:
        base_rev = self.base_rev(d, rid) if entity == "mediation_case" else 0  # 0 for creates
        m = {"mutation_id": str(uuid.uuid4()), "entity": entity, "op": op, "record_id": rid, "base_rev": base_rev,
             "fields": fields, "client_time": "2026-11-28T10:00:00+08:00", **extra}
        d.outbox.append(m)

    def op_create(self, d: Device) -> None:
        rid = str(uuid.uuid4())
        self.created.add(("mediation_case", rid))
        fields = {"org_code": VILLAGE, "title": self.rng.choice(TITLES), "category": "neighbor",
                  "source": self.rng.choice(["party_request", "proactive"]), "received_on": "2026-11-20",
                  "risk_level": self.rng.choice(RISKS), "escalation_flag": False,
                  "parties": [{"name": "张三", "role": "applicant", "phone": "13812345678"},
                              {"name": "李四", "role": "respondent"}]}
        self.queue(d, "mediation_case", rid, fields)

    def op_edit(self, d: Device) -> None:
        live = [rid for rid, rec in self.local_cases(d).items() if not rec.get("deleted")]
        if not live:
            return self.op_create(d)
        rid = self.rng.choice(live)
        kind = self.rng.choice([0, 0, 1, 2, 2, 3, 4, 5])
        if kind == 0:
            fields = {"title": self.rng.choice(TITLES)}
        elif kind == 1:
            fields = {"place": self.rng.choice(PLACES)}
        elif kind == 2:
            fields = {"risk_level": self.rng.choice(RISKS)}
        elif kind == 3:
            fields = {"people_involved": self.rng.randrange(4)}
        elif kind == 4:
            flag = self.rng.random() < 0.5
            fields = {"escalation_flag": flag, "escalation_note": "可能激化" if flag else None}
        else:
            fields = {"title": self.rng.choice(TITLES), "description": self.rng.choice(["经过", "详情", None])}
        self.queue(d, "mediation_case", rid, fields)

    def op_status(self, d: Device) -> None:
        view = self.local_cases(d)
        live = [rid for rid, rec in view.items() if not rec.get("deleted")]
        if not live:
            return self.op_create(d)
        rid = self.rng.choice(live)
        status = view[rid].get("status", "registered")
        choices = {
            "registered": [{"status": "mediating"}, {"status": "declined", "outcome_note": "当事人拒绝调解"}],
            "mediating": [{"status": "terminated", "outcome_note": "告知可诉讼"},
                          {"status": "agreed", "agreement": {"form": "oral", "terms": "双方和解"}}],
            "agreed": [{"status": "fulfilling"}, {"status": "fulfilled"}],
            "fulfilling": [{"status": "fulfilled"}],
        }.get(status, [{"status": "archived"}])
        self.queue(d, "mediation_case", rid, self.rng.choice(choices))

    def op_delete(self, d: Device) -> None:
        view = self.local_cases(d)
        registered = [rid for rid, rec in view.items() if not rec.get("deleted") and rec.get("status") == "registered"]
        if not d.can_delete or not registered:
            return self.op_edit(d)
        self.queue(d, "mediation_case", self.rng.choice(registered), {}, op="delete")

    def op_event(self, d: Device) -> None:
        cases = list(self.local_cases(d))
        if not cases:
            return self.op_create(d)
        rid = str(uuid.uuid4())
        self.created.add(("case_event", rid))
        self.queue(d, "case_event", rid, {"case_id": self.rng.choice(cases), "kind": "session",
                                          "occurred_at": "2026-11-21T09:30:00+08:00", "content": "调解记录"})

    def op_masked_party(self, d: Device) -> None:
        """A writer who sees parties masked edits them: echoes the masks (kept), or tries to erase a number."""
        live = [rid for rid, rec in self.local_cases(d).items()
                if not rec.get("deleted") and ("mediation_case", rid) in d.replica]
        if not d.masked or not live:
            return self.op_edit(d)
        rid = self.rng.choice(live)
        parties = [dict(p) for p in d.replica[("mediation_case", rid)]["parties"]]
        if self.rng.random() < 0.3 and any(p.get("phone") for p in parties):
            for p in parties:
                if p.get("phone"):
                    p["phone"] = None  # rejected: masked_field_readonly
                    break
        else:
            parties[0]["address"] = self.rng.choice(["东庄 1 号", "西庄 2 号", "南街 3 号"])
        self.stats.masked_edits += 1
        self.queue(d, "mediation_case", rid, {"parties": parties})

    def op_resolve(self, d: Device) -> None:
        if not d.conflicts:
            return self.op_edit(d)
        c = d.conflicts.pop(self.rng.randrange(len(d.conflicts)))
        fields = {f["field"]: f["client_value"] for f in c["conflicts"]}
        extra = {"resolves_conflict": c["conflict_id"]}
        if fields.get("deleted") is True:  # my delete lost against an edit: delete again, naming the conflict
            return self.queue(d, "mediation_case", c["record_id"], {}, op="delete", **extra)
        if fields.get("deleted") is False and self.rng.random() < 0.5:
            fields = {"deleted": True}  # my edit of a deleted record: accept the delete (keep it deleted)
        self.queue(d, "mediation_case", c["record_id"], fields, **extra)

    # ---- the network ---------------------------------------------------------------------------
    def fault(self, d: Device, p_drop: float, p_lose: float) -> str | None:
        if not self.faults:
            return None
        x = self.rng.random()
        if x < p_drop:
            self.stats.requests_dropped += 1
            return "drop_request"
        if x < p_drop + p_lose:
            self.stats.answers_lost += 1
            return "drop_answer"
        return None

    def post(self, d: Device, batch: list[dict], mode: str | None = None) -> list[dict] | None:
        d.transport.mode = mode
        try:
            r = d.client.post("/api/v1/sync/push", json={"client_id": d.client.client_id, "mutations": batch})
        except httpx.TransportError:
            return None
        finally:
            d.transport.mode = None
        assert r.status_code == 200, r.text
        self.stats.pushes += 1
        results = r.json()["results"]
        assert [x["mutation_id"] for x in results] == [m["mutation_id"] for m in batch]
        return results

    def push(self, d: Device) -> None:
        if not d.outbox:
            return
        n = min(len(d.outbox), self.rng.randint(1, 6))
        batch = d.outbox[:n]
        if self.faults and self.rng.random() < 0.08 and len(d.outbox) > 1:
            # two pushes race: a later slice of the outbox overtakes the earlier one
            self.stats.reordered += 1
            k = self.rng.randint(1, len(d.outbox) - 1)
            batch = d.outbox[k:k + n]
        if self.faults and self.rng.random() < 0.1:
            # the request hangs in the network: the phone gives up, it arrives later
            self.stats.delayed += 1
            self.delayed.append((d, [dict(m) for m in batch]))
            return
        results = self.post(d, batch, self.fault(d, 0.12, 0.15))
        if results is None:
            return
        self.take(d, batch, results)
        if self.faults and self.rng.random() < 0.1:
            self.stats.duplicated += 1  # the network delivers the same request twice
            again = self.post(d, batch)
            assert again is not None
            for m, first, second in zip(batch, results, again, strict=True):
                if first["status"] == "rejected" and first["error"]["code"] == "unknown_record":
                    assert second["status"] == "rejected", second
                else:
                    assert second["status"] == "duplicate", (m, first, second)
                    assert second["original_status"] == (first.get("original_status") or first["status"])

    def deliver_delayed(self) -> None:
        if not self.delayed:
            return
        d, batch = self.delayed.pop(self.rng.randrange(len(self.delayed)))
        results = self.post(d, batch)  # the phone has given up: nobody hears this answer
        assert results is not None
        for res in results:
            assert res["status"] != "rejected" or res["error"]["code"] in ("unknown_record", "validation_error",
                                                                           "forbidden"), res

    def take(self, d: Device, batch: list[dict], results: list[dict]) -> None:
        done = set()
        for m, res in zip(batch, results, strict=True):
            status = res["status"]
            self.stats.statuses[status] = self.stats.statuses.get(status, 0) + 1
            if status == "rejected" and res["error"]["code"] == "unknown_record":
                self.stats.unknown_record += 1
                continue  # not stored: sent again after the create (or its parent)
            effective = res.get("original_status") or status
            err = (res.get("error") or {}).get("code")
            d.acked.append(Acked(m, effective, res.get("conflict_id"), res.get("conflicts") or [], err))
            done.add(m["mutation_id"])
            if effective == "conflict" and res.get("conflict_id") and m["entity"] == "mediation_case":
                d.conflicts.append({"conflict_id": res["conflict_id"], "record_id": m["record_id"],
                                    "conflicts": res["conflicts"]})
        d.outbox = [m for m in d.outbox if m["mutation_id"] not in done]

    def pull(self, d: Device) -> None:
        limit = self.rng.choice([2, 3, 7, 50, 500])
        while True:
            params = {"limit": limit} | ({"cursor": d.cursor} if d.cursor else {})
            d.transport.mode = self.fault(d, 0.05, 0.1)
            try:
                r = d.client.get("/api/v1/sync/pull", params=params)
            except httpx.TransportError:
                return  # the page is lost; the cursor stays where it was
            finally:
                d.transport.mode = None
            if r.status_code == 409 and self.restore is not None and r.json()["code"] == "reset_required":
                return self.reset(d)
            assert r.status_code == 200, r.text  # never reset_required without a restore
            body = r.json()
            for ch in body["changes"]:
                d.replica[(ch["entity"], ch["record"]["id"])] = ch["record"]
            d.cursor = body["cursor"]
            if not body["has_more"]:
                return

    def parent_and_child(self) -> None:
        """After the backup: one phone registers a case, another records an event of it (both acknowledged)."""
        faults, self.faults = self.faults, False
        parent_author, child_author = self.devices[2], self.devices[0]
        self.op_create(parent_author)
        while parent_author.outbox:
            self.push(parent_author)
        self.pull(child_author)
        rid = parent_author.acked[-1].mutation["record_id"]
        eid = str(uuid.uuid4())
        self.created.add(("case_event", eid))
        self.queue(child_author, "case_event", eid, {"case_id": rid, "kind": "session", "content": "调解记录",
                                                     "occurred_at": "2026-11-21T09:30:00+08:00"})
        while child_author.outbox:
            self.push(child_author)
        self.faults = faults

    def child_first(self) -> None:
        """After the restore the child's phone resets and re-sends first: its event comes before its case."""
        faults, self.faults = self.faults, False
        child_author = self.devices[0]
        self.pull(child_author)
        before = self.stats.unknown_record
        while child_author.outbox:
            n = len(child_author.outbox)
            self.push(child_author)
            if len(child_author.outbox) == n:
                break
        assert self.stats.unknown_record > before, "the event should have come before its case"
        self.faults = faults

    def reset(self, d: Device) -> None:
        """The reset path (sync-protocol.md, Pull): pull from the beginning, keep the outbox, re-send every
        acknowledged mutation first, in its original order. Their answers replace the first ones."""
        self.stats.resets += 1
        d.outbox = [a.mutation for a in d.acked] + d.outbox
        d.acked, d.conflicts, d.replica, d.cursor = [], [], {}, None

    # ---- the run -------------------------------------------------------------------------------
    def run(self) -> Stats:
        for d in self.devices:
            d.reset()
        # a shared start: one phone registers a few cases and everyone has them before going offline
        self.faults = False
        first = self.devices[0]
        for _ in range(self.rng.randint(1, 3)):
            self.op_create(first)
        while first.outbox:
            self.push(first)
        for d in self.devices:
            self.pull(d)
        for d in self.devices:
            if d.masked:
                self.op_masked_party(d)  # at least one masked writer's edit per seed
        self.faults = True
        local_ops = ([self.op_create] + [self.op_edit] * 8 + [self.op_status] * 3 + [self.op_delete] * 2
                     + [self.op_event, self.op_event, self.op_resolve, self.op_resolve, self.op_masked_party,
                        self.op_masked_party])
        for step in range(self.steps):
            if self.restore is not None and step == self.steps // 3:
                self.restore[0]()  # a backup, taken while the phones keep working
                self.parent_and_child()
            if self.restore is not None and step == 2 * self.steps // 3:
                self.restore[1]()  # ... put back under the running server
                self.child_first()
            d = self.rng.choice(self.devices)
            x = self.rng.random()
            if x < 0.5:
                self.rng.choice(local_ops)(d)
            elif x < 0.75:
                self.push(d)
            elif x < 0.94:
                self.pull(d)
            else:
                self.deliver_delayed()
        self.settle()
        self.check()
        return self.stats

    def settle(self) -> None:
        """Faults off: deliver what is late, then every phone syncs until nothing moves."""
        self.faults = False
        while self.delayed:
            self.deliver_delayed()
        for _ in range(12):
            for d in self.devices:
                while d.outbox:
                    before = len(d.outbox)
                    self.push(d)
                    if len(d.outbox) == before:
                        break
                self.pull(d)
            if not any(d.outbox for d in self.devices):
                break
        for d in self.devices:
            self.pull(d)
        stuck = {d.name: d.outbox for d in self.devices if d.outbox}
        assert not stuck, f"outboxes never drained: {stuck}"

    # ---- the checks ----------------------------------------------------------------------------
    def fresh(self, d: Device) -> dict[tuple[str, str], dict]:
        out: dict[tuple[str, str], dict] = {}
        cursor = None
        while True:
            r = d.client.get("/api/v1/sync/pull", params={"limit": 5000} | ({"cursor": cursor} if cursor else {}))
            assert r.status_code == 200, r.text
            body = r.json()
            for ch in body["changes"]:
                key = (ch["entity"], ch["record"]["id"])
                assert key not in out, f"{key} twice in one pull"
                out[key] = ch["record"]
            cursor = body["cursor"]
            if not body["has_more"]:
                return out

    def check(self) -> None:
        by_user: dict[str, dict] = {}
        for d in self.devices:
            if d.client.username not in by_user:  # type: ignore[attr-defined]
                by_user[d.client.username] = self.fresh(d)  # type: ignore[attr-defined]
            server = by_user[d.client.username]  # type: ignore[attr-defined]
            assert d.replica == server, f"{d.name} diverged: " + _diff(d.replica, server)
        views = [by_user[d.client.username] for d in self.devices if not d.masked]  # type: ignore[attr-defined]
        for v in views[1:]:  # everyone but the masked writer sees the village unmasked: one truth
            assert v == views[0], _diff(v, views[0])
        server = views[0]
        numbers = [r["case_number"] for (e, _), r in server.items() if e == "mediation_case"]
        assert len(numbers) == len(set(numbers)), "a case number was issued twice"
        for (e, _), r in server.items():  # a mask is never stored as a value
            if e == "mediation_case":
                for p in r["parties"]:
                    assert "*" not in (p.get("phone") or "") and "*" not in (p.get("id_number") or ""), p

        acked = [a for d in self.devices for a in d.acked]
        ids = [a.mutation["mutation_id"] for a in acked]
        assert len(ids) == len(set(ids)), "a mutation was acknowledged twice"
        created_ok = {(a.mutation["entity"], a.mutation["record_id"]) for a in acked
                      if a.status == "applied" and _is_create(a.mutation)}
        mine = {k for k in server if k in self.created}
        assert mine == created_ok, f"created {sorted(created_ok - mine)} missing, unexpected {sorted(mine - created_ok)}"
        self.stats.records = len(mine)

        reader = next(d for d in reversed(self.devices) if not d.masked)
        histories = {rid: self.history(reader, rid) for (e, rid) in mine if e == "mediation_case"}
        where: dict[str, tuple[str, dict]] = {}
        for rid, hist in histories.items():
            assert [h["rev"] for h in hist] == list(range(1, server[("mediation_case", rid)]["rev"] + 1)), hist
            for h in hist:
                if h["mutation_id"]:
                    assert h["mutation_id"] not in where, "a mutation applied twice"
                    where[h["mutation_id"]] = (rid, h)

        for a in acked:
            m = a.mutation
            if m["entity"] != "mediation_case":
                continue
            hit = where.get(m["mutation_id"])
            if a.status == "rejected":
                assert hit is None, f"rejected {m} wrote {hit}"
                continue
            rid = m["record_id"]
            rec = server[("mediation_case", rid)]
            hist = histories[rid]
            if a.status == "conflict":
                self.check_conflict(reader, a)
            if hit is None:
                continue
            rev = hit[1]["rev"]
            later = [h for h in hist if h["rev"] > rev]
            if m["op"] == "delete" or m["fields"].get("deleted") is True:
                assert hit[1]["op"] in ("delete", "resolve"), hit  # a delete, or a settle that keeps it deleted
                assert rec["deleted"] or any(h["op"] == "restore" for h in later), (rec, hist)
                continue
            conflicted = {c["field"] for c in a.conflicts}
            for f, sent in m["fields"].items():
                if f in conflicted or f not in SIMPLE:
                    continue
                changes = hit[1]["changes"]
                if f in changes:
                    assert changes[f] == sent, (f, changes[f], sent)
                else:
                    assert _value_at(hist, rev - 1, f) == sent, f"{f} of {m} dropped: {hist}"
                if rec.get(f) != sent:
                    assert any(f in h["changes"] for h in later), f"lost write: {f}={sent!r} of {m}; now {rec.get(f)!r}"

        # exactly once: every acknowledged mutation sent again is a duplicate of its first answer
        for d in self.devices:
            log = [a.mutation for a in d.acked]
            for i in range(0, len(log), 200):
                results = self.post(d, log[i:i + 200])
                assert results is not None
                for a, res in zip(d.acked[i:i + 200], results, strict=True):
                    assert res["status"] == "duplicate" and res["original_status"] == a.status, (a, res)
                    if a.error_code:
                        assert res["error"]["code"] == a.error_code
        for d in self.devices:  # nothing changed: the feed has nothing new for anyone
            r = d.client.get("/api/v1/sync/pull", params={"cursor": d.cursor})
            assert r.status_code == 200 and r.json()["changes"] == [], "re-sending acknowledged mutations changed data"

    def history(self, d: Device, rid: str) -> list[dict]:
        r = d.client.get(f"/api/v1/mediation-cases/{rid}/history")
        assert r.status_code == 200, r.text
        return r.json()["items"]

    def check_conflict(self, d: Device, a: Acked) -> None:
        assert a.conflict_id, a
        r = d.client.get(f"/api/v1/conflicts/{a.conflict_id}")
        assert r.status_code == 200, r.text
        stored = r.json()
        assert stored["record_id"] == a.mutation["record_id"]
        sent = a.mutation["fields"]
        for f in stored["fields"]:
            if f["field"] == "deleted":
                assert f["client_value"] == (a.mutation["op"] == "delete")
            else:
                assert f["field"] in sent
                if f["field"] in SIMPLE:
                    assert f["client_value"] == sent[f["field"]], (f, sent)


def _is_create(m: dict) -> bool:
    return m["entity"] == "case_event" or "org_code" in m["fields"]


def _value_at(hist: list[dict], rev: int, f: str) -> Any:
    value = None
    for h in hist:
        if h["rev"] > rev:
            break
        if f in h["changes"]:
            value = h["changes"][f]
    return value


def _diff(a: dict, b: dict) -> str:
    out = []
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            if k not in a or k not in b:
                out.append(f"{k}: only in {'first' if k in a else 'second'}")
            else:
                out.append(f"{k}: " + ", ".join(f"{f}: {a[k].get(f)!r} != {b[k].get(f)!r}"
                                                for f in sorted(set(a[k]) | set(b[k])) if a[k].get(f) != b[k].get(f)))
    return "; ".join(out[:5])


def run_seed(base_url: str, seed: int, steps: int = 40, pool: DevicePool | None = None) -> Stats:
    """One seeded run against the server at ``base_url`` (raises AssertionError on any violation)."""
    own = pool is None
    pool = pool or DevicePool(base_url)
    try:
        return Run(pool.devices, seed, steps).run()
    finally:
        if own:
            pool.close()
