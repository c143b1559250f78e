"""Where a real server process spends its time: py-spy samples it while it serves a workload over HTTP.

Workloads: ``push`` (batches of 500 new cases), ``pull`` (a first pull of a village of 10,000 cases, pages of
500) and ``mix`` (the API mix of bench/api_mix.py, closed loop). Prints the top functions by own time and by
total time (inclusive), project functions marked, so that docs/performance.md can keep the profile that explains
each figure. Needs py-spy (``.venv/bin/pip install py-spy``; it is a bench tool, not a project dependency) and
permission to ptrace the server (root, or ``kernel.yama.ptrace_scope=0``).

    .venv/bin/python bench/profile_server.py --db sqlite|postgresql --workload push|pull|mix [--top 25]
"""

from __future__ import annotations

import collections
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as C


def _frame(f: str) -> str:
    # "name (path/to/file.py:line)" → "name (file.py)": lines differ per call site, functions are what count
    name, _, where = f.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    short = path.split("/site-packages/")[-1] if "/site-packages/" in path else path.split("/backend/")[-1]
    return f"{name} ({short})"


def summarise(raw: Path, top: int) -> dict:
    own: collections.Counter = collections.Counter()
    total: collections.Counter = collections.Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_frame(f) for f in stack.split(";") if f]
        if not frames:
            continue
        # idle threads (the thread pool waiting for work, the audit writer waiting) are not work
        if any(k in frames[-1] for k in ("wait (threading.py)", "select (selectors.py)", "_worker (")):
            continue
        samples += n
        own[frames[-1]] += n
        for f in set(frames):
            total[f] += n
    return {"samples": samples,
            "own": [(f, round(100 * n / samples, 1)) for f, n in own.most_common(top)],
            "total": [(f, round(100 * n / samples, 1)) for f, n in total.most_common(top * 3)
                      if "cunzhi" in f or "fastapi" in f or "sqlalchemy" in f or "json" in f][:top]}


def workload_push(base: str, rng: random.Random, batches: int = 12) -> str:
    mid = C.mediator_id()
    c = C.login(base)
    for _ in range(batches):
        ms = [C.create_mutation(C.case_fields(rng, mediator=mid)) for _ in range(500)]
        r = c.post("/api/v1/sync/push", json={"client_id": c.client_id, "mutations": ms})  # type: ignore[attr-defined]
        r.raise_for_status()
    c.close()
    return f"{batches} pushes of 500 new cases"


def workload_pull(base: str, rng: random.Random, rounds: int = 4) -> str:
    c = C.login(base)
    for _ in range(rounds):
        cursor = None
        while True:
            r = c.get("/api/v1/sync/pull", params={"limit": 500, **({"cursor": cursor} if cursor else {})})
            r.raise_for_status()
            page = r.json()
            cursor = page["cursor"]
            if not page["has_more"]:
                break
    c.close()
    return f"{rounds} first pulls of the village (pages of 500)"


def workload_mix(base: str, rng: random.Random, seconds: float = 30, kinds: tuple[str, ...] = ()) -> str:
    import api_mix
    from cunzhi.core.db import read_tx
    from cunzhi.mediation.models import MediationCase

    t = MediationCase.__table__
    with read_tx() as conn:
        ids = [r[0] for r in conn.execute(t.select().with_only_columns(t.c.id).limit(2000))]
    clients = [C.login(base) for _ in range(4)]
    tokens = [(c.headers["Authorization"].split()[1], c.client_id) for c in clients]  # type: ignore[attr-defined]
    r = api_mix.run_mix(base, tokens, ids, rate=100, seconds=seconds, seed=7, pool=8, closed=True,
                       kinds=kinds or api_mix.KINDS)
    for c in clients:
        c.close()
    return f"the API mix ({', '.join(kinds or api_mix.KINDS)}), closed loop, 8 in flight, {r['n']} requests ({r['throughput']:.0f}/s)"


def main() -> None:
    p = C.parser(__doc__)
    p.add_argument("--workload", choices=("push", "pull", "mix"), default="push")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--kinds", default="", help="mix: only these requests (list,get,push,pull), to profile one kind")
    p.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    p.add_argument("--gil", action="store_true", help="only samples of the thread holding the GIL: where the "
                   "process's Python CPU goes (without it, threads waiting on the database count as busy too)")
    p.add_argument("--keep", type=Path, help="also keep py-spy's raw stacks in this file (to follow a function's callers)")
    args = p.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        sys.exit("py-spy not found: .venv/bin/pip install py-spy")
    C.print_machine(f"profile_server ({args.db}): {args.workload}{' (GIL holder only)' if args.gil else ''}")
    rng = random.Random(340321)
    with C.BenchDB(args.db, label="profile") as db:
        db.activate()
        if args.workload in ("pull", "mix"):
            import first_pull

            first_pull.seed(10_000)
        with C.Server(db.env()) as srv, tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "profile.txt"
            rec = subprocess.Popen([spy, "record", "--pid", str(srv.proc.pid), "--rate", str(args.rate),  # type: ignore[union-attr]
                                    "--format", "raw", "--threads", "--output", str(raw), "--nonblocking"]
                                   + (["--gil"] if args.gil else []),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(1.0)
            start = time.perf_counter()
            if args.workload == "mix":
                what = workload_mix(srv.base, rng, kinds=tuple(k for k in args.kinds.split(",") if k))
            else:
                what = {"push": workload_push, "pull": workload_pull}[args.workload](srv.base, rng)
            wall = time.perf_counter() - start
            rec.send_signal(2)  # SIGINT: py-spy writes its file and exits
            rec.wait(timeout=60)
            if not raw.exists():
                sys.exit("py-spy wrote nothing: " + (rec.stderr.read().decode() if rec.stderr else ""))
            out = summarise(raw, args.top)
            if args.keep:
                shutil.copyfile(raw, args.keep)
    out.update({"workload": what, "wall_s": round(wall, 2), "db": args.db})
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return
    print(f"{what}: {wall:.2f} s wall, {out['samples']} busy samples")
    print("\nown time (% of busy samples):")
    for f, pct in out["own"]:
        print(f"  {pct:5.1f}  {f}")
    print("\ninclusive time, project + framework + JSON (% of busy samples):")
    for f, pct in out["total"]:
        print(f"  {pct:5.1f}  {f}")


if __name__ == "__main__":
    main()
