"""First pull of a village with 10,000 records: every page over loopback HTTP, and the bytes on the wire.

Figures: wall time to pull all pages (budget ≤ 1.5 s); gzip bytes of all pages vs gzip of the same records as
one compact JSON array (budget ≤ 1.2×); baseline in the same run: a raw ``SELECT`` of those rows serialised to
JSON (in-process). The pull is timed twice against the same server: asking for gzip (as browsers do) and with
``Accept-Encoding: identity``, so the cost and the saving of compressing responses are both measured.

    .venv/bin/python bench/first_pull.py --db sqlite|postgresql [--records 10000] [--limit 500] [--mix cases|all]
        [--render-cache MB]

The server's render cache is off by default (``--render-cache 0``): each run then costs what the village's first
phone's pull costs; ``--render-cache 32`` (the server's default) times the pulls of the phones after it.

``--mix all`` (grid work, issue 7) makes the village's records a mix of every record type the engine knows —
mediation cases 30 %, case events 20 %, households 20 %, patrols 15 % (routes of 60 points), incidents 15 % —
each written through the engine by the role that writes it; the baseline then selects every one of those tables.
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


MIX = (("mediation_case", 0.30), ("case_event", 0.20), ("household", 0.20), ("patrol", 0.15), ("incident", 0.15))


def seed_mixed(n: int) -> float:
    """A village of ``n`` records across every type, written through the engine in batches of 500."""
    from datetime import datetime, timedelta, timezone

    from cunzhi.core.db import write_tx
    from cunzhi.demo.grid import ensure_grids
    from cunzhi.sync import engine
    from cunzhi.sync.registry import load_entities

    load_entities()
    rng = random.Random(10007)
    counts = {e: int(n * share) for e, share in MIX}
    counts["mediation_case"] += n - sum(counts.values())
    who = {"mediation_case": C.actor(), "case_event": C.actor(), "household": C.actor("wanfucun.admin"),
           "patrol": C.actor("wanfucun.grid"), "incident": C.actor("wanfucun.grid")}
    with write_tx() as conn:
        ensure_grids(conn, [who["patrol"].user_id], who["household"].user_id)
    grids = ["340321108200001", "340321108200002"]
    mid = C.mediator_id()
    case_ids: list[str] = []
    base = datetime.now(timezone.utc) - timedelta(days=60)

    def fields(entity: str, i: int) -> dict:
        when = base + timedelta(minutes=i * 7)
        if entity == "mediation_case":
            return C.case_fields(rng, mediator=mid)
        if entity == "case_event":
            return {"case_id": rng.choice(case_ids), "kind": "session", "occurred_at": when.isoformat(),
                    "content": "听取双方陈述，梳理争议焦点。" * rng.randint(1, 3)}
        if entity == "household":
            return {"org_code": C.VILLAGE, "grid_code": rng.choice(grids), "head_name": f"户主{i}",
                    "address": f"东庄 {i} 号", "members": rng.randint(1, 8),
                    "phone": f"13{rng.randint(100000000, 999999999)}", "tags": rng.sample(["left_behind", "low_income"], k=rng.randint(0, 1))}
        if entity == "patrol":
            lat, lon = 32.97, 117.19
            route = [{"lat": round(lat + k * 1e-4, 6), "lon": round(lon + k * 1e-4, 6),
                      "at": (when + timedelta(seconds=30 * k)).isoformat(), "accuracy": rng.randint(5, 30)}
                     for k in range(60)]
            return {"org_code": C.VILLAGE, "grid_code": rng.choice(grids), "state": "completed",
                    "started_at": when.isoformat(), "ended_at": (when + timedelta(minutes=30)).isoformat(),
                    "route": route, "checklist": [{"item": "fire_safety", "ok": True, "note": None}],
                    "notes": "巡查正常"}
        return {"org_code": C.VILLAGE, "grid_code": rng.choice(grids), "type": rng.choice(["dispute", "safety_hazard"]),
                "severity": rng.choice(["general", "serious"]), "title": "巡查发现安全隐患",
                "description": "池塘边缺少防护栏，已提醒村民注意。", "occurred_at": when.isoformat()}

    start = time.perf_counter()
    for entity, _ in MIX:  # cases first: events name them
        total = counts[entity]
        for i in range(0, total, 500):
            batch = []
            for j in range(i, min(i + 500, total)):
                m = C.create_mutation(fields(entity, j))
                m["entity"] = entity
                batch.append(engine.Mutation(m["mutation_id"], entity, "upsert", m["record_id"], 0, m["fields"]))
            with write_tx() as conn:
                res = engine.Push(conn, who[entity]).run(batch)
            assert all(r.status == "applied" for r in res), {(r.status, str(r.error)) for r in res}
            if entity == "mediation_case":
                case_ids += [m.record_id for m in batch]
    print(f"   mix: {', '.join(f'{e} {c:,}' for e, c in counts.items())}")
    return time.perf_counter() - start


def baseline_mixed(village: str) -> tuple[float, int]:
    from cunzhi.core.db import read_tx
    from cunzhi.sync.registry import entities

    start = time.perf_counter()
    rows: list[dict] = []
    with read_tx() as conn:
        for spec in entities().values():
            t = spec.table
            rows += [dict(r) for r in conn.execute(sa.select(t).where(t.c.org_code == village)).mappings()]
    json.dumps(rows, ensure_ascii=False, separators=(",", ":"), default=str).encode()
    return time.perf_counter() - start, len(rows)


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
    p.add_argument("--render-cache", type=int, default=0, metavar="MB",
                   help="the server's CUNZHI_RENDER_CACHE_MB (default 0: every run renders every record, as the "
                        "village's first phone; later phones of the village find them rendered)")
    p.add_argument("--mix", choices=["cases", "all"], default="cases",
                   help="cases: mediation cases only; all: every record type (grid work included)")
    args = p.parse_args()
    what = "mediation cases" if args.mix == "cases" else "records of every type"
    C.print_machine(f"first_pull ({args.db}): village {C.VILLAGE} with {args.records:,} {what}, "
                    f"pages of {args.limit}, render cache {args.render_cache} MB")
    out = {}
    with C.BenchDB(args.db, label="pull") as db:
        seeded = seed(args.records) if args.mix == "cases" else seed_mixed(args.records)
        print(f"   seeded {args.records:,} records through the engine in {seeded:.1f} s")
        base_times = []
        for _ in range(args.repeat):
            s, nrows = baseline(C.VILLAGE) if args.mix == "cases" else baseline_mixed(C.VILLAGE)
            base_times.append(s)
        base_s = statistics.median(base_times)
        with C.Server(db.env() | {"CUNZHI_RENDER_CACHE_MB": str(args.render_cache)}) as srv:
            for label, enc in (("gzip", "gzip"), ("identity", "identity")):
                client = C.login(srv.base, headers={"Accept-Encoding": enc})
                runs = [pull_all(client, args.limit) for _ in range(args.repeat + 1)][1:]  # first warms up
                rss = srv.rss_mb()
                client.close()
                report(label, runs, args, base_s, nrows, rss, out)
    if args.json:
        print(json.dumps({"bench": "first_pull", "db": args.db, "mix": args.mix, "baseline_s": round(base_s, 3),
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
