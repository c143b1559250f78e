"""Every figure of the township dashboard, counted on the server from the record tables.

Each figure is computed by an aggregate SQL query over the unit's subtree (an index range on ``org_code``)
and carries its formula and ``drill`` links: the list API with the same filters, so the list's count is the
figure. Record types of other domains (grid work, six-no, nominations, points) are found through the sync
registry by their wire names (records.md); until a type is registered its figures answer ``available:
false`` with a null value, so every key of dashboard.md is always present.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from cunzhi.core.clock import SHANGHAI, iso, today_shanghai, utcnow
from cunzhi.core.db import is_postgres, scope_clause
from cunzhi.core.errors import AppError, FieldError
from cunzhi.core.scope import Scope
from cunzhi.dashboard import formulas as F
from cunzhi.dashboard import summary
from cunzhi.mediation import rules
from cunzhi.mediation.models import MediationCase
from cunzhi.orgs.models import OrgUnit
from cunzhi.reference.service import code_labels
from cunzhi.sync.present import present_person_name
from cunzhi.sync.registry import get_entity
from cunzhi.users.models import User

API = "/api/v1"
LIST_LIMIT = 50
DASHBOARD_ROLES = ("township_admin", "township_viewer", "county_admin", "village_admin", "integration")
case_t = MediationCase.__table__
org_t = OrgUnit.__table__
user_t = User.__table__

# states of other domains (records.md), with labels used when the code tables do not list them — the app's own
# labels (frontend features.*.json codes), so a state reads the same on the dashboard and in the app
INCIDENT_OPEN = summary.INCIDENT_OPEN  # not resolved/verified/cancelled (records.md's states)
STATE_LABELS: dict[str, tuple[str, str]] = {
    "reported": ("已上报", "Reported"), "assigned": ("已分派", "Assigned"), "handling": ("处置中", "Handling"),
    "resolved": ("已解决", "Resolved"), "verified": ("已核实", "Verified"), "cancelled": ("已取消", "Cancelled"),
    "nominated": ("已推荐", "Nominated"), "village_reviewed": ("两委已评议", "Village reviewed"),
    "public_notice": ("公示中", "Public notice"), "township_approved": ("乡镇已审批", "Approved"),
    "rejected": ("未通过", "Rejected"), "awarded": ("已授予", "Awarded"),
    "open": ("创建中", "Open"), "self_assessed": ("已自评", "Self-assessed"),
    "township_certified": ("乡镇已认定", "Certified"), "reopened": ("已重新打开", "Reopened"),
    "none": ("未开展", "No report"),
}


@dataclass
class Period:
    org_code: str
    org_name: str
    level: str
    start: date
    end: date
    today: date
    lang: str = "zh"
    # a township's or county's case and patrol figures come from the summary tables unless this is False (the
    # benchmark's baseline and a test count the record tables instead); a village's always from the records
    summaries: bool | None = None

    @property
    def year(self) -> int:
        return self.end.year

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """Inclusive dates in Asia/Shanghai as a half-open UTC interval."""
        lo = datetime.combine(self.start, time(0), SHANGHAI).astimezone(timezone.utc)
        hi = datetime.combine(self.end + timedelta(days=1), time(0), SHANGHAI).astimezone(timezone.utc)
        return lo, hi


@dataclass
class Result:
    figures: dict[str, dict] = field(default_factory=dict)
    breakdowns: dict[str, list[dict]] = field(default_factory=dict)
    lists: dict[str, list[dict]] = field(default_factory=dict)


# ---- input ---------------------------------------------------------------------------------------------
def check_role(scope: Scope) -> None:
    if scope.role not in DASHBOARD_ROLES:
        raise AppError(403, "dashboard_forbidden")


def resolve_period(conn: Connection, scope: Scope, org_code: str | None, start: date | None, end: date | None,
                   lang: str, today: date | None = None) -> Period:
    check_role(scope)
    today = today or today_shanghai()
    end = end or today
    start = start or date(end.year if end else today.year, 1, 1)
    for name, d in (("from", start), ("to", end)):
        if not 1900 <= d.year <= 2999:
            raise AppError(422, "validation_error", [FieldError(name, "out_of_range")])
    if end < start:
        raise AppError(422, "validation_error", [FieldError("to", "period_reversed")])
    try:
        limit = start.replace(year=start.year + 5)
    except ValueError:  # 29 February
        limit = start.replace(year=start.year + 5, day=28)
    if end > limit:
        raise AppError(422, "validation_error", [FieldError("to", "period_too_long")])
    code = org_code or scope.org_code
    if not scope.contains(code):
        raise AppError(404, "not_found")
    unit = conn.execute(sa.select(org_t.c.name, org_t.c.level).where(org_t.c.code == code)).first()
    if unit is None or unit.level not in ("county", "township", "village"):
        raise AppError(404, "not_found")
    return Period(code, unit.name, unit.level, start, end, today, lang)


# ---- helpers -------------------------------------------------------------------------------------------
def _table(entity: str) -> sa.Table | None:
    """The table of a record type by its wire name (records.md), once its domain's models exist."""
    spec = get_entity(entity)
    if spec is not None:
        return spec.table
    import cunzhi.models  # noqa: F401  (every table)

    return SQLModel.metadata.tables.get(entity)


_SAFE = re.compile(r"^[A-Za-z0-9_.,:-]*$")


def _link(path: str, **params: Any) -> str:
    """A drill link: the list API with these filters (codes, dates, booleans; quoted only when needed)."""
    parts = []
    for k, v in params.items():
        if v is None:
            continue
        v = str(v).lower() if isinstance(v, bool) else str(v)
        parts.append(f"{k}={v if _SAFE.match(v) else quote(v, safe=',')}")
    return f"{API}{path}?{'&'.join(parts)}"


def _rate(num: int | None, den: int | None) -> float | None:
    if num is None or not den:
        return None
    return round(num / den, 4)


def _figure(p: Period, key: str, value: Any, *, numerator: int | None = None, denominator: int | None = None,
            drill: str | None = None, drill_denominator: str | None = None, target: Any = None,
            available: bool = True) -> dict:
    label, formula = F.figure_text(key, p.lang)
    return {"label": label, "value": value if available else None,
            "numerator": numerator if available else None, "denominator": denominator if available else None,
            "target": target, "formula": formula, "drill": drill, "drill_denominator": drill_denominator,
            "available": available}


def _labels(conn: Connection, p: Period) -> dict[str, dict[str, str]]:
    tables = code_labels(conn, p.org_code[:6])  # deactivated codes keep their labels
    out: dict[str, dict[str, str]] = {}
    for name, entries in tables.items():
        out[name] = {e["code"]: (e["name_en"] if p.lang == "en" else e["name_zh"]) for e in entries}
    return out


def _state_label(code: str, lang: str, table: dict[str, str] | None = None) -> str:
    """A state's name: from its code table where there is one (incident_state), else records.md's names."""
    if table and code in table:
        return table[code]
    zh, en = STATE_LABELS.get(code, (code, code))
    return en if lang == "en" else zh


def period_labels(conn: Connection, p: Period) -> dict[str, dict[str, str]]:
    """Code table → code → name in the period's language, the unit's county's own tables where it has them."""
    return _labels(conn, p)


def org_names(conn: Connection, codes: set[str]) -> dict[str, str]:
    """Names of org units (villages, grids, townships) by code."""
    if not codes:
        return {}
    return dict(conn.execute(sa.select(org_t.c.code, org_t.c.name).where(org_t.c.code.in_(sorted(codes)))).all())


_SUFFIX = re.compile(r"(村民委员会|居民委员会|社区居委会|村委会)$")


def short_name(name: str) -> str:
    """万福村村民委员会 → 万福村 (how people name a village)."""
    return _SUFFIX.sub("", name) or name


def _in_unit(table: sa.Table, p: Period):
    return sa.and_(scope_clause(table.c.org_code, p.org_code), table.c.deleted.is_(False))


def _date_key(conn: Connection, col) -> Any:
    """The Monday (Asia/Shanghai) of the ISO week of a UTC timestamp column."""
    if is_postgres(conn):
        return sa.cast(sa.func.date_trunc("week", sa.func.timezone("Asia/Shanghai", col)), sa.Date)
    return sa.func.date(col, "+8 hours", "weekday 0", "-6 days")


def performance_date(conn_or_dialect) -> Any:
    """The date an agreement is due (``perform_by``, absent → ``signed_on``) as an ISO text; indexed."""
    name = getattr(conn_or_dialect, "dialect", conn_or_dialect).name
    if name == "postgresql":
        return sa.literal_column("COALESCE(agreement ->> 'perform_by', agreement ->> 'signed_on')")
    return sa.literal_column("COALESCE(json_extract(agreement, '$.perform_by'), json_extract(agreement, '$.signed_on'))")


def fulfilment_due_to(p: Period) -> date:
    return min(p.end, p.today)


# ---- the dashboard -------------------------------------------------------------------------------------
def compute(conn: Connection, scope: Scope, p: Period, *, with_lists: bool = True) -> dict:
    labels = _labels(conn, p)
    r = Result()
    _cases(conn, p, r, labels)
    _six_no(conn, p, r)
    _households(conn, p, r)
    _patrols(conn, p, r)
    _incidents(conn, p, r, labels)
    _nominations(conn, p, r)
    _mediators(conn, p, r)
    _points(conn, scope, p, r)
    if with_lists:
        _lists(conn, scope, p, r)
    else:
        r.lists = {k: [] for k in F.LISTS}
    figures = {k: r.figures[k] for k in F.FIGURES}  # the spec's order
    return {"org_code": p.org_code, "org_name": p.org_name, "level": p.level, "from": p.start.isoformat(),
            "to": p.end.isoformat(), "as_of": iso(utcnow()), "figures": figures,
            "breakdowns": {k: r.breakdowns[k] for k in F.BREAKDOWNS}, "lists": {k: r.lists[k] for k in F.LISTS},
            "titles": {"breakdowns": {k: v[1 if p.lang == "en" else 0] for k, v in F.BREAKDOWNS.items()},
                       "lists": {k: v[1 if p.lang == "en" else 0] for k, v in F.LISTS.items()}}}


@dataclass
class CaseCounts:
    """What the case figures are made of, counted from the record tables or from the summaries."""

    per: dict[str, dict[str, int]]  # received in the period: category / source / risk_level → key → count
    received: int
    escalations: int
    ended: dict[str, tuple[int, int]]  # ended in the period: ending → (count, on time)
    due: tuple[int, int]  # agreements due in the period up to today: (count, fulfilled)
    by_status: dict[str, int]  # now
    overdue: int
    red: int


def _uses_summaries(p: Period) -> bool:
    """A township's or county's figures of cases, patrols, incidents and households come from the summary tables
    (summary.py); a village's (a few thousand records at most) from the record tables."""
    return p.level in ("township", "county") and p.summaries is not False


def _summary_units(conn: Connection, p: Period) -> list[str]:
    """The summary rows' units of the unit's subtree: the township, or the county and its townships."""
    if p.level == "county":
        return [p.org_code] + [c for c, _ in _townships(conn, p)]
    return [p.org_code]


def _spans(start: date, end: date, coarse: str, first_of) -> list[tuple[str, date, date]]:
    """[start, end] as (grain, from, to-inclusive) pieces: whole coarse buckets (``first_of`` gives a date's
    bucket) and the days at either edge."""
    c0 = start if first_of(start) == start else first_of(first_of(start) + timedelta(days=40 if coarse == "m" else 7))
    c1 = first_of(end + timedelta(days=1))  # the first bucket not wholly inside
    if c0 >= c1:
        return [("d", start, end)]
    out = [(coarse, c0, c1 - timedelta(days=1))]
    if start < c0:
        out.append(("d", start, c0 - timedelta(days=1)))
    if c1 <= end:
        out.append(("d", c1, end))
    return out


def _span_select(t: sa.Table, units: list[str], spans: list[tuple[str, date, date]], cols: list, where=()) -> Any:
    """One statement: the rows of every span (each an index range of the summary's key), unioned."""
    parts = [sa.select(*cols).where(t.c.unit.in_(units), t.c.grain == g, t.c.bucket >= a, t.c.bucket <= b, *where)
             for g, a, b in spans]
    return parts[0] if len(parts) == 1 else sa.union_all(*parts)


def _case_counts_summary(conn: Connection, p: Period) -> CaseCounts:
    cp, cn = summary.case_period_t, summary.case_now_t
    units = _summary_units(conn, p)
    spans = _spans(p.start, p.end, "m", summary.month_of)
    due_to = fulfilment_due_to(p)
    sub = _span_select(cp, units, spans, [cp.c.dim, cp.c.key, cp.c.n]).subquery()
    sums: dict[tuple[str, str], int] = {(x.dim, x.key): int(x.n) for x in conn.execute(
        sa.select(sub.c.dim, sub.c.key, sa.func.sum(sub.c.n).label("n")).group_by(sub.c.dim, sub.c.key))}
    per: dict[str, dict[str, int]] = {"category": {}, "source": {}, "risk_level": {}}
    ended: dict[str, list[int]] = {}
    for (dim, key), n in sums.items():
        if not n:
            continue
        if dim in ("category", "source"):
            per[dim][key] = n
        elif dim == "risk":
            per["risk_level"][key] = n
        elif dim == "ended":
            ended.setdefault(key, [0, 0])[0] = n
        elif dim == "on_time":
            ended.setdefault(key, [0, 0])[1] = n
    due = (0, 0)
    if due_to >= p.start:
        if due_to == p.end:
            got = {k: n for (d, k), n in sums.items() if d == "due"}
        else:
            dsub = _span_select(cp, units, _spans(p.start, due_to, "m", summary.month_of), [cp.c.key, cp.c.n],
                                [cp.c.dim == "due"]).subquery()
            got = {x.key: int(x.n) for x in conn.execute(
                sa.select(dsub.c.key, sa.func.sum(dsub.c.n).label("n")).group_by(dsub.c.key))}
        due = (got.get("done", 0) + got.get("open", 0), got.get("done", 0))
    # now: totals from the month rows (every case has one); overdue: open with a deadline before today — whole
    # months before this one, then this month's days before today
    by_status: dict[str, int] = {}
    red = 0
    for x in conn.execute(sa.select(cn.c.status, cn.c.red, sa.func.sum(cn.c.n).label("n"))
                          .where(cn.c.unit.in_(units), cn.c.grain == "m").group_by(cn.c.status, cn.c.red)):
        by_status[x.status] = by_status.get(x.status, 0) + int(x.n)
        red += int(x.n) if x.red else 0
    month = summary.month_of(p.today)
    is_open = cn.c.status.in_(rules.OPEN)
    overdue = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(cn.c.n), 0)).where(cn.c.unit.in_(units), sa.or_(
        sa.and_(cn.c.grain == "m", is_open, cn.c.bucket < month),
        sa.and_(cn.c.grain == "d", is_open, cn.c.bucket >= month, cn.c.bucket < p.today)))).scalar_one()
    return CaseCounts(per, sum(per["category"].values()), sums.get(("escalation", "1"), 0),
                      {k: (v[0], v[1]) for k, v in ended.items() if v[0]}, due,
                      {k: v for k, v in by_status.items() if v}, int(overdue), red)


def _case_counts_records(conn: Connection, p: Period) -> CaseCounts:
    t, lo, hi = case_t, p.start, p.end
    base = _in_unit(t, p)
    # 1. received in the period: one grouped scan (index ix_mediation_case_dash_received)
    rows = conn.execute(sa.select(t.c.category, t.c.source, t.c.risk_level, t.c.escalation_flag,
                                  sa.func.count().label("n"))
                        .where(base, t.c.received_on >= lo, t.c.received_on <= hi)
                        .group_by(t.c.category, t.c.source, t.c.risk_level, t.c.escalation_flag)).all()
    received = sum(x.n for x in rows)
    escal = sum(x.n for x in rows if x.escalation_flag)
    per: dict[str, dict[str, int]] = {"category": {}, "source": {}, "risk_level": {}}
    for x in rows:
        for k in per:
            per[k][getattr(x, k)] = per[k].get(getattr(x, k), 0) + x.n
    # 2. ended in the period (index ix_mediation_case_dash_ended)
    on_time = sa.case((t.c.ended_on <= t.c.deadline, 1), else_=0)
    rows = conn.execute(sa.select(t.c.ended_as, sa.func.count().label("n"), sa.func.sum(on_time).label("ok"))
                        .where(base, t.c.ended_on >= lo, t.c.ended_on <= hi, t.c.ended_as.is_not(None))
                        .group_by(t.c.ended_as)).all()
    ended = {x.ended_as: (x.n, int(x.ok or 0)) for x in rows}
    # 3. agreements due in the period and not after today
    due_to = fulfilment_due_to(p)
    perf = performance_date(conn)
    done = sa.case((t.c.status.in_(("fulfilled", "archived")), 1), else_=0)
    if due_to >= lo:
        row = conn.execute(sa.select(sa.func.count().label("n"), sa.func.sum(done).label("ok"))
                           .where(base, t.c.ended_as == "agreed", perf >= lo.isoformat(),
                                  perf <= due_to.isoformat())).one()
        due = (row.n, int(row.ok or 0))
    else:
        due = (0, 0)
    # 4. now: by status, open overdue, open red (index ix_mediation_case_org_status)
    overdue = sa.case((sa.and_(t.c.status.in_(rules.OPEN), t.c.deadline < p.today), 1), else_=0)
    red = sa.case((sa.and_(t.c.status.in_(rules.OPEN), t.c.risk_level == "red"), 1), else_=0)
    rows = conn.execute(sa.select(t.c.status, sa.func.count().label("n"), sa.func.sum(overdue).label("od"),
                                  sa.func.sum(red).label("red")).where(base).group_by(t.c.status)).all()
    return CaseCounts(per, received, escal, ended, due, {x.status: x.n for x in rows},
                      sum(int(x.od or 0) for x in rows), sum(int(x.red or 0) for x in rows))


def _cases(conn: Connection, p: Period, r: Result, labels: dict) -> None:
    org, lo, hi = p.org_code, p.start, p.end
    c = _case_counts_summary(conn, p) if _uses_summaries(p) else _case_counts_records(conn, p)
    per, received, escal = c.per, c.received, c.escalations
    rec = {"org_code": org, "received_from": lo.isoformat(), "received_to": hi.isoformat()}
    r.figures["disputes_received"] = _figure(p, "disputes_received", received, numerator=received,
                                             drill=_link("/mediation-cases", **rec))
    r.figures["escalations"] = _figure(p, "escalations", escal, numerator=escal,
                                       drill=_link("/mediation-cases", **rec, escalation_flag=True))
    for key, col, table in (("disputes_by_category", "category", "case_category"),
                            ("disputes_by_source", "source", "case_source"),
                            ("disputes_by_risk", "risk_level", "risk_level")):
        order = list(labels.get(table, {}))
        items = sorted(per[col].items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else 99, kv[0]))
        r.breakdowns[key] = [{"key": k, "label": labels.get(table, {}).get(k, k), "count": n,
                              "drill": _link("/mediation-cases", **rec, **{col: k})} for k, n in items]
    ended = c.ended
    agreed, terminated = ended.get("agreed", (0, 0))[0], ended.get("terminated", (0, 0))[0]
    end_q = {"org_code": org, "ended_from": lo.isoformat(), "ended_to": hi.isoformat()}
    r.figures["mediation_success_rate"] = _figure(
        p, "mediation_success_rate", _rate(agreed, agreed + terminated), numerator=agreed,
        denominator=agreed + terminated, drill=_link("/mediation-cases", **end_q, ended_as="agreed"),
        drill_denominator=_link("/mediation-cases", **end_q, ended_as="agreed,terminated"))
    for key, state in (("cases_declined", "declined"), ("cases_referred", "referred")):
        n = ended.get(state, (0, 0))[0]
        r.figures[key] = _figure(p, key, n, numerator=n, drill=_link("/mediation-cases", **end_q, ended_as=state))
    all_ended = sum(v[0] for v in ended.values())
    ok = sum(v[1] for v in ended.values())
    r.figures["on_time_rate"] = _figure(
        p, "on_time_rate", _rate(ok, all_ended), numerator=ok, denominator=all_ended,
        drill=_link("/mediation-cases", **end_q, ended_as=",".join(rules.ENDING), on_time=True),
        drill_denominator=_link("/mediation-cases", **end_q, ended_as=",".join(rules.ENDING)))
    due_to = fulfilment_due_to(p)
    den, num = c.due
    due_q = {"org_code": org, "ended_as": "agreed", "perform_from": lo.isoformat(), "perform_to": due_to.isoformat()}
    r.figures["agreement_fulfilment_rate"] = _figure(
        p, "agreement_fulfilment_rate", _rate(num, den), numerator=num, denominator=den,
        drill=_link("/mediation-cases", **due_q, status="fulfilled,archived"),
        drill_denominator=_link("/mediation-cases", **due_q))
    by_status = c.by_status
    n_open = sum(by_status.get(s, 0) for s in rules.OPEN)
    n_over, n_red = c.overdue, c.red
    open_codes = ",".join(rules.OPEN)
    r.figures["cases_open"] = _figure(p, "cases_open", n_open, numerator=n_open,
                                      drill=_link("/mediation-cases", org_code=org, status=open_codes))
    r.figures["cases_overdue"] = _figure(p, "cases_overdue", n_over, numerator=n_over,
                                         drill=_link("/mediation-cases", org_code=org, overdue=True))
    r.figures["cases_red_risk_open"] = _figure(
        p, "cases_red_risk_open", n_red, numerator=n_red,
        drill=_link("/mediation-cases", org_code=org, status=open_codes, risk_level="red"))
    st_labels = labels.get("case_status", {})
    r.breakdowns["cases_by_status"] = [
        {"key": s, "label": st_labels.get(s, s), "count": by_status[s],
         "drill": _link("/mediation-cases", org_code=org, status=s)} for s in rules.STATUSES if by_status.get(s)]


def _villages(conn: Connection, p: Period) -> list[tuple[str, str]]:
    return [(x.code, x.name) for x in conn.execute(
        sa.select(org_t.c.code, org_t.c.name).where(scope_clause(org_t.c.code, p.org_code), org_t.c.level == "village")
        .order_by(org_t.c.code))]


def _townships(conn: Connection, p: Period) -> list[tuple[str, str]]:
    return [(x.code, x.name) for x in conn.execute(
        sa.select(org_t.c.code, org_t.c.name).where(scope_clause(org_t.c.code, p.org_code),
                                                    org_t.c.level == "township").order_by(org_t.c.code))]


def _six_no(conn: Connection, p: Period, r: Result) -> None:
    villages = _villages(conn, p)
    t = _table("six_no_report")
    reports: dict[str, dict] = {}
    if t is not None:
        for x in conn.execute(sa.select(t.c.org_code, t.c.state, t.c.indicators)
                              .where(_in_unit(t, p), t.c.year == p.year)).mappings():
            reports[x["org_code"]] = dict(x)
    certified = sum(1 for code, _ in villages if (reports.get(code) or {}).get("state") == "township_certified")
    q = {"org_code": p.org_code, "year": p.year}
    r.figures["six_no_village_rate"] = _figure(
        p, "six_no_village_rate", _rate(certified, len(villages)), numerator=certified, denominator=len(villages),
        target=F.TARGETS["six_no_village_rate"], available=t is not None,
        drill=_link("/six-no-reports", **q, state="township_certified"),
        drill_denominator=_link("/dashboard/units", org_code=p.org_code, level="village"))
    items = []
    for code, name in villages:
        rep = reports.get(code)
        state = rep["state"] if rep else "none"
        broken = sorted(i.get("code") for i in (rep or {}).get("indicators") or []
                        if isinstance(i, dict) and i.get("status") == "broken")
        items.append({"key": code, "label": name, "count": len(broken), "state": state,
                      "state_label": _state_label(state, p.lang), "broken": broken,
                      "drill": _link("/six-no-reports", org_code=code, year=p.year)})
    r.breakdowns["six_no_by_village"] = items


def _json_has_year(conn: Connection, col, year: int):
    if is_postgres(conn):
        return col.op("@>")(sa.cast(sa.literal(f"[{int(year)}]"), col.type))
    return sa.exists(sa.select(sa.literal(1)).select_from(sa.func.json_each(col).table_valued("value"))
                     .where(sa.literal_column("value") == int(year)))


def _households(conn: Connection, p: Period, r: Result) -> None:
    t = _table("household")
    num = den = 0
    if t is not None and _uses_summaries(p):
        ht = summary.household_t
        got = {x.key: int(x.n) for x in conn.execute(
            sa.select(ht.c.key, sa.func.sum(ht.c.n).label("n"))
            .where(ht.c.unit.in_(_summary_units(conn, p)), ht.c.key.in_(("active", f"safe:{p.year}")))
            .group_by(ht.c.key))}
        den, num = got.get("active", 0), got.get(f"safe:{p.year}", 0)
    elif t is not None:
        safe = sa.case((_json_has_year(conn, t.c.safe_certified_years, p.year), 1), else_=0)
        row = conn.execute(sa.select(sa.func.count().label("n"), sa.func.sum(safe).label("ok"))
                           .where(_in_unit(t, p), t.c.active.is_(True))).one()
        den, num = row.n, int(row.ok or 0)
    q = {"org_code": p.org_code, "active": True}
    r.figures["safe_household_rate"] = _figure(
        p, "safe_household_rate", _rate(num, den), numerator=num, denominator=den,
        target=F.TARGETS["safe_household_rate"], available=t is not None,
        drill=_link("/households", **q, safe_certified_year=p.year), drill_denominator=_link("/households", **q))


def _iso_week(monday: Any) -> str:
    d = monday if isinstance(monday, date) else date.fromisoformat(str(monday)[:10])
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}"


def _patrols(conn: Connection, p: Period, r: Result) -> None:
    """Completed patrols per grid per ISO week (a county: per township per week, so the payload stays small)."""
    t = _table("patrol")
    lo, hi = p.utc_bounds()
    q = {"org_code": p.org_code, "state": "completed", "started_from": p.start.isoformat(),
         "started_to": p.end.isoformat()}
    total, items = 0, []
    if t is not None:
        by_township = p.level == "county"
        rows: Sequence[Any]
        if _uses_summaries(p):
            rows = _patrol_rows_summary(conn, p)
        else:
            unit = (sa.func.substr(t.c.org_code, 1, 9) if by_township else t.c.grid_code).label("unit")
            week = _date_key(conn, t.c.started_at).label("week")
            rows = conn.execute(sa.select(unit, week, sa.func.count().label("n"))
                                .where(_in_unit(t, p), t.c.state == "completed", t.c.started_at >= lo,
                                       t.c.started_at < hi)
                                .group_by(unit, week).order_by(unit, week)).all()
        weeks: dict[Any, tuple[str, str, str]] = {}
        for x in rows:
            total += x.n
            if x.week not in weeks:
                monday = x.week if isinstance(x.week, date) else date.fromisoformat(str(x.week)[:10])
                weeks[x.week] = (_iso_week(monday), max(monday, p.start).isoformat(),
                                 min(monday + timedelta(days=6), p.end).isoformat())
            wk, wk_from, wk_to = weeks[x.week]
            filt = (_link("/patrols", org_code=x.unit, state="completed", started_from=wk_from, started_to=wk_to)
                    if by_township else
                    _link("/patrols", org_code=p.org_code, grid_code=x.unit, state="completed", started_from=wk_from,
                          started_to=wk_to))
            items.append({"key": f"{x.unit or '-'}/{wk}", "label": "", "unit": x.unit, "week": wk,
                          "week_from": wk_from, "week_to": wk_to, "count": x.n, "drill": filt})
        _name_patrol_rows(conn, p, items)
    r.figures["patrols_completed"] = _figure(p, "patrols_completed", total, numerator=total,
                                             available=t is not None, drill=_link("/patrols", **q))
    r.breakdowns["patrols_by_grid_week"] = items


def _unit_label(code: str | None, names: dict[str, str], p: Period) -> str:
    """A grid (or a county's township) as people name it: 一组网格, with its village in a township or county
    (万福村一组网格), since every village has its own 一组网格."""
    if not code:
        return "No grid" if p.lang == "en" else "未划网格"
    name = names.get(code, code)
    village = names.get(code[:12]) if len(code) > 12 else None
    if village and p.level != "village":
        v = short_name(village)
        if not name.startswith(v):
            name = v + name
    return name


def _name_patrol_rows(conn: Connection, p: Period, items: list[dict]) -> None:
    """Labels of the patrols-per-grid-week rows: the grid's name and the week (its ISO number and days)."""
    codes = {i["unit"] for i in items if i["unit"]}
    names = org_names(conn, codes | {c[:12] for c in codes if len(c) > 12})
    with_year = p.start.year != p.end.year
    for i in items:
        a, b = (i["week_from"], i["week_to"]) if with_year else (i["week_from"][5:], i["week_to"][5:])
        w = int(i["week"].rsplit("W", 1)[1])
        when = f"week {w}, {a} – {b}" if p.lang == "en" else f"第{w}周 {a}至{b}"
        i["unit_name"] = _unit_label(i["unit"], names, p)
        i["label"] = f"{i['unit_name']} · {when}"


def _patrol_rows_summary(conn: Connection, p: Period) -> Sequence[Any]:
    """Completed patrols per (grid, week) of a township — per (township, week) of a county — from the summary:
    whole weeks from its week rows, the days at the period's edges from its day rows."""
    t = summary.patrol_t
    county = p.level == "county"
    spans = [(g.upper() if county else g, a, b) for g, a, b in _spans(p.start, p.end, "w", summary.monday_of)]
    unit = t.c.unit if county else sa.func.nullif(t.c.grid, "")
    sub = _span_select(t, _summary_units(conn, p), spans, [unit.label("unit"), t.c.week, t.c.n]).subquery()
    n = sa.func.sum(sub.c.n)
    return conn.execute(sa.select(sub.c.unit, sub.c.week, n.label("n")).group_by(sub.c.unit, sub.c.week)
                        .having(n != 0).order_by(sub.c.unit, sub.c.week)).all()


def _incidents(conn: Connection, p: Period, r: Result, labels: dict) -> None:
    t = _table("incident")
    lo, hi = p.utc_bounds()
    q = {"org_code": p.org_code, "occurred_from": p.start.isoformat(), "occurred_to": p.end.isoformat()}
    total = overdue = 0
    by_type: dict[str, int] = {}
    by_state: dict[str, int] = {}
    if t is not None and _uses_summaries(p):
        it, dt = summary.incident_period_t, summary.incident_due_t
        units = _summary_units(conn, p)
        sub = _span_select(it, units, _spans(p.start, p.end, "m", summary.month_of),
                           [it.c.type, it.c.state, it.c.n]).subquery()
        rows: Sequence[Any] = [x for x in conn.execute(
            sa.select(sub.c.type, sub.c.state, sa.func.sum(sub.c.n).label("n")).group_by(sub.c.type, sub.c.state))
            if x.n]
        month = summary.month_of(p.today)
        is_open = dt.c.state.in_(INCIDENT_OPEN)
        overdue = int(conn.execute(sa.select(sa.func.coalesce(sa.func.sum(dt.c.n), 0)).where(
            dt.c.unit.in_(units), sa.or_(sa.and_(dt.c.grain == "m", is_open, dt.c.bucket < month),
                                         sa.and_(dt.c.grain == "d", is_open, dt.c.bucket >= month,
                                                 dt.c.bucket < p.today)))).scalar_one())
    elif t is not None:
        rows = conn.execute(sa.select(t.c.type, t.c.state, sa.func.count().label("n"))
                            .where(_in_unit(t, p), t.c.occurred_at >= lo, t.c.occurred_at < hi)
                            .group_by(t.c.type, t.c.state)).all()
        overdue = conn.execute(sa.select(sa.func.count()).where(
            _in_unit(t, p), t.c.state.in_(INCIDENT_OPEN), t.c.deadline < p.today)).scalar_one()
    if t is not None:
        for x in rows:
            total += x.n
            by_type[x.type] = by_type.get(x.type, 0) + x.n
            by_state[x.state] = by_state.get(x.state, 0) + x.n
    avail = t is not None
    r.figures["incidents_reported"] = _figure(p, "incidents_reported", total, numerator=total, available=avail,
                                              drill=_link("/incidents", **q))
    r.figures["incidents_overdue"] = _figure(p, "incidents_overdue", overdue, numerator=overdue, available=avail,
                                             drill=_link("/incidents", org_code=p.org_code, overdue=True))
    tl = labels.get("incident_type", {})
    order = list(tl)
    r.breakdowns["incidents_by_type"] = [
        {"key": k, "label": tl.get(k, k), "count": n, "drill": _link("/incidents", **q, type=k)}
        for k, n in sorted(by_type.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else 99, kv[0]))]
    states = ("reported", "assigned", "handling", "resolved", "verified", "cancelled")
    r.breakdowns["incidents_by_state"] = [
        {"key": k, "label": _state_label(k, p.lang, labels.get("incident_state")), "count": n,
         "drill": _link("/incidents", **q, state=k)}
        for k, n in sorted(by_state.items(), key=lambda kv: (states.index(kv[0]) if kv[0] in states else 99, kv[0]))]


NOMINATION_STATES = ("nominated", "village_reviewed", "public_notice", "township_approved", "rejected", "awarded")


def _nominations(conn: Connection, p: Period, r: Result) -> None:
    t = _table("nomination")
    awarded = 0
    by_state: dict[str, int] = {}
    if t is not None:
        awarded = conn.execute(sa.select(sa.func.count()).where(
            _in_unit(t, p), t.c.state == "awarded", t.c.awarded_on >= p.start, t.c.awarded_on <= p.end)).scalar_one()
        by_state = {x.state: x.n for x in conn.execute(
            sa.select(t.c.state, sa.func.count().label("n")).where(_in_unit(t, p)).group_by(t.c.state))}
    r.figures["nominations_awarded"] = _figure(
        p, "nominations_awarded", awarded, numerator=awarded, available=t is not None,
        drill=_link("/nominations", org_code=p.org_code, state="awarded", awarded_from=p.start.isoformat(),
                    awarded_to=p.end.isoformat()))
    r.breakdowns["nominations_by_state"] = [
        {"key": s, "label": _state_label(s, p.lang), "count": by_state[s],
         "drill": _link("/nominations", org_code=p.org_code, state=s)}
        for s in sorted(by_state, key=lambda s: (NOMINATION_STATES.index(s) if s in NOMINATION_STATES else 99, s))]


def _mediators(conn: Connection, p: Period, r: Result) -> None:
    u = user_t
    active = sa.and_(u.c.role == "mediator", u.c.active.is_(True), scope_clause(u.c.org_code, p.org_code))
    rows = conn.execute(sa.select(u.c.org_code, sa.func.count().label("n")).where(active)
                        .group_by(u.c.org_code)).all()
    townships = _townships(conn, p) if p.level == "county" else ([(p.org_code, p.org_name)]
                                                                  if p.level == "township" else [])
    at_township = sum(x.n for x in rows if len(x.org_code) == 9)
    villages = _villages(conn, p)
    vset = {c for c, _ in villages}
    with_one = len({x.org_code for x in rows if x.org_code in vset and x.n >= 1})
    target = F.MEDIATORS_PER_TOWNSHIP * len(townships) if townships else None
    r.figures["mediators_township"] = _figure(
        p, "mediators_township", at_township, numerator=at_township, denominator=len(townships) or None,
        target=target, drill=_link("/dashboard/mediators", org_code=p.org_code, level="township"))
    r.figures["mediators_villages"] = _figure(
        p, "mediators_villages", _rate(with_one, len(villages)), numerator=with_one, denominator=len(villages),
        target=F.TARGETS["mediators_villages"],
        drill=_link("/dashboard/units", org_code=p.org_code, level="village", has_mediator=True),
        drill_denominator=_link("/dashboard/units", org_code=p.org_code, level="village"))


def _points(conn: Connection, scope: Scope, p: Period, r: Result) -> None:
    t, h = _table("points_entry"), _table("household")
    items: list[dict] = []
    if t is not None and h is not None and p.level == "village":
        total = sa.func.sum(t.c.points).label("balance")
        rows = conn.execute(sa.select(t.c.household_id, total).where(_in_unit(t, p))
                            .group_by(t.c.household_id).order_by(total.desc(), t.c.household_id).limit(10)).all()
        names = {x.id: x.head_name for x in conn.execute(
            sa.select(h.c.id, h.c.head_name).where(h.c.id.in_([x.household_id for x in rows])))}
        for x in rows:
            items.append({"key": x.household_id,
                          "label": present_person_name(names.get(x.household_id) or "", p.org_code, scope,
                                                       x.household_id),
                          "count": int(x.balance or 0),
                          "drill": _link("/points-entries", org_code=p.org_code, household_id=x.household_id)})
    r.breakdowns["points_top_households"] = items


# ---- lists ---------------------------------------------------------------------------------------------
def _case_item(x: dict, scope: Scope, today: date) -> dict:
    names = [present_person_name(pt.get("name") or "", x["org_code"], scope, x["id"])
             for pt in (x.get("parties") or []) if isinstance(pt, dict)]
    return {"id": x["id"], "case_number": x["case_number"], "title": x["title"], "org_code": x["org_code"],
            "deadline": x["deadline"].isoformat() if x["deadline"] else None, "risk_level": x["risk_level"],
            "status": x["status"], "received_on": x["received_on"].isoformat(), "parties": "、".join(names),
            "days_overdue": max(0, (today - x["deadline"]).days) if x["deadline"] else 0,
            "link": f"{API}/mediation-cases/{x['id']}"}


def _most_urgent(conn: Connection, table: sa.Table, cols: tuple, where: tuple, branches: list) -> Sequence[Any]:
    """The first LIST_LIMIT rows by (deadline, id): one ordered walk per branch (a state, say) along an index led
    by it and the deadline (``ix_*_dash_due``, migration 0008) that stops after LIST_LIMIT rows, merged — not a
    sort of every open record of a county."""
    parts = [sa.select(*cols).where(*where, b).order_by(table.c.deadline, table.c.id).limit(LIST_LIMIT)
             .subquery().select() for b in branches]
    u = sa.union_all(*parts).subquery()
    return conn.execute(sa.select(u).order_by(u.c.deadline, u.c.id).limit(LIST_LIMIT)).mappings().all()


def _lists(conn: Connection, scope: Scope, p: Period, r: Result) -> None:
    t = case_t
    cols = (t.c.id, t.c.case_number, t.c.title, t.c.org_code, t.c.deadline, t.c.risk_level, t.c.status,
            t.c.received_on, t.c.parties)
    rows = _most_urgent(conn, t, cols, (_in_unit(t, p), t.c.deadline < p.today),
                        [t.c.status == s for s in rules.OPEN])
    r.lists["overdue_cases"] = [_case_item(dict(x), scope, p.today) for x in rows]
    rows = _most_urgent(conn, t, cols, (_in_unit(t, p), t.c.risk_level == "red"),
                        [t.c.status == s for s in rules.OPEN])
    r.lists["red_risk_cases"] = [_case_item(dict(x), scope, p.today) for x in rows]
    it = _table("incident")
    r.lists["overdue_incidents"] = []
    if it is not None:
        rows = _most_urgent(conn, it, (it.c.id, it.c.title, it.c.org_code, it.c.type, it.c.severity, it.c.state,
                                       it.c.deadline, it.c.occurred_at),
                            (_in_unit(it, p), it.c.deadline < p.today), [it.c.state == s for s in INCIDENT_OPEN])
        r.lists["overdue_incidents"] = [
            {"id": x["id"], "title": x["title"], "org_code": x["org_code"], "type": x["type"],
             "severity": x["severity"], "state": x["state"], "deadline": x["deadline"].isoformat(),
             "occurred_at": iso(x["occurred_at"]), "days_overdue": (p.today - x["deadline"]).days,
             "link": f"{API}/incidents/{x['id']}"} for x in rows]
    nt = _table("nomination")
    r.lists["notices_in_progress"] = []
    if nt is not None:
        rows = conn.execute(sa.select(nt.c.id, nt.c.org_code, nt.c.category, nt.c.nominee_name,
                                      nt.c.notice_starts_on, nt.c.notice_ends_on, nt.c.paused)
                            .where(_in_unit(nt, p), nt.c.state == "public_notice")
                            .order_by(nt.c.notice_ends_on, nt.c.id).limit(LIST_LIMIT)).mappings().all()
        r.lists["notices_in_progress"] = [
            {"id": x["id"], "org_code": x["org_code"], "category": x["category"],
             "nominee_name": present_person_name(x["nominee_name"] or "", x["org_code"], scope, x["id"]),
             "notice_starts_on": x["notice_starts_on"].isoformat() if x["notice_starts_on"] else None,
             "notice_ends_on": x["notice_ends_on"].isoformat() if x["notice_ends_on"] else None,
             "paused": bool(x["paused"]), "link": f"{API}/nominations/{x['id']}"} for x in rows]
    # every item names its unit (万福村村民委员会), not only its code
    names = org_names(conn, {i["org_code"] for items in r.lists.values() for i in items})
    for items in r.lists.values():
        for i in items:
            i["org_name"] = names.get(i["org_code"], i["org_code"])


# ---- county: townships side by side -------------------------------------------------------------------
COMPARE_KEYS = ("disputes_received", "mediation_success_rate", "agreement_fulfilment_rate", "on_time_rate",
                "cases_open", "cases_overdue", "cases_red_risk_open", "escalations", "six_no_village_rate",
                "safe_household_rate", "patrols_completed", "incidents_reported", "incidents_overdue",
                "nominations_awarded", "mediators_township", "mediators_villages")


def compare(conn: Connection, scope: Scope, p: Period) -> dict:
    """Every township of a county (or the one township) with its headline figures, side by side."""
    units = _townships(conn, p) if p.level == "county" else [(p.org_code, p.org_name)]
    rows = []
    for code, name in units:
        sub = Period(code, name, "township", p.start, p.end, p.today, p.lang, p.summaries)
        d = compute(conn, scope, sub, with_lists=False)
        rows.append({"org_code": code, "org_name": name,
                     "figures": {k: {kk: d["figures"][k][kk] for kk in ("value", "numerator", "denominator",
                                                                          "target", "drill", "available")}
                                 for k in COMPARE_KEYS}})
    return {"org_code": p.org_code, "org_name": p.org_name, "from": p.start.isoformat(), "to": p.end.isoformat(),
            "as_of": iso(utcnow()), "keys": list(COMPARE_KEYS),
            "labels": {k: F.figure_text(k, p.lang)[0] for k in COMPARE_KEYS}, "townships": rows}


def unit_rows(conn: Connection, p: Period, level: str, has_mediator: bool | None) -> list[dict]:
    """Villages (or townships) of the unit with their active mediator accounts: the drill of the villages and
    mediators figures."""
    u = user_t
    counts: dict[str, int] = dict(conn.execute(sa.select(u.c.org_code, sa.func.count()).where(
        u.c.role == "mediator", u.c.active.is_(True), scope_clause(u.c.org_code, p.org_code))
        .group_by(u.c.org_code)).all())
    units = _villages(conn, p) if level == "village" else _townships(conn, p)
    out: list[dict[str, Any]] = [{"org_code": c, "org_name": n, "mediators": counts.get(c, 0)} for c, n in units]
    if has_mediator is not None:
        out = [x for x in out if (x["mediators"] >= 1) is has_mediator]
    return out


def mediator_rows(conn: Connection, p: Period, level: str) -> list[dict]:
    u = user_t
    q = sa.select(u.c.id, u.c.display_name, u.c.org_code).where(
        u.c.role == "mediator", u.c.active.is_(True), scope_clause(u.c.org_code, p.org_code))
    q = q.where(sa.func.length(u.c.org_code) == (9 if level == "township" else 12))
    return [dict(x) for x in conn.execute(q.order_by(u.c.org_code, u.c.id)).mappings()]
