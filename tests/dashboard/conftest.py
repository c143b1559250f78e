"""The dashboard's fixture: a township's cases written through real pushes (HTTP, the sync engine), one
database and server per module and database kind. The expected figures in the tests are counted by hand
from the table below — never by calling the dashboard code.

Today is the server's date (ended_on is stamped with it when a case ends). Deadlines are received_on + 30.

| case | unit            | received      | category         | source          | risk   | esc | now         | agreement due            |
| C1   | 万福村 W        | 40 days ago   | neighbor         | party_request   | red    | yes | mediating   |                          |
| C2   | 万福村 W        | 35 days ago   | homestead        | patrol          | orange |     | registered  |                          |
| C3   | 万福村 W        | 5 days ago    | neighbor         | proactive       | red    |     | registered  |                          |
| C4   | 万福村 W        | 40 days ago   | neighbor         | party_request   | blue   |     | agreed      | perform_by 3 days ago    |
| C5   | 万福村 W        | 5 days ago    | labor_wage       | party_request   | yellow |     | fulfilled   | perform_by yesterday     |
| C6   | 镇东村 Z        | 10 days ago   | contract         | police_referral | blue   |     | terminated  |                          |
| C7   | 镇东村 Z        | 3 days ago    | damages          | party_request   | blue   | yes | declined    |                          |
| C8   | 镇东村 Z        | 50 days ago   | neighbor         | patrol          | red    |     | referred    |                          |
| C9   | 万福镇 (town)   | 20 days ago   | land_acquisition | government      | orange |     | agreed      | perform_by in 10 days    |
| C10  | 万福村 W        | 2 days ago    | other            | party_request   | blue   |     | DELETED     |                          |
| C11  | 万福村 W        | 2025-12-15    | neighbor         | party_request   | blue   |     | mediating   |                          |
| C12  | 镇东村 Z        | 8 days ago    | neighbor         | party_request   | blue   |     | fulfilled   | signed yesterday, no perform_by |
| C13  | 唐集镇 (other)  | 1 day ago     | neighbor         | party_request   | red    |     | registered  |                          |

Grid work, six-no, nominations and points (万福村 W unless said; YEAR = this year; "dd" = days ago, at 10:00
Asia/Shanghai unless said):

| record | what                                                                                          |
| H1     | household 王建国, active, safe_certified_years [YEAR]                                          |
| H2     | household 李秀英, active, [YEAR-1]                                                              |
| H3     | household 张德明, active, [YEAR, YEAR-1]                                                        |
| H4     | household 刘志强, inactive (moved away), [YEAR]                                                 |
| H5     | household 陈桂兰 of 镇东村 Z, active, [YEAR]                                                    |
| H6     | household 赵春生, active, []                                                                     |
| P1, P2 | patrols of grid 001, completed, started yesterday 10:00 and 11:00                              |
| P3     | patrol of grid 002, completed, started 8 days ago                                              |
| P4     | patrol of grid 001, in progress (started yesterday 09:00)                                      |
| P5     | patrol of grid 002, cancelled (started 2 days ago)                                             |
| I1     | incident safety_hazard, general, yesterday (deadline +7: not overdue), reported                |
| I2     | incident public_order, serious, 10 days ago (deadline +3 = 7 days ago: overdue), reported      |
| I3     | incident criminal_case, serious, 5 days ago (deadline 2 days ago: overdue) → breaks 万福村's six-no |
| I4     | incident environment, general, 20 days ago, cancelled                                          |
| R-Z    | 镇东村's six-no report of YEAR: self-assessed by zhendong.admin, certified by wanfu.admin       |
| N1     | nomination (W) in public notice                                                               |
| N2     | nomination (W) nominated                                                                      |
| N3     | nomination (W) awarded on a clock moved 8 days ahead (awarded_on = today + 8)                 |
| E1–E4  | points: H1 +5 (volunteer), H1 +10 (filial), H3 +2 (clean_yard), H3 −5 (littering)             |
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import pytest

from tests.api import helpers as h
from tests.api.conftest import fast_login
from tests.support import databases
from tests.support.device import login, mutation, new_case_fields, push
from tests.support.server import ThreadServer

W, Z, WT, T = "340321108200", "340321108201", "340321108", "340321109"
PATH = {"registered": [], "mediating": ["mediating"], "agreed": ["mediating", "agreed"],
        "fulfilled": ["mediating", "agreed", "fulfilled"], "terminated": ["mediating", "terminated"],
        "declined": ["declined"], "referred": ["referred"]}


def _plus(n: int) -> str:
    return (h.today() + timedelta(days=n)).isoformat()


# name → (unit, creator, received_on, category, source, risk, escalation, final state, agreement extra)
CASES = {
    "C1": (W, "wanfucun.mediator", h.days_ago(40), "neighbor", "party_request", "red", True, "mediating", None),
    "C2": (W, "wanfucun.mediator", h.days_ago(35), "homestead", "patrol", "orange", False, "registered", None),
    "C3": (W, "wanfucun.mediator", h.days_ago(5), "neighbor", "proactive", "red", False, "registered", None),
    "C4": (W, "wanfucun.mediator", h.days_ago(40), "neighbor", "party_request", "blue", False, "agreed",
           {"perform_by": h.days_ago(3), "signed_on": h.days_ago(1)}),
    "C5": (W, "wanfucun.mediator", h.days_ago(5), "labor_wage", "party_request", "yellow", False, "fulfilled",
           {"perform_by": h.days_ago(1), "signed_on": h.days_ago(2)}),
    "C6": (Z, "zhendong.mediator", h.days_ago(10), "contract", "police_referral", "blue", False, "terminated", None),
    "C7": (Z, "zhendong.mediator", h.days_ago(3), "damages", "party_request", "blue", True, "declined", None),
    "C8": (Z, "zhendong.mediator", h.days_ago(50), "neighbor", "patrol", "red", False, "referred", None),
    "C9": (WT, "wanfu.admin", h.days_ago(20), "land_acquisition", "government", "orange", False, "agreed",
           {"perform_by": _plus(10), "signed_on": h.days_ago(1)}),
    "C10": (W, "wanfucun.mediator", h.days_ago(2), "other", "party_request", "blue", False, "registered", None),
    "C11": (W, "wanfucun.mediator", "2025-12-15", "neighbor", "party_request", "blue", False, "mediating", None),
    "C12": (Z, "zhendong.mediator", h.days_ago(8), "neighbor", "party_request", "blue", False, "fulfilled",
            {"signed_on": h.days_ago(1)}),
    "C13": (T, "tangji.admin", h.days_ago(1), "neighbor", "party_request", "red", False, "registered", None),
}
USERS = ("wanfucun.mediator", "wanfucun.admin", "wanfucun.grid", "zhendong.mediator", "zhendong.admin", "wanfu.admin",
         "wanfu.viewer",
         "wanfu.mediator", "tangji.admin", "county.admin")


@dataclass
class World:
    url: str
    base: str
    engine: object
    kind: str
    clients: dict[str, httpx.Client] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    def c(self, username: str) -> httpx.Client:
        return self.clients[username]

    def login(self, username: str, lang: str = "zh-CN") -> httpx.Client:
        cl = fast_login(self.engine, self.base, username, lang=lang)
        self.clients[f"{username}/{lang}/{uuid.uuid4()}"] = cl
        return cl


def _case(w: World, name: str) -> None:
    org, creator, received, cat, src, risk, esc, final, agreement = CASES[name]
    c = w.c(creator)
    rid = str(uuid.uuid4())
    fields = new_case_fields(org, title=f"{name} 纠纷", received_on=received, category=cat, source=src,
                             risk_level=risk, escalation_flag=esc,
                             parties=[{"name": "张三", "role": "applicant", "phone": h.phone(3, 1)},
                                      {"name": "欧阳娜娜", "role": "respondent"}])
    res = push(c, [mutation("mediation_case", rid, fields)]).json()["results"][0]
    assert res["status"] == "applied", res
    rev = res["record"]["rev"]
    for step in PATH[final]:
        extra: dict = {}
        if step == "agreed":
            extra["agreement"] = {"form": "written", "terms": "赔偿并道歉", **(agreement or {})}
        if step in ("declined", "terminated", "referred"):
            extra["outcome_note"] = "已告知当事人可向法院起诉"
        res = push(c, [mutation("mediation_case", rid, {"status": step, **extra}, base_rev=rev)]).json()["results"][0]
        assert res["status"] == "applied", (name, step, res)
        rev = res["record"]["rev"]
    w.ids[name] = rid
    if name == "C10":  # a mistaken entry, deleted by the village admin
        res = push(w.c("wanfucun.admin"), [mutation("mediation_case", rid, {}, base_rev=rev, op="delete")]).json()
        assert res["results"][0]["status"] == "applied", res


YEAR = h.today().year


def _at(days_ago: int, hour: int = 10) -> str:
    return f"{(h.today() - timedelta(days=days_ago)).isoformat()}T{hour:02d}:00:00+08:00"


def _ok(w: World, who: str, entity: str, rid: str, fields: dict, base_rev: int = 0) -> dict:
    res = push(w.c(who), [mutation(entity, rid, fields, base_rev=base_rev)]).json()["results"][0]
    assert res["status"] in ("applied", "merged"), (entity, fields, res)
    return res["record"]


def _grid_work(w: World) -> None:
    import sqlalchemy as sa

    from cunzhi.core import clock
    from cunzhi.demo.grid import ensure_grids
    from cunzhi.six_no.rules import report_id

    with w.engine.begin() as conn:
        ids = dict(conn.execute(sa.text("SELECT username, id FROM app_user")).all())
        ensure_grids(conn, [ids["wanfucun.grid"]], ids["wanfucun.admin"])
    va, g = "wanfucun.admin", "wanfucun.grid"
    homes = {"H1": (W, "王建国", [YEAR], True), "H2": (W, "李秀英", [YEAR - 1], True),
             "H3": (W, "张德明", [YEAR, YEAR - 1], True), "H4": (W, "刘志强", [YEAR], False),
             "H5": (Z, "陈桂兰", [YEAR], True), "H6": (W, "赵春生", [], True)}
    for name, (org, head, years, active) in homes.items():
        rid = str(uuid.uuid4())
        _ok(w, va if org == W else "zhendong.admin", "household", rid,
            {"org_code": org, "head_name": head, "address": f"东庄 {len(w.ids)} 号", "members": 3,
             "safe_certified_years": years, "active": active})
        w.ids[name] = rid
    g1, g2 = W + "001", W + "002"
    patrols = {"P1": (g1, _at(1, 10), "completed"), "P2": (g1, _at(1, 11), "completed"),
               "P3": (g2, _at(8, 10), "completed"), "P4": (g1, _at(1, 9), "in_progress"),
               "P5": (g2, _at(2, 10), "cancelled")}
    for name, (grid, started, state) in patrols.items():
        rid = str(uuid.uuid4())
        fields = {"org_code": W, "grid_code": grid, "started_at": started}
        rec = _ok(w, g if state != "cancelled" else va, "patrol", rid, fields)
        if state == "completed":
            _ok(w, g, "patrol", rid, {"state": "completed", "ended_at": started.replace("T10", "T12").replace(
                "T11", "T12")}, rec["rev"])
        elif state == "cancelled":
            _ok(w, va, "patrol", rid, {"state": "cancelled"}, rec["rev"])
        w.ids[name] = rid
    incidents = {"I1": ("safety_hazard", "general", 1), "I2": ("public_order", "serious", 10),
                 "I3": ("criminal_case", "serious", 5), "I4": ("environment", "general", 20)}
    for name, (typ, sev, ago) in incidents.items():
        rid = str(uuid.uuid4())
        rec = _ok(w, g, "incident", rid, {"org_code": W, "grid_code": g1, "type": typ, "severity": sev,
                                          "title": f"{name} 事件", "occurred_at": _at(ago)})
        if name == "I4":
            _ok(w, va, "incident", rid, {"state": "cancelled"}, rec["rev"])
        w.ids[name] = rid
    rid = report_id(Z, YEAR)
    rec = _ok(w, "zhendong.admin", "six_no_report", rid, {"org_code": Z, "year": YEAR})
    rec = _ok(w, "zhendong.admin", "six_no_report", rid, {"state": "self_assessed", "self_assessment": "全年无六类案事件"},
              rec["rev"])
    _ok(w, "wanfu.admin", "six_no_report", rid, {"state": "township_certified"}, rec["rev"])
    check = {"criminal_record": False, "vice": False, "cult": False, "checked_by": "张德明",
             "checked_on": h.today().isoformat()}

    def nominate(name: str, nominee: str) -> dict:
        rid = str(uuid.uuid4())
        w.ids[name] = rid
        return _ok(w, "wanfucun.mediator", "nomination", rid,
                   {"org_code": W, "category": "filial_piety", "nominee_name": nominee, "deeds": "照顾瘫痪婆婆十二年",
                    "source": "villagers"})

    def to_notice(rec: dict) -> dict:
        rec = _ok(w, va, "nomination", rec["id"], {"state": "village_reviewed", "disqualifiers": check,
                                                    "review_note": "两委评议通过"}, rec["rev"])
        return _ok(w, va, "nomination", rec["id"], {"state": "public_notice"}, rec["rev"])

    to_notice(nominate("N1", "李桂花"))
    nominate("N2", "王大山")
    n3 = to_notice(nominate("N3", "赵大勇"))
    with clock.moved(timedelta(days=8)):
        n3 = _ok(w, "wanfu.admin", "nomination", n3["id"], {"state": "township_approved"}, n3["rev"])
        _ok(w, "wanfu.admin", "nomination", n3["id"], {"state": "awarded", "award_title": "万福镇孝老爱亲模范"},
            n3["rev"])
    for name, (home, rule, pts) in {"E1": ("H1", "volunteer", 5), "E2": ("H1", "filial", 10),
                                    "E3": ("H3", "clean_yard", 2), "E4": ("H3", "littering", -5)}.items():
        rid = str(uuid.uuid4())
        _ok(w, va, "points_entry", rid, {"org_code": W, "household_id": w.ids[home], "rule": rule, "points": pts,
                                         "reason": "村民评议", "occurred_on": h.days_ago(1)})
        w.ids[name] = rid


@pytest.fixture(scope="module", params=databases.KINDS)
def world(request, template_root, tmp_path_factory) -> Iterator[World]:
    kind = request.param
    tmp = tmp_path_factory.mktemp(f"dash-{kind}")
    url = databases.fresh(kind, template_root, tmp)
    databases.use(url, tmp)
    engine = h.engine_for(url)
    with ThreadServer() as srv:
        w = World(url, srv.base, engine, kind)
        try:
            w.clients["wanfucun.mediator"] = login(srv.base, "wanfucun.mediator")  # one real login
            for u in USERS:
                w.clients.setdefault(u, fast_login(engine, srv.base, u))
            for name in CASES:
                _case(w, name)
            _grid_work(w)
            yield w
        finally:
            for cl in w.clients.values():
                cl.close()
    engine.dispose()
    databases.drop(kind, url)
