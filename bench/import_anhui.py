"""Importing Anhui's org tree (province 34: 16 cities, 104 counties, 1,500+ townships, 18,334 villages).

Runs the real CLI, ``python -m cunzhi orgs import <division dir> --province 34``, into a fresh database, then
again (idempotent: nothing inserted or updated the second time). Budget: ≤ 30 s; idempotent on re-run.

    .venv/bin/python bench/import_anhui.py --db sqlite|postgresql [DIVISION_DIR]

DIVISION_DIR defaults to ../shared/data/china-division relative to the repository.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import _common as C
import sqlalchemy as sa


def run_import(env: dict, folder: Path, province: str) -> dict:
    cmd = [sys.executable, "-m", "cunzhi", "orgs", "import", str(folder), "--province", province]
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=str(C.ROOT), capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"import failed ({proc.returncode}): {proc.stderr[-2000:]}")
    counts = {}
    for kind in ("inserted", "updated", "unchanged"):
        m = re.search(rf"{kind}:\s*(.*)", proc.stdout)
        counts[kind] = {lvl: int(n) for lvl, n in re.findall(r"(\w+) (\d+)", m.group(1))} if m else {}
    done = re.search(r"done in ([\d.]+) s", proc.stdout)
    return {"wall": wall, "import_s": float(done.group(1)) if done else None, "counts": counts,
            "stdout": proc.stdout.strip()}


def main() -> None:
    p = C.parser(__doc__)
    p.add_argument("division", nargs="?", default=str(C.DEFAULT_DIVISION))
    p.add_argument("--province", default="34")
    args = p.parse_args()
    folder = Path(args.division)
    if not (folder / "villages.csv.gz").exists() and not (folder / "villages.csv").exists():
        raise SystemExit(f"{folder}: no villages.csv(.gz); pass the china-division folder")
    C.print_machine(f"import_anhui ({args.db}): cunzhi orgs import {folder} --province {args.province}")
    with C.BenchDB(args.db, seed=False, label="import") as db:
        env = {**__import__("os").environ, **db.env()}
        first = run_import(env, folder, args.province)
        second = run_import(env, folder, args.province)
        from cunzhi.orgs.models import OrgUnit

        t = OrgUnit.__table__
        with db.engine().connect() as conn:
            by_level = dict(conn.execute(sa.select(t.c.level, sa.func.count()).group_by(t.c.level)).all())
    ins = first["counts"]["inserted"]
    again_changed = sum(second["counts"]["inserted"].values()) + sum(second["counts"]["updated"].values())
    villages = ins.get("village", 0)
    print(f"   first run : {first['import_s']:.1f} s import ({first['wall']:.1f} s wall incl. interpreter start "
          f"and migration check); inserted {ins}")
    print(f"   re-run    : {second['import_s']:.1f} s import ({second['wall']:.1f} s wall); "
          f"inserted {second['counts']['inserted']}, updated {second['counts']['updated']}, "
          f"unchanged {second['counts']['unchanged']}")
    print(f"   in the database: {by_level}")
    ok_time = first["wall"] <= 30
    print(f"   budget ≤ 30 s (wall, first run): {C.verdict(ok_time)}; villages {villages:,} "
          f"(expected 18,334 for Anhui) {C.verdict(args.province != '34' or villages == 18334)}; "
          f"idempotent (0 inserted/updated on re-run): {C.verdict(again_changed == 0)}")
    if args.json:
        print(json.dumps({"bench": "import_anhui", "db": args.db, "first_s": round(first["wall"], 2),
                          "first_import_s": first["import_s"], "rerun_s": round(second["wall"], 2),
                          "inserted": ins, "rerun_changed": again_changed, "by_level": by_level}))


if __name__ == "__main__":
    main()
