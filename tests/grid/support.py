"""Helpers of the grid-work tests: clients per demo account, the demo grids, record builders, result checks."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa

from cunzhi.core.clock import SHANGHAI, utcnow
from tests.api import helpers as h
from tests.api.conftest import fast_login
from tests.support.device import PASSWORD, mutation, push

WANFU_CUN, ZHENDONG_CUN = "340321108200", "340321108201"
GRID1, GRID2, GRID3 = "340321108200001", "340321108200002", "340321108200003"
ZGRID = "340321108201001"
ACCOUNTS = ("wanfucun.mediator", "wanfucun.grid", "wanfucun.admin", "zhendong.mediator", "zhendong.admin",
            "wanfu.admin", "wanfu.viewer", "wanfu.mediator", "tangji.admin", "county.admin")
# short names as the permission matrix uses them
SHORT = {"M": "wanfucun.mediator", "G": "wanfucun.grid", "VA": "wanfucun.admin", "ZM": "zhendong.mediator",
         "ZA": "zhendong.admin", "TA": "wanfu.admin", "TV": "wanfu.viewer", "TM": "wanfu.mediator",
         "OA": "tangji.admin", "CA": "county.admin"}


def at(hours_ago: float = 0) -> str:
    return (utcnow() - timedelta(hours=hours_ago)).astimezone(SHANGHAI).isoformat(timespec="seconds")


def new_id() -> str:
    return str(uuid.uuid4())


class G:
    """One test's world: the engine, clients by username, the ids of the demo users."""

    def __init__(self, base: str):
        self.base = base
        self.engine = h.engine_for(os.environ["CUNZHI_DATABASE_URL"])
        self.clients: dict = {}
        self.ids: dict[str, str] = {}

    def setup(self) -> None:
        from cunzhi.demo.grid import ensure_grids
        from cunzhi.grid.models import Grid
        from cunzhi.orgs.models import OrgUnit

        with self.engine.begin() as conn:
            for name in ACCOUNTS:
                self.ids[name] = conn.execute(sa.text("SELECT id FROM app_user WHERE username = :u"),
                                              {"u": name}).scalar()
            # a grid worker of 镇东村 (another village) for cross-village checks
            from cunzhi.users.service import create_user

            self.ids["zhendong.grid"] = create_user(conn, "zhendong.grid", PASSWORD, "grid_worker",
                                                    ZHENDONG_CUN, "镇东村网格员")["id"]
            ensure_grids(conn, [self.ids["wanfucun.grid"]], self.ids["wanfucun.admin"])
            now = utcnow()
            conn.execute(OrgUnit.__table__.insert().values(code=ZGRID, name="镇东一组", level="grid",
                                                           parent_code=ZHENDONG_CUN))
            conn.execute(Grid.__table__.insert().values(code=ZGRID, village_code=ZHENDONG_CUN,
                                                        worker_ids=[self.ids["zhendong.grid"]], retired=False,
                                                        created_at=now, updated_at=now,
                                                        updated_by=self.ids["zhendong.admin"]))

    def c(self, who: str, lang: str = "zh-CN"):
        username = SHORT.get(who, who)
        key = (username, lang)
        if key not in self.clients:
            self.clients[key] = fast_login(self.engine, self.base, username, lang=lang)
        return self.clients[key]

    def uid(self, who: str) -> str:
        return self.ids[SHORT.get(who, who)]

    def close(self) -> None:
        for c in self.clients.values():
            c.close()
        self.engine.dispose()

    # ---- pushing ------------------------------------------------------------------------------
    def push1(self, who: str, entity: str, rid: str, fields: dict, base_rev: int = 0, op: str = "upsert") -> dict:
        r = push(self.c(who), [mutation(entity, rid, fields, base_rev=base_rev, op=op)])
        assert r.status_code == 200, r.text
        return r.json()["results"][0]

    def row(self, table: str, rid: str) -> dict | None:
        return h.row(self.engine, table, rid)

    def count(self, table: str) -> int:
        return h.count(self.engine, table)


def ok(res: dict) -> dict:
    assert res["status"] == "applied", res
    return res["record"]


def rejected(res: dict, code: str = "validation_error", field: str | None = None, detail: str | None = None) -> dict:
    assert res["status"] == "rejected", res
    assert res["error"]["code"] == code, res
    if code == "forbidden":
        assert "record" not in res or not res.get("record"), res
    if field or detail:
        pairs = {(d["field"], d["code"]) for d in res["error"]["details"]}
        assert any((field is None or f == field) and (detail is None or c == detail) for f, c in pairs), (pairs, res)
    return res


def pairs(res: dict) -> list[tuple[str, str]]:
    return [(d["field"], d["code"]) for d in res["error"]["details"]]


def patrol_fields(grid: str = GRID1, **over) -> dict:
    return {"org_code": WANFU_CUN, "grid_code": grid, "started_at": at(2), **over}


def incident_fields(**over) -> dict:
    return {"org_code": WANFU_CUN, "grid_code": GRID1, "type": "safety_hazard", "severity": "general",
            "title": "池塘边缺少防护栏", "occurred_at": at(1), **over}


def household_fields(**over) -> dict:
    return {"org_code": WANFU_CUN, "grid_code": GRID1, "head_name": "王建国", "address": "东庄 12 号", "members": 4,
            "phone": h.phone(1, 1), "head_id_number": h.id_number(1, 1), **over}


def route(n: int, start: datetime | None = None) -> list[dict]:
    start = start or (utcnow() - timedelta(hours=2))
    return [{"lat": 32.97 + i * 1e-5, "lon": 117.19 + i * 1e-5,
             "at": (start + timedelta(seconds=i)).isoformat(), "accuracy": 10} for i in range(n)]
