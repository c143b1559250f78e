"""The demo's six-no reports, safe households, nominations and morality bank (issue 8), for 万福镇.

- six-no (六无): this year's report of every village of 万福镇, written by its village admin (evidence,
  self-assessment) and decided by the township: 13 of 16 certified (above the 80% line), one rejected, one still
  open, and 镇西村's reopened by a criminal case reported after its certification (derived).
- safe households (平安家庭): every village's roster certified for this year at about 97% (万福村's roster is the
  grid demo's; the other villages get a small roster here).
- nominations in 万福村 at every stage (an open objection pauses one notice, an upheld one rejects another;
  awarded ones make the 好人档案), and two months of morality-bank points, with a reversal and redemptions.

Everything goes through the sync engine (``Push``) as the person who would do it, with the clock set to when it
happened; ids derive from a fixed seed, so loading twice changes nothing (replays answer ``duplicate``).
"""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from cunzhi.core.clock import SHANGHAI, utcnow
from cunzhi.core.scope import Scope
from cunzhi.orgs.models import OrgUnit
from cunzhi.six_no.rules import DEFAULT_INDICATORS, report_id
from cunzhi.sync.engine import Mutation, Push
from cunzhi.sync.registry import get_entity
from cunzhi.users.service import create_user

NS = uuid.UUID("6f1c3c1e-8a51-4d0c-9d0e-340321108888")
TOWNSHIP, WANFU_CUN, ZHENXI_CUN = "340321108", "340321108200", "340321108202"
EVIDENCE = {
    "no_criminal_case": "派出所出具全年无刑事案件证明", "no_mass_incident": "矛盾纠纷月排查台账 12 份",
    "no_cult": "反邪教宣传 6 次，入户走访全覆盖", "no_drugs": "禁毒宣传进村入户，无吸毒人员登记",
    "no_pyramid_selling": "防范传销告知书发放到户", "no_major_safety_accident": "安全生产隐患排查整改记录",
}
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["建华", "玉兰", "德胜", "春梅", "海军", "秀珍", "国强", "桂芳", "明亮", "凤英"]


def _id(*parts) -> str:
    return str(uuid.uuid5(NS, "/".join(str(p) for p in parts)))


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


class Plan:
    """(when, who, mutation) steps, applied in time order."""

    def __init__(self) -> None:
        self.steps: list[tuple[datetime, str, Mutation]] = []

    def add(self, when: datetime, who: str, entity: str, rid: str, fields: dict, base_rev: int = 0,
            key: str | None = None) -> None:
        # the mutation id names the step itself (not its position), so a reload replays it as a duplicate
        mid = _id("m", key) if key else _id("m", entity, rid, base_rev, ",".join(sorted(fields)), fields.get("state"))
        self.steps.append((when, who, Mutation(mid, entity, "upsert", rid, base_rev, fields)))


def _villages(conn) -> list[tuple[str, str]]:
    org_t = OrgUnit.__table__
    return [(r.code, r.name.replace("村民委员会", "村")) for r in conn.execute(
        sa.select(org_t.c.code, org_t.c.name).where(org_t.c.parent_code == TOWNSHIP, org_t.c.level == "village")
        .order_by(org_t.c.code))]


def _admins(conn, villages: list[tuple[str, str]], users: dict[str, dict]) -> dict[str, dict]:
    """A village admin per village (万福村's is a demo account; the others are made here, not listed)."""
    from cunzhi.demo.service import DEMO_PASSWORD

    out = {WANFU_CUN: users["wanfucun.admin"]}
    for code, name in villages:
        if code not in out:
            out[code] = create_user(conn, f"cun{code[-3:]}.admin", DEMO_PASSWORD, "village_admin", code,
                                    f"{name}两委", user_id=_id("user", code), exist_ok=True, demo=True)
    return out


def plan(seed: int, today: date, villages: list[tuple[str, str]], admins: dict[str, dict],
         households: dict[str, list[tuple[str, int, list]]]) -> Plan:
    p = Plan()
    year = today.year
    rng = random.Random(seed)  # one generator per part, so what the database holds cannot shift another part
    jan = date(year, 1, 1)
    start = max(jan + timedelta(days=20), today - timedelta(days=300))

    # ---- safe households: rosters of the other villages, then this year's certification at about 97% ----
    for code, _ in villages:
        admin = admins[code]["username"]
        if code != WANFU_CUN:
            for i in range(30):
                hid = _id("household", code, i)
                fields = {"org_code": code, "head_name": rng.choice(SURNAMES) + rng.choice(GIVEN),
                          "address": f"{i // 6 + 1}组{i + 1}号", "members": rng.randint(1, 6)}
                p.add(_at(start, 9) + timedelta(seconds=i), admin, "household", hid, fields)
                households.setdefault(code, []).append((hid, 1, []))
        rows = households.get(code, [])
        for i, (hid, rev, years) in enumerate(rows):  # in id order: the same choices on every load
            if rng.random() < 0.97:
                p.add(_at(today - timedelta(days=20), 10) + timedelta(seconds=i), admin, "household", hid,
                      {"safe_certified_years": sorted(set(years) | {year})}, base_rev=rev,
                      key=f"safe/{hid}/{year}")

    rng = random.Random(seed + 1)
    # ---- six-no reports: evidence through the year, self-assessment, the township's decision ----------
    township = "wanfu.admin"
    decided = today - timedelta(days=25)
    for k, (code, name) in enumerate(villages):
        admin, rid = admins[code]["username"], report_id(code, year)
        inds = [{"code": c, "evidence": EVIDENCE[c], "attachment_ids": []} for c in DEFAULT_INDICATORS]
        p.add(_at(start + timedelta(days=k), 15), admin, "six_no_report", rid,
              {"org_code": code, "year": year, "indicators": inds})
        if k == len(villages) - 1:
            continue  # the last village is still gathering evidence
        p.add(_at(decided - timedelta(days=10), 9, k), admin, "six_no_report", rid,
              {"state": "self_assessed", "self_assessment": f"{name}全年未发生六类案事件，各项指标达标。"}, base_rev=1)
        if k == 3:
            p.add(_at(decided, 10, k), township, "six_no_report", rid,
                  {"state": "rejected", "decision_note": "禁毒工作佐证材料不足，请补充后重新自评。"}, base_rev=2)
            continue
        p.add(_at(decided, 10, k), township, "six_no_report", rid, {"state": "township_certified"}, base_rev=2)
    # the veto: a criminal case in 镇西村 after its certification reopens its report (derived)
    p.add(_at(today - timedelta(days=6), 21), admins[ZHENXI_CUN]["username"], "incident", _id("incident", "veto"),
          {"org_code": ZHENXI_CUN, "type": "criminal_case", "severity": "serious", "title": "村民家中耕牛被盗",
           "description": "已报派出所立案侦查。", "occurred_at": _at(today - timedelta(days=6), 3).isoformat()})

    rng = random.Random(seed + 2)
    # ---- nominations in 万福村 at every stage -------------------------------------------------------------
    va, hh = admins[WANFU_CUN]["username"], [h for h, _, _ in households.get(WANFU_CUN, [])]
    check = {"criminal_record": False, "vice": False, "cult": False, "checked_by": "张德明"}
    people = [  # (name, category, deeds, stage, days ago it was proposed)
        ("李桂英", "filial_piety", "十二年如一日照顾瘫痪在床的婆婆，端水喂饭、擦身翻身从不间断。", "awarded", 60),
        ("刘志强", "bravery", "冬季跳入冰冷池塘救起落水儿童，事后拒收家长酬谢。", "awarded", 55),
        ("王春生家庭", "best_family", "三代同堂、孝老爱亲，主动为村道修建捐款，邻里和睦。", "awarded", 50),
        ("陈海燕", "honesty", "拾得装有两万元现金的挎包，原地等候失主两小时归还。", "township_approved", 30),
        ("赵立新", "dedication", "担任村卫生室医生二十年，随叫随到为留守老人上门诊疗。", "public_notice", 4),
        ("孙玉梅", "helping_others", "长期义务照看留守儿童放学后的学习和生活。", "paused", 5),
        ("周国庆", "helping_others", "组织村民志愿队清理河道垃圾。", "rejected", 28),
        ("吴宝山", "dedication", "退休教师义务为村民讲授种植技术。", "village_reviewed", 3),
        ("郭淑珍", "filial_piety", "照顾患病的公公和年迈的母亲。", "nominated", 1),
    ]
    for i, (nm, cat, deeds, stage, ago) in enumerate(people):
        nid, day = _id("nomination", i), today - timedelta(days=ago)
        fields = {"org_code": WANFU_CUN, "category": cat, "nominee_name": nm, "deeds": deeds,
                  "source": rng.choice(["villagers", "organisation", "self"]), "nominator_name": "村民代表会议",
                  "nominee_phone": f"139{rng.randint(10000000, 99999999)}"}
        if cat == "best_family" and hh:
            fields["household_id"] = hh[0]
        p.add(_at(day, 9, i), "wanfucun.mediator", "nomination", nid, fields)
        if stage == "nominated":
            continue
        p.add(_at(day, 16, i), va, "nomination", nid, {
            "state": "village_reviewed", "review_note": "两委评议通过",
            "disqualifiers": check | {"checked_on": day.isoformat()}}, base_rev=1)
        if stage == "village_reviewed":
            continue
        notice = day + timedelta(days=1)
        p.add(_at(notice, 9, i), va, "nomination", nid, {"state": "public_notice"}, base_rev=2)
        if stage == "public_notice":
            continue
        if stage in ("paused", "rejected"):
            oid = _id("objection", i)
            p.add(_at(notice + timedelta(days=2), 11, i), va, "nomination_objection", oid, {
                "nomination_id": nid, "content": "有村民反映其事迹存在夸大" if stage == "paused" else
                "有村民反映其曾参与赌博", "objector_name": None if stage == "paused" else "村民",
                "contact": None})
            if stage == "rejected":
                p.add(_at(notice + timedelta(days=5), 15, i), township, "nomination_objection", oid,
                      {"state": "upheld", "decision_note": "经镇综治中心核实，异议属实。"}, base_rev=1)
            continue
        approved = notice + timedelta(days=8)
        p.add(_at(approved, 10, i), township, "nomination", nid, {"state": "township_approved"}, base_rev=3)
        if stage == "awarded":
            title = {"best_family": "万福镇最美家庭"}.get(cat, "万福镇道德模范")
            p.add(_at(approved + timedelta(days=3), 10, i), township, "nomination", nid,
                  {"state": "awarded", "award_title": title}, base_rev=4)

    rng = random.Random(seed + 3)
    # ---- two months of points in 万福村 -----------------------------------------------------------------
    if hh:
        rules = [("volunteer", None, "参加村道清扫志愿服务"), ("filial", None, "照顾年迈父母获评孝老之星"),
                 ("clean_yard", None, "庭院整洁评比达标"), ("littering", None, "向河道倾倒生活垃圾"),
                 ("redeem", -20, "兑换洗衣粉两袋")]
        first = None
        for n in range(160):
            day = today - timedelta(days=rng.randint(0, 59))
            rule, pts, reason = rules[rng.choices(range(5), [40, 10, 35, 8, 7])[0]]
            eid = _id("points", n)
            fields = {"org_code": WANFU_CUN, "household_id": rng.choice(hh[:120]), "rule": rule, "reason": reason,
                      "occurred_on": day.isoformat()}
            if pts is not None:
                fields["points"] = pts
            p.add(_at(day, 17) + timedelta(seconds=n), va, "points_entry", eid, fields)
            first = first or (eid, fields, day)
        if first:  # one entry recorded for the wrong household: reversed, never edited
            eid, fields, day = first
            p.add(_at(day, 18), va, "points_entry", _id("points", "reversal"), {
                "org_code": WANFU_CUN, "household_id": fields["household_id"], "reverses_id": eid,
                "reason": "误录户名，冲正", "occurred_on": day.isoformat()})
    return p


def load(conn_factory, users: dict[str, dict], today: date) -> tuple[int, int]:
    """Write the demo's six-no, safe households, nominations and points (idempotent); (applied, duplicates)."""
    from cunzhi.demo.service import DEMO_CLIENT

    hh_spec = get_entity("household")
    with conn_factory() as conn:
        villages = _villages(conn)
        admins = _admins(conn, villages, users)
        households: dict[str, list[tuple[str, int, list]]] = {}
        t = hh_spec.table
        for r in conn.execute(sa.select(t.c.id, t.c.org_code, t.c.rev, t.c.safe_certified_years)
                              .where(t.c.org_code == WANFU_CUN, t.c.deleted.is_(False)).order_by(t.c.id)):
            households.setdefault(r.org_code, []).append((r.id, r.rev, list(r.safe_certified_years or [])))
    everyone = dict(users) | {a["username"]: a for a in admins.values()}
    steps = sorted(plan(340321108888, today, villages, admins, households).steps, key=lambda s: s[0])
    now = utcnow()
    applied = duplicates = 0
    i = 0
    while i < len(steps):
        when, author = steps[i][0], steps[i][1]
        batch: list[Mutation] = []
        while i < len(steps) and steps[i][1] == author and steps[i][0].date() == when.date() and len(batch) < 500:
            batch.append(steps[i][2])
            i += 1
        user = everyone[author]
        actor = Scope(user["id"], author, user["role"], user["org_code"], DEMO_CLIENT)
        with conn_factory() as conn:
            for r in Push(conn, actor, now=min(max(s[0] for s in steps[i - len(batch):i]), now)).run(batch):
                if r.status == "duplicate":
                    duplicates += 1
                elif r.status in ("applied", "merged"):
                    applied += 1
                else:
                    raise RuntimeError(f"demo mutation {r.mutation_id} ({r.entity}) was {r.status}: {r.error}")
    return applied, duplicates
