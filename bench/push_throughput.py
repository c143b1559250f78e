"""Push throughput: batches of 500 new mediation cases over real HTTP against a real server process.

Figures: mutations/s through ``POST /api/v1/sync/push`` (budget ≥ 3,000/s SQLite, ≥ 2,000/s PostgreSQL);
the same-run baseline (the same rows inserted one statement per row with SQLAlchemy Core, one transaction
per 500, no sync bookkeeping, into a second fresh database of the same kind, batch by batch interleaved with
the pushes so both see the same machine load) and the ratio (budget ≤ 5×); and the
idempotent replay of a 500-mutation batch (all duplicates) vs applying it (budget: replay ≤ apply).

    .venv/bin/python bench/push_throughput.py --db sqlite|postgresql [--batches 10]
"""

from __future__ import annotations

import json
import random
import statistics
import time
from datetime import date, datetime, timedelta, timezone

import _common as C


def baseline_rows(batches: list[list[dict]], user_id: str) -> list[list[dict]]:
    """The rows the server would store for these creates, built up front (not timed)."""
    now = datetime.now(timezone.utc)
    out, serial = [], 0
    for batch in batches:
        rows = []
        for m in batch:
            f = m["fields"]
            serial += 1
            received = date.fromisoformat(f["received_on"])
            rows.append({
                "id": m["record_id"], "org_code": f["org_code"], "rev": 1, "deleted": False, "created_at": now,
                "updated_at": now, "created_by": user_id, "updated_by": user_id,
                "field_meta": {"status+agreement+outcome_note": [1, "s", 0, "e", None]},
                "case_number": f"{f['org_code']}-{received.year}-{serial:05d}", "title": f["title"],
                "description": f["description"], "category": f["category"], "source": f["source"],
                "received_on": received, "place": f["place"], "parties": f["parties"],
                "people_involved": f["people_involved"], "amount_in_dispute": f["amount_in_dispute"],
                "mediator_ids": f["mediator_ids"], "risk_level": f["risk_level"],
                "escalation_flag": f["escalation_flag"], "escalation_note": f["escalation_note"],
                "status": "registered", "deadline": received + timedelta(days=30), "deadline_extensions": [],
                "agreement": None, "outcome_note": None, "incident_id": None, "ended_on": None, "ended_as": None})
        out.append(rows)
    return out


def baseline_batch(eng, stmt, rows: list[dict]) -> float:
    """Seconds to insert one batch: one INSERT statement per row, one transaction, no sync bookkeeping."""
    start = time.perf_counter()
    with eng.begin() as conn:
        for r in rows:
            conn.execute(stmt, r)
    return time.perf_counter() - start


def main() -> None:
    p = C.parser(__doc__)
    p.add_argument("--batches", type=int, default=10)
    p.add_argument("--size", type=int, default=500)
    p.add_argument("--warmup", type=int, default=1, help="untimed batches first (connection pools, caches)")
    args = p.parse_args()
    C.print_machine(f"push_throughput ({args.db}): {args.batches} batches of {args.size} new mediation_case")
    rng = random.Random(340321)
    mid = C.mediator_id()
    batches = [[C.create_mutation(C.case_fields(rng, mediator=mid)) for _ in range(args.size)]
               for _ in range(args.batches + args.warmup)]
    warm, timed = batches[:args.warmup], batches[args.warmup:]

    from cunzhi.core.db import make_engine
    from cunzhi.mediation.models import MediationCase

    base_rows = baseline_rows(batches, mid)
    # the baseline runs in the same minutes as the pushes (batch by batch, interleaved) so that both see the
    # same machine: on a shared machine, load changes from one minute to the next
    with C.BenchDB(args.db, label="pushbase") as bdb, C.BenchDB(args.db, label="push") as db, \
            C.Server(db.env()) as srv:
        beng = make_engine(bdb.url)
        stmt = MediationCase.__table__.insert()  # one INSERT per row (no executemany), compiled once
        client = C.login(srv.base)
        body = lambda ms: {"client_id": client.client_id, "mutations": ms}  # noqa: E731

        def send(ms: list[dict]) -> tuple[float, list[dict]]:
            data = json.dumps(body(ms), ensure_ascii=False).encode()
            start = time.perf_counter()
            r = client.post("/api/v1/sync/push", content=data, headers={"Content-Type": "application/json"})
            took = time.perf_counter() - start
            r.raise_for_status()
            return took, r.json()["results"]

        for i, b in enumerate(warm):
            send(b)
            baseline_batch(beng, stmt, base_rows[i])
        per_batch, base_batch, cpu = [], [], 0.0
        statuses: dict[str, int] = {}
        for i, b in enumerate(timed):
            cpu0 = srv.cpu_s()
            took, results = send(b)
            cpu += srv.cpu_s() - cpu0
            per_batch.append(took)
            base_batch.append(baseline_batch(beng, stmt, base_rows[args.warmup + i]))
            for res in results:
                statuses[res["status"]] = statuses.get(res["status"], 0) + 1
        # idempotent replay: the last batch again, all duplicates (3 times, median)
        replays, dup_ok = [], True
        for _ in range(3):
            took, results = send(timed[-1])
            replays.append(took)
            dup_ok &= all(r["status"] == "duplicate" and r["original_status"] == "applied" for r in results)
        rss = srv.rss_mb()
        client.close()
        beng.dispose()

    n = args.batches * args.size
    sync_s = sum(per_batch)
    rate = n / sync_s
    base_s = sum(base_batch)
    base_rate = n / base_s
    ratio = sync_s / base_s
    apply_med = statistics.median(per_batch)
    replay_med = statistics.median(replays)
    budget = 3000 if args.db == "sqlite" else 2000
    print(f"   statuses: {statuses}")
    print(f"   sync push over HTTP : {n} mutations in {sync_s:.2f} s = {rate:,.0f} mutations/s "
          f"(per batch of {args.size}: median {apply_med * 1000:.0f} ms, min {min(per_batch) * 1000:.0f} ms, "
          f"max {max(per_batch) * 1000:.0f} ms)  budget ≥ {budget:,}/s  {C.verdict(rate >= budget)}")
    print(f"   server CPU          : {cpu * 1e6 / n:,.0f} µs per mutation ({cpu:.2f} s; the machine's load moves "
          f"this much less than the rate)")
    print(f"   baseline Core INSERT: {n} rows in {base_s:.2f} s = {base_rate:,.0f} rows/s (in-process, no HTTP)")
    per_ratio = statistics.median(a / b for a, b in zip(per_batch, base_batch, strict=True))
    print(f"   ratio sync/baseline : {ratio:.2f}× (median of per-batch ratios {per_ratio:.2f}×)  budget ≤ 5×  "
          f"{C.verdict(ratio <= 5)}")
    print(f"   replay of {args.size} (all duplicate={dup_ok}): median {replay_med * 1000:.0f} ms vs apply median "
          f"{apply_med * 1000:.0f} ms ({replay_med / apply_med:.2f}×)  budget ≤ 1×  "
          f"{C.verdict(replay_med <= apply_med and dup_ok)}")
    print(f"   server RSS after the run: {rss:.0f} MB (budget ≤ 300 MB {C.verdict(rss <= 300)})")
    if args.json:
        print(json.dumps({"bench": "push_throughput", "db": args.db, "mutations_per_s": round(rate),
                          "baseline_rows_per_s": round(base_rate), "ratio": round(ratio, 2),
                          "apply_ms": round(apply_med * 1000), "replay_ms": round(replay_med * 1000),
                          "rss_mb": round(rss), "server_cpu_us": round(cpu * 1e6 / n)}))


if __name__ == "__main__":
    main()
