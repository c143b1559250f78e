"""The API mix at a few open-loop rates against one server, with the server's CPU: a quick probe of a setting.

``bench/api_mix.py`` gives the verdict (60 s at 100 req/s, the capacity, the bare baseline); this answers "what
does this setting do to the tail" in a minute or two: one server started with the given ``CUNZHI_*`` settings, a
village of ``--records`` cases, then each rate for ``--seconds``; per rate p50/p99 (from the scheduled arrival,
as api_mix), errors, the server's CPU per request and its utilisation (CPU seconds over wall seconds: below 1.0
with a long tail means the requests wait on something other than the interpreter).

    .venv/bin/python bench/mix_probe.py --db sqlite|postgresql [--rates 100,125] [--seconds 30] [CUNZHI_X=v ...]
"""

from __future__ import annotations

import time

import _common as C
import api_mix


def main() -> None:
    p = C.parser(__doc__)
    p.add_argument("--rates", default="100,125")
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--records", type=int, default=2000)
    p.add_argument("settings", nargs="*", help="CUNZHI_NAME=value for the server")
    args = p.parse_args()
    extra = dict(kv.split("=", 1) for kv in args.settings)
    C.print_machine(f"mix_probe ({args.db}): rates {args.rates} req/s × {args.seconds:.0f} s, settings {extra or '-'}")
    with C.BenchDB(args.db, label="probe") as db:
        ids = api_mix.seed(args.records)
        with C.Server({**db.env(), **extra}) as srv:
            clients = [C.login(srv.base, C.MEDIATOR) for _ in range(4)]
            tokens = [(c.headers["Authorization"].split()[1], c.client_id) for c in clients]
            api_mix.run_mix(srv.base, tokens, ids, 50, 3, seed=7)  # warm-up
            for rate in (float(x) for x in args.rates.split(",")):
                cpu0, t0 = srv.cpu_s(), time.perf_counter()
                r = api_mix.run_mix(srv.base, tokens, ids, rate, args.seconds, seed=int(rate))
                cpu, wall = srv.cpu_s() - cpu0, time.perf_counter() - t0
                print(f"   {rate:.0f} req/s: {r['n']} requests, p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms, "
                      f"errors {r['errors']} {r['error_kinds']}; server CPU {cpu / r['n'] * 1000:.1f} ms per request, "
                      f"utilisation {cpu / wall:.2f}")
                print(f"      per kind: {r['per_kind']}")


if __name__ == "__main__":
    main()
