"""The demo's grid work in 万福村: three grids, ~300 households, eight weeks of patrols and incidents.

Everything but the grids (org units, made online by admins) is written through the sync engine (``Push``)
with the clock set to when it happened, dates relative to today; ids derive from a fixed seed, so loading
twice changes nothing.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from cunzhi.core.clock import SHANGHAI, iso, utcnow
from cunzhi.core.scope import Scope
from cunzhi.grid.models import Grid
from cunzhi.orgs.models import OrgUnit
from cunzhi.sync.engine import Mutation, Push

NS = uuid.UUID("6f1c3c1e-8a51-4d0c-9d0e-340321108777")
WANFU_CUN = "340321108200"
GRIDS = (("340321108200001", "一组网格", True), ("340321108200002", "二组网格", True),
         ("340321108200003", "三组网格", False))  # (code, name, worked by wanfucun.grid)
# roughly 万福镇, 怀远县 (WGS-84)
CENTRE = {"340321108200001": (32.9712, 117.1873), "340321108200002": (32.9668, 117.1951),
          "340321108200003": (32.9621, 117.1839)}
HAMLETS = {"340321108200001": ["东庄", "前庄"], "340321108200002": ["西庄", "后庄"],
           "340321108200003": ["小李庄", "大王庄"]}
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董"
GIVEN = ["建国", "志强", "德明", "春生", "文华", "国庆", "宝山", "长江", "立新", "振华", "荣华", "福生", "秀英",
         "桂兰", "玉梅", "淑珍"]
TAGS = ["left_behind", "low_income", "military", "elderly_alone", "disabled"]
CHECKLIST = ["fire_safety", "water_safety", "road_safety", "building_safety", "special_population", "environment",
             "disputes"]
INCIDENTS = {
    "dispute": ["邻里因宅前排水发生争执", "两户因承包地边界起口角", "家庭赡养纠纷反映"],
    "safety_hazard": ["村道旁电线杆倾斜", "池塘边缺少防护栏", "老旧房屋墙体开裂"],
    "public_order": ["夜间有人聚集饮酒喧哗"],
    "environment": ["村口垃圾堆放未清运", "沟渠淤塞有异味"],
    "illegal_building": ["农户在耕地上搭建棚屋"],
    "livelihood": ["村民反映自来水压力不足", "路灯损坏需维修"],
    "special_population": ["独居老人需定期走访"],
    "other": ["流浪犬在村内出没"],
}


def _id(*parts) -> str:
    return str(uuid.uuid5(NS, "/".join(str(p) for p in parts)))


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def ensure_grids(conn, workers: list[str], admin_id: str) -> None:
    """The three demo grids of 万福村 (idempotent)."""
    org_t, grid_t = OrgUnit.__table__, Grid.__table__
    have = set(conn.execute(sa.select(grid_t.c.code).where(grid_t.c.village_code == WANFU_CUN)).scalars())
    now = utcnow()
    for code, name, worked in GRIDS:
        if code in have:
            continue
        if conn.execute(sa.select(org_t.c.code).where(org_t.c.code == code)).first() is None:
            conn.execute(org_t.insert().values(code=code, name=name, level="grid", parent_code=WANFU_CUN))
        conn.execute(grid_t.insert().values(code=code, village_code=WANFU_CUN, worker_ids=workers if worked else [],
                                            retired=False, created_at=now, updated_at=now, updated_by=admin_id))


def plan(rng: random.Random, today: date, users: dict[str, dict]) -> list[tuple[datetime, str, Mutation]]:
    """(when, who, mutation) for the households, patrols and incidents of the demo."""
    steps: list[tuple[datetime, str, Mutation]] = []
    grid_user, admin = users["wanfucun.grid"]["id"], "wanfucun.admin"
    mids = iter(range(10**9))

    def add(when: datetime, who: str, entity: str, rid: str, base_rev: int, fields: dict) -> None:
        steps.append((when, who, Mutation(_id("m", next(mids)), entity, "upsert", rid, base_rev, fields)))

    # households: registered by the village admin 60 days ago, a few changed since
    roster_day = _at(today - timedelta(days=60), 9)
    households: dict[str, list[str]] = {}
    for i in range(300):
        grid = GRIDS[i % 3][0]
        hid = _id("household", i)
        households.setdefault(grid, []).append(hid)
        fields = {"org_code": WANFU_CUN, "grid_code": grid,
                  "head_name": rng.choice(SURNAMES) + rng.choice(GIVEN),
                  "address": f"万福村{rng.choice(HAMLETS[grid])}{i // 3 + 1}号",
                  "members": rng.choice([1, 2, 2, 3, 3, 4, 4, 4, 5, 6]),
                  "phone": f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}",
                  "tags": rng.sample(TAGS, k=rng.choice([0, 0, 0, 1, 1, 2])),
                  "safe_certified_years": [today.year - 1] if rng.random() < 0.9 else [],
                  "active": rng.random() > 0.02}
        add(roster_day + timedelta(seconds=i), admin, "household", hid, 0, fields)

    # patrols: the grid worker patrols 一组 and 二组 three to four times a week for eight weeks
    for day_n in range(56, 0, -1):
        day = today - timedelta(days=day_n)
        if rng.random() > 0.75:
            continue
        grid = GRIDS[rng.randrange(2)][0]
        pid = _id("patrol", day.isoformat(), grid)
        start = _at(day, rng.randint(8, 15), rng.randint(0, 59))
        minutes = rng.randint(35, 110)
        lat, lon = CENTRE[grid]
        route, at = [], start
        for _ in range(rng.randint(30, 90)):
            lat += rng.uniform(-0.0004, 0.0004)
            lon += rng.uniform(-0.0004, 0.0004)
            at += timedelta(seconds=minutes * 60 // 90)
            route.append({"lat": round(lat, 6), "lon": round(lon, 6), "at": iso(at), "accuracy": rng.randint(5, 30)})
        add(start, "wanfucun.grid", "patrol", pid, 0,
            {"org_code": WANFU_CUN, "grid_code": grid, "state": "in_progress", "started_at": iso(start)})
        end = start + timedelta(minutes=minutes)
        checks = [{"item": c, "ok": rng.random() > 0.1, "note": None} for c in rng.sample(CHECKLIST, k=4)]
        add(end, "wanfucun.grid", "patrol", pid, 1,
            {"state": "completed", "ended_at": iso(end), "route": route, "checklist": checks,
             "notes": "巡查正常，已提醒村民注意用电和防溺水安全。"})
        # about one patrol in three finds something
        if rng.random() < 0.45:
            _incident(rng, today, add, grid, pid, start + timedelta(minutes=minutes // 2), households[grid], grid_user)
    # disputes a mediator hears of off patrol; some become mediation cases in one tap (the case links back,
    # the incident moves to handling through the engine's derived write)
    mediator = users["wanfucun.mediator"]["id"]
    for n in range(8):
        day = today - timedelta(days=rng.randint(1, 50))
        grid = GRIDS[n % 3][0]
        iid, when = _id("dispute", n), _at(day, rng.randint(8, 17), rng.randint(0, 59))
        title = rng.choice(INCIDENTS["dispute"])
        add(when, "wanfucun.mediator", "incident", iid, 0, {
            "org_code": WANFU_CUN, "grid_code": grid, "household_id": rng.choice(households[grid]), "type": "dispute",
            "severity": "general", "title": title, "place": f"万福村{rng.choice(HAMLETS[grid])}",
            "occurred_at": iso(when)})
        if n % 2 == 0:
            later = when + timedelta(minutes=rng.randint(10, 90))
            add(later, "wanfucun.mediator", "mediation_case", _id("case-from-incident", n), 0, {
                "org_code": WANFU_CUN, "title": title, "category": "neighbor", "source": "patrol",
                "received_on": later.astimezone(SHANGHAI).date().isoformat(), "place": f"万福村{rng.choice(HAMLETS[grid])}",
                "parties": [{"name": rng.choice(SURNAMES) + rng.choice(GIVEN), "role": "applicant"},
                            {"name": rng.choice(SURNAMES) + rng.choice(GIVEN), "role": "respondent"}],
                "mediator_ids": [mediator], "risk_level": "blue", "escalation_flag": False, "incident_id": iid})
    return steps


def _incident(rng, today, add, grid, patrol_id, when, households, grid_user) -> None:
    iid = _id("incident", patrol_id)
    kind = rng.choice(list(INCIDENTS))
    severity = rng.choices(["general", "serious", "major"], [75, 20, 5])[0]
    lat, lon = CENTRE[grid]
    add(when, "wanfucun.grid", "incident", iid, 0, {
        "org_code": WANFU_CUN, "grid_code": grid, "patrol_id": patrol_id, "household_id": rng.choice(households),
        "type": kind, "severity": severity, "title": rng.choice(INCIDENTS[kind]),
        "description": "巡查中发现，已拍照留存。", "place": f"万福村{rng.choice(HAMLETS[grid])}",
        "location": {"lat": round(lat, 6), "lon": round(lon, 6), "accuracy": 15}, "occurred_at": iso(when)})
    age = (today - when.astimezone(SHANGHAI).date()).days
    rev = 1
    step = when
    if age < 1 or rng.random() < 0.08:
        return  # still reported
    step += timedelta(hours=rng.randint(1, 6))
    if rng.random() < 0.05:
        add(step, "wanfucun.admin", "incident", iid, rev, {"state": "cancelled"})
        return
    add(step, "wanfucun.admin", "incident", iid, rev, {"state": "assigned", "assignee_id": grid_user})
    rev += 1
    if age < 2 or rng.random() < 0.1:
        return
    step += timedelta(hours=rng.randint(1, 20))
    add(step, "wanfucun.grid", "incident", iid, rev, {"state": "handling"})
    rev += 1
    if age < 4 or rng.random() < 0.15:
        return  # some still open, some of them overdue
    step += timedelta(days=rng.randint(0, 8), hours=rng.randint(1, 5))
    add(step, "wanfucun.grid", "incident", iid, rev, {"state": "resolved", "resolution": "已协调处理，现场已整改。"})
    rev += 1
    if rng.random() < 0.7:
        step += timedelta(days=rng.randint(1, 3))
        add(step, "wanfucun.admin", "incident", iid, rev, {"state": "verified"})


def load(conn_factory, users: dict[str, dict], today: date) -> tuple[int, int]:
    """Write the demo's grid work (idempotent); (applied, duplicates)."""
    from cunzhi.demo.service import DEMO_CLIENT

    with conn_factory() as conn:
        ensure_grids(conn, [users["wanfucun.grid"]["id"]], users["wanfucun.admin"]["id"])
    rng = random.Random(340321108200)
    steps = sorted(plan(rng, today, users), key=lambda s: s[0])
    now = utcnow()
    applied = duplicates = 0
    i = 0
    while i < len(steps):
        when, author = steps[i][0], steps[i][1]
        batch: list[Mutation] = []
        while i < len(steps) and steps[i][1] == author and steps[i][0].date() == when.date() and len(batch) < 500:
            batch.append(steps[i][2])
            i += 1
        user = users[author]
        actor = Scope(user["id"], author, user["role"], user["org_code"], DEMO_CLIENT)
        with conn_factory() as conn:
            # the engine's clock is the step's time: the last of the batch (never ahead of now)
            for r in Push(conn, actor, now=min(max(s[0] for s in steps[i - len(batch):i]), now)).run(batch):
                if r.status == "duplicate":
                    duplicates += 1
                elif r.status in ("applied", "merged"):
                    applied += 1
                else:
                    raise RuntimeError(f"demo mutation {r.mutation_id} ({r.entity}) was {r.status}: {r.error}")
    return applied, duplicates
