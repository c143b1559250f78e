"""Household roster import of 1,000 rows (grid work, issue 7): an XLSX with the Chinese headers, posted to
``POST /api/v1/households/import`` over loopback HTTP as the village admin — the dry run, the real import
(1,000 households written through the sync engine), and the same file again (idempotent: 0 created).

Budget (issue 7): "1,000 rows in a few seconds" — taken here as ≤ 5 s for the real import. Baseline in the same
run: reading the workbook with openpyxl alone (the floor of any import of this file).

    .venv/bin/python bench/roster_import.py --db sqlite|postgresql [--rows 1000] [--format xlsx|csv]
"""

from __future__ import annotations

import csv
import io
import json
import random
import time

import _common as C

HEADER = ["户主姓名", "住址", "人口", "联系电话", "身份证号", "网格"]


def roster(n: int, fmt: str) -> bytes:
    rng = random.Random(1000)
    rows = [[f"{rng.choice('王李张刘陈杨赵黄周吴')}{rng.choice(['建国', '秀英', '德明', '桂兰'])}{i}",
             f"万福村{rng.choice(['东庄', '西庄', '前庄'])}{i}号", rng.randint(1, 8),
             f"13{rng.randint(100000000, 999999999)}", C._id_number(rng) if rng.random() < 0.5 else None,
             rng.choice(["一组网格", "二组网格", "三组网格"])] for i in range(n)]
    if fmt == "csv":
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(HEADER)
        w.writerows(rows)
        return out.getvalue().encode("utf-8-sig")
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def read_only(data: bytes) -> float:
    from openpyxl import load_workbook

    start = time.perf_counter()
    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    return time.perf_counter() - start


def main() -> None:
    p = C.parser(__doc__)
    p.add_argument("--rows", type=int, default=1000)
    p.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    args = p.parse_args()
    C.print_machine(f"roster_import ({args.db}): {args.rows:,} rows, {args.format}")
    data = roster(args.rows, args.format)
    out: dict = {"bytes": len(data)}
    with C.BenchDB(args.db, label="roster") as db:
        from cunzhi.core.db import write_tx
        from cunzhi.demo.grid import ensure_grids

        with write_tx() as conn:
            ensure_grids(conn, [C.mediator_id("wanfucun.grid")], C.mediator_id("wanfucun.admin"))
        base = read_only(data) if args.format == "xlsx" else 0.0
        with C.Server(db.env()) as srv:
            client = C.login(srv.base, "wanfucun.admin")
            for label, dry in (("dry run", True), ("import", False), ("re-import", False)):
                start = time.perf_counter()
                r = client.post("/api/v1/households/import", timeout=300,
                                files={"file": (f"roster.{args.format}", data, "application/octet-stream")},
                                data={"org_code": C.VILLAGE, "dry_run": "true" if dry else "false"})
                took = time.perf_counter() - start
                r.raise_for_status()
                body = r.json()
                out[label] = {"s": took, "created": body["created"], "updated": body["updated"],
                              "unchanged": body["unchanged"], "invalid": body["invalid"]}
                verdict = C.verdict(took <= 5.0) if label == "import" else ""
                print(f"   {label:9s}: {took:.2f} s  rows {body['rows']:,}, valid {body['valid']:,}, invalid "
                      f"{body['invalid']:,}, created {body['created']:,}, updated {body['updated']:,}, unchanged "
                      f"{body['unchanged']:,}" + (f"  budget ≤ 5 s  {verdict}" if verdict else ""))
            client.close()
            print(f"   server RSS {srv.rss_mb():.0f} MB; file {len(data):,} bytes")
        assert out["import"]["created"] == args.rows and out["re-import"]["created"] == 0, out
        if base:
            print(f"   baseline: openpyxl reads the workbook alone in {base:.2f} s; import {out['import']['s'] / base:.1f}×")
    if args.json:
        print(json.dumps({"bench": "roster_import", "db": args.db, "rows": args.rows, "baseline_s": round(base, 3),
                          **dict(out)}, default=lambda x: round(x, 3)))


if __name__ == "__main__":
    main()
