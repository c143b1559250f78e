"""The township dashboard on a county's data: 1,000,000 cases and 1,000,000 patrols (plus incidents,
households, six-no reports, nominations, points) spread over the real division codes of 怀远县 (340321:
23 townships, 369 villages), generated straight into the tables.

Figures: p50/p90 of ``GET /api/v1/dashboard`` over loopback HTTP (a real server process) for the pilot
township 万福镇 (340321108) — the budget's case — and for the whole county; baseline in the same run: the raw
aggregate SQL of one dashboard (the very statements the endpoint runs, captured once, replayed on a bare
DB-API cursor with no ORM, JSON or HTTP). Budget (budgets.md): p50 ≤ 300 ms PostgreSQL, ≤ 1 s SQLite,
≤ 2× the raw SQL.

    .venv/bin/python bench/dashboard.py --db sqlite|postgresql [--scale 1.0] [--runs 15] [--keep PATH]

``--scale 0.1`` generates a tenth (100,000 cases + 100,000 patrols) for a quick run.
"""

from __future__ import annotations

import json
import random
import statistics
import time
import uuid
from datetime import date, datetime, timedelta, timezone

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


def generate(engine, scale: float, today: date) -> dict:
    import cunzhi.models  # noqa: F401
    from sqlmodel import SQLModel

    T = SQLModel.metadata.tables
    rng = random.Random(340321)
    now = datetime.now(timezone.utc)
    uid = str(uuid.uuid4())
    with engine.begin() as conn:
        villages, townships = _units(conn)
    days = (today - START).days
    common = lambda org: {"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "org_code": org,  # noqa: E731
                          "rev": 1, "deleted": False, "created_at": now, "updated_at": now, "created_by": uid,
                          "updated_by": uid, "field_meta": {}}
    counts = {}
    n_cases, n_patrols = int(1_000_000 * scale), int(1_000_000 * scale)
    n_inc, n_house = int(200_000 * scale), int(150_000 * scale)
    t0 = time.perf_counter()

    def chunks(n, make, table):
        done = 0
        while done < n:
            k = min(20_000, n - done)
            rows = [make() for _ in range(k)]
            with engine.begin() as conn:
                _insert(conn, T[table], rows)
            done += k
        counts[table] = n

    def case():
        org = rng.choice(townships) if rng.random() < 0.15 else rng.choice(villages)
        rec = START + timedelta(days=rng.randrange(days))
        status = _pick(rng, STATUSES)
        deadline = rec + timedelta(days=30)
        ended_as = ended_on = agreement = None
        if status not in ("registered", "mediating"):
            ended_as = status if status in ("declined", "terminated", "referred") else "agreed"
            if status == "archived" and rng.random() < 0.2:
                ended_as = rng.choice(["declined", "terminated", "referred"])
            ended_on = min(today, rec + timedelta(days=rng.randrange(45)))
            if ended_as == "agreed":
                agreement = {"form": "written", "terms": "赔偿", "signed_on": ended_on.isoformat()}
                if rng.random() < 0.7:
                    agreement["perform_by"] = (ended_on + timedelta(days=rng.randrange(60))).isoformat()
        return {**common(org), "case_number": None, "title": "纠纷", "description": None, "category": rng.choice(CATS),
                "source": rng.choice(SOURCES), "received_on": rec, "place": None,
                "parties": [{"name": "张三", "role": "applicant"}], "people_involved": 2, "amount_in_dispute": None,
                "mediator_ids": [], "risk_level": _pick(rng, RISKS), "escalation_flag": rng.random() < 0.05,
                "escalation_note": None, "status": status, "deadline": deadline, "deadline_extensions": [],
                "agreement": agreement, "outcome_note": None, "incident_id": None, "ended_on": ended_on,
                "ended_as": ended_as}

    def patrol():
        v = rng.choice(villages)
        start = datetime.combine(START, datetime.min.time(), timezone.utc) + timedelta(
            seconds=rng.randrange(days * 86400))
        return {**common(v), "grid_code": v + f"{rng.randrange(1, 4):03d}",
                "state": "completed" if rng.random() < 0.92 else rng.choice(["in_progress", "cancelled"]),
                "started_at": start, "ended_at": start + timedelta(hours=1), "route": [], "places_visited": [],
                "checklist": [], "notes": None, "attachment_ids": []}

    def incident():
        v = rng.choice(villages)
        at = datetime.combine(START, datetime.min.time(), timezone.utc) + timedelta(seconds=rng.randrange(days * 86400))
        return {**common(v), "grid_code": None, "patrol_id": None, "household_id": None,
                "type": rng.choice(INC_TYPES), "severity": rng.choice(["major", "serious", "general"]),
                "title": "事件", "description": None, "place": None, "location": None, "occurred_at": at,
                "state": _pick(rng, INC_STATES), "assignee_id": None, "deadline": at.date() + timedelta(days=7),
                "resolution": None, "case_id": None, "attachment_ids": [], "resolved_on": None}

    def household():
        v = rng.choice(villages)
        years = [y for y in (2024, 2025, 2026) if rng.random() < 0.9]
        return {**common(v), "grid_code": None, "head_name": "王建国", "address": "东庄", "members": 4,
                "phone": None, "head_id_number": None, "tags": [], "safe_certified_years": years, "active": True}

    chunks(n_cases, case, "mediation_case")
    chunks(n_patrols, patrol, "patrol")
    chunks(n_inc, incident, "incident")
    chunks(n_house, household, "household")
    reports = []
    for v in villages:
        for y in (2024, 2025, today.year):
            st = rng.choice(["open", "self_assessed", "township_certified", "township_certified", "township_certified"])
            reports.append({**common(v), "year": y, "state": st, "self_assessment": None, "decision_note": None,
                            "indicators": [{"code": "no_criminal_case", "status": "ok", "incident_ids": []}]})
    with engine.begin() as conn:
        _insert(conn, T["six_no_report"], reports)
    counts["six_no_report"] = len(reports)
    gen_s = time.perf_counter() - t0
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE")
    return {"counts": counts, "generate_s": round(gen_s, 1)}


def capture_sql(engine, org: str, today: date) -> list[tuple[str, object]]:
    """The statements one dashboard runs (compiled for this database), to replay raw."""
    from cunzhi.core.scope import Scope
    from cunzhi.dashboard import service

    seen: list[tuple[str, object]] = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    scope = Scope("bench", "bench", "county_admin", COUNTY)
    sa.event.listen(engine, "before_cursor_execute", grab)
    try:
        with engine.connect() as conn:
            p = service.resolve_period(conn, scope, org, date(today.year, 1, 1), today, "zh", today)
            service.compute(conn, scope, p)
    finally:
        sa.event.remove(engine, "before_cursor_execute", grab)
    return seen


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
        print(f"   generated {info['counts']} in {info['generate_s']} s")
        budget = 0.3 if args.db == "postgresql" else 1.0
        out = {"db": args.db, "scale": args.scale, **info}
        with C.Server(db.env()) as srv:
            c = C.login(srv.base, "county.admin")
            for label, org in (("township 万福镇", TOWNSHIP), ("county 怀远县", COUNTY)):
                stmts = capture_sql(eng, org, today)
                raw, http = [], []
                for _ in range(args.runs):  # interleaved, so both see the same machine load
                    raw.append(raw_time(eng, stmts))
                    t = time.perf_counter()
                    r = c.get("/api/v1/dashboard", params={"org_code": org})
                    http.append(time.perf_counter() - t)
                    assert r.status_code == 200, r.text[:300]
                p50, p90 = statistics.median(http), sorted(http)[int(0.9 * (len(http) - 1))]
                rp50 = statistics.median(raw)
                ratio = p50 / rp50 if rp50 else float("inf")
                ok = p50 <= budget and ratio <= 2.0
                print(f"   {label}: dashboard p50 {p50 * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms; raw aggregate SQL "
                      f"({len(stmts)} statements) p50 {rp50 * 1000:.0f} ms; ratio {ratio:.2f}× "
                      f"(budget ≤ {budget * 1000:.0f} ms, ≤ 2×) {C.verdict(ok) if org == TOWNSHIP else ''}")
                out[org] = {"p50_ms": round(p50 * 1000, 1), "p90_ms": round(p90 * 1000, 1),
                            "raw_p50_ms": round(rp50 * 1000, 1), "ratio": round(ratio, 2),
                            "bytes": len(r.content), "statements": len(stmts)}
            c.close()
        if args.json:
            print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
