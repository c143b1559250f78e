"""The township dashboard on a county's data: 1,000,000 cases and 1,000,000 patrols (plus incidents,
households, six-no reports, nominations, points) spread over the real division codes of 怀远县 (340321:
23 townships, 369 villages), generated straight into the tables.

Generation is set-based (INSERT … SELECT over a number series, each row a deterministic function of its
number, so both databases get the same data; secondary indexes dropped before and built after), then the
dashboard's summary tables are recounted by the migration's backfill statements.

Figures: p50/p90 of ``GET /api/v1/dashboard`` over loopback HTTP (a real server process) for the pilot
township 万福镇 (340321108) — the budget's case — and for the whole county. Baselines in the same run,
interleaved: the raw aggregate SQL of the same figures over the record tables (the statements the dashboard
runs with its summaries switched off, captured once, replayed on a bare DB-API cursor with no ORM, JSON or
HTTP) — the budget's ratio; and the endpoint's own statements replayed the same way (what is left is Python,
JSON and HTTP). It also checks that the dashboard from the summaries equals the one counted from the records.
Budget (budgets.md): p50 ≤ 300 ms PostgreSQL, ≤ 1 s SQLite, ≤ 2× the raw SQL.

    .venv/bin/python bench/dashboard.py --db sqlite|postgresql [--scale 1.0] [--runs 15] [--json]

``--scale 0.1`` generates a tenth (100,000 cases + 100,000 patrols) for a quick run.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import time
import uuid
from datetime import date, datetime, timezone

import _common as C
import sqlalchemy as sa

TOWNSHIP = "340321108"
COUNTY = "340321"
START = date(2024, 1, 1)
STATUSES = [("registered", 4), ("mediating", 6), ("agreed", 10), ("fulfilling", 5), ("fulfilled", 45),
            ("archived", 15), ("declined", 5), ("terminated", 7), ("referred", 3)]
CATS = ["marriage_family", "neighbor", "homestead", "land_contract", "land_acquisition", "labor_wage", "damages",
        "contract", "environment", "traffic", "village_affairs", "other"]
SOURCES = ["party_request", "proactive", "patrol", "police_referral", "court_referral", "government"]
RISKS = [("red", 3), ("orange", 10), ("yellow", 30), ("blue", 57)]
INC_TYPES = ["dispute", "safety_hazard", "public_order", "environment", "illegal_building", "livelihood",
             "special_population", "other", "criminal_case", "drugs"]
INC_STATES = [("reported", 5), ("assigned", 5), ("handling", 10), ("resolved", 30), ("verified", 45), ("cancelled", 5)]


def _pick(rng: random.Random, weighted):
    return rng.choices([k for k, _ in weighted], [w for _, w in weighted])[0]


def _units(conn) -> tuple[list[str], list[str]]:
    rows = conn.execute(sa.text("SELECT code, level FROM org_unit WHERE code LIKE :c"), {"c": COUNTY + "%"}).all()
    return [c for c, lv in rows if lv == "village"], [c for c, lv in rows if lv == "township"]


def _insert(conn, table: sa.Table, rows: list[dict]) -> None:
    if conn.dialect.name == "postgresql":
        cols = list(rows[0])
        raw = conn.connection.dbapi_connection
        with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as cp:
            for r in rows:
                cp.write_row([json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v
                              for v in r.values()])
    else:  # a bare executemany with the values as the SQLite dialect stores them
        cols = list(rows[0])

        def conv(v):
            if isinstance(v, (list, dict)):
                return json.dumps(v, ensure_ascii=False)
            if isinstance(v, datetime):
                return v.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
            if isinstance(v, date):
                return v.isoformat()
            return v

        raw = conn.connection.dbapi_connection
        raw.executemany(f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                        [tuple(conv(v) for v in r.values()) for r in rows])


# ---- set-based generation: every row a deterministic function of its number i (same data on both databases) --
PRIMES = (1000000007, 998244353, 1000000009, 999999937, 2147483647, 1610612741, 805306457, 402653189, 201326611,
          100663319, 50331653, 25165843, 12582917, 6291469, 3145739)
MOD = 1000003


class Gen:
    """SQL expressions of one dialect for a generated row number ``i``."""

    def __init__(self, dialect: str, today: date, now: datetime, uid: str):
        self.pg = dialect == "postgresql"
        self.days = (today - START).days
        self.now = (f"CAST('{now.isoformat()}' AS TIMESTAMPTZ)" if self.pg
                    else f"'{now.astimezone(timezone.utc).strftime('%Y-%m-%d %H:%M:%S.%f')}'")
        self.uid = uid
        self.n_villages = self.n_townships = 0

    def h(self, k: int) -> str:
        """A pseudo-random 0 ≤ value < MOD of i (a different permutation per k)."""
        return f"((i * {PRIMES[k]} + {k * 7919}) % {MOD})"

    def chance(self, k: int, p: float) -> str:
        return f"({self.h(k)} < {int(p * MOD)})"

    def choice(self, k: int, items: list[str]) -> str:
        whens = " ".join(f"WHEN {j} THEN '{v}'" for j, v in enumerate(items))
        return f"(CASE ({self.h(k)} % {len(items)}) {whens} END)"

    def weighted(self, k: int, pairs) -> str:
        total, acc, whens = sum(w for _, w in pairs), 0, []
        for v, w in pairs:
            acc += w
            whens.append(f"WHEN {self.h(k)} < {int(acc / total * MOD)} THEN '{v}'")
        return f"(CASE {' '.join(whens)} ELSE '{pairs[-1][0]}' END)"

    def day(self, offset: str) -> str:
        if self.pg:
            return f"(DATE '{START.isoformat()}' + CAST(({offset}) AS INTEGER))"
        return f"date('{START.isoformat()}', '+' || ({offset}) || ' days')"

    def ts(self, secs: str) -> str:
        if self.pg:
            return f"(TIMESTAMPTZ '{START.isoformat()} 00:00:00+00' + ({secs}) * INTERVAL '1 second')"
        return f"strftime('%Y-%m-%d %H:%M:%S.000000', '{START.isoformat()} 00:00:00', '+' || ({secs}) || ' seconds')"

    def json(self, text: str) -> str:
        return f"CAST('{text}' AS JSONB)" if self.pg else f"'{text}'"

    def least(self, a: str, b: str) -> str:
        return f"LEAST({a}, {b})" if self.pg else f"min({a}, {b})"

    def obj(self, *kv: str) -> str:
        return f"{'jsonb_build_object' if self.pg else 'json_object'}({', '.join(kv)})"

    def text(self, e: str) -> str:
        return f"CAST({e} AS TEXT)"

    def id(self, prefix: str) -> str:
        hexed = "lpad(to_hex(i), 12, '0')" if self.pg else "printf('%012x', i)"
        return f"'{prefix}-0000-4000-8000-' || {hexed}"

    def series(self, n: int, lo: int = 0) -> str:
        if self.pg:
            return f"(SELECT generate_series(CAST({lo} AS BIGINT), {lo + n - 1}) AS i) AS s"
        return (f"(WITH RECURSIVE r(i) AS (SELECT {lo} UNION ALL SELECT i + 1 FROM r WHERE i < {lo + n - 1}) "
                f"SELECT i FROM r) AS s")

    def common(self, prefix: str) -> dict[str, str]:
        return {"id": self.id(prefix), "rev": "1", "deleted": "FALSE", "created_at": self.now,
                "updated_at": self.now, "created_by": f"'{self.uid}'", "updated_by": f"'{self.uid}'",
                "field_meta": self.json("{}")}


def _insert_select(conn, table: str, cols: dict[str, str], inner: dict[str, str], g: Gen, n: int, lo: int,
                   town_share: float | None) -> None:
    """INSERT … SELECT of rows lo … lo+n-1: ``inner`` columns are computed from i (level a), ``cols`` from them
    and the unit (``u.code``)."""
    inner_sql = ", ".join(f"{e} AS {k}" for k, e in inner.items())
    nv, nt = g.n_villages, g.n_townships
    if town_share is None:
        unit = f"JOIN bench_units u ON u.idx = a.uidx % {nv}"
    else:  # units 0 … nv-1 are the villages, then the townships
        unit = f"JOIN bench_units u ON u.idx = CASE WHEN a.town = 1 THEN {nv} + a.uidx % {nt} ELSE a.uidx % {nv} END"
    sql = (f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(cols.values())} "
           f"FROM (SELECT i, {inner_sql} FROM {g.series(n, lo)}) AS a {unit}")
    conn.exec_driver_sql(sql.replace("%", "%%") if g.pg else sql)  # (psycopg's placeholders)


def _cases_sql(g: Gen) -> tuple[dict, dict]:
    inner = {"ro": f"({g.h(1)} % {g.days})", "st": g.weighted(2, STATUSES), "ee": f"({g.h(3)} % 45)",
             "arch": f"(CASE WHEN {g.chance(4, 0.2)} THEN 1 ELSE 0 END)",
             "alt": g.choice(5, ["declined", "terminated", "referred"]),
             "pb": f"(CASE WHEN {g.chance(6, 0.7)} THEN 1 ELSE 0 END)", "pbo": f"({g.h(7)} % 60)",
             "cat": g.choice(8, CATS), "src": g.choice(9, SOURCES), "risk": g.weighted(10, RISKS),
             "esc": f"(CASE WHEN {g.chance(11, 0.05)} THEN 1 ELSE 0 END)",
             "town": f"(CASE WHEN {g.chance(12, 0.15)} THEN 1 ELSE 0 END)", "uidx": g.h(13)}
    ended_as = ("(CASE WHEN a.st IN ('registered', 'mediating') THEN NULL WHEN a.st IN ('declined', 'terminated', "
                "'referred') THEN a.st WHEN a.st = 'archived' AND a.arch = 1 THEN a.alt ELSE 'agreed' END)")
    eoff = g.least(str(g.days), "a.ro + a.ee")
    base = ["'form'", "'written'", "'terms'", "'赔偿'", "'signed_on'", g.text(g.day(eoff))]
    with_due = g.obj(*base, "'perform_by'", g.text(g.day(f"{eoff} + a.pbo")))
    agreement = (f"CASE WHEN {ended_as} = 'agreed' THEN (CASE WHEN a.pb = 1 THEN {with_due} ELSE {g.obj(*base)} END) "
                 f"ELSE NULL END")
    cols = {**g.common("ca5e0000"), "org_code": "u.code", "title": "'纠纷'", "category": "a.cat", "source": "a.src",
            "received_on": g.day("a.ro"), "parties": g.json('[{"name": "张三", "role": "applicant"}]'),
            "people_involved": "2", "mediator_ids": g.json("[]"), "risk_level": "a.risk",
            "escalation_flag": "(a.esc = 1)", "status": "a.st", "deadline": g.day("a.ro + 30"),
            "deadline_extensions": g.json("[]"), "agreement": agreement,
            "ended_on": f"(CASE WHEN {ended_as} IS NULL THEN NULL ELSE {g.day(eoff)} END)", "ended_as": ended_as}
    return cols, inner


def _patrols_sql(g: Gen) -> tuple[dict, dict]:
    inner = {"secs": f"(({g.h(1)} % {g.days}) * 86400 + {g.h(2)} % 86400)", "gi": f"(1 + {g.h(3)} % 3)",
             "st": (f"(CASE WHEN {g.chance(4, 0.92)} THEN 'completed' WHEN {g.h(5)} % 2 = 0 THEN 'in_progress' "
                    f"ELSE 'cancelled' END)"), "uidx": g.h(6)}
    cols = {**g.common("9a7e0000"), "org_code": "u.code", "grid_code": f"u.code || '00' || {g.text('a.gi')}",
            "state": "a.st", "started_at": g.ts("a.secs"), "ended_at": g.ts("a.secs + 3600"),
            "route": g.json("[]"), "places_visited": g.json("[]"), "checklist": g.json("[]"),
            "attachment_ids": g.json("[]")}
    return cols, inner


def _incidents_sql(g: Gen) -> tuple[dict, dict]:
    inner = {"secs": f"(({g.h(1)} % {g.days}) * 86400 + {g.h(2)} % 86400)", "typ": g.choice(3, INC_TYPES),
             "sev": g.choice(4, ["major", "serious", "general"]), "st": g.weighted(5, INC_STATES), "uidx": g.h(6)}
    cols = {**g.common("1c1d0000"), "org_code": "u.code", "type": "a.typ", "severity": "a.sev", "title": "'事件'",
            "occurred_at": g.ts("a.secs"), "state": "a.st", "deadline": g.day("a.secs / 86400 + 7"),
            "attachment_ids": g.json("[]")}
    return cols, inner


def _households_sql(g: Gen) -> tuple[dict, dict]:
    inner = {"y": (f"((CASE WHEN {g.chance(1, 0.9)} THEN 1 ELSE 0 END) + (CASE WHEN {g.chance(2, 0.9)} THEN 2 "
                   f"ELSE 0 END) + (CASE WHEN {g.chance(3, 0.9)} THEN 4 ELSE 0 END))"), "uidx": g.h(4)}
    years = " ".join(f"WHEN {m} THEN {g.json(json.dumps([y for b, y in ((1, 2024), (2, 2025), (4, 2026)) if m & b]))}"
                     for m in range(8))
    cols = {**g.common("40e50000"), "org_code": "u.code", "head_name": "'王建国'", "address": "'东庄'",
            "members": "4", "tags": g.json("[]"), "safe_certified_years": f"(CASE a.y {years} END)",
            "active": "TRUE"}
    return cols, inner


def _secondary_indexes(conn, table: str) -> list[tuple[str, str]]:
    if conn.dialect.name == "postgresql":
        return [tuple(r) for r in conn.exec_driver_sql(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "JOIN pg_class t ON t.oid = x.indrelid WHERE t.relname = %s AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)", (table,)).all()]
    return [tuple(r) for r in conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        (table,)).all()]


def generate(engine, scale: float, today: date) -> dict:
    """Set-based: each table filled by INSERT … SELECT over a number series, its secondary indexes dropped before
    and built after (a sort instead of a million random index inserts); then the dashboard's summary tables are
    recounted by the migration's backfill statements (summary.rebuild) and the tables analysed."""
    from cunzhi.dashboard import summary

    rng = random.Random(340321)
    now = datetime.now(timezone.utc)
    uid = str(uuid.uuid4())
    with engine.begin() as conn:
        villages, townships = _units(conn)
    counts = {}
    n_cases, n_patrols = int(1_000_000 * scale), int(1_000_000 * scale)
    n_inc, n_house = int(200_000 * scale), int(150_000 * scale)
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    with engine.begin() as conn:
        pg = conn.dialect.name == "postgresql"
        g = Gen(conn.dialect.name, today, now, uid)
        tmp = "TEMPORARY " if pg else "TEMP "
        conn.exec_driver_sql(f"CREATE {tmp}TABLE bench_units (idx INTEGER PRIMARY KEY, code VARCHAR(24))")
        units = sorted(villages) + sorted(townships)
        ph = "%s" if pg else "?"
        g.n_villages, g.n_townships = len(villages), len(townships)
        conn.exec_driver_sql(f"INSERT INTO bench_units VALUES ({ph}, {ph})", list(enumerate(units)))
        if pg:
            conn.exec_driver_sql("SET LOCAL statement_timeout = 0")  # the server's 15 s is for requests
            conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
            conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
        else:
            conn.exec_driver_sql("PRAGMA cache_size = -400000")
        for table, n, make, town in (("mediation_case", n_cases, _cases_sql, 0.15),
                                     ("patrol", n_patrols, _patrols_sql, None),
                                     ("incident", n_inc, _incidents_sql, None),
                                     ("household", n_house, _households_sql, None)):
            t = time.perf_counter()
            indexes = _secondary_indexes(conn, table)
            for name, _ in indexes:
                conn.exec_driver_sql(f'DROP INDEX "{name}"')
            cols, inner = make(g)
            step = 250_000
            for lo in range(0, n, step):
                _insert_select(conn, table, cols, inner, g, min(step, n - lo), lo, town)
            for _, ddl in indexes:
                conn.exec_driver_sql(ddl)
            counts[table] = n
            timings[table] = round(time.perf_counter() - t, 1)
            print(f"   {table}: {n:,} rows in {timings[table]} s (load average {os.getloadavg()[0]:.1f})",
                  flush=True)
        reports = []
        for v in villages:
            for y in (2024, 2025, today.year):
                st = rng.choice(["open", "self_assessed", "township_certified", "township_certified",
                                 "township_certified"])
                reports.append({"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "org_code": v, "rev": 1,
                                "deleted": False, "created_at": now, "updated_at": now, "created_by": uid,
                                "updated_by": uid, "field_meta": {}, "year": y, "state": st,
                                "self_assessment": None, "decision_note": None,
                                "indicators": [{"code": "no_criminal_case", "status": "ok", "incident_ids": []}]})
        import cunzhi.models  # noqa: F401
        from sqlmodel import SQLModel

        _insert(conn, SQLModel.metadata.tables["six_no_report"], reports)
        counts["six_no_report"] = len(reports)
        t = time.perf_counter()
        summary.rebuild(conn)
        timings["summaries"] = round(time.perf_counter() - t, 1)
        print(f"   summaries rebuilt in {timings['summaries']} s", flush=True)
    t = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE")
    timings["analyze"] = round(time.perf_counter() - t, 1)
    gen_s = time.perf_counter() - t0
    return {"counts": counts, "generate_s": round(gen_s, 1), "timings": timings}


def _period(conn, org: str, today: date, summaries: bool | None):
    from cunzhi.core.scope import Scope
    from cunzhi.dashboard import service

    scope = Scope("bench", "bench", "county_admin", COUNTY)
    p = service.resolve_period(conn, scope, org, date(today.year, 1, 1), today, "zh", today)
    p.summaries = summaries
    return scope, p


def capture_sql(engine, org: str, today: date, summaries: bool | None = None) -> list[tuple[str, object]]:
    """The statements one dashboard runs (compiled for this database), to replay raw. ``summaries=False``: the
    same figures counted from the record tables — the raw aggregate SQL of the budget's baseline."""
    from cunzhi.dashboard import service

    seen: list[tuple[str, object]] = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    with engine.connect() as conn:
        scope, p = _period(conn, org, today, summaries)
        sa.event.listen(engine, "before_cursor_execute", grab)
        try:
            service.compute(conn, scope, p)
        finally:
            sa.event.remove(engine, "before_cursor_execute", grab)
    return seen


def same_answers(engine, org: str, today: date) -> bool:
    """The dashboard from the summaries equals the one counted from the record tables (at this scale)."""
    from cunzhi.dashboard import service

    out = []
    with engine.connect() as conn:
        for summaries in (None, False):
            scope, p = _period(conn, org, today, summaries)
            d = service.compute(conn, scope, p)
            out.append({k: d[k] for k in ("figures", "breakdowns", "lists")})
    return out[0] == out[1]


def raw_time(engine, stmts) -> float:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        t = time.perf_counter()
        for s, params in stmts:
            cur.execute(s, params)
            cur.fetchall()
        dt = time.perf_counter() - t
        raw.rollback()
        return dt
    finally:
        raw.close()


def main() -> None:
    ap = C.parser(__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    C.print_machine(f"dashboard on a county database, {args.db}, scale {args.scale}")
    today = date.today()
    with C.BenchDB(args.db, label="dash") as db:
        eng = db.engine()
        info = generate(eng, args.scale, today)
        print(f"   generated {info['counts']} in {info['generate_s']} s ({info['timings']})")
        budget = 0.3 if args.db == "postgresql" else 1.0
        out = {"db": args.db, "scale": args.scale, **info}
        with C.Server(db.env()) as srv:
            c = C.login(srv.base, "county.admin")
            for label, org in (("township 万福镇", TOWNSHIP), ("county 怀远县", COUNTY)):
                same = same_answers(eng, org, today)
                records = capture_sql(eng, org, today, summaries=False)
                own = capture_sql(eng, org, today)
                raw, mine, http, loads = [], [], [], []
                for _ in range(args.runs):  # interleaved, so all three see the same machine load
                    loads.append(os.getloadavg()[0])
                    raw.append(raw_time(eng, records))
                    mine.append(raw_time(eng, own))
                    t = time.perf_counter()
                    r = c.get("/api/v1/dashboard", params={"org_code": org})
                    http.append(time.perf_counter() - t)
                    assert r.status_code == 200, r.text[:300]
                p50, p90 = statistics.median(http), sorted(http)[int(0.9 * (len(http) - 1))]
                rp50, mp50 = statistics.median(raw), statistics.median(mine)
                ratio = p50 / rp50 if rp50 else float("inf")
                ok = p50 <= budget and ratio <= 2.0
                print(f"   {label}: dashboard p50 {p50 * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms; raw aggregate SQL "
                      f"over the records ({len(records)} statements) p50 {rp50 * 1000:.0f} ms → ratio {ratio:.2f}×; "
                      f"the endpoint's own statements replayed raw ({len(own)}) p50 {mp50 * 1000:.0f} ms → "
                      f"{p50 / mp50 if mp50 else float('inf'):.2f}×; summaries = records: {same}; load average "
                      f"{min(loads):.1f}–{max(loads):.1f} (budget ≤ {budget * 1000:.0f} ms, ≤ 2×) "
                      f"{C.verdict(ok and same) if org == TOWNSHIP else ''}", flush=True)
                out[org] = {"p50_ms": round(p50 * 1000, 1), "p90_ms": round(p90 * 1000, 1),
                            "raw_records_p50_ms": round(rp50 * 1000, 1), "ratio": round(ratio, 2),
                            "own_sql_p50_ms": round(mp50 * 1000, 1), "same_answers": same,
                            "bytes": len(r.content), "statements": len(own), "load": [min(loads), max(loads)]}
            c.close()
        if args.json:
            print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
