"""Randomized sync soak: thousands of seeded episodes against a real server process, 0 lost, 0 duplicated.

If the test suite's seeded fuzzer exists (``tests/sync/randomized.py`` with ``run_seed(base_url, seed, steps)``)
and ``--engine randomized`` (or ``auto``) is chosen, every seed is one ``run_seed`` call against the server.
Otherwise the soak here runs: several simulated devices (two phones of one mediator, the village admin, the
township admin), one thread each, push random creates and edits of shared records through a fault injector
that loses requests, loses answers (the server committed) and sends requests twice; the devices retry the same
mutation ids until they get an answer. After every episode all outboxes are flushed and every device pulls.

Checked at the end, in the database itself:
- lost: an acknowledged mutation (applied / merged, or duplicate of one) whose change is not in the record
  history, or an acknowledged conflict whose value is not in a stored conflict; an acknowledged create whose
  record does not exist;
- duplicated: a mutation id with more than one history row, or a record whose ``rev`` is not exactly the
  number of changes applied to it (a double-applied edit would bump it twice);
- converged: every device's replica (from its incremental pulls) equals the server's records in its scope.

    .venv/bin/python bench/soak_sync.py --db sqlite|postgresql [--seeds 2000] [--steps 4]
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import _common as C
import httpx
import sqlalchemy as sa

DEVICES = (("wanfucun.mediator", "phone-a"), ("wanfucun.mediator", "phone-b"), ("wanfucun.admin", "admin"),
           ("wanfu.admin", "township"))
EDITABLE = ("title", "place", "description")


class Device:
    def __init__(self, base: str, username: str, label: str):
        self.label = label
        self.client = C.login(base, username)
        self.outbox: list[dict] = []
        self.replica: dict[str, dict] = {}
        self.cursor: str | None = None
        self.acked: dict[str, dict] = {}  # mutation_id -> {"m": mutation, "status": first status}
        self.stats = Counter()

    # -- the fault injector sits between the device and the network
    def _send(self, rng: random.Random, method: str, url: str, **kw) -> httpx.Response | None:
        roll = rng.random()
        if roll < 0.08:
            self.stats["request_lost"] += 1
            return None
        r = self.client.request(method, url, **kw)
        if roll < 0.18:
            self.stats["answer_lost"] += 1
            return None
        if roll < 0.25:
            self.stats["sent_twice"] += 1
            r = self.client.request(method, url, **kw)
        return r

    def push(self, rng: random.Random | None) -> None:
        if not self.outbox:
            return
        body = {"client_id": self.client.client_id, "mutations": self.outbox}
        r = self._send(rng, "POST", "/api/v1/sync/push", json=body) if rng else \
            self.client.post("/api/v1/sync/push", json=body)
        if r is None:
            return
        if r.status_code == 503:
            self.stats["busy"] += 1
            return
        r.raise_for_status()
        keep = []
        for m, res in zip(self.outbox, r.json()["results"], strict=True):
            status = res.get("original_status") if res["status"] == "duplicate" else res["status"]
            if res["status"] == "duplicate":
                self.stats["duplicate_answers"] += 1
            if status == "rejected":
                if res["error"]["code"] == "unknown_record":
                    keep.append(m)
                    continue
                self.stats["rejected"] += 1
            self.acked.setdefault(m["mutation_id"], {"m": m, "status": status})
            self.stats[status] += 1
        self.outbox = keep

    def pull(self, rng: random.Random | None) -> None:
        while True:
            params = {"limit": 200} | ({"cursor": self.cursor} if self.cursor else {})
            r = self._send(rng, "GET", "/api/v1/sync/pull", params=params) if rng else \
                self.client.get("/api/v1/sync/pull", params=params)
            if r is None:
                return
            r.raise_for_status()
            body = r.json()
            for ch in body["changes"]:
                self.replica[ch["record"]["id"]] = ch["record"]
            self.cursor = body["cursor"]
            if not body["has_more"]:
                return

    def step(self, rng: random.Random, shared: list[str], token: str) -> None:
        village = [rid for rid in shared if rid in self.replica and not self.replica[rid]["deleted"]]
        if self.label != "township" and (not village or rng.random() < 0.3):
            fields = C.case_fields(rng)
            fields["title"] = f"soak {token}"
            self.outbox.append(C.create_mutation(fields))
        elif village:
            rid = rng.choice(village)
            rec = self.replica[rid]
            field = rng.choice(EDITABLE)
            m = C.create_mutation({field: f"{field} {token}"}, rid)
            m["base_rev"] = rec["rev"]
            self.outbox.append(m)
        self.push(rng)
        self.pull(rng)


def episode(devices: list[Device], seed: int, steps: int, shared: list[str], lock: threading.Lock) -> None:
    def run(i: int, d: Device) -> None:
        rng = random.Random(seed * 100 + i)
        for s in range(steps):
            with lock:
                pool = list(shared[-60:])
            d.step(rng, pool, f"{seed}.{i}.{s}")
            with lock:
                for m in d.outbox:
                    if m["base_rev"] == 0 and m["record_id"] not in shared:
                        shared.append(m["record_id"])

    with ThreadPoolExecutor(len(devices)) as ex:
        list(ex.map(lambda a: run(*a), enumerate(devices)))
    for _ in range(5):  # flush: no faults now, retry until every outbox is empty
        for d in devices:
            d.push(None)
        if not any(d.outbox for d in devices):
            break
    for d in devices:
        d.pull(None)


def verify(db: C.BenchDB, devices: list[Device]) -> dict:
    from cunzhi.mediation.models import MediationCase
    from cunzhi.sync.models import RecordHistory, SyncConflict

    case_t, hist_t, conf_t = MediationCase.__table__, RecordHistory.__table__, SyncConflict.__table__
    with db.engine().connect() as conn:
        records = {r.id: r for r in conn.execute(sa.select(case_t.c.id, case_t.c.rev, case_t.c.title, case_t.c.place,
                                                           case_t.c.description, case_t.c.org_code))}
        history: dict[str, list] = {}
        per_record = Counter()
        for h in conn.execute(sa.select(hist_t.c.mutation_id, hist_t.c.record_id, hist_t.c.changes, hist_t.c.op)):
            history.setdefault(h.mutation_id, []).append(h)
            per_record[h.record_id] += 1
        conflicts = set()
        for c in conn.execute(sa.select(conf_t.c.record_id, conf_t.c.mutation_id, conf_t.c.fields)):
            for f in c.fields:
                conflicts.add((c.record_id, f["field"], json.dumps(f["client_value"], ensure_ascii=False)))
    lost, duplicated, acked = [], [], 0
    for d in devices:
        for mid, a in d.acked.items():
            acked += 1
            m, status = a["m"], a["status"]
            rows = history.get(mid, [])
            if len(rows) > 1:
                duplicated.append(("mutation applied twice", mid))
            if status in ("applied", "merged"):
                if m["base_rev"] == 0 and m["record_id"] not in records:
                    lost.append(("created record missing", mid))
                elif not rows:
                    lost.append(("applied change not in history", mid))
                elif not all(rows[0].changes.get(k) == v for k, v in m["fields"].items()
                             if k in EDITABLE and m["base_rev"] > 0):
                    lost.append(("stored value differs", mid))
            elif status == "conflict":
                for k, v in m["fields"].items():
                    if (m["record_id"], k, json.dumps(v, ensure_ascii=False)) not in conflicts:
                        lost.append(("conflict value not stored", mid))
    for rid, r in records.items():
        if r.rev != per_record[rid]:  # one history row per accepted change: rev counts them exactly
            duplicated.append(("rev differs from the number of changes", rid))
    diverged = 0
    for d in devices:
        scope = d.client.get("/api/v1/me").json()["org_code"]
        mine = {rid: r for rid, r in records.items() if r.org_code.startswith(scope)}
        if set(mine) != set(d.replica):
            diverged += 1
            continue
        for rid, r in mine.items():
            rep = d.replica[rid]
            if (rep["rev"], rep["title"], rep["place"], rep["description"]) != (r.rev, r.title, r.place, r.description):
                diverged += 1
                break
    return {"acked": acked, "records": len(records), "lost": len(lost), "duplicated": len(duplicated),
            "diverged_devices": diverged, "examples": (lost + duplicated)[:5]}


def soak_here(args, db: C.BenchDB, srv: C.Server) -> dict:
    devices = [Device(srv.base, u, label) for u, label in DEVICES]
    shared: list[str] = []
    lock = threading.Lock()
    start = time.perf_counter()
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        episode(devices, seed, args.steps, shared, lock)
        if (seed - args.first_seed + 1) % max(1, args.seeds // 10) == 0:
            print(f"   … {seed - args.first_seed + 1} episodes, {time.perf_counter() - start:.0f} s, "
                  f"server RSS {srv.rss_mb():.0f} MB", flush=True)
    took = time.perf_counter() - start
    out = verify(db, devices)
    stats = sum((d.stats for d in devices), Counter())
    out |= {"seconds": round(took, 1), "faults_and_answers": dict(stats), "rss_mb": round(srv.rss_mb())}
    for d in devices:
        d.client.close()
    return out


def soak_randomized(args, srv: C.Server, run_seed, pool_cls) -> dict:
    """Every seed is one ``tests/sync/randomized.run_seed``; it raises AssertionError on any lost, duplicated or
    diverged write, so a failed seed is a violation (kept with its message)."""
    failures, totals, statuses = [], Counter(), Counter()
    pool = pool_cls(srv.base) if pool_cls else None
    start = time.perf_counter()
    done = 0

    def one(seed: int) -> None:
        nonlocal pool, done
        try:
            res = run_seed(srv.base, seed, args.steps, pool=pool) if pool else run_seed(srv.base, seed, args.steps)
        except AssertionError as e:
            failures.append((seed, str(e)[:300]))
            if pool_cls:  # a failed seed may leave the shared phones in any state: start afresh
                pool.close()
                pool = pool_cls(srv.base)
            return
        done += 1
        for k, v in vars(res).items() if hasattr(res, "__dict__") else []:
            if k == "statuses":
                statuses.update(v)
            elif isinstance(v, int) and not isinstance(v, bool) and k != "seed":
                totals[k] += v

    try:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            one(seed)
            if (done + len(failures)) % 50 == 0:
                print(f"   … seed {seed}: {done} passed, {len(failures)} failed, {time.perf_counter() - start:.0f} s, "
                      f"server RSS {srv.rss_mb():.0f} MB", flush=True)
    except KeyboardInterrupt:  # stopped early (Ctrl-C): report what ran
        print("   (interrupted)", flush=True)
        args.interrupted = True
    finally:
        if pool:
            pool.close()
    lost = sum(1 for _, msg in failures if "lost" in msg or "missing" in msg or "diverged" in msg)
    duplicated = sum(1 for _, msg in failures if "twice" in msg or "duplicate" in msg)
    return {"seconds": round(time.perf_counter() - start, 1), "seeds_ok": done, "failed_seeds": len(failures),
            "examples": failures[:5], "faults_and_records": dict(totals), "statuses": dict(statuses),
            "rss_mb": round(srv.rss_mb()), "lost": lost, "duplicated": duplicated}


def main() -> None:
    p = C.parser(__doc__)
    p.add_argument("--seeds", type=int, default=2000)
    p.add_argument("--steps", type=int, default=None, help="steps a seed (default: 40 for run_seed, 4 here)")
    p.add_argument("--first-seed", type=int, default=1)
    p.add_argument("--engine", choices=["auto", "randomized", "here"], default="auto")
    p.add_argument("--seeds-per-db", type=int, default=200)
    args = p.parse_args()
    run_seed = pool_cls = None
    if args.engine in ("auto", "randomized"):
        sys.path.insert(0, str(C.ROOT))
        try:
            from tests.support import device
            from tests.sync.randomized import run_seed  # type: ignore[no-redef]

            # the fuzzer's phones sign in with the test databases' password; the bench's databases give their
            # accounts the bench's (C.seed_demo_tree): every sign-in was refused (401) before the first seed
            device.PASSWORD = C.PASSWORD
            try:
                from tests.sync.randomized import DevicePool as pool_cls  # type: ignore[no-redef]
            except ImportError:
                pool_cls = None
        except ImportError as e:
            if args.engine == "randomized":
                raise SystemExit(f"tests/sync/randomized.py run_seed not available: {e}") from None
    engine = "tests/sync/randomized.run_seed" if run_seed else "bench soak (4 devices, faults)"
    if args.steps is None:
        args.steps = 40 if run_seed else 4
    C.print_machine(f"soak_sync ({args.db}): {args.seeds} seeds × {args.steps} steps, {engine}, "
                    f"a fresh database and server every {args.seeds_per_db} seeds")
    if not run_seed:
        with C.BenchDB(args.db, label="soak") as db, C.Server(db.env()) as srv:
            out = soak_here(args, db, srv)
    else:
        # the fuzzer's phones keep their replicas across seeds and re-pull the whole village to check every
        # seed, so a seed gets slower as records pile up: start a fresh database every --seeds-per-db seeds
        parts, total, first = [], args.seeds, args.first_seed
        args.interrupted = False
        while total > 0 and not args.interrupted:
            args.seeds, args.first_seed = min(args.seeds_per_db, total), first
            with C.BenchDB(args.db, label="soak") as db, C.Server(db.env()) as srv:
                parts.append(soak_randomized(args, srv, run_seed, pool_cls))
            first, total = first + args.seeds, total - args.seeds
        out = {"seconds": round(sum(x["seconds"] for x in parts), 1),
               "seeds_ok": sum(x["seeds_ok"] for x in parts),
               "failed_seeds": sum(x["failed_seeds"] for x in parts),
               "examples": [e for x in parts for e in x["examples"]][:5],
               "faults_and_records": dict(sum((Counter(x["faults_and_records"]) for x in parts), Counter())),
               "statuses": dict(sum((Counter(x["statuses"]) for x in parts), Counter())),
               "rss_mb_max": max(x["rss_mb"] for x in parts), "databases": len(parts),
               "lost": sum(x["lost"] for x in parts), "duplicated": sum(x["duplicated"] for x in parts)}
        args.seeds = out["seeds_ok"] + out["failed_seeds"]
    ok = out["lost"] == 0 and out["duplicated"] == 0 and out.get("diverged_devices", 0) == 0 \
        and out.get("failed_seeds", 0) == 0
    for k, v in out.items():
        print(f"   {k}: {v}")
    print(f"   lost {out['lost']}, duplicated {out['duplicated']} (budget 0 and 0, every device converges): "
          f"{C.verdict(ok)}")
    if args.json:
        print(json.dumps({"bench": "soak_sync", "db": args.db, "engine": engine, "seeds": args.seeds,
                          **{k: v for k, v in out.items() if k != "examples"}}, default=str))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
