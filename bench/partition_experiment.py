"""The partition key's effect on a village-scoped pull (docs/scale.md): a generated change feed on PostgreSQL.

Builds, in a throw-away ``cunzhi_bench_part_*`` database, the change feed as the server keeps it today
(``sync_feed``: one row per record, ``(org_code, seq)`` index, one global ``seq``) twice:

- ``feed_flat``: one table (the single-province deployment);
- ``feed_part``: the same rows declaratively partitioned by county code (``PARTITION BY HASH (county)``;
  a Citus distribution column behaves the same way for routing), with the same index on every partition;

then compares the plans and times of the pull queries a device sends (village first pull, village
incremental pull, township pull) with and without the partition key in the WHERE clause.

    .venv/bin/python bench/partition_experiment.py [--counties 300] [--villages 60] [--per-village 100]
"""

from __future__ import annotations

import argparse
import re
import statistics
import uuid

import _common as C
import sqlalchemy as sa


def setup(conn, counties: int, villages: int, per_village: int, parts: int) -> int:
    n = counties * villages * per_village
    conn.exec_driver_sql("""
        CREATE TABLE feed_flat (entity varchar(40) NOT NULL, record_id uuid NOT NULL,
                                org_code varchar(24) COLLATE "C" NOT NULL, seq bigint NOT NULL,
                                PRIMARY KEY (entity, record_id))""")
    conn.exec_driver_sql("""
        CREATE TABLE feed_part (county varchar(6) COLLATE "C" NOT NULL, entity varchar(40) NOT NULL,
                                record_id uuid NOT NULL, org_code varchar(24) COLLATE "C" NOT NULL,
                                seq bigint NOT NULL, PRIMARY KEY (county, entity, record_id))
        PARTITION BY HASH (county)""")
    for i in range(parts):
        conn.exec_driver_sql(f"CREATE TABLE feed_part_{i} PARTITION OF feed_part "
                             f"FOR VALUES WITH (MODULUS {parts}, REMAINDER {i})")
    # seq interleaves every county (one global counter, as today); codes: 34cccc + 1tt + 2vv
    gen = f"""
        SELECT g AS seq, '34' || lpad((mod(g, {counties}) + 1)::text, 4, '0') AS county,
               '34' || lpad((mod(g, {counties}) + 1)::text, 4, '0') || '1' || lpad((mod(g / {counties}, {villages}) / 20 + 1)::text, 2, '0')
                    || '2' || lpad(mod(mod(g / {counties}, {villages}), 20)::text, 2, '0') AS org_code,
               md5(g::text)::uuid AS record_id
        FROM generate_series(1, {n}) g"""
    conn.exec_driver_sql(f"INSERT INTO feed_flat SELECT 'mediation_case', record_id, org_code, seq FROM ({gen}) s")
    conn.exec_driver_sql(f"INSERT INTO feed_part SELECT county, 'mediation_case', record_id, org_code, seq FROM ({gen}) s")
    conn.exec_driver_sql("CREATE INDEX ix_flat_org_seq ON feed_flat (org_code, seq)")
    conn.exec_driver_sql("CREATE UNIQUE INDEX ix_flat_seq ON feed_flat (seq)")
    conn.exec_driver_sql("CREATE INDEX ix_part_org_seq ON feed_part (org_code, seq)")
    conn.exec_driver_sql("CREATE INDEX ix_part_seq ON feed_part (seq)")
    conn.exec_driver_sql("ANALYZE feed_flat")
    conn.exec_driver_sql("ANALYZE feed_part")
    return n


def explain(conn, sql: str, repeat: int = 5) -> tuple[float, str, int]:
    times, plan = [], ""
    for _ in range(repeat):
        rows = [r[0] for r in conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql)]
        times.append(float(re.search(r"Execution Time: ([\d.]+)", rows[-1]).group(1)))
        plan = "\n".join(rows)
    scanned = len(re.findall(r"Index (?:Only )?Scan.* on feed_part_\d+|Seq Scan on feed_part_\d+", plan))
    return statistics.median(times), plan, scanned


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--counties", type=int, default=300)
    p.add_argument("--villages", type=int, default=60, help="per county (3 townships of 20)")
    p.add_argument("--per-village", type=int, default=100, help="feed rows (records) per village")
    p.add_argument("--partitions", type=int, default=32)
    p.add_argument("--plans", action="store_true", help="print the full plans")
    args = p.parse_args()
    C.print_machine("partition_experiment (PostgreSQL)")
    name = f"cunzhi_bench_part_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(C.PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    eng = sa.create_engine(C._pg_url(name), isolation_level="AUTOCOMMIT")
    try:
        with eng.connect() as conn:
            import time

            t = time.perf_counter()
            n = setup(conn, args.counties, args.villages, args.per_village, args.partitions)
            print(f"   generated {n:,} feed rows ({args.counties} counties × {args.villages} villages × "
                  f"{args.per_village}), {args.partitions} hash partitions by county, in {time.perf_counter() - t:.0f} s")
            top = n
            county, township, village = "340150", "340150102", "340150102205"
            cases = [
                ("village first pull", f"org_code >= '{village}' AND org_code < '{village}:' AND seq > 0"),
                ("village incremental pull (last 1% of seq)",
                 f"org_code >= '{village}' AND org_code < '{village}:' AND seq > {top - top // 100}"),
                ("township first pull", f"org_code >= '{township}' AND org_code < '{township}:' AND seq > 0"),
            ]
            print(f"   {'query':<44} {'flat':>10} {'part, no key':>14} {'part + county':>14}  partitions scanned")
            for label, where in cases:
                sql_flat = f"SELECT entity, record_id, seq FROM feed_flat WHERE {where} ORDER BY seq LIMIT 501"
                sql_nokey = f"SELECT entity, record_id, seq FROM feed_part WHERE {where} ORDER BY seq LIMIT 501"
                sql_key = (f"SELECT entity, record_id, seq FROM feed_part WHERE county = '{county}' AND {where} "
                           f"ORDER BY seq LIMIT 501")
                f_ms, f_plan, _ = explain(conn, sql_flat)
                n_ms, n_plan, n_scanned = explain(conn, sql_nokey)
                k_ms, k_plan, k_scanned = explain(conn, sql_key)
                print(f"   {label:<44} {f_ms:>8.2f}ms {n_ms:>12.2f}ms {k_ms:>12.2f}ms  "
                      f"no key: {n_scanned}/{args.partitions}, with key: {k_scanned}/{args.partitions}")
                if args.plans:
                    for title, plan in (("flat", f_plan), ("partitioned, no key", n_plan), ("partitioned + key", k_plan)):
                        print(f"     --- {label}: {title}\n" + "\n".join("     " + x for x in plan.splitlines()))
            # what a global seq costs on a partitioned table: a seq-ordered scan touches every partition
            g_ms, g_plan, g_scanned = explain(conn, f"SELECT entity, record_id, seq FROM feed_part WHERE seq > {top - 1000} "
                                                    f"ORDER BY seq LIMIT 501")
            print(f"   global feed read by seq only (no scope, e.g. a replication consumer): {g_ms:.2f} ms, "
                  f"{g_scanned}/{args.partitions} partitions (Merge Append)")
    finally:
        eng.dispose()
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    main()
