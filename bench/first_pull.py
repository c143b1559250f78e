"""First pull of a village with 10,000 records: every page over loopback HTTP, and the bytes on the wire.

Figures: wall time to pull all pages (budget ≤ 1.5 s); gzip bytes of all pages vs gzip of the same records as
one compact JSON array (budget ≤ 1.2×); baseline in the same run: a raw ``SELECT`` of those rows serialised to
JSON (in-process). The pull is timed twice against the same server: asking for gzip (as browsers do) and with
``Accept-Encoding: identity``, so the cost and the saving of compressing responses are both measured.

    .venv/bin/python bench/first_pull.py --db sqlite|postgresql [--records 10000] [--limit 500]
"""

from __future__ import annotations

import json
import random
import statistics
import time

import _common as C
import sqlalchemy as sa


def seed(n: int) -> float:
    from cunzhi.core.db import write_tx
    from cunzhi.sync import engine
    from cunzhi.sync.registry import load_entities

    load_entities()
    rng = random.Random(10000)
    who = C.actor()
    mid = C.mediator_id()
    start = time.perf_counter()
    for i in range(0, n, 500):
        ms = [engine.Mutation(m["mutation_id"], m["entity"], m["op"], m["record_id"], 0, m["fields"])
              for m in (C.create_mutation(C.case_fields(rng, mediator=mid)) for _ in range(min(500, n - i)))]
        with write_tx() as conn:
            res = engine.Push(conn, who).run(ms)
        assert all(r.status == "applied" for r in res), {r.status for r in res}
    return time.perf_counter() - start


def pull_all(client, limit: int) -> dict:
    pages, raw, wire, changes, cursor = [], 0, 0, [], None
    encodings = set()
    start = time.perf_counter()
    while True:
        params = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        r = client.get("/api/v1/sync/pull", params=params)
        r.raise_for_status()
        wire += r.num_bytes_downloaded
        encodings.add(r.headers.get("content-encoding", "identity"))
        pages.append(r.content)
        body = r.json()
        changes += body["changes"]
        cursor = body["cursor"]
        if not body["has_more"]:
            break
    took = time.perf_counter() - start
    raw = sum(len(p) for p in pages)
    return {"s": took, "pages": pages, "changes": changes, "raw": raw, "wire": wire, "enc": encodings}


def baseline(village: str) -> tuple[float, int]:
    from cunzhi.core.db import read_tx
    from cunzhi.mediation.models import MediationCase

    t = MediationCase.__table__
    start = time.perf_counter()
    with read_tx() as conn:
        rows = [dict(r) for r in conn.execute(sa.select(t).where(t.c.org_code == village)).mappings()]
    json.dumps(rows, ensure_ascii=False, separators=(",", ":"), default=str).encode()
    return time.perf_counter() - start, len(rows)


def main() -> None:
    p = C.parser(__doc__)
    p.add_argument("--records", type=int, default=10000)
    p.add_argument("--limit", type=int, default=500, help="page size (the protocol's default is 500)")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    C.print_machine(f"first_pull ({args.db}): village {C.VILLAGE} with {args.records:,} mediation cases, "
                    f"pages of {args.limit}")
    out = {}
    with C.BenchDB(args.db, label="pull") as db:
        seeded = seed(args.records)
        print(f"   seeded {args.records:,} records through the engine in {seeded:.1f} s")
        base_times = []
        for _ in range(args.repeat):
            s, nrows = baseline(C.VILLAGE)
            base_times.append(s)
        base_s = statistics.median(base_times)
        with C.Server(db.env()) as srv:
            for label, enc in (("gzip", "gzip"), ("identity", "identity")):
                client = C.login(srv.base, headers={"Accept-Encoding": enc})
                runs = [pull_all(client, args.limit) for _ in range(args.repeat + 1)][1:]  # first warms up
                rss = srv.rss_mb()
                client.close()
                report(label, runs, args, base_s, nrows, rss, out)
    if args.json:
        print(json.dumps({"bench": "first_pull", "db": args.db, "baseline_s": round(base_s, 3),
                          **{k: {kk: (round(vv, 3) if isinstance(vv, float) else vv) for kk, vv in v.items()}
                             for k, v in out.items()}}))


def report(label, runs, args, base_s, nrows, rss, out) -> None:
    run = runs[0]
    took = statistics.median(r["s"] for r in runs)
    n = len(run["changes"])
    assert n == args.records and len({c["record"]["id"] for c in run["changes"]}) == n, n
    records = [c["record"] for c in run["changes"]]
    gz_pages = sum(C.gzip_len(pg) for pg in run["pages"])
    gz_compact = C.gzip_len(C.compact(records))
    wire_gzip = "gzip" in run["enc"]
    ratio_bytes = (run["wire"] if wire_gzip else gz_pages) / gz_compact  # what travels, if the server gzips
    ratio_time = took / base_s
    out[label] = {"s": took, "wire": run["wire"], "raw": run["raw"], "enc": sorted(run["enc"]),
                  "gz_pages": gz_pages, "bytes_ratio": ratio_bytes, "gz_compact": gz_compact, "rss": rss}
    print(f"   [Accept-Encoding: {label}] {len(run['pages'])} pages, {n:,} records: median {took:.2f} s over {args.repeat} "
          f"pulls (min {min(r['s'] for r in runs):.2f} s)  budget ≤ 1.5 s  {C.verdict(took <= 1.5)}")
    print(f"      bytes on the wire {run['wire']:,} (Content-Encoding: {', '.join(sorted(run['enc']))}); "
          f"JSON {run['raw']:,}")
    print(f"      gzip (level 6) of each page, summed {gz_pages:,}; gzip of the records as one compact JSON array "
          f"{gz_compact:,} ({gz_pages / gz_compact:.3f}×)")
    print(f"      {'on the wire' if wire_gzip else 'gzip of the pages'} vs gzip compact: {ratio_bytes:.3f}×  "
          f"budget ≤ 1.2×  {C.verdict(ratio_bytes <= 1.2)}")
    print(f"      baseline raw SELECT + json.dumps of {nrows:,} rows: {base_s:.3f} s; ratio {ratio_time:.1f}×; "
          f"server RSS {rss:.0f} MB")
    if label == "identity":  # what compressing these pages costs, by level (GZipMiddleware's default is 9)
        import gzip

        costs = []
        for level in (9, 6, 5):
            start = time.process_time()
            size = sum(len(gzip.compress(pg, compresslevel=level)) for pg in run["pages"])
            costs.append(f"level {level}: {(time.process_time() - start) * 1000:.0f} ms CPU, {size:,} bytes "
                         f"({size / gz_compact:.3f}×)")
        print("      gzip of all pages at " + "; ".join(costs))


if __name__ == "__main__":
    main()
