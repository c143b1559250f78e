"""The dashboard's summary tables (cunzhi/dashboard/summary.py) agree with a full recount from the record tables
after a varied set of real pushes: creates, status changes, edits that move a case or a patrol to another day,
week or month, deletes and restores, several changes of one record in one batch, rejected mutations, derived
writes (a derivation of this test writing cases), the engine's own derived write (a case linking its incident)
and an erasure. The recount is written here, row by row in Python — not by the code under test; the tables are
also rebuilt by the migration's backfill statements and compared with the same recount.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from pathlib import Path
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from tests.api import helpers as h
from tests.dashboard.conftest import W, WT, Z, World
from tests.support.device import mutation, new_case_fields, push

SH = ZoneInfo("Asia/Shanghai")
OPEN = ("registered", "mediating")


def _d(v) -> date:
    return v if isinstance(v, date) and not isinstance(v, datetime) else date.fromisoformat(str(v)[:10])


def recount(conn) -> dict[str, Counter]:
    """Every summary row, counted from the records (the definitions of summary.py's docstring)."""
    period: Counter = Counter()
    now: Counter = Counter()
    patrols: Counter = Counter()
    for c in conn.execute(sa.text("SELECT * FROM mediation_case")).mappings():
        if c["deleted"]:
            continue
        unit = c["org_code"][:9]
        facts = [(_d(c["received_on"]), "category", c["category"]), (_d(c["received_on"]), "source", c["source"]),
                 (_d(c["received_on"]), "risk", c["risk_level"])]
        if c["escalation_flag"]:
            facts.append((_d(c["received_on"]), "escalation", "1"))
        if c["ended_on"] is not None and c["ended_as"] is not None:
            facts.append((_d(c["ended_on"]), "ended", c["ended_as"]))
            if _d(c["ended_on"]) <= _d(c["deadline"]):
                facts.append((_d(c["ended_on"]), "on_time", c["ended_as"]))
        agreement = c["agreement"]
        if isinstance(agreement, str):  # SQLite hands back JSON text through sa.text
            agreement = json.loads(agreement)
        if c["ended_as"] == "agreed" and agreement:
            due = agreement.get("perform_by") or agreement.get("signed_on")
            facts.append((_d(due), "due", "done" if c["status"] in ("fulfilled", "archived") else "open"))
        for day, dim, key in facts:
            period[(unit, "d", day, dim, key)] += 1
            period[(unit, "m", day.replace(day=1), dim, key)] += 1
        is_open = c["status"] in OPEN
        deadline = _d(c["deadline"]) if is_open else date(1970, 1, 1)
        red = is_open and c["risk_level"] == "red"
        now[(unit, "d", c["status"], deadline, red)] += 1
        now[(unit, "m", c["status"], deadline.replace(day=1), red)] += 1
    for p in conn.execute(sa.text("SELECT * FROM patrol")).mappings():
        if p["deleted"] or p["state"] != "completed":
            continue
        day = _local_day(p["started_at"])
        monday = day - timedelta(days=day.weekday())
        unit, grid = p["org_code"][:9], p["grid_code"] or ""
        for key in ((unit, "d", day, grid, monday), (unit, "w", monday, grid, monday),
                    (unit, "D", day, "", monday), (unit, "W", monday, "", monday)):
            patrols[key] += 1
    incidents: Counter = Counter()
    due: Counter = Counter()
    for i in conn.execute(sa.text("SELECT * FROM incident")).mappings():
        if i["deleted"]:
            continue
        unit, day = i["org_code"][:9], _local_day(i["occurred_at"])
        incidents[(unit, "d", day, i["type"], i["state"])] += 1
        incidents[(unit, "m", day.replace(day=1), i["type"], i["state"])] += 1
        deadline = _d(i["deadline"]) if i["state"] in ("reported", "assigned", "handling") else date(1970, 1, 1)
        due[(unit, "d", i["state"], deadline)] += 1
        due[(unit, "m", i["state"], deadline.replace(day=1))] += 1
    homes: Counter = Counter()
    for x in conn.execute(sa.text("SELECT * FROM household")).mappings():
        if x["deleted"] or not x["active"]:
            continue
        homes[(x["org_code"][:9], "active")] += 1
        years = x["safe_certified_years"]
        years = json.loads(years) if isinstance(years, str) else years
        for y in set(years):
            homes[(x["org_code"][:9], f"safe:{y}")] += 1
    return {"dash_case_period": period, "dash_case_now": now, "dash_patrol": patrols, "dash_incident": incidents,
            "dash_incident_due": due, "dash_household": homes}


def _local_day(v) -> date:
    if isinstance(v, str):
        v = datetime.fromisoformat(v)
    if v.tzinfo is None:
        v = v.replace(tzinfo=timezone.utc)
    return v.astimezone(SH).date()


COLUMNS = {"dash_case_period": "unit, grain, bucket, dim, key", "dash_case_now": "unit, grain, status, bucket, red",
           "dash_patrol": "unit, grain, bucket, grid, week", "dash_incident": "unit, grain, bucket, type, state",
           "dash_incident_due": "unit, grain, state, bucket", "dash_household": "unit, key"}


def stored(conn) -> dict[str, Counter]:
    out: dict[str, Counter] = {}
    for table, cols in COLUMNS.items():
        got: Counter = Counter()
        for r in conn.execute(sa.text(f"SELECT {cols}, n FROM {table}")):
            *key, n = r
            key = [_d(k) if isinstance(k, (date, str)) and i in _date_cols(table) else k for i, k in enumerate(key)]
            if table == "dash_case_now":
                key[4] = bool(key[4])
            if n:  # a row whose count fell to 0 counts for nothing
                got[tuple(key)] += n
        out[table] = got
    return out


def _date_cols(table: str) -> tuple[int, ...]:
    return {"dash_case_period": (2,), "dash_case_now": (3,), "dash_patrol": (2, 4), "dash_incident": (2,),
            "dash_incident_due": (3,), "dash_household": ()}[table]


def _agree(w: World) -> dict[str, Counter]:
    with w.engine.connect() as conn:
        want, got = recount(conn), stored(conn)
    for table in COLUMNS:
        missing = want[table] - got[table]
        extra = got[table] - want[table]
        assert not missing and not extra, (table, "missing", dict(missing), "extra", dict(extra))
    return want


def _one(w: World, who: str, muts: list[dict]) -> list[dict]:
    body = push(w.c(who), muts).json()
    return body["results"]


def _at(d: date, hour: int) -> str:
    return f"{d.isoformat()}T{hour:02d}:00:00+08:00"


def test_summaries_agree_with_a_full_recount_after_varied_pushes(world: World) -> None:
    from cunzhi.core.db import write_tx
    from cunzhi.dashboard import summary
    from cunzhi.privacy.erasure import erase_record
    from cunzhi.sync.registry import DerivedWrite, register_derivation, unregister_derivation

    w = world
    base = _agree(w)  # the conftest's fixture (13 cases through their paths, a delete, patrols, incidents)
    assert sum(base["dash_case_period"].values()) > 0 and sum(base["dash_patrol"].values()) > 0
    med, adm, grid = "wanfucun.mediator", "wanfucun.admin", "wanfucun.grid"
    today = h.today()

    # 1. one batch: a create, then two changes of the same case (status, risk) and a rejected edit
    a = str(uuid.uuid4())
    res = _one(w, med, [
        mutation("mediation_case", a, new_case_fields(W, received_on=(today - timedelta(days=40)).isoformat(),
                                                      risk_level="red", escalation_flag=True,
                                                      parties=[{"name": "张三", "role": "applicant"}])),
        mutation("mediation_case", a, {"status": "mediating"}, base_rev=1),
        mutation("mediation_case", a, {"risk_level": "yellow", "category": "homestead"}, base_rev=2),
        mutation("mediation_case", a, {"status": "no_such_status"}, base_rev=3),
    ])
    assert [r["status"] for r in res] == ["applied", "applied", "applied", "rejected"], res
    # 2. received in another month (and so another deadline month), the escalation flag cleared
    moved = (today.replace(day=1) - timedelta(days=45)).isoformat()
    res = _one(w, med, [mutation("mediation_case", a, {"received_on": moved, "escalation_flag": False}, base_rev=3)])
    assert res[0]["status"] == "applied", res
    # 3. a case agreed with perform_by, then fulfilled; another terminated; another deleted, then restored
    b, c, d = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    for rid in (b, c, d):
        assert _one(w, med, [mutation("mediation_case", rid, new_case_fields(
            W, received_on=(today - timedelta(days=3)).isoformat(),
            parties=[{"name": "李四", "role": "applicant"}]))])[0]["status"] == "applied"
    res = _one(w, med, [
        mutation("mediation_case", b, {"status": "mediating"}, base_rev=1),
        mutation("mediation_case", b, {"status": "agreed", "agreement": {
            "form": "written", "terms": "赔偿", "signed_on": today.isoformat(),
            "perform_by": (today + timedelta(days=2)).isoformat()}}, base_rev=2),
        mutation("mediation_case", c, {"status": "mediating"}, base_rev=1),
        mutation("mediation_case", c, {"status": "terminated", "outcome_note": "当事人放弃"}, base_rev=2),
    ])
    assert all(r["status"] == "applied" for r in res), res
    res = _one(w, med, [mutation("mediation_case", b, {"status": "fulfilled"}, base_rev=3)])
    assert res[0]["status"] == "applied", res
    res = _one(w, adm, [mutation("mediation_case", d, {}, base_rev=1, op="delete")])
    assert res[0]["status"] == "applied", res
    _agree(w)
    # 4. a patrol completed, then moved to the week before; another moved to another grid
    p1, p2 = str(uuid.uuid4()), str(uuid.uuid4())
    start = today - timedelta(days=2)
    for rid in (p1, p2):
        res = _one(w, grid, [mutation("patrol", rid, {"org_code": W, "grid_code": W + "002",
                                                      "started_at": _at(start, 7)}),
                             mutation("patrol", rid, {"state": "completed", "ended_at": _at(start, 9)}, base_rev=1)])
        assert [r["status"] for r in res] == ["applied", "applied"], res
    earlier = start - timedelta(days=7)
    res = _one(w, grid, [mutation("patrol", p1, {"started_at": _at(earlier, 7), "ended_at": _at(earlier, 9)},
                                  base_rev=2)])
    assert res[0]["status"] == "applied", res
    # another moved to another grid once completed (patrols are never deleted)
    res = _one(w, grid, [mutation("patrol", p2, {"grid_code": W + "001"}, base_rev=2)])
    assert res[0]["status"] == "applied", res
    # a patrol just after midnight in Shanghai (the previous day in UTC) counts on its Shanghai date
    p3 = str(uuid.uuid4())
    res = _one(w, grid, [mutation("patrol", p3, {"org_code": W, "grid_code": W + "001",
                                                 "started_at": _at(today - timedelta(days=1), 0)}),
                         mutation("patrol", p3, {"state": "completed",
                                                 "ended_at": _at(today - timedelta(days=1), 1)}, base_rev=1)])
    assert [r["status"] for r in res] == ["applied", "applied"], res
    _agree(w)
    # households: a new one, its certified years changed, one moved away (inactive), one restored to active
    hh = str(uuid.uuid4())
    res = _one(w, adm, [mutation("household", hh, {"org_code": W, "head_name": "孙立", "address": "西庄 1 号",
                                                   "members": 2, "safe_certified_years": [today.year - 1]}),
                        mutation("household", hh, {"safe_certified_years": [today.year, today.year - 1]}, base_rev=1)])
    assert [r["status"] for r in res] == ["applied", "applied"], res
    res = _one(w, adm, [mutation("household", w.ids["H1"], {"active": False}, base_rev=1),
                        mutation("household", w.ids["H4"], {"active": True, "safe_certified_years": []}, base_rev=1)])
    assert [r["status"] for r in res] == ["applied", "applied"], res
    # incidents: one moved to another day and type, one cancelled
    res = _one(w, grid, [mutation("incident", w.ids["I1"], {"occurred_at": _at(today - timedelta(days=33), 8),
                                                            "type": "livelihood"}, base_rev=1)])
    assert res[0]["status"] == "applied", res
    res = _one(w, adm, [mutation("incident", w.ids["I2"], {"state": "cancelled"}, base_rev=1)])
    assert res[0]["status"] == "applied", res
    _agree(w)
    # 5. derived writes: a derivation of this test, on incidents, writes cases (an update and a create)
    target, made = b, str(uuid.uuid4())

    def derive(ctx):
        if ctx.op != "create" or ctx.row.get("title") != "派生":
            return []
        return [DerivedWrite("mediation_case", target, {"risk_level": "red", "category": "land_contract"}),
                DerivedWrite("mediation_case", made, new_case_fields(
                    Z, received_on=today.isoformat(), risk_level="red",
                    parties=[{"name": "王五", "role": "applicant"}]), create=True)]

    register_derivation("incident", derive)
    try:
        res = _one(w, grid, [mutation("incident", str(uuid.uuid4()), {
            "org_code": W, "grid_code": W + "001", "type": "dispute", "severity": "general", "title": "派生",
            "occurred_at": _at(today, 0)})])
        assert res[0]["status"] == "applied", res
    finally:
        unregister_derivation("incident", derive)
    with w.engine.connect() as conn:
        got = conn.execute(sa.text("SELECT org_code, risk_level FROM mediation_case WHERE id IN (:a, :b) "
                                   "ORDER BY org_code"), {"a": target, "b": made}).all()
    assert [tuple(x) for x in got] == [(W, "red"), (Z, "red")]
    # the engine's own derived write: a township case naming an incident (moves the incident to handling)
    inc = str(uuid.uuid4())
    assert _one(w, grid, [mutation("incident", inc, {"org_code": W, "grid_code": W + "001", "type": "dispute",
                                                     "severity": "general", "title": "邻里纠纷",
                                                     "occurred_at": _at(today, 0)})])[0]["status"] == "applied"
    res = _one(w, "wanfu.admin", [mutation("mediation_case", str(uuid.uuid4()), new_case_fields(
        WT, received_on=today.isoformat(), incident_id=inc, parties=[{"name": "赵六", "role": "applicant"}]))])
    assert res[0]["status"] == "applied", res
    # 6. an erasure (privacy): a path outside the push writes the case table
    with write_tx() as conn:
        erase_record(conn, "mediation_case", c, None, "test")
    want = _agree(w)
    assert want["dash_case_period"] != base["dash_case_period"] and want["dash_patrol"] != base["dash_patrol"]

    # the migration's backfill recounts the same rows (run by `cunzhi db rebuild-summaries`, after a loss here)
    with w.engine.begin() as conn:
        conn.execute(summary.patrol_t.delete())
        conn.execute(summary.household_t.delete())
        conn.execute(summary.case_period_t.update().values(n=summary.case_period_t.c.n + 1))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUNZHI_")}
    env.update(CUNZHI_DATABASE_URL=w.url, CUNZHI_DATA_DIR=tempfile.mkdtemp(), CUNZHI_DEMO="0",
               CUNZHI_SECRET_KEY="summary-test-secret")
    out = subprocess.run([sys.executable, "-m", "cunzhi", "db", "rebuild-summaries"], env=env, capture_output=True,
                         text=True, timeout=300, cwd=str(Path(__file__).resolve().parents[2]))
    assert out.returncode == 0, out.stderr
    assert "summary tables recounted" in out.stdout, out.stdout
    _agree(w)


def test_township_and_county_figures_from_summaries_equal_the_record_counts(world: World) -> None:
    """Whole months and weeks from the coarse rows, edge days from the day rows: for periods starting and ending
    mid-month, mid-week, on one day and across a year, the dashboard from the summaries equals the same
    dashboard counted from the record tables."""
    from cunzhi.core.scope import Scope
    from cunzhi.dashboard import service

    today = h.today()
    scope = Scope("t", "t", "county_admin", "340321")
    periods = [(date(today.year, 1, 1), today), (date(2025, 12, 10), today), (today - timedelta(days=45), today),
               (today - timedelta(days=38), today - timedelta(days=9)), (today - timedelta(days=1), today - timedelta(days=1)),
               (today - timedelta(days=60), today - timedelta(days=2)), (today.replace(day=1), today)]
    compared = 0
    with world.engine.connect() as conn:
        for org in (WT, "340321"):
            for start, end in periods:
                out = []
                for summaries in (None, False):
                    p = service.resolve_period(conn, scope, org, start, end, "zh", today)
                    p.summaries = summaries
                    d = service.compute(conn, scope, p)
                    out.append({k: d[k] for k in ("figures", "breakdowns", "lists")})
                assert out[0] == out[1], (org, start, end)
                compared += out[0]["figures"]["disputes_received"]["value"] > 0
    assert compared >= 10  # most periods hold cases


def test_overdue_from_the_summary_follows_the_clock(world: World) -> None:
    """A case's deadline passing turns it overdue on the township's dashboard with no write at all (the summary
    keeps the deadline, the figure sums deadlines before today)."""
    from cunzhi.core import clock

    c = world.c("wanfu.admin")
    before = c.get("/api/v1/dashboard", params={"org_code": WT}).json()["figures"]["cases_overdue"]["value"]
    with world.engine.connect() as conn:
        # open cases of the township whose deadline is within the next 40 days: overdue 40 days from now
        soon = conn.execute(sa.text(
            "SELECT count(*) FROM mediation_case WHERE org_code >= :u AND org_code < :v AND deleted = :f "
            "AND status IN ('registered', 'mediating') AND deadline >= :t AND deadline < :e"),
            {"u": WT, "v": WT + ":", "f": False, "t": h.today(), "e": h.today() + timedelta(days=40)}).scalar_one()
    assert soon > 0  # the fixture has open cases received within the last 30 days
    with clock.moved(timedelta(days=40)):
        r = world.login("wanfu.admin").get("/api/v1/dashboard", params={"org_code": WT})  # (sessions expire)
        assert r.status_code == 200, r.text
        later = r.json()["figures"]["cases_overdue"]["value"]
    assert later == before + soon


def test_summaries_stay_exact_under_concurrent_pushes(world: World) -> None:
    """Three devices push at once into the same township, day and keys (every push updates the same summary
    rows): no push fails or is answered busy, and the tables still agree with the recount."""
    import threading

    from tests.support.device import login

    w, today = world, h.today()
    day = (today - timedelta(days=4)).isoformat()
    statuses: list[int] = []
    bad: list[object] = []

    def run(who: str, org: str) -> None:
        client = login(w.base, who)  # a device of its own (its own client id)
        try:
            for i in range(6):
                rid = str(uuid.uuid4())
                r = push(client, [
                    mutation("mediation_case", rid, new_case_fields(org, received_on=day, risk_level="red",
                                                                    parties=[{"name": "周七", "role": "applicant"}])),
                    mutation("mediation_case", rid, {"status": "mediating" if i % 2 else "declined",
                                                     **({} if i % 2 else {"outcome_note": "不予受理"})},
                             base_rev=1)])
                statuses.append(r.status_code)
                if r.status_code != 200 or any(x["status"] != "applied" for x in r.json()["results"]):
                    bad.append(r.text[:300])
        finally:
            client.close()

    threads = [threading.Thread(target=run, args=(who, org)) for who, org in
               (("wanfucun.mediator", W), ("zhendong.mediator", Z), ("wanfu.admin", WT))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert statuses == [200] * 18 and not bad, bad[:3]
    want = _agree(w)
    # the three devices' 18 cases are all in the township's row of that day (with whatever was there before)
    assert want["dash_case_period"][(WT, "d", date.fromisoformat(day), "risk", "red")] >= 18


def test_housekeeping_drops_summary_rows_that_count_nothing(world: World) -> None:
    """A deleted case leaves its summary rows at 0; the daily housekeeping removes them, and the summaries still
    agree with the recount (a row that counts again is made anew)."""
    from cunzhi import maintenance

    w = world
    zero = "SELECT count(*) FROM dash_case_period WHERE n = 0"
    rid = str(uuid.uuid4())
    received = "2019-03-07"  # a day no other case of this world was received on
    fields = new_case_fields(W, received_on=received, parties=[{"name": "王五", "role": "applicant"}])
    assert _one(w, "wanfucun.mediator", [mutation("mediation_case", rid, fields)])[0]["status"] == "applied"
    assert _one(w, "wanfucun.admin", [mutation("mediation_case", rid, {}, base_rev=1, op="delete")])[0][
        "status"] == "applied"
    with w.engine.connect() as conn:
        assert conn.execute(sa.text(zero)).scalar() > 0
    assert maintenance.run_once()["empty_summary_rows_dropped"] > 0
    with w.engine.connect() as conn:
        assert conn.execute(sa.text(zero)).scalar() == 0
        assert not conn.execute(sa.text("SELECT count(*) FROM dash_case_period WHERE bucket = :d"),
                                {"d": date(2019, 3, 7)}).scalar()
    _agree(w)
    # the same day counts again: its rows are made anew
    again = str(uuid.uuid4())
    assert _one(w, "wanfucun.mediator", [mutation("mediation_case", again, fields)])[0]["status"] == "applied"
    _agree(w)


def test_the_migrations_frozen_backfill_is_todays_recount() -> None:
    """Migration 0008 holds its backfill as SQL text (a migration must not import the app). When the summaries'
    meaning changes, this fails: add a migration that recounts them (``rebuild_statements``), and update this."""
    import importlib.util
    import re

    from cunzhi.dashboard.summary import rebuild_statements

    path = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "2026_11_30_0008_dashboard_summaries.py"
    assert not re.search(r"^\s*(from|import)\s+cunzhi", path.read_text(), re.M)
    spec = importlib.util.spec_from_file_location("migration_0008", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    for dialect in ("sqlite", "postgresql"):
        assert module.BACKFILL[dialect] == rebuild_statements(dialect), dialect
