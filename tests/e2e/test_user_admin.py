"""A township officer at a PC creates a mediator in 用户管理; the mediator signs in on a phone; the officer then
cuts off that phone alone (登录设备 → 撤销登录) — township findings 3 and 4."""

from __future__ import annotations

import json

import httpx

from tests.e2e.conftest import login, shot, wait_synced

PIXEL_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 5) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Mobile Safari/537.36")
PASSWORD = "Zhendong-tiaojie-2026"


def test_township_admin_creates_a_mediator_who_signs_in_on_a_phone(server, browser):
    pc = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", timezone_id="Asia/Shanghai")
    phone = browser.new_context(viewport={"width": 393, "height": 851}, locale="zh-CN", is_mobile=True, has_touch=True,
                                user_agent=PIXEL_UA, timezone_id="Asia/Shanghai")
    try:
        page = pc.new_page()
        login(page, server.url, "wanfu.admin")
        page.goto(server.url + "/me")
        page.get_by_test_id("admin-users").click()
        page.get_by_test_id("admin-user-wanfu.viewer").wait_for(timeout=30_000)
        # its own row: its password and devices, never 停用
        own = page.get_by_test_id("admin-user-wanfu.admin")
        assert own.get_by_test_id("admin-deactivate").count() == 0 and own.get_by_test_id("admin-set-password").count() == 1

        page.get_by_test_id("admin-new-user").click()
        form = page.get_by_test_id("admin-create-form")
        form.wait_for()
        roles = form.get_by_test_id("admin-new-role").locator("option").all_inner_texts()
        assert roles == ["调解员", "网格员", "村管理员", "乡镇查看"], roles  # never its own rank or above
        form.get_by_test_id("admin-new-name").locator("input").fill("周玉兰")
        form.get_by_test_id("admin-new-username").locator("input").fill("zhendong.zhou")
        form.get_by_test_id("admin-new-role").select_option(label="调解员")
        units = form.get_by_test_id("admin-new-org").locator("option").all_inner_texts()
        # a mediator belongs to a village of its township (not the township, not another township's villages)
        assert all(u.endswith("村民委员会") or u.endswith("居民委员会") for u in units), units
        assert "唐集村村民委员会" not in units, units
        form.get_by_test_id("admin-new-org").select_option(label="镇东村村民委员会")
        # a password the rules refuse: the server's message at the field, nothing made
        form.get_by_test_id("admin-new-password").locator("input").fill("short")
        form.get_by_test_id("admin-create").click()
        form.get_by_text("密码至少需要 12 个字符").wait_for()
        form.get_by_test_id("admin-new-password").locator("input").fill(PASSWORD)
        assert form.get_by_text("密码至少需要 12 个字符").count() == 0  # the refusal goes once the field changes
        shot(page, "admin-new-user-pc")
        form.get_by_test_id("admin-create").click()
        row = page.get_by_test_id("admin-user-zhendong.zhou")
        row.wait_for(timeout=15_000)
        assert "调解员 · 镇东村" in row.inner_text(), row.inner_text()
        shot(page, "admin-users-pc")

        # the new mediator signs in on a phone and lands on 镇东村's cases
        mobile = phone.new_page()
        mobile.goto(server.url + "/login")
        mobile.get_by_test_id("login-username").locator("input").fill("zhendong.zhou")
        mobile.get_by_test_id("login-password").locator("input").fill(PASSWORD)
        mobile.get_by_test_id("login-submit").click()
        mobile.get_by_test_id("case-search").wait_for(timeout=30_000)
        wait_synced(mobile)
        session = json.loads(mobile.evaluate("localStorage.getItem('cunzhi.session')"))
        assert session["user"]["role"] == "mediator" and session["user"]["org_code"] == "340321108201"
        shot(mobile, "admin-new-mediator-phone")

        # back at the PC: that account's devices, the phone among them; revoke it (after a confirm)
        row.get_by_test_id("admin-sessions").click()
        sessions = page.get_by_test_id("admin-session-list")
        device = sessions.get_by_test_id("admin-session")
        device.first.wait_for(timeout=15_000)
        page.wait_for_timeout(400)  # the popup's fade-in, for the picture
        assert device.count() == 1 and "Android · Chrome" in device.inner_text(), device.inner_text()
        shot(page, "admin-sessions-pc")
        device.get_by_test_id("admin-revoke").click()
        dialog = page.locator(".van-dialog")
        dialog.wait_for()
        assert "周玉兰" in dialog.inner_text() and "Android · Chrome" in dialog.inner_text()
        dialog.get_by_role("button", name="确认").click()
        sessions.get_by_test_id("admin-no-sessions").wait_for(timeout=15_000)
        r = httpx.get(server.url + "/api/v1/me", headers={"Authorization": f"Bearer {session['token']}"})
        assert r.status_code == 401 and r.json()["code"] == "session_revoked"
        # the account itself is untouched: it signs in again
        r = httpx.post(server.url + "/api/v1/auth/token", data={
            "username": "zhendong.zhou", "password": PASSWORD, "client_id": "00000000-0000-4000-8000-0000000000e4"})
        assert r.status_code == 200
    finally:
        pc.close()
        phone.close()
