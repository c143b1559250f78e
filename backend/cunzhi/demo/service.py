"""The demo county: 怀远县 with pilot township 万福镇, its accounts, and six months of mediation work.

Every record is written through the sync engine (``Push``) with the clock set to when it happened, so the
demo has history, a change feed and case numbers exactly like records that came from phones. Ids are
derived from a fixed seed, so loading twice changes nothing (replays answer ``duplicate``).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cunzhi.core.clock import SHANGHAI, today_shanghai, utcnow
from cunzhi.core.scope import Scope
from cunzhi.orgs.service import DEMO_SLICE, import_units, read_units
from cunzhi.sync.engine import Mutation, Push
from cunzhi.sync.fields import _ID_CHECK, _ID_WEIGHTS
from cunzhi.users.models import User
from cunzhi.users.service import create_user

DEMO_PASSWORD = "cunzhi-demo"
COUNTY, TOWNSHIP = "340321", "340321108"
WANFU_CUN, ZHENDONG_CUN = "340321108200", "340321108201"
NS = uuid.UUID("6f1c3c1e-8a51-4d0c-9d0e-340321108000")
DEMO_CLIENT = str(uuid.uuid5(NS, "demo-loader"))

ACCOUNTS = (
    ("county.admin", "county_admin", COUNTY, "县综治中心管理员"),
    ("wanfu.admin", "township_admin", TOWNSHIP, "万福镇综治中心"),
    ("wanfu.viewer", "township_viewer", TOWNSHIP, "万福镇司法所（查看）"),
    ("wanfucun.mediator", "mediator", WANFU_CUN, "王秀英（万福村调解员）"),
    ("wanfucun.grid", "grid_worker", WANFU_CUN, "刘建国（万福村网格员）"),
    ("wanfucun.admin", "village_admin", WANFU_CUN, "张德明（万福村两委）"),
    ("zhendong.mediator", "mediator", ZHENDONG_CUN, "陈桂兰（镇东村调解员）"),
    ("tangji.admin", "township_admin", "340321109", "唐集镇综治中心"),
)

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = ["秀英", "桂兰", "建国", "志强", "德明", "玉梅", "海燕", "春生", "文华", "永红", "国庆", "丽娟", "家豪",
         "淑珍", "宝山", "红梅", "长江", "金凤", "立新", "翠花", "振华", "小龙", "荣华", "福生"]
CASES = {
    "neighbor": ["因排水沟堵塞引发邻里纠纷", "邻居院墙滴水争执", "宅前道路通行纠纷", "养狗扰邻引发口角"],
    "homestead": ["宅基地界址争议", "翻建房屋占用邻地纠纷", "老宅继承分割纠纷"],
    "land_contract": ["承包地边界争议", "土地流转租金拖欠纠纷", "承包地调整分歧"],
    "marriage_family": ["赡养老人费用分担纠纷", "夫妻感情不和引发家庭矛盾", "分家析产纠纷"],
    "labor_wage": ["农民工工资拖欠纠纷", "建筑工地务工报酬争议"],
    "damages": ["耕牛啃食庄稼赔偿纠纷", "农用车刮擦赔偿纠纷", "施工损坏管道赔偿纠纷"],
    "contract": ["农资赊销货款纠纷", "房屋装修合同纠纷"],
    "village_affairs": ["村集体收益分配异议", "村道修建占地补偿分歧"],
    "environment": ["养殖场异味扰民纠纷"],
    "traffic": ["电动车相撞赔偿纠纷"],
    "land_acquisition": ["高速公路征地补偿分配纠纷"],
    "other": ["婚丧事宜占道纠纷"],
}
PLACES = ["村东组", "村西组", "中心组", "前庄", "后庄", "小李庄", "大王庄", "村委会调解室"]


@dataclass
class Loaded:
    orgs_inserted: int
    users: int
    cases: int
    events: int
    applied: int
    duplicates: int


def _id_number(rng: random.Random, born: date, female: bool) -> str:
    seq = rng.randint(10, 99) * 10 + (rng.choice([0, 2, 4, 6, 8]) if female else rng.choice([1, 3, 5, 7, 9]))
    body = f"{COUNTY}{born:%Y%m%d}{seq:03d}"
    check = _ID_CHECK[sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]
    return body + check


def _person(rng: random.Random, role: str) -> dict:
    female = rng.random() < 0.45
    born = date(rng.randint(1950, 1995), rng.randint(1, 12), rng.randint(1, 28))
    return {"name": rng.choice(SURNAMES) + rng.choice(GIVEN), "role": role,
            "gender": "female" if female else "male",
            "phone": f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}",
            "id_number": _id_number(rng, born, female) if rng.random() < 0.7 else None,
            "address": f"万福镇{rng.choice(PLACES)}{rng.randint(1, 60)}号"}


def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59)), tzinfo=SHANGHAI)


def _plan(rng: random.Random, today: date, mediators: dict[str, str]) -> list[tuple[datetime, str, Mutation]]:
    """(when, who, mutation) for every step of every demo case, in no particular order."""
    steps: list[tuple[datetime, str, Mutation]] = []
    villages = [(WANFU_CUN, 70), (ZHENDONG_CUN, 35), ("340321108202", 8), ("340321108203", 8), ("340321108205", 6),
                (TOWNSHIP, 6)]
    n = 0
    for org, count in villages:
        for _ in range(count):
            n += 1
            steps += _case_steps(rng, today, org, n, mediators)
    return steps


def _case_steps(rng: random.Random, today: date, org: str, n: int, mediators: dict[str, str]):
    author = {WANFU_CUN: "wanfucun.mediator", ZHENDONG_CUN: "zhendong.mediator"}.get(org, "wanfu.admin")
    case_id = str(uuid.uuid5(NS, f"case-{n}"))
    mid = iter(uuid.uuid5(NS, f"case-{n}-m{i}") for i in range(100))
    age = int(rng.triangular(0, 180, 20))
    received = today - timedelta(days=age)
    category = rng.choice(list(CASES))
    risk = rng.choices(["blue", "yellow", "orange", "red"], [50, 30, 15, 5])[0]
    parties = [_person(rng, "applicant"), _person(rng, "respondent")]
    if rng.random() < 0.15:
        parties.append(_person(rng, "other"))
    fields = {
        "org_code": org, "title": f"{parties[0]['name'][0]}某与{parties[1]['name'][0]}某{rng.choice(CASES[category])}",
        "description": "当事人到村调委会反映情况，调解员登记受理并约定调解时间。", "category": category,
        "source": rng.choices(["party_request", "proactive", "patrol", "police_referral", "court_referral", "government"],
                              [50, 20, 15, 8, 4, 3])[0],
        "received_on": received.isoformat(), "place": rng.choice(PLACES), "parties": parties,
        "people_involved": len(parties) + rng.randint(0, 6),
        "amount_in_dispute": f"{rng.choice([0, 500, 1200, 3000, 8000, 20000])}.00",
        "mediator_ids": [mediators[author]] if author in mediators else [],
        "risk_level": risk, "escalation_flag": risk == "red",
        "escalation_note": "双方情绪激动，已告知派出所" if risk == "red" else None, "status": "registered",
    }
    t = _at(received, rng)
    out = [(t, author, Mutation(str(next(mid)), "mediation_case", "upsert", case_id, 0, fields))]

    def after_last(when: datetime) -> datetime:
        """Steps of one case happen in order, a few minutes apart at least."""
        return max(when, out[-1][0] + timedelta(minutes=rng.randint(5, 40)))

    def event(when: datetime, kind: str, **extra) -> None:
        eid = str(uuid.uuid5(NS, f"case-{n}-e{len(out)}"))
        when = after_last(when)
        body = {"case_id": case_id, "kind": kind, "occurred_at": when.isoformat(), **extra}
        out.append((when, author, Mutation(str(next(mid)), "case_event", "upsert", eid, 0, body)))

    def status(when: datetime, value: str, **extra) -> None:
        when = after_last(when)
        out.append((when, author, Mutation(str(next(mid)), "mediation_case", "upsert", case_id, 1,
                                           {"status": value, **extra})))

    # how far this case got depends on its age
    if age < 2 and rng.random() < 0.6:
        return out
    d1 = min(received + timedelta(days=rng.randint(0, 3)), today)
    roll = rng.random()
    if roll < 0.05:
        status(_at(d1, rng), "declined", outcome_note="一方当事人拒绝调解，已告知可向人民法院起诉。")
        return out
    status(_at(d1, rng), "mediating")
    event(_at(d1, rng), "session", participants="双方当事人、调解员", content="听取双方陈述，梳理争议焦点。",
          outcome="约定下次调解时间")
    open_for = rng.randint(3, 45)
    d2 = received + timedelta(days=open_for)
    if d2 >= today or roll > 0.92:  # still open (some of them overdue, some due soon)
        return out
    event(_at(d2, rng), "session", participants="双方当事人、村干部", content="释法析理，双方各让一步。",
          outcome="初步达成一致")
    if roll < 0.14:
        status(_at(d2, rng), "terminated", outcome_note="调解不成，已告知双方可申请仲裁或向人民法院起诉。")
        return out
    if roll < 0.18:
        status(_at(d2, rng), "referred", outcome_note="涉及征地补偿政策，转交镇司法所处理。")
        return out
    amount = fields["amount_in_dispute"]
    agreement = {"form": "written" if rng.random() < 0.8 else "oral", "terms": "双方自愿达成协议，按约定履行。",
                 "amount": amount if amount != "0.00" else None, "performance": "一次性付清",
                 "signed_on": d2.isoformat(), "attachment_ids": [], "court_confirmation": "none"}
    status(_at(d2, rng), "agreed", agreement=agreement)
    d3 = d2 + timedelta(days=rng.randint(3, 20))
    if d3 >= today:
        return out
    status(_at(d3, rng), "fulfilled")
    event(_at(d3, rng), "follow_up", content="回访双方，协议已履行，关系缓和。", fulfilled=True,
          satisfaction=rng.choice([4, 5, 5]), escalation_signs=False)
    if d3 + timedelta(days=30) < today:
        status(_at(d3 + timedelta(days=30), rng), "archived")
    return out


def load_demo(conn_factory, today: date | None = None) -> Loaded:
    """Load the demo (idempotent). ``conn_factory()`` gives a write transaction context manager."""
    today = today or today_shanghai()
    with conn_factory() as conn:
        counts = import_units(conn, read_units(DEMO_SLICE, counties=[COUNTY]))
        users = {u[0]: create_user(conn, u[0], DEMO_PASSWORD, u[1], u[2], u[3],
                                   user_id=str(uuid.uuid5(NS, f"user-{u[0]}"))) for u in ACCOUNTS}
    mediators = {name: u["id"] for name, u in users.items() if u["role"] == "mediator"}
    rng = random.Random(340321108)
    steps = sorted(_plan(rng, today, mediators), key=lambda s: s[0])
    applied = duplicates = cases = events = 0
    # one push per author per day, in time order, with the engine's clock set to that day
    i = 0
    while i < len(steps):
        when, author = steps[i][0], steps[i][1]
        batch = []
        while i < len(steps) and steps[i][1] == author and steps[i][0].date() == when.date():
            batch.append(steps[i][2])
            i += 1
        user = users[author]
        actor = Scope(user["id"], author, user["role"], user["org_code"], DEMO_CLIENT)
        with conn_factory() as conn:
            for r in Push(conn, actor, now=min(when, utcnow())).run(batch):
                if r.status == "duplicate":
                    duplicates += 1
                elif r.status == "applied" or r.status == "merged":
                    applied += 1
                    cases += r.entity == "mediation_case" and r.row is not None and r.row["rev"] == 1
                    events += r.entity == "case_event"
                else:
                    raise RuntimeError(f"demo mutation {r.mutation_id} was {r.status}: {r.error}")
    # grid work (issue 7): grids, households, patrols, incidents of 万福村
    from cunzhi.demo import grid as grid_demo

    grid_applied, grid_duplicates = grid_demo.load(conn_factory, users, today)
    applied, duplicates = applied + grid_applied, duplicates + grid_duplicates
    # six-no, safe households, nominations, points (issue 8): after the grid work (its households)
    from cunzhi.demo import governance

    gov_applied, gov_duplicates = governance.load(conn_factory, users, today)
    applied, duplicates = applied + gov_applied, duplicates + gov_duplicates
    return Loaded(counts.total("inserted"), len(users), int(cases), int(events), applied, duplicates)


def demo_loaded(conn: Connection) -> bool:
    return conn.execute(sa.select(sa.func.count()).select_from(User.__table__)
                        .where(User.__table__.c.username == "wanfucun.mediator")).scalar() > 0
