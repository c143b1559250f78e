"""The field app as the 万福村 mediator, village admin and grid worker after the exploratory test of the field
roles (unassigned intake, deadline extensions, conflicts, the agreement's 履行期限, 性别, drafts, taps)."""

from __future__ import annotations

import time
import uuid
from datetime import date, timedelta

import httpx

from .conftest import login, shot, sync_now, wait_synced
from .fieldwork import WANFU_CUN, wait_record


def _push(server, username: str, mutations: list[dict]) -> list[dict]:
    cid = str(uuid.uuid4())
    tok = server.token(username, client_id=cid)
    r = httpx.post(f"{server.url}/api/v1/sync/push", headers={"Authorization": f"Bearer {tok}"}, timeout=30,
                   json={"client_id": cid, "mutations": mutations})
    r.raise_for_status()
    return r.json()["results"]


def _mut(record_id: str, fields: dict, base_rev: int = 0) -> dict:
    return {"mutation_id": str(uuid.uuid4()), "entity": "mediation_case", "op": "upsert", "record_id": record_id,
            "base_rev": base_rev, "client_time": "2026-11-28T10:00:00+08:00", "fields": fields}


def _new_case(title: str, **over) -> dict:
    return {"org_code": WANFU_CUN, "title": title, "category": "neighbor", "source": "patrol",
            "received_on": date.today().isoformat(), "parties": [{"name": "李四", "role": "applicant"}],
            "risk_level": "blue", "status": "registered", **over}


def _user_id(server, username: str) -> str:
    tok = server.token(username)
    return httpx.get(f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {tok}"}).json()["id"]


def _phone(browser):
    return browser.new_context(viewport={"width": 393, "height": 851}, device_scale_factor=1, is_mobile=True,
                               has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai", service_workers="allow")


def test_a_grid_workers_unassigned_intake_reaches_the_village_mediator_who_takes_it(server, browser):
    """Finding 1: a red-risk, overdue case registered with no mediator is 待分派 on the home screens of the
    village's mediator and admin (first in the list), and the mediator takes it in one tap."""
    title = f"网格员登记未分派 {uuid.uuid4().hex[:4]}"
    rid = str(uuid.uuid4())
    received = (date.today() - timedelta(days=40)).isoformat()
    (res,) = _push(server, "wanfucun.grid", [_mut(rid, _new_case(title, risk_level="red", received_on=received))])
    assert res["status"] == "applied" and res["record"]["mediator_ids"] == []

    admin_ctx = _phone(browser)
    try:
        a = admin_ctx.new_page()
        login(a, server.url, "wanfucun.admin")
        a.goto(server.url + "/home")
        a.get_by_test_id("home-unassigned-cases").wait_for(timeout=15_000)
        assert title in a.get_by_test_id("home-unassigned-case").first.inner_text()
    finally:
        admin_ctx.close()

    ctx = _phone(browser)
    try:
        page = ctx.new_page()
        login(page, server.url, "wanfucun.mediator")
        page.goto(server.url + "/home")
        page.get_by_test_id("home-unassigned-cases").wait_for(timeout=15_000)
        first = page.get_by_test_id("home-unassigned-case").first
        assert title in first.inner_text()  # red-risk and overdue: first
        assert int(page.get_by_test_id("home-unassigned-count").inner_text()) >= 1
        shot(page, "followup-home-unassigned", full_page=True)
        first.click()
        page.get_by_test_id("detail-unassigned").wait_for()
        shot(page, "followup-detail-unassigned")
        page.get_by_test_id("take-case").click()
        page.get_by_test_id("detail-unassigned").wait_for(state="detached")
        assert "王秀英" in page.get_by_test_id("detail-mediators").inner_text()
        me = _user_id(server, "wanfucun.mediator")
        wait_record(server, "wanfucun.mediator", rid, lambda r: r["mediator_ids"] == [me], page=page)
        page.goto(server.url + "/home")
        page.get_by_test_id("home-title").wait_for()
        time.sleep(1)
        assert title not in (page.get_by_test_id("home-unassigned-cases").inner_text()
                             if page.get_by_test_id("home-unassigned-cases").count() else "")
    finally:
        ctx.close()


def test_an_extension_before_the_deadline_is_refused_on_the_phone(server, browser):
    """Finding 2 (phone): a new deadline before the current one, or in the past, is stopped before saving."""
    title = f"延期检查 {uuid.uuid4().hex[:4]}"
    rid = str(uuid.uuid4())
    me = _user_id(server, "wanfucun.mediator")
    _push(server, "wanfucun.mediator", [_mut(rid, _new_case(title, mediator_ids=[me], received_on=(date.today() - timedelta(days=27)).isoformat()))])
    ctx = _phone(browser)
    try:
        page = ctx.new_page()
        login(page, server.url, "wanfucun.mediator")
        page.goto(f"{server.url}/cases/{rid}")
        page.get_by_test_id("extend").click()
        deadline = (date.today() + timedelta(days=3)).isoformat()
        assert deadline in page.get_by_test_id("extend-current").inner_text()
        page.get_by_test_id("extend-date").locator("input").fill((date.today() - timedelta(days=10)).isoformat())
        page.get_by_test_id("extend-reason").locator("input").fill("双方同意延期")
        page.get_by_test_id("save-extend").click()
        msg = page.locator(".van-popup .van-field__error-message")
        msg.first.wait_for()
        assert "晚于原期限" in msg.first.inner_text()
        shot(page, "followup-extend-refused")
        assert page.get_by_test_id("sync-pending").inner_text().strip().endswith("已全部同步")
        later = (date.today() + timedelta(days=20)).isoformat()
        page.get_by_test_id("extend-date").locator("input").fill(later)
        page.get_by_test_id("save-extend").click()
        wait_record(server, "wanfucun.mediator", rid, lambda r: r["deadline"] == later, page=page)
    finally:
        ctx.close()


def test_a_tap_right_after_a_bad_id_number_lands(server, browser):
    """Finding 8: the ID message shown on leaving the field does not move 添加当事人 from under the tap."""
    ctx = _phone(browser)
    try:
        page = ctx.new_page()
        login(page, server.url, "wanfucun.mediator")
        page.goto(server.url + "/cases/new")
        page.get_by_test_id("case-title").wait_for()
        page.get_by_test_id("party-id-0").locator("input").fill("340321198503120017")
        page.get_by_test_id("add-party").tap()
        page.get_by_test_id("party-name-1").wait_for(timeout=3_000)
        page.locator(".van-field__error-message", has_text="身份证号").first.wait_for()
        # the same with a mouse (the press blurs the field, the release lands after the message)
        page.get_by_test_id("party-id-1").locator("input").fill("1234")
        page.get_by_test_id("add-party").scroll_into_view_if_needed()
        page.get_by_test_id("party-id-1").locator("input").focus()
        box = page.get_by_test_id("add-party").bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        time.sleep(0.2)
        page.mouse.up()
        page.get_by_test_id("party-name-2").wait_for(timeout=3_000)
    finally:
        ctx.close()


def test_gender_draft_note_and_the_agreements_perform_by(server, browser):
    """Findings 7, 9 and 5: 性别 is entered (and suggested by the ID number), a restored event draft says so and
    can be discarded, and the 协议书 prints the 履行期限 entered."""
    ctx = _phone(browser)
    try:
        page = ctx.new_page()
        login(page, server.url, "wanfucun.mediator")
        page.goto(server.url + "/cases/new")
        title = f"性别与履行期限 {uuid.uuid4().hex[:4]}"
        page.get_by_test_id("case-title").locator("input").fill(title)
        page.get_by_test_id("party-name-0").locator("input").fill("王芳")
        page.get_by_test_id("party-gender-0").locator("[data-code=female]").click()
        page.get_by_test_id("add-party").click()
        page.get_by_test_id("party-name-1").locator("input").fill("赵六")
        page.get_by_test_id("party-id-1").locator("input").fill("340321198503120016")
        page.get_by_test_id("party-id-1").locator("input").blur()
        gender1 = page.get_by_test_id("party-gender-1").locator("[data-code=male]")
        page.wait_for_function("el => el.getAttribute('aria-checked') === 'true'", arg=gender1.element_handle())
        page.get_by_test_id("category").locator("[data-code=neighbor]").click()
        page.get_by_test_id("risk").locator("[data-code=blue]").click()
        shot(page, "followup-newcase-gender", full_page=True)
        page.get_by_test_id("save-case").click()
        page.get_by_test_id("detail-title").wait_for()
        rid = page.url.rsplit("/", 1)[-1]
        rec = wait_record(server, "wanfucun.mediator", rid, lambda r: r.get("case_number"), page=page)
        assert [p["gender"] for p in rec["parties"]] == ["female", "male"]

        # an abandoned event draft comes back with a note and can be discarded
        page.get_by_test_id("add-event").click()
        page.get_by_test_id("event-content").locator("textarea").fill("上午走访")
        page.get_by_test_id("event-when").locator("input").fill("2026-01-05T09:00")
        time.sleep(0.8)
        page.locator(".van-popup__close-icon").last.click()
        time.sleep(0.5)
        page.get_by_test_id("add-event").click()
        page.get_by_test_id("event-draft-restored").wait_for()
        shot(page, "followup-event-draft")
        page.get_by_test_id("event-draft-discard").click()
        page.get_by_test_id("event-draft-restored").wait_for(state="detached")
        assert page.get_by_test_id("event-content").locator("textarea").input_value() == ""
        assert not page.get_by_test_id("event-when").locator("input").input_value().startswith("2026-01-05")
        page.locator(".van-popup__close-icon").last.click()

        # 达成协议 with a 履行期限: printed on the 协议书
        page.get_by_test_id("to-mediating").click()
        page.locator(".van-dialog__confirm").click()
        page.get_by_test_id("to-agreed").wait_for()
        page.get_by_test_id("to-agreed").click()
        page.get_by_test_id("agreement-terms").locator("textarea").fill("赔偿 500 元")
        by = (date.today() + timedelta(days=19)).isoformat()
        page.get_by_test_id("agreement-perform-by").locator("input").fill(by)
        page.get_by_test_id("save-agreement").click()
        page.get_by_test_id("open-agreement-doc").click()
        y, m, d = (int(x) for x in by.split("-"))
        page.get_by_text(f"于{y}年{m}月{d}日前履行完毕").first.wait_for()
        shot(page, "followup-agreement-doc", full_page=True)
    finally:
        ctx.close()


def test_the_conflict_screen_names_who_changed_what_and_says_why_a_choice_fails(server, browser):
    """Findings 3, 4 and 10: the mediator sees the village admin's stale change as 张德明's (not "this phone's"),
    mediators by name, the sync bar counts the conflict the sync page lists; a status the rules forbid is not
    offered; a resolution the server refuses says why on the conflict screen."""
    med, adm = _user_id(server, "wanfucun.mediator"), _user_id(server, "wanfucun.admin")
    # case 1: the mediator moved it on and re-assigned it; the admin's stale decline conflicts
    c1, t1 = str(uuid.uuid4()), f"冲突标注 {uuid.uuid4().hex[:4]}"
    assert _push(server, "wanfucun.mediator", [_mut(c1, _new_case(t1, mediator_ids=[med]))])[0]["status"] == "applied"
    assert _push(server, "wanfucun.mediator", [_mut(c1, {"status": "mediating", "mediator_ids": [med, adm]}, 1)])[0]["status"] == "applied"
    r = _push(server, "wanfucun.admin", [_mut(c1, {"status": "declined", "outcome_note": "申请人撤回", "mediator_ids": [adm]}, 1)])[0]
    assert r["status"] == "conflict", r
    # case 2: already agreed; the admin's stale decline can never apply
    c2, t2 = str(uuid.uuid4()), f"冲突禁选 {uuid.uuid4().hex[:4]}"
    _push(server, "wanfucun.mediator", [_mut(c2, _new_case(t2, mediator_ids=[med]))])
    _push(server, "wanfucun.mediator", [_mut(c2, {"status": "mediating"}, 1)])
    agreement = {"form": "written", "terms": "赔偿", "signed_on": date.today().isoformat()}
    assert _push(server, "wanfucun.mediator", [_mut(c2, {"status": "agreed", "agreement": agreement}, 2)])[0]["status"] == "applied"
    r = _push(server, "wanfucun.admin", [_mut(c2, {"status": "declined", "outcome_note": "申请人撤回"}, 1)])[0]
    assert r["status"] == "conflict", r

    ctx = _phone(browser)
    try:
        page = ctx.new_page()
        login(page, server.url, "wanfucun.mediator")
        sync_now(page)
        page.get_by_test_id("sync-conflicts").wait_for(timeout=30_000)
        bar = int(page.get_by_test_id("sync-conflicts").inner_text().split()[-1])
        page.get_by_test_id("sync-indicator").click()
        listed = page.get_by_test_id("conflict-item")
        listed.first.wait_for()
        assert listed.count() == bar and page.get_by_test_id("sync-center-conflicts").inner_text().endswith(str(bar))

        page.goto(f"{server.url}/cases/{c2}")
        page.get_by_test_id("detail-conflict").first.click()
        page.get_by_test_id("conflict-field").first.wait_for()
        status = page.get_by_test_id("conflict-field").filter(has_text="状态").first
        assert status.get_by_test_id("choose-mine").is_disabled()
        assert "不能选" in status.get_by_test_id("choice-forbidden").inner_text()
        shot(page, "followup-conflict-forbidden", full_page=True)

        page.goto(f"{server.url}/cases/{c1}")
        page.get_by_test_id("detail-conflict").first.click()
        page.get_by_test_id("conflict-field").first.wait_for()
        who = page.get_by_test_id("mine-who").first.inner_text()
        assert "张德明" in who and "本机" not in who
        mediators = page.get_by_test_id("conflict-field").filter(has_text="调解员").first
        assert mediators.get_by_test_id("mine-value").inner_text() == "张德明（万福村两委）"
        assert "王秀英（万福村调解员）" in mediators.get_by_test_id("server-value").inner_text()
        assert "-" not in mediators.get_by_test_id("server-value").inner_text()  # no raw ids
        shot(page, "followup-conflict-labels", full_page=True)
        # the admin's decline, but without its note: the server refuses (a declined case needs one) and says why
        for f in page.get_by_test_id("conflict-field").all():
            name = f.locator(".name").inner_text()
            f.get_by_test_id("choose-mine" if name.startswith("状态") else "choose-server").click()
        page.get_by_test_id("resolve").click()
        page.get_by_test_id("conflict-refused").wait_for(timeout=30_000)
        assert "退回" in page.get_by_test_id("conflict-refused").inner_text()
        shot(page, "followup-conflict-refused", full_page=True)
        wait_synced(page)
    finally:
        ctx.close()


def test_a_grid_worker_is_told_a_case_photo_is_not_for_them(server, browser):
    """Finding 6: a case event's photo, which the server keeps for roles that see personal data, is shown to the
    grid worker as 无权查看 at once and never requested (no endless "…", no 404s)."""
    med = _user_id(server, "wanfucun.mediator")
    rid = str(uuid.uuid4())
    _push(server, "wanfucun.mediator", [_mut(rid, _new_case(f"照片权限 {uuid.uuid4().hex[:4]}", mediator_ids=[med]))])
    eid, aid = str(uuid.uuid4()), str(uuid.uuid4())
    (res,) = _push(server, "wanfucun.mediator", [{
        "mutation_id": str(uuid.uuid4()), "entity": "case_event", "op": "upsert", "record_id": eid, "base_rev": 0,
        "client_time": "2026-11-28T10:00:00+08:00", "fields": {
            "case_id": rid, "org_code": WANFU_CUN, "kind": "investigation", "occurred_at": "2026-11-28T10:00:00+08:00",
            "content": "现场查看", "attachment_ids": [aid]}}])
    assert res["status"] == "applied", res
    ctx = _phone(browser)
    try:
        page = ctx.new_page()
        asked: list[str] = []
        page.on("request", lambda req: asked.append(req.url) if aid in req.url else None)
        login(page, server.url, "wanfucun.grid")
        page.goto(f"{server.url}/cases/{rid}")
        thumb = page.get_by_test_id(f"photo-{aid}")
        thumb.wait_for()
        assert thumb.locator("figcaption").get_attribute("data-denied") == "1"
        assert "无权查看" in thumb.inner_text()
        time.sleep(1)
        assert asked == []
        shot(page, "followup-grid-photo")
    finally:
        ctx.close()
