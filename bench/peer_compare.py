"""Cunzhi against the offline-first peer: PouchDB 9 replicating to pouchdb-server, in the same run.

The same 5,000 case-shaped records (~690 B of JSON each) go up in batches of 500 and come down again to a
fresh replica: PouchDB with ``replicate.to``/``replicate.from`` (``batch_size: 500``) against pouchdb-server in
memory (the budget's peer) and, with ``--disk``, also on its default LevelDB store (durable, as a deployment
runs it); Cunzhi with ``POST /api/v1/sync/push`` (500 new records a batch: validated, scoped, merged, numbered,
with history) and a first ``GET /api/v1/sync/pull`` (pages of 500) against a real server process. Prints both,
and the ratios (budget: Cunzhi ≥ 2× PouchDB both ways). PouchDB validates, scopes and merges nothing.

    .venv/bin/python bench/peer_compare.py --db sqlite|postgresql [--records 5000] [--runs 3] [--disk]

Needs Node.js; installs bench/peer/node_modules (npm ci) on first use.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import orjson

import _common as C

PEER = Path(__file__).resolve().parent / "peer"


def peer_install() -> None:
    if not (PEER / "node_modules" / "pouchdb-server").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error", "--ignore-scripts"],
                       cwd=PEER, check=True)


def run_peer(records: Path, store: str = "memory") -> dict:
    out = subprocess.run(["node", "peer.mjs", str(records)], cwd=PEER, check=True, capture_output=True,
                         text=True, timeout=600, env={**os.environ, "PEER_STORE": store})
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_cunzhi(kind: str, mutations: list[list[dict]]) -> dict:
    n = sum(len(b) for b in mutations)
    with C.BenchDB(kind, label="peer") as db, C.Server(db.env()) as srv:
        client = C.login(srv.base)
        cpu0 = srv.cpu_s()
        start = time.perf_counter()
        for batch in mutations:
            # native-code JSON on both sides, as PouchDB's JSON.stringify/parse and the phone's (stdlib json in the
            # bench's client would time the bench, not the server)
            r = client.post("/api/v1/sync/push", content=orjson.dumps({"client_id": client.client_id,
                                                                       "mutations": batch}),
                            headers={"Content-Type": "application/json"})
            r.raise_for_status()
            assert all(x["status"] == "applied" for x in orjson.loads(r.content)["results"]), r.text[:300]
        push_s = time.perf_counter() - start
        push_cpu = srv.cpu_s() - cpu0
        other = C.login(srv.base)  # a fresh device of the village
        cpu0 = srv.cpu_s()
        start = time.perf_counter()
        cursor, got = "", 0
        while True:
            r = other.get("/api/v1/sync/pull", params={"cursor": cursor, "limit": 500})
            r.raise_for_status()
            page = orjson.loads(r.content)
            got += len(page["changes"])
            cursor = page["cursor"]
            if not page["has_more"]:
                break
        pull_s = time.perf_counter() - start
        pull_cpu = srv.cpu_s() - cpu0
        assert got == n, (got, n)
        client.close()
        other.close()
    return {"docs": n, "push_s": push_s, "pull_s": pull_s, "push_docs_per_s": n / push_s,
            "pull_docs_per_s": n / pull_s, "push_cpu_us": push_cpu * 1e6 / n, "pull_cpu_us": pull_cpu * 1e6 / n}


def main() -> None:
    p = C.parser(__doc__)
    p.add_argument("--records", type=int, default=5000)
    p.add_argument("--runs", type=int, default=3, help="alternating runs of each; medians are reported")
    p.add_argument("--disk", action="store_true", help="also run pouchdb-server on its default on-disk store")
    args = p.parse_args()
    C.print_machine(f"peer_compare ({args.db}): {args.records} case-shaped records, batches of 500")
    peer_install()
    rng = random.Random(340321)
    mid = C.mediator_id()
    muts = [C.create_mutation(C.case_fields(rng, mediator=mid)) for _ in range(args.records)]
    docs = [{"_id": m["record_id"], **m["fields"]} for m in muts]
    size = statistics.mean(len(json.dumps(d, ensure_ascii=False).encode()) for d in docs)
    batches = [muts[i:i + 500] for i in range(0, len(muts), 500)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "records.json"
        path.write_text(json.dumps(docs, ensure_ascii=False))
        peers, disk, ours = [], [], []
        for _ in range(args.runs):  # alternate, so both see the same machine load
            peers.append(run_peer(path))
            if args.disk:
                disk.append(run_peer(path, "disk"))
            ours.append(run_cunzhi(args.db, batches))  # a fresh database each run: the same ids are new there
    med = lambda runs, k: statistics.median(r[k] for r in runs)  # noqa: E731
    pp, pl = med(peers, "push_docs_per_s"), med(peers, "pull_docs_per_s")
    cp, cl = med(ours, "push_docs_per_s"), med(ours, "pull_docs_per_s")
    print(f"   records: {args.records}, mean {size:.0f} B of JSON each; medians of {args.runs} alternating runs")
    print(f"   PouchDB 9 → pouchdb-server (memory): push {pp:,.0f} docs/s, pull {pl:,.0f} docs/s")
    print(f"   Cunzhi ({args.db}), real server:      push {cp:,.0f} mutations/s, pull {cl:,.0f} records/s")
    print(f"   Cunzhi server CPU: push {med(ours, 'push_cpu_us'):,.0f} µs per mutation, pull "
          f"{med(ours, 'pull_cpu_us'):,.0f} µs per record (load-independent-ish: what the rates cost)")
    print(f"   ratio push {cp / pp:.2f}×  {C.verdict(cp >= 2 * pp)}   ratio pull {cl / pl:.2f}×  "
          f"{C.verdict(cl >= 2 * pl)}   (budget ≥ 2× both ways)")
    if disk:
        dp, dl = med(disk, "push_docs_per_s"), med(disk, "pull_docs_per_s")
        print(f"   PouchDB 9 → pouchdb-server (LevelDB on disk): push {dp:,.0f} docs/s, pull {dl:,.0f} docs/s → "
              f"Cunzhi push {cp / dp:.2f}×, pull {cl / dl:.2f}× (information; the budget is judged against memory)")
    if args.json:
        print(json.dumps({"bench": "peer_compare", "db": args.db, "pouchdb_push": round(pp), "pouchdb_pull": round(pl),
                          "cunzhi_push": round(cp), "cunzhi_pull": round(cl), "push_ratio": round(cp / pp, 2),
                          "pull_ratio": round(cl / pl, 2)}))


if __name__ == "__main__":
    main()
