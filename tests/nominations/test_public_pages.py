"""The public notice (/notice/<village>) and ranking (/points/<village>) pages: no sign-in, printable, and
nothing personal — a test that fails if any personal value of the records appears in the HTML."""

from __future__ import annotations

import uuid

import httpx

from tests.api import helpers as h
from tests.nominations.test_nominations import CHECK, objection, step
from tests.six_no.support import W, Z

EVIL = '<script>alert("x")</script>'


def personal_values(town) -> list[str]:
    """Every personal value (phone, ID number, address, contact) any record of the village holds."""
    import sqlalchemy as sa

    out: list[str] = []
    with town.engine.connect() as conn:
        for table, cols in (("nomination", ("nominee_phone", "nominee_id_number")),
                            ("nomination_objection", ("contact", "objector_name", "content")),
                            ("household", ("phone", "head_id_number", "address"))):
            for row in conn.execute(sa.text(f"SELECT {', '.join(cols)} FROM {table}")):
                out += [str(v) for v in row if v]
    assert out
    return out


def test_notice_page_shows_only_what_the_notice_needs(town):
    hh = town.household(address="东庄 12 号", phone=h.phone(8, 3), head_id_number=h.id_number(8, 3))
    rec = town.ok("M", "nomination", str(uuid.uuid4()), {
        "org_code": W, "category": "best_family", "household_id": hh["id"], "nominee_name": f"王建国家庭{EVIL}",
        "deeds": "孝老爱亲，邻里和睦。" + "多年照顾孤寡老人。" * 30 + EVIL, "source": "organisation",
        "nominator_name": "村妇联", "nominee_phone": h.phone(8, 4), "nominee_id_number": h.id_number(8, 4)})
    rec = step(town, "VA", rec, state="village_reviewed", disqualifiers=CHECK | {"checked_on": h.days_ago(0)})
    rec = step(town, "VA", rec, state="public_notice")
    objection(town, rec, objector_name="举报人张某", contact=h.phone(8, 5), content="其子曾因打架被处罚")
    town.ok("M", "nomination", str(uuid.uuid4()), {  # not in its notice: not shown
        "org_code": W, "category": "honesty", "nominee_name": "未公示的人", "deeds": "拾金不昧", "source": "self"})
    anon = httpx.Client(base_url=town.base, timeout=30)
    r = anon.get(f"/notice/{W}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    text = r.text
    assert "王建国家庭" in text and "最美家庭" in text and "孝老爱亲，邻里和睦。" in text
    assert rec["notice_starts_on"] in text and rec["notice_ends_on"] in text
    assert "异议" in text and "@page" in text and "A4" in text and "@media print" in text
    assert "公示暂停" in text  # the open objection pauses it
    assert "未公示的人" not in text and "村妇联" not in text
    assert EVIL not in text and "&lt;script&gt;" in text
    for secret in personal_values(town):
        assert secret not in text, secret
    # another village's notice and unknown codes
    assert "王建国家庭" not in anon.get(f"/notice/{Z}").text
    for bad in ("340321108", "999999999999", "x" * 12, "340321108200.json"):
        for path in (f"/notice/{bad}", f"/points/{bad}"):
            assert_no_such_village(anon.get(path))
    anon.close()


def assert_no_such_village(r: httpx.Response) -> None:
    """A wrong code on a public page answers a page that says so, not API JSON about permissions (finding 9)."""
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html"), r.text
    assert "未找到此页面" in r.text and "村代码" in r.text and "权限" not in r.text


def test_notice_names_the_committee_once_and_leaves_out_the_disqualified(town):
    clean = town.ok("M", "nomination", str(uuid.uuid4()), {
        "org_code": W, "category": "honesty", "nominee_name": "钱守信", "deeds": "拾金不昧", "source": "villagers"})
    clean = step(town, "VA", clean, state="village_reviewed", disqualifiers=CHECK | {"checked_on": h.days_ago(0)})
    step(town, "VA", clean, state="public_notice")
    # published, then the village records a criminal record: it leaves the poster at once
    bad = town.ok("M", "nomination", str(uuid.uuid4()), {
        "org_code": W, "category": "bravery", "nominee_name": "赵铁柱", "deeds": "救起落水儿童", "source": "villagers"})
    bad = step(town, "VA", bad, state="village_reviewed", disqualifiers=CHECK | {"checked_on": h.days_ago(0)})
    bad = step(town, "VA", bad, state="public_notice")
    anon = httpx.Client(base_url=town.base, timeout=30)
    assert "赵铁柱" in anon.get(f"/notice/{W}").text
    step(town, "VA", bad, disqualifiers=CHECK | {"criminal_record": True, "checked_on": h.days_ago(0)})
    text = anon.get(f"/notice/{W}").text
    assert "钱守信" in text and "赵铁柱" not in text
    assert "村民委员会村民委员会" not in text
    assert "可到万福村村民委员会当面反映" in text and "万福镇万福村道德模范" in text
    assert "村民委员会村民委员会" not in anon.get(f"/points/{W}").text
    anon.close()


def test_points_page_shows_head_names_and_points_only(town):
    a = town.household(head_name=f"李{EVIL}", address="西庄 9 号", phone=h.phone(9, 1), head_id_number=h.id_number(9, 1))
    b = town.household(head_name="赵春生", address="北庄 2 号", phone=h.phone(9, 2))
    for hh, rule in ((a, "filial"), (b, "volunteer")):
        town.ok("VA", "points_entry", str(uuid.uuid4()), {"org_code": W, "household_id": hh["id"], "rule": rule,
                                                          "reason": f"照顾邻居老人 {EVIL}"})
    anon = httpx.Client(base_url=town.base, timeout=30)
    r = anon.get(f"/points/{W}")
    assert r.status_code == 200, r.text
    text = r.text
    assert "赵春生" in text and "&lt;script&gt;" in text and EVIL not in text
    assert text.index("李") < text.index("赵春生")  # 10 points rank above 5
    assert "照顾邻居老人" not in text  # reasons are not published
    for secret in personal_values(town):
        assert secret not in text, secret
    assert anon.get(f"/points/{Z}").status_code == 200 and "赵春生" not in anon.get(f"/points/{Z}").text
    assert_no_such_village(anon.get("/points/340321108"))
    anon.close()
