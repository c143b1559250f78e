"""The sync centre and the conflict screen for record types beyond mediation cases (exploration of the village
screens, findings 5 and 6): a village admin's phone (Pixel-sized, zh-CN) names a nomination conflict and a refused
points entry in people's words, offers no state the rules forbid, and fixes the refused field in a form of its own."""

from __future__ import annotations

import time
import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

import httpx

from .conftest import shot, sync_now, wait_synced
from .fieldwork import WANFU_CUN, api, sign_in


def _push(server, username: str, entity: str, record_id: str, fields: dict, base_rev: int = 0) -> dict:
    cid = str(uuid.uuid4())
    tok = server.token(username, client_id=cid)
    m = {"mutation_id": str(uuid.uuid4()), "entity": entity, "op": "upsert", "record_id": record_id,
         "base_rev": base_rev, "client_time": "2026-11-28T10:00:00+08:00", "fields": fields}
    r = httpx.post(f"{server.url}/api/v1/sync/push", headers={"Authorization": f"Bearer {tok}"}, timeout=30,
                   json={"client_id": cid, "mutations": [m]})
    r.raise_for_status()
    return r.json()["results"][0]


def _phone(browser):
    return browser.new_context(viewport={"width": 393, "height": 851}, device_scale_factor=1, is_mobile=True,
                               has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai", service_workers="allow")


def test_a_nomination_conflict_reads_in_words_and_offers_no_state_the_rules_forbid(server, browser):
    """The township rejected 郭淑珍's nomination while the village admin reviewed it: the conflict is titled by the
    nominee and the honour, fields and states by name, and the stale 两委已评议 is not offered."""
    name = f"郭淑珍{uuid.uuid4().hex[:3]}"
    nid = str(uuid.uuid4())
    created = _push(server, "wanfucun.admin", "nomination", nid, {
        "org_code": WANFU_CUN, "category": "helping_others", "nominee_name": name, "deeds": "常年照顾孤寡老人。",
        "source": "villagers", "state": "nominated"})
    assert created["status"] == "applied", created
    rejected = _push(server, "wanfu.admin", "nomination", nid, {"state": "rejected", "review_note": "材料不实，不予推荐。"}, 1)
    assert rejected["status"] == "applied", rejected
    stale = _push(server, "wanfucun.admin", "nomination", nid, {
        "state": "village_reviewed", "review_note": "两委评议通过",
        "disqualifiers": {"criminal_record": False, "vice": False, "cult": False, "checked_by": "张德明",
                          "checked_on": date.today().isoformat()}}, 1)
    assert stale["status"] == "conflict", stale

    ctx = _phone(browser)
    try:
        page = ctx.new_page()
        sign_in(page, server.url, "wanfucun.admin")
        sync_now(page)
        page.goto(server.url + "/sync")
        item = page.get_by_test_id("conflict-item").filter(has_text=name)
        item.first.wait_for(timeout=30_000)
        text = item.first.inner_text()
        assert f"{name}（助人为乐推荐）" in text and "状态" in text and "审核意见" in text, text
        assert nid[:8] not in text and "review_note" not in text and "state" not in text
        shot(page, "sync-center-nomination-conflict", full_page=True)

        item.first.click()
        page.get_by_test_id("conflict-field").first.wait_for()
        assert page.get_by_test_id("conflict-type").inner_text() == "道德模范推荐"
        assert page.get_by_test_id("conflict-title").inner_text() == f"{name}（助人为乐推荐）"
        state = page.get_by_test_id("conflict-field").filter(has_text="状态").first
        assert state.get_by_test_id("mine-value").inner_text() == "两委已评议"
        assert state.get_by_test_id("server-value").inner_text() == "未通过"
        # rejected is final: the stale review cannot be chosen, and the screen says why
        assert state.get_by_test_id("choose-mine").is_disabled()
        assert "「未通过」改为「两委已评议」" in state.get_by_test_id("choice-forbidden").inner_text()
        body = page.locator(".cz-page").inner_text()
        assert "village_reviewed" not in body and "rejected" not in body and "review_note" not in body
        shot(page, "conflict-nomination", full_page=True)

        # keep the township's decision: the conflict is settled, the nomination stays rejected
        for f in page.get_by_test_id("conflict-field").all():
            f.get_by_test_id("choose-server").click()
        page.get_by_test_id("resolve").click()
        page.get_by_test_id("conflict-gone").wait_for(timeout=30_000)
        wait_synced(page)
        assert server.pull_all("wanfucun.admin")[nid]["state"] == "rejected"
    finally:
        ctx.close()


def test_a_refused_points_entry_is_named_and_fixed_in_a_form_of_the_refused_field(server, browser):
    """A phone whose clock runs days ahead records points for "today": the server refuses the future date. The sync
    centre names the entry (王建国户 +5 志愿服务 · 记积分), the field (日期), and the fix offers that date only."""
    hh = api(server, "wanfucun.admin", "GET", "/api/v1/households", params={"org_code": WANFU_CUN, "limit": 1}).json()
    head, hid = hh["items"][0]["head_name"], hh["items"][0]["id"]
    ctx = _phone(browser)
    try:
        page = ctx.new_page()
        sign_in(page, server.url, "wanfucun.admin")
        page.clock.set_system_time(time.time() + 3 * 86400)
        page.goto(server.url + f"/points/new?household={hid}")
        page.get_by_test_id("pts-rule").locator("[data-code=volunteer]").click()
        page.get_by_test_id("pts-save").click()
        page.get_by_test_id("pts-history").wait_for()
        sync_now(page)
        page.goto(server.url + "/sync")
        item = page.get_by_test_id("rejected-item").filter(has_text=f"{head}户")
        item.first.wait_for(timeout=30_000)
        assert item.first.get_by_test_id("rejected-title").inner_text() == f"{head}户 +5 志愿服务"
        assert item.first.get_by_test_id("rejected-kind").inner_text().strip(" ·") == "记积分"
        detail = item.first.get_by_test_id("rejected-detail").first.inner_text()
        assert detail.startswith("日期"), detail
        assert "points_entry" not in item.first.inner_text() and "occurred_on" not in item.first.inner_text()
        shot(page, "sync-center-points-refused", full_page=True)

        item.first.get_by_test_id("fix").click()
        field = item.first.get_by_test_id("fix-occurred_on")
        field.wait_for()
        # only the refused field, as a date; never the village or the household
        assert item.first.locator("[data-testid^=fix-]").count() == 2  # the field and the "only what was refused" note
        assert "日期" in field.inner_text()
        real_today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
        field.locator("input").fill(real_today)
        shot(page, "sync-center-points-fix", full_page=True)
        item.first.get_by_test_id("resend").click()
        page.get_by_test_id("rejected-item").filter(has_text=f"{head}户").wait_for(state="detached", timeout=30_000)
        wait_synced(page)
        mine = [r for r in server.pull_all("wanfucun.admin").values()
                if r.get("household_id") == hid and r.get("occurred_on") == real_today and r.get("rule") == "volunteer"]
        assert mine, "the fixed entry did not reach the server"
    finally:
        ctx.close()
