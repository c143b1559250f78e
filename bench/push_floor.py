"""The storage floor of a push: what writing a push's rows costs, without judging anything.

Pushes batches of 500 new cases in-process (``read_push`` → the route's ``_apply`` → the answer's JSON, as the
server does, without HTTP) while recording every bulk write the push makes — records, history, feed rows, stored
answers, the dashboard's summary upserts. Then replays exactly those rows, batch by batch, into a second fresh
database of the same kind through the same bulk writes and one commit per batch. The replay is the floor any push
of these records pays on this database: the rest of the push's time is judging (parsing, validating, scope,
merge metadata, derived writes, the summaries' deltas) and the answer. Prints both per mutation (CPU and wall; on
PostgreSQL the wall includes the database server's work) and the floor's share per table.

    .venv/bin/python bench/push_floor.py --db sqlite|postgresql [--batches 14]
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections import defaultdict

import orjson

import _common as C

WARMUP = 4  # the first batches fill caches and statement plans: left out of the medians


def main() -> None:
    p = C.parser(__doc__)
    p.add_argument("--batches", type=int, default=14)
    args = p.parse_args()
    C.print_machine(f"push_floor ({args.db}): {args.batches} batches of 500 new mediation_case, in-process")
    from cunzhi.core import bulk

    calls: list[list[tuple]] = []  # per batch: (bulk function, its arguments after the connection, keywords)
    insert, add_counts = bulk.insert, bulk.add_counts

    def recording_insert(conn, table, rows, **kw):
        calls[-1].append((insert, (table, [dict(r) for r in rows]), kw))
        return insert(conn, table, rows, **kw)

    def recording_add(conn, table, keys, count, rows):
        calls[-1].append((add_counts, (table, keys, count, [dict(r) for r in rows]), {}))
        return add_counts(conn, table, keys, count, rows)

    push: list[tuple[float, float]] = []
    with C.BenchDB(args.db, label="floor") as db:
        db.activate()
        from cunzhi.core import jsonx
        from cunzhi.sync import routes
        from cunzhi.sync.mutation import read_push

        rng, scope, mid = random.Random(340321), C.actor(), C.mediator_id()
        bulk.insert, bulk.add_counts = recording_insert, recording_add  # type: ignore[assignment]
        try:
            for _ in range(args.batches):
                body = orjson.dumps({"client_id": scope.client_id, "mutations": [
                    C.create_mutation(C.case_fields(rng, mediator=mid)) for _ in range(500)]})
                calls.append([])
                cpu, wall = time.process_time(), time.perf_counter()
                run, results, rendered = routes._apply(scope, read_push(jsonx.loads(body)).mutations, "zh-CN")
                jsonx.dumpb({"results": rendered})
                push.append((time.process_time() - cpu, time.perf_counter() - wall))
                assert all(r.status == "applied" for r in results)
        finally:
            bulk.insert, bulk.add_counts = insert, add_counts  # type: ignore[assignment]

    floor: list[tuple[float, float]] = []
    per_table: dict[str, list[float]] = defaultdict(list)
    with C.BenchDB(args.db, label="floor") as db:
        db.activate()
        from cunzhi.core.db import write_tx

        for i, batch in enumerate(calls):
            cpu, wall = time.process_time(), time.perf_counter()
            with write_tx() as conn:
                for fn, fn_args, kw in batch:
                    t = time.perf_counter()
                    fn(conn, *fn_args, **kw)
                    if i >= WARMUP:
                        per_table[fn_args[0].name].append(time.perf_counter() - t)
                t = time.perf_counter()  # the commit, as the block ends
            if i >= WARMUP:
                per_table["(commit)"].append(time.perf_counter() - t)
            floor.append((time.process_time() - cpu, time.perf_counter() - wall))

    def per_mutation(xs: list[tuple[float, float]], j: int) -> float:
        return statistics.median(x[j] for x in xs[WARMUP:]) / 500 * 1e6

    pc, pw, fc, fw = per_mutation(push, 0), per_mutation(push, 1), per_mutation(floor, 0), per_mutation(floor, 1)
    n_batches = len(calls) - WARMUP
    print(f"   push, in-process : CPU {pc:,.1f} µs, wall {pw:,.1f} µs per mutation (medians of {n_batches} batches)")
    print(f"   storage floor    : CPU {fc:,.1f} µs, wall {fw:,.1f} µs per mutation — the same rows through the same "
          f"bulk writes and a commit per batch, nothing judged")
    print(f"   floor / push     : {fw / pw:.0%} of the push's wall time; judging and the answer: {pw - fw:,.1f} µs")
    split = ", ".join(f"{name} {sum(v) / n_batches / 500 * 1e6:,.1f}" for name, v in
                      sorted(per_table.items(), key=lambda kv: -sum(kv[1])))
    print(f"   floor per table (µs per mutation, wall): {split}")
    if args.json:
        print(json.dumps({"bench": "push_floor", "db": args.db, "push_cpu_us": round(pc, 1),
                          "push_wall_us": round(pw, 1), "floor_cpu_us": round(fc, 1), "floor_wall_us": round(fw, 1)}))


if __name__ == "__main__":
    main()
