"""The dashboard's summary tables: counts of cases, patrols, incidents and households per township, kept exact
beside the records.

A township's or county's dashboard reads these instead of scanning up to a county's 1,000,000 cases and
1,000,000 patrols (docs/performance.md, docs/decisions.md). A village's dashboard (a few thousand records at
most) still counts the record tables.

- ``dash_case_period``: cases per (township, grain, bucket, dim, key). ``grain`` ``d`` = one day, ``m`` = the
  month starting on ``bucket``; a period is its whole months from ``m`` rows and the days at its edges from
  ``d`` rows. Dims: ``category``/``source``/``risk``/``escalation`` by ``received_on``; ``ended`` (key: the
  ending) and ``on_time`` (ended on or before the deadline) by ``ended_on``; ``due`` (agreed cases by their
  agreement's due date, ``perform_by`` else ``signed_on``; key ``done`` when fulfilled or archived, else ``open``).
- ``dash_case_now``: cases per (township, status, red, grain, bucket): ``bucket`` is the deadline's day (``d``)
  or month (``m``) for open cases, ``NO_DEADLINE`` otherwise; "overdue" (open and past its deadline) stays
  right as days pass: a sum over whole months before this one plus this month's days before today.
- ``dash_patrol``: completed patrols per (township, grain, bucket, grid) by their start date in Asia/Shanghai:
  ``d``/``w`` per grid a day / the ISO week starting on ``bucket``; ``D``/``W`` the same for the whole
  township (grid ''), for the county's view; ``week`` is the Monday of the bucket.
- ``dash_incident`` (by occurred_at's day/month in Asia/Shanghai, type, state) and ``dash_incident_due`` (open
  incidents by the deadline's day/month, like ``dash_case_now``); ``dash_household``: ``active`` households, and
  ``safe:<year>`` those of them certified that year.

Kept exact in the transaction that writes the records: a row observer (sync/registry.py) gets every stored
row of ``mediation_case``, ``patrol``, ``incident`` and ``household`` as (before, after) — pushes, derived
writes, erasure — and applies the difference of their contributions in one upsert per table. :func:`rebuild`
recounts everything from the record tables (the migration's backfill, the benchmark, ``cunzhi db
rebuild-summaries``); the tests compare the tables with a full recount after a varied set of real pushes.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from cunzhi.core import bulk
from cunzhi.core.clock import SHANGHAI
from cunzhi.core.db import OrgCodeType
from cunzhi.mediation import rules

NO_DEADLINE = date(1970, 1, 1)  # the deadline bucket of a case or incident that is not open (counts for nothing)
DONE = ("fulfilled", "archived")

case_period_t = sa.Table(
    "dash_case_period", SQLModel.metadata,
    sa.Column("unit", OrgCodeType, primary_key=True),
    sa.Column("grain", sa.String(1), primary_key=True),
    sa.Column("bucket", sa.Date, primary_key=True),
    sa.Column("dim", sa.String(12), primary_key=True),
    sa.Column("key", sa.String(40), primary_key=True),
    sa.Column("n", sa.Integer, nullable=False),
)
case_now_t = sa.Table(
    "dash_case_now", SQLModel.metadata,
    sa.Column("unit", OrgCodeType, primary_key=True),
    sa.Column("grain", sa.String(1), primary_key=True),
    sa.Column("status", sa.String(16), primary_key=True),
    sa.Column("bucket", sa.Date, primary_key=True),  # the deadline's day or month (NO_DEADLINE: not open)
    sa.Column("red", sa.Boolean, primary_key=True),
    sa.Column("n", sa.Integer, nullable=False),
)
patrol_t = sa.Table(
    "dash_patrol", SQLModel.metadata,
    sa.Column("unit", OrgCodeType, primary_key=True),
    sa.Column("grain", sa.String(1), primary_key=True),  # d/w per grid; D/W the township's total (grid '')
    sa.Column("bucket", sa.Date, primary_key=True),
    sa.Column("grid", OrgCodeType, primary_key=True),  # '' when the patrol names no grid
    sa.Column("week", sa.Date, nullable=False),
    sa.Column("n", sa.Integer, nullable=False),
)
incident_period_t = sa.Table(
    "dash_incident", SQLModel.metadata,
    sa.Column("unit", OrgCodeType, primary_key=True),
    sa.Column("grain", sa.String(1), primary_key=True),  # d/m of occurred_at's date in Asia/Shanghai
    sa.Column("bucket", sa.Date, primary_key=True),
    sa.Column("type", sa.String(40), primary_key=True),
    sa.Column("state", sa.String(16), primary_key=True),
    sa.Column("n", sa.Integer, nullable=False),
)
incident_due_t = sa.Table(
    "dash_incident_due", SQLModel.metadata,
    sa.Column("unit", OrgCodeType, primary_key=True),
    sa.Column("grain", sa.String(1), primary_key=True),
    sa.Column("state", sa.String(16), primary_key=True),
    sa.Column("bucket", sa.Date, primary_key=True),  # the deadline's day or month (NO_DEADLINE: not open)
    sa.Column("n", sa.Integer, nullable=False),
)
household_t = sa.Table(
    "dash_household", SQLModel.metadata,
    sa.Column("unit", OrgCodeType, primary_key=True),
    sa.Column("key", sa.String(16), primary_key=True),  # 'active', or 'safe:<year>' (active, certified that year)
    sa.Column("n", sa.Integer, nullable=False),
)
TABLES = (case_period_t, case_now_t, patrol_t, incident_period_t, incident_due_t, household_t)
INCIDENT_OPEN = ("reported", "assigned", "handling")  # not resolved, verified or cancelled


def unit_of(org_code: str) -> str:
    """The township a record counts for (a county-level record: the county)."""
    return org_code[:9]


def month_of(d: date) -> date:
    return d.replace(day=1)


def monday_of(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _date(v: Any) -> date | None:
    if v is None:
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v)[:10])
    except ValueError:
        return None


def local_date(v: datetime) -> date:
    """The date in Asia/Shanghai of a UTC instant (naive = UTC, as SQLite hands it back)."""
    if v.tzinfo is None:
        v = v.replace(tzinfo=timezone.utc)
    return v.astimezone(SHANGHAI).date()


def due_date(agreement: Any) -> date | None:
    """When an agreement is due: ``perform_by``, absent → ``signed_on`` (service.performance_date)."""
    if not isinstance(agreement, dict):
        return None
    v = agreement.get("perform_by")
    if v is None:
        v = agreement.get("signed_on")
    return _date(v)


# ---- contributions of one row ----------------------------------------------------------------------------
def case_contributions(row: dict | None) -> list[tuple[sa.Table, tuple]]:
    if row is None or row.get("deleted"):
        return []
    unit = unit_of(row["org_code"])
    out: list[tuple[sa.Table, tuple]] = []

    def period(d: date, dim: str, key: str) -> None:
        out.append((case_period_t, (unit, "d", d, dim, key)))
        out.append((case_period_t, (unit, "m", month_of(d), dim, key)))

    received = _date(row.get("received_on"))
    if received is not None:
        period(received, "category", row["category"])
        period(received, "source", row["source"])
        period(received, "risk", row["risk_level"])
        if row.get("escalation_flag"):
            period(received, "escalation", "1")
    ended_on, ended_as, deadline = _date(row.get("ended_on")), row.get("ended_as"), _date(row.get("deadline"))
    if ended_on is not None and ended_as is not None:
        period(ended_on, "ended", ended_as)
        if deadline is not None and ended_on <= deadline:
            period(ended_on, "on_time", ended_as)
    if ended_as == "agreed":
        due = due_date(row.get("agreement"))
        if due is not None:
            period(due, "due", "done" if row["status"] in DONE else "open")
    is_open = row["status"] in rules.OPEN
    red = bool(is_open and row.get("risk_level") == "red")
    dl = (deadline or NO_DEADLINE) if is_open else NO_DEADLINE
    out.append((case_now_t, (unit, "d", row["status"], dl, red)))
    out.append((case_now_t, (unit, "m", row["status"], month_of(dl), red)))
    return out


def patrol_contributions(row: dict | None) -> list[tuple[sa.Table, tuple]]:
    if row is None or row.get("deleted") or row.get("state") != "completed" or row.get("started_at") is None:
        return []
    unit, grid = unit_of(row["org_code"]), row.get("grid_code") or ""
    d = local_date(row["started_at"])
    week = monday_of(d)
    return [(patrol_t, (unit, "d", d, grid, week)), (patrol_t, (unit, "w", week, grid, week)),
            (patrol_t, (unit, "D", d, "", week)), (patrol_t, (unit, "W", week, "", week))]


def incident_contributions(row: dict | None) -> list[tuple[sa.Table, tuple]]:
    if row is None or row.get("deleted"):
        return []
    unit = unit_of(row["org_code"])
    out: list[tuple[sa.Table, tuple]] = []
    if row.get("occurred_at") is not None:
        d = local_date(row["occurred_at"])
        out += [(incident_period_t, (unit, "d", d, row["type"], row["state"])),
                (incident_period_t, (unit, "m", month_of(d), row["type"], row["state"]))]
    due = (_date(row.get("deadline")) or NO_DEADLINE) if row["state"] in INCIDENT_OPEN else NO_DEADLINE
    out += [(incident_due_t, (unit, "d", row["state"], due)), (incident_due_t, (unit, "m", row["state"], month_of(due)))]
    return out


def household_contributions(row: dict | None) -> list[tuple[sa.Table, tuple]]:
    if row is None or row.get("deleted") or not row.get("active"):
        return []
    unit = unit_of(row["org_code"])
    years = {y for y in row.get("safe_certified_years") or [] if type(y) is int}
    return [(household_t, (unit, "active"))] + [(household_t, (unit, f"safe:{y}")) for y in sorted(years)]


CONTRIBUTIONS = {"mediation_case": case_contributions, "patrol": patrol_contributions,
                 "incident": incident_contributions, "household": household_contributions}
_KEYS = {case_period_t.name: ("unit", "grain", "bucket", "dim", "key"),
         case_now_t.name: ("unit", "grain", "status", "bucket", "red"),
         patrol_t.name: ("unit", "grain", "bucket", "grid", "week"),
         incident_period_t.name: ("unit", "grain", "bucket", "type", "state"),
         incident_due_t.name: ("unit", "grain", "state", "bucket"),
         household_t.name: ("unit", "key")}
_PK = {t.name: [c.name for c in t.primary_key.columns] for t in TABLES}
_BY_NAME = {t.name: t for t in TABLES}


def deltas(entity: str, pairs: list[tuple[dict | None, dict]]) -> Counter:
    """The change of every summary row the stored rows make: their new contributions minus their old ones."""
    fn = CONTRIBUTIONS[entity]
    out: Counter = Counter()
    for old, new in pairs:
        for key in fn(old):
            out[key] -= 1
        for key in fn(new):
            out[key] += 1
    return out


def apply_deltas(conn: Connection, changes: Counter) -> None:
    """One upsert per table (``n = n + delta``), rows in key order (two writers lock them in the same order)."""
    per_table: dict[str, list[tuple[tuple, int]]] = {}
    for (table, key), d in changes.items():
        if d:
            per_table.setdefault(table.name, []).append((key, d))
    by_table: dict[str, list[dict]] = {}
    for name, items in per_table.items():
        try:  # a table's keys hold one type per position: they sort as they are (no str() per key: 7% of a push)
            items.sort(key=lambda kv: kv[0])
        except TypeError:  # a None beside a value: the order only has to be the same for every writer
            items.sort(key=lambda kv: _sortable(kv[0]))
        names = _KEYS[name]
        by_table[name] = [{**dict(zip(names, key, strict=True)), "n": d} for key, d in items]
    for name, rows in sorted(by_table.items()):
        bulk.add_counts(conn, _BY_NAME[name], _PK[name], "n", rows)


def drop_empty(conn: Connection) -> int:
    """Forget summary rows whose count fell to 0 (a deleted case, a patrol moved to another week): they count for
    nothing, and a row that counts again is made anew. Daily housekeeping (``cunzhi maintain``). Takes the feed
    counter first, like every writer of these rows, so it never waits on a push in the opposite order."""
    from cunzhi.sync import state

    state.next_values(conn, "seq", 0)
    return sum(conn.execute(t.delete().where(t.c.n == 0)).rowcount for t in TABLES)


def _sortable(key: tuple) -> tuple:
    return tuple(str(k) for k in key)


def observe(conn: Connection, entity: str, pairs: list[tuple[dict | None, dict]]) -> None:
    """The row observer: the records' change applied to the summaries, in the records' transaction."""
    apply_deltas(conn, deltas(entity, pairs))


def register() -> None:
    from cunzhi.sync.registry import register_row_observer

    for entity in CONTRIBUTIONS:
        register_row_observer(entity, observe)


# ---- rebuilding from the record tables (set-based) -------------------------------------------------------
def _sql(dialect: str) -> dict[str, str]:
    pg = dialect == "postgresql"
    return {
        "true": "true" if pg else "1",
        "month": "CAST(date_trunc('month', bucket) AS DATE)" if pg else "date(bucket, 'start of month')",
        "monday": ("CAST(bucket - CAST(EXTRACT(ISODOW FROM bucket) AS INTEGER) + 1 AS DATE)" if pg
                   else "date(bucket, 'weekday 0', '-6 days')"),
        "due": ("CAST(COALESCE(agreement ->> 'perform_by', agreement ->> 'signed_on') AS DATE)" if pg else
                "date(COALESCE(json_extract(agreement, '$.perform_by'), json_extract(agreement, '$.signed_on')))"),
        "local_day": "CAST(timezone('Asia/Shanghai', {}) AS DATE)" if pg else "date({}, '+8 hours')",
        "no_deadline": f"CAST('{NO_DEADLINE.isoformat()}' AS DATE)" if pg else f"'{NO_DEADLINE.isoformat()}'",
        # a household's certified years: the JSON array's integer elements
        "years": ("jsonb_array_elements(CASE WHEN jsonb_typeof(h.safe_certified_years) = 'array' THEN "
                  "h.safe_certified_years ELSE CAST('[]' AS JSONB) END) AS y(v)" if pg
                  else "json_each(h.safe_certified_years) AS y"),
        "year": "CAST(y.v AS TEXT)" if pg else "CAST(y.value AS TEXT)",
        "is_int": ("jsonb_typeof(y.v) = 'number' AND CAST(y.v AS TEXT) ~ '^-?[0-9]+$'" if pg
                   else "y.type = 'integer'"),
    }


def rebuild_statements(dialect: str) -> list[str]:
    """The statements that recount every summary table from the record tables (after emptying them)."""
    s = _sql(dialect)
    t, f = s["true"], "false" if dialect == "postgresql" else "0"
    live = f"deleted = {f}"
    u = "substr(org_code, 1, 9)"
    done = ", ".join(f"'{x}'" for x in DONE)
    open_ = ", ".join(f"'{x}'" for x in rules.OPEN)
    inc_open = ", ".join(f"'{x}'" for x in INCIDENT_OPEN)
    facts = " UNION ALL ".join([
        f"SELECT {u} AS unit, received_on AS bucket, 'category' AS dim, category AS key FROM mediation_case "
        f"WHERE {live}",
        f"SELECT {u}, received_on, 'source', source FROM mediation_case WHERE {live}",
        f"SELECT {u}, received_on, 'risk', risk_level FROM mediation_case WHERE {live}",
        f"SELECT {u}, received_on, 'escalation', '1' FROM mediation_case WHERE {live} AND escalation_flag = {t}",
        f"SELECT {u}, ended_on, 'ended', ended_as FROM mediation_case WHERE {live} AND ended_on IS NOT NULL "
        f"AND ended_as IS NOT NULL",
        f"SELECT {u}, ended_on, 'on_time', ended_as FROM mediation_case WHERE {live} AND ended_on IS NOT NULL "
        f"AND ended_as IS NOT NULL AND ended_on <= deadline",
        f"SELECT {u}, {s['due']}, 'due', CASE WHEN status IN ({done}) THEN 'done' ELSE 'open' END "
        f"FROM mediation_case WHERE {live} AND ended_as = 'agreed' AND {s['due']} IS NOT NULL",
    ])
    # a county's million rows may take longer than the server's statement timeout (in this transaction only)
    return [
        # PostgreSQL: writers of the records wait until the recount commits (one consistent count; SQLite's write
        # transaction is exclusive already)
        *(["SET LOCAL statement_timeout = 0", "LOCK TABLE mediation_case, patrol IN SHARE MODE"]
          if dialect == "postgresql" else []),
        *(f"DELETE FROM {tb.name}" for tb in TABLES),
        f"INSERT INTO dash_case_period (unit, grain, bucket, dim, key, n) SELECT unit, 'd', bucket, dim, key, "
        f"count(*) FROM ({facts}) AS facts GROUP BY unit, bucket, dim, key",
        f"INSERT INTO dash_case_period (unit, grain, bucket, dim, key, n) SELECT unit, 'm', {s['month']}, dim, key, "
        f"sum(n) FROM dash_case_period WHERE grain = 'd' GROUP BY unit, {s['month']}, dim, key",
        f"INSERT INTO dash_case_now (unit, grain, status, bucket, red, n) SELECT unit, 'd', status, bucket, red, "
        f"count(*) FROM (SELECT {u} AS unit, status, CASE WHEN status IN ({open_}) AND risk_level = 'red' THEN {t} "
        f"ELSE {f} END AS red, CASE WHEN status IN ({open_}) THEN deadline ELSE {s['no_deadline']} END AS bucket "
        f"FROM mediation_case WHERE {live}) AS c GROUP BY unit, status, red, bucket",
        f"INSERT INTO dash_case_now (unit, grain, status, bucket, red, n) SELECT unit, 'm', status, {s['month']}, "
        f"red, sum(n) FROM dash_case_now WHERE grain = 'd' GROUP BY unit, status, {s['month']}, red",
        f"INSERT INTO dash_patrol (unit, grain, bucket, grid, week, n) SELECT unit, 'd', bucket, grid, "
        f"{s['monday']}, count(*) FROM (SELECT {u} AS unit, COALESCE(grid_code, '') AS grid, {s['local_day'].format('started_at')} "
        f"AS bucket FROM patrol WHERE {live} AND state = 'completed') AS p GROUP BY unit, grid, bucket",
        "INSERT INTO dash_patrol (unit, grain, bucket, grid, week, n) SELECT unit, 'w', week, grid, week, sum(n) "
        "FROM dash_patrol WHERE grain = 'd' GROUP BY unit, grid, week",
        "INSERT INTO dash_patrol (unit, grain, bucket, grid, week, n) SELECT unit, 'D', bucket, '', week, sum(n) "
        "FROM dash_patrol WHERE grain = 'd' GROUP BY unit, bucket, week",
        "INSERT INTO dash_patrol (unit, grain, bucket, grid, week, n) SELECT unit, 'W', week, '', week, sum(n) "
        "FROM dash_patrol WHERE grain = 'w' GROUP BY unit, week",
        f"INSERT INTO dash_incident (unit, grain, bucket, type, state, n) SELECT unit, 'd', bucket, type, state, "
        f"count(*) FROM (SELECT {u} AS unit, {s['local_day'].format('occurred_at')} AS bucket, type, state "
        f"FROM incident WHERE {live}) AS i GROUP BY unit, bucket, type, state",
        f"INSERT INTO dash_incident (unit, grain, bucket, type, state, n) SELECT unit, 'm', {s['month']}, type, state, "
        f"sum(n) FROM dash_incident WHERE grain = 'd' GROUP BY unit, {s['month']}, type, state",
        f"INSERT INTO dash_incident_due (unit, grain, state, bucket, n) SELECT unit, 'd', state, bucket, count(*) "
        f"FROM (SELECT {u} AS unit, state, CASE WHEN state IN ({inc_open}) THEN deadline ELSE {s['no_deadline']} END "
        f"AS bucket FROM incident WHERE {live}) AS i GROUP BY unit, state, bucket",
        f"INSERT INTO dash_incident_due (unit, grain, state, bucket, n) SELECT unit, 'm', state, {s['month']}, sum(n) "
        f"FROM dash_incident_due WHERE grain = 'd' GROUP BY unit, state, {s['month']}",
        f"INSERT INTO dash_household (unit, key, n) SELECT {u}, 'active', count(*) FROM household WHERE {live} "
        f"AND active = {t} GROUP BY {u}",
        f"INSERT INTO dash_household (unit, key, n) SELECT unit, key, count(*) FROM (SELECT DISTINCT "
        f"substr(h.org_code, 1, 9) AS unit, h.id, 'safe:' || {s['year']} AS key FROM household AS h, {s['years']} "
        f"WHERE h.deleted = {f} AND h.active = {t} AND {s['is_int']}) AS y GROUP BY unit, key",
    ]


def rebuild(conn: Connection) -> None:
    """Recount every summary table from the record tables, in the caller's transaction."""
    for stmt in rebuild_statements(conn.dialect.name):
        conn.exec_driver_sql(stmt)
