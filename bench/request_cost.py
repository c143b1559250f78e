"""What each kind of request of the API mix costs the server: CPU per request, one at a time.

The API mix (bench/api_mix.py) says whether one server process keeps up; this says where its CPU goes, per kind,
with nothing queued: a real server process, a village of ``--records`` cases, ``--n`` requests of each kind in a
row (after 20 to warm up), the server's CPU time (user + system, from /proc) divided by the count. Less moved by
the machine's load than a rate, but not immune to it: compare old and new code in the same minutes.

    .venv/bin/python bench/request_cost.py --db sqlite|postgresql [--n 150] [--records 2000]
"""

from __future__ import annotations

import json
import random
import time

import _common as C
import api_mix

KINDS = ("health", "get", "list", "pull", "push")


def main() -> None:
    p = C.parser(__doc__)
    p.add_argument("--n", type=int, default=150)
    p.add_argument("--records", type=int, default=2000)
    args = p.parse_args()
    C.print_machine(f"request_cost ({args.db}): {args.n} of each kind (list 50, pull 100, push 10 new cases) "
                    f"as {C.MEDIATOR} over {args.records:,} cases")
    out = {}
    with C.BenchDB(args.db, label="cost") as db:
        ids = api_mix.seed(args.records)
        with C.Server(db.env()) as srv:
            c = C.login(srv.base)
            rng = random.Random(3)

            def request(kind: str) -> None:
                if kind == "health":
                    r = c.get("/api/v1/health")
                elif kind == "get":
                    r = c.get(f"/api/v1/mediation-cases/{rng.choice(ids)}")
                elif kind == "list":
                    r = c.get("/api/v1/mediation-cases", params={"limit": 50})
                elif kind == "pull":
                    r = c.get("/api/v1/sync/pull", params={"limit": 100})
                else:
                    r = c.post("/api/v1/sync/push", json={"client_id": c.client_id, "mutations": [  # type: ignore[attr-defined]
                        C.create_mutation(C.case_fields(rng)) for _ in range(10)]})
                if r.status_code != 200:
                    raise SystemExit(f"{kind}: {r.status_code} {r.text[:200]}")

            for kind in KINDS:
                for _ in range(20):
                    request(kind)
                cpu0, t0 = srv.cpu_s(), time.perf_counter()
                for _ in range(args.n):
                    request(kind)
                cpu = (srv.cpu_s() - cpu0) / args.n * 1000
                wall = (time.perf_counter() - t0) / args.n * 1000
                out[kind] = {"cpu_ms": round(cpu, 2), "wall_ms": round(wall, 2)}
                print(f"   {kind:6}  server CPU {cpu:6.2f} ms per request   (wall {wall:6.2f} ms)", flush=True)
            c.close()
    mix = sum(out[k]["cpu_ms"] for k in api_mix.KINDS) / len(api_mix.KINDS)
    print(f"   the API mix's average: {mix:.2f} ms of server CPU per request → at most {1000 / mix:.0f} requests/s "
          "for one process's core, before any queueing")
    if args.json:
        print(json.dumps({"bench": "request_cost", "db": args.db, "kinds": out, "mix_cpu_ms": round(mix, 2)}))


if __name__ == "__main__":
    main()
