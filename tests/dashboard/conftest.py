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
USERS = ("wanfucun.mediator", "wanfucun.admin", "wanfucun.grid", "zhendong.mediator", "wanfu.admin", "wanfu.viewer",
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
            yield w
        finally:
            for cl in w.clients.values():
                cl.close()
    engine.dispose()
    databases.drop(kind, url)
