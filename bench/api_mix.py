"""API mix under open-loop arrivals: list, get, push of 10, pull of 100 at 100 requests/s.

Requests arrive on a Poisson schedule fixed in advance (open loop: a slow answer does not slow the arrivals;
latency is measured from the scheduled arrival, so queueing counts), sent by a pool of 64 threads with
keep-alive connections. Budget: p99 ≤ 100 ms, no error, server
RSS ≤ 300 MB. Baseline in the same run: a bare FastAPI app of the same framework (bench/_bare_app.py)
answering the same routes with the same JSON the real server gave, at the same rate.

    .venv/bin/python bench/api_mix.py --db sqlite|postgresql [--rate 100] [--seconds 30]
"""

from __future__ import annotations

import http.client
import json
import random
import select
import statistics
import queue
import tempfile
import threading
import time

import _common as C

KINDS = ("list", "get", "push", "pull")


def _dropped(conn: http.client.HTTPConnection) -> bool:
    """Whether the server has closed this idle keep-alive connection (uvicorn does after 5 s idle; a readable
    socket between requests means EOF). http.client does not look and would send on it, then raise
    RemoteDisconnected: the error at 30 req/s, where one of 64 connections can sit idle for 5 s. Browsers and
    urllib3 make this check before reusing a connection; so does the bench's client (not a retry: a request that
    was sent and then failed still counts as an error)."""
    return conn.sock is not None and bool(select.select([conn.sock], [], [], 0)[0])


def seed(n: int) -> list[str]:
    import first_pull

    first_pull.seed(n)
    from cunzhi.core.db import get_engine, is_postgres, read_tx
    from cunzhi.mediation.models import MediationCase

    if is_postgres(get_engine()):
        # statistics, as autovacuum gathers within a minute of a bulk load: without them the planner takes a
        # village of thousands of cases for a dozen rows
        with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    t = MediationCase.__table__
    with read_tx() as conn:
        return [r[0] for r in conn.execute(t.select().with_only_columns(t.c.id))]


def run_mix(base: str, tokens: list[tuple[str, str]], ids: list[str], rate: float, seconds: float,
            seed: int, rss=None, pool: int = 64, kinds: tuple[str, ...] = KINDS, closed: bool = False) -> dict:
    """Open loop: a scheduler thread releases each request at its arrival time to a pool of ``pool`` worker
    threads, each with its own keep-alive connection (http.client: a light client, so the load generator is
    not the bottleneck). Latency = answer time − scheduled arrival time."""
    rng = random.Random(seed)
    schedule, t = [], 0.0
    while t < seconds:
        t += rng.expovariate(rate)
        kind = rng.choice(kinds)
        if kind == "push":
            payload = json.dumps({"mutations": [C.create_mutation(C.case_fields(rng)) for _ in range(10)]},
                                 ensure_ascii=False)
        else:
            payload = rng.choice(ids)
        schedule.append((t, kind, payload))
    host, port = base.removeprefix("http://").split(":")
    lat: dict[str, list[float]] = {k: [] for k in KINDS}
    errors: list[str] = []
    rss_samples: list[float] = []
    jobs: queue.Queue = queue.Queue()
    lock = threading.Lock()

    def worker(n: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        token, client_id = tokens[n % len(tokens)]
        headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
        while True:
            job = jobs.get()
            if job is None:
                conn.close()
                return
            due, kind, payload = job
            if due is None:  # closed loop: latency from when a worker takes the request
                due = time.perf_counter()
            if _dropped(conn):
                conn.close()  # reconnects on the next request
            try:
                if kind == "list":
                    conn.request("GET", "/api/v1/mediation-cases?limit=50", headers=headers)
                elif kind == "get":
                    conn.request("GET", f"/api/v1/mediation-cases/{payload}", headers=headers)
                elif kind == "pull":
                    conn.request("GET", "/api/v1/sync/pull?limit=100", headers=headers)
                else:
                    body = f'{{"client_id": "{client_id}", {payload[1:]}'
                    conn.request("POST", "/api/v1/sync/push", body=body.encode(),
                                 headers=headers | {"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                status = r.status
            except (OSError, http.client.HTTPException) as e:
                status = type(e).__name__
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=60)
            took = time.perf_counter() - due
            with lock:
                lat[kind].append(took)
                if status != 200:
                    errors.append(f"{kind} {status}")

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(pool)]
    for th in threads:
        th.start()
    start = time.perf_counter()
    next_rss = start
    for at, kind, payload in schedule:
        if closed:
            jobs.put((None, kind, payload))
            continue
        due = start + at
        while (delay := due - time.perf_counter()) > 0:
            time.sleep(min(delay, 0.05))
        jobs.put((due, kind, payload))
        if rss is not None and time.perf_counter() >= next_rss:
            rss_samples.append(rss())
            next_rss += 1
    for _ in threads:
        jobs.put(None)
    for th in threads:
        th.join()
    took = time.perf_counter() - start
    if rss is not None:
        rss_samples.append(rss())
    every = [x for v in lat.values() for x in v]
    return {"n": len(every), "offered_rate": len(schedule) / seconds, "seconds": took,
            "throughput": len(every) / took,
            "p50_ms": statistics.median(every) * 1000, "p99_ms": C.pct(every, 99) * 1000,
            "max_ms": max(every) * 1000, "errors": len(errors), "error_kinds": sorted(set(errors))[:5],
            "per_kind": {k: {"p50_ms": round(statistics.median(v) * 1000, 1), "p99_ms": round(C.pct(v, 99) * 1000, 1)}
                         for k, v in lat.items() if v},
            "rss_max_mb": max(rss_samples) if rss_samples else None}


def capacity(base: str, tokens, ids, start: float, kinds, seconds: float = 8, step: float = 1.25,
             limit: float = 1000) -> tuple[float, list[tuple[float, float]]]:
    """The open-loop rate at which p99 passes 100 ms (or an error appears): rates from ``start`` up by ``step``
    (and down by it when ``start`` already fails); returns the last rate that held and the (rate, p99) seen."""
    seen: list[tuple[float, float]] = []

    def holds(rate: float) -> bool:
        r = run_mix(base, tokens, ids, rate, seconds, seed=int(rate), kinds=kinds)
        seen.append((round(rate), round(r["p99_ms"], 1)))
        return r["p99_ms"] <= 100 and r["errors"] == 0

    rate = start
    if not holds(rate):
        while rate > 5:
            rate /= step
            if holds(rate):
                return rate, seen
        return 0.0, seen
    while rate * step <= limit and holds(rate * step):
        rate *= step
    return rate, seen


def main() -> None:
    p = C.parser(__doc__)
    p.add_argument("--rate", type=float, default=100)
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--records", type=int, default=2000, help="cases in the village before the run")
    p.add_argument("--kinds", default=",".join(KINDS), help="which requests make the mix (diagnosis)")
    p.add_argument("--user", default=C.MEDIATOR, help="the account of the clients (a mediator sees personal data "
                   "unmasked, so each of its reads writes an audit row)")
    p.add_argument("--low-rate", type=float, default=30, help="also run open loop at this rate (0: skip)")
    p.add_argument("--workers", type=int, default=1, help="uvicorn worker processes of the server (and baseline)")
    args = p.parse_args()
    kinds = tuple(args.kinds.split(","))
    C.print_machine(f"api_mix ({args.db}): open-loop {args.rate:.0f} req/s for {args.seconds:.0f} s "
                    f"({', '.join(kinds)}; list 50, push 10, pull 100) as {args.user} over {args.records:,} cases, {args.workers} worker process(es)")
    with C.BenchDB(args.db, label="mix") as db:
        ids = seed(args.records)
        with C.Server(db.env(), workers=args.workers) as srv:
            clients = [C.login(srv.base, args.user) for _ in range(4)]
            tokens = [(c.headers["Authorization"].split()[1], c.client_id) for c in clients]
            sample = {"list": clients[0].get("/api/v1/mediation-cases", params={"limit": 50}).json(),
                      "get": clients[0].get(f"/api/v1/mediation-cases/{ids[0]}").json(),
                      "pull": clients[0].get("/api/v1/sync/pull", params={"limit": 100}).json(),
                      "push": clients[0].post("/api/v1/sync/push", json={
                          "client_id": clients[0].client_id,
                          "mutations": [C.create_mutation(C.case_fields(random.Random(1))) for _ in range(10)]}).json()}
            for c in clients:
                c.close()
            (run_mix(srv.base, tokens, ids, args.rate, 3, seed=7))  # warm-up
            real = (run_mix(srv.base, tokens, ids, args.rate, args.seconds, seed=42, rss=srv.rss_mb,
                            kinds=kinds))
            # what the server can do: the open-loop rate at which p99 passes 100 ms
            cap, cap_steps = capacity(srv.base, tokens, ids, args.rate, kinds)
            low = run_mix(srv.base, tokens, ids, args.low_rate, args.seconds, seed=44, kinds=kinds) \
                if args.low_rate else None
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as fh:
        json.dump(sample, fh, ensure_ascii=False)
    env = {"CUNZHI_BENCH_BARE_JSON": fh.name, "PYTHONPATH": str(C.ROOT / "bench")}
    with C.Server(env, factory="_bare_app:create_app", workers=args.workers) as bare:
        (run_mix(bare.base, tokens, ids, args.rate, 3, seed=7))
        base = (run_mix(bare.base, tokens, ids, args.rate, args.seconds, seed=42, rss=bare.rss_mb,
                        kinds=kinds))
        cap_base, cap_base_steps = capacity(bare.base, tokens, ids, args.rate, kinds)
    ok = real["p99_ms"] <= 100 and real["errors"] == 0
    for label, r in (("cunzhi", real), ("bare FastAPI baseline", base)):
        print(f"   [{label}] {r['n']} requests at {r['offered_rate']:.0f}/s offered: p50 {r['p50_ms']:.1f} ms, "
              f"p99 {r['p99_ms']:.1f} ms, max {r['max_ms']:.0f} ms, errors {r['errors']} {r['error_kinds']}, "
              f"server RSS max {r['rss_max_mb']:.0f} MB")
        print(f"      per kind: {r['per_kind']}")
    print(f"   capacity (open-loop rate at which p99 passes 100 ms, steps of ×1.25): {cap:.0f} requests/s "
          f"{cap_steps}; bare FastAPI baseline: {cap_base:.0f} requests/s {cap_base_steps} → "
          f"{cap / cap_base if cap_base else 0:.2f}× its capacity")
    if low:
        print(f"   [cunzhi at {args.low_rate:.0f} req/s] p50 {low['p50_ms']:.1f} ms, p99 {low['p99_ms']:.1f} ms, "
              f"errors {low['errors']} {low['error_kinds']}  ({C.verdict(low['p99_ms'] <= 100)} at this lower rate)")
    print(f"   ratio p50 {real['p50_ms'] / base['p50_ms']:.1f}×, p99 {real['p99_ms'] / base['p99_ms']:.1f}× the bare baseline")
    print(f"   budget p99 ≤ 100 ms and no error: {C.verdict(ok)}; RSS ≤ 300 MB: "
          f"{C.verdict((real['rss_max_mb'] or 0) <= 300)}")
    if args.json:
        print(json.dumps({"bench": "api_mix", "db": args.db, "workers": args.workers, "cunzhi": real, "baseline": base,
                          "capacity_rps": round(cap, 1),
                          "baseline_capacity_rps": round(cap_base, 1), "low_rate": low},
                         default=str))


if __name__ == "__main__":
    main()
