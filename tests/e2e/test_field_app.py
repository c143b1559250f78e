"""The mediator's day, end to end, in headless Chromium against the real server."""

from __future__ import annotations

import io
import re
import time
import uuid

import httpx
from PIL import Image

from .conftest import login, shot, sync_now, wait_synced
from .test_accessibility import AXE, violations



def big_photo() -> bytes:
    """A 3000×2000 JPEG standing in for a phone camera shot of a signed agreement."""
    img = Image.new("RGB", (3000, 2000), (240, 235, 220))
    for x in range(0, 3000, 50):
        for y in range(0, 2000, 200):
            img.putpixel((x, y), (10, 10, 10))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def fill_new_case(page, title: str, party: str, category: str, risk: str) -> None:
    """Opens the new-case form and fills the required fields (source keeps its default)."""
    page.get_by_test_id("new-case").click()
    page.get_by_test_id("case-title").locator("input").fill(title)
    page.get_by_test_id("party-name-0").locator("input").fill(party)
    page.get_by_test_id("category").locator(f"[data-code={category}]").click()
    page.get_by_test_id("risk").locator(f"[data-code={risk}]").click()


def open_case_by_title(page, title: str) -> None:
    page.get_by_test_id("case-search").locator("input").fill(title)
    row = page.get_by_test_id("case-row").filter(has_text=title)
    row.first.wait_for(timeout=10_000)
    row.first.click()
    page.get_by_test_id("detail-title").wait_for()


def test_offline_case_with_photo_reaches_server(server, context):
    page = context.new_page()
    login(page, server.url, screenshot="login")
    shot(page, "case-list")

    context.set_offline(True)
    title = f"宅基地边界纠纷 {uuid.uuid4().hex[:6]}"
    # registering a dispute: 8 taps plus typing (budget: ≤ 12) — new, summary, party, category,
    # source, risk, description, save
    page.get_by_test_id("new-case").click()
    page.get_by_test_id("case-title").locator("input").fill(title)
    page.get_by_test_id("party-name-0").locator("input").fill("张三")
    page.get_by_test_id("category").locator("[data-code=homestead]").click()
    page.get_by_test_id("source").locator("[data-code=party_request]").click()
    page.get_by_test_id("risk").locator("[data-code=yellow]").click()
    page.get_by_test_id("case-description").locator("textarea").fill("两户因宅基地边界发生争执。")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "new-case", full_page=True)
    page.get_by_test_id("save-case").click()
    page.get_by_test_id("detail-title").wait_for()
    assert page.get_by_test_id("detail-number").inner_text().endswith("待编号")

    # start mediating (a state change asks first), then record the agreement with a photo of the
    # signed paper — all offline
    page.get_by_test_id("to-mediating").click()
    page.locator(".van-dialog__confirm").click()
    page.get_by_test_id("to-agreed").click()
    page.get_by_test_id("agreement-terms").locator("textarea").fill("双方按村委会测量结果重新立界。")
    page.locator(".van-popup [data-testid=photo-input]").set_input_files(
        files=[{"name": "agreement.jpg", "mimeType": "image/jpeg", "buffer": big_photo()}])
    page.locator(".van-popup .cz-photo").first.wait_for(timeout=15_000)
    page.get_by_test_id("save-agreement").click()
    page.wait_for_function("() => document.querySelector('[data-testid=detail-status]').textContent.includes('达成协议')")
    case_url = page.url
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "case-detail-offline")

    # restart while offline: the app opens from the service worker and the case is there
    page.reload()
    page.get_by_test_id("detail-title").wait_for(timeout=15_000)
    assert page.get_by_test_id("detail-title").inner_text() == title
    page.goto(server.url + "/")
    open_case_by_title(page, title)
    assert "待同步" in page.get_by_test_id("sync-pending").inner_text() or \
        re.search(r"\d+ 条待同步", page.get_by_test_id("sync-pending").inner_text())

    # back online: it syncs by itself, gets its case number, and the photo is uploaded
    context.set_offline(False)
    page.wait_for_function(
        "() => /\\d{12}-\\d{4}-\\d{4}/.test(document.querySelector('[data-testid=detail-number]').textContent)",
        timeout=30_000)
    wait_synced(page)
    record_id = case_url.rstrip("/").split("/")[-1]
    deadline = time.time() + 30
    while True:
        records = server.pull_all("wanfu.admin")
        rec = records.get(record_id)
        ids = (rec or {}).get("agreement", {}) and rec["agreement"].get("attachment_ids") or []
        tok = server.token("wanfucun.mediator")
        got = httpx.get(f"{server.url}/api/v1/attachments/{ids[0]}", headers={"Authorization": f"Bearer {tok}"}) \
            if ids else None
        if rec and got is not None and got.status_code == 200:
            break
        assert time.time() < deadline, f"record or photo not on the server: {rec}"
        sync_now(page)
        time.sleep(1)
    assert rec["title"] == title
    assert rec["status"] == "agreed"
    assert re.fullmatch(r"340321108200-\d{4}-\d{4,}", rec["case_number"])
    photo = Image.open(io.BytesIO(got.content))
    assert max(photo.size) <= 1600, photo.size
    assert photo.format == "JPEG"


def test_conflict_resolved_on_the_conflicts_screen(server, browser):
    # a case both phones have
    title = f"邻里噪音纠纷 {uuid.uuid4().hex[:6]}"
    case_id = str(uuid.uuid4())
    tok = server.token("wanfucun.mediator", client_id=str(uuid.uuid4()))
    r = httpx.post(f"{server.url}/api/v1/sync/push", headers={"Authorization": f"Bearer {tok}"}, json={
        "client_id": "00000000-0000-4000-8000-0000000000e2",
        "mutations": [{
            "mutation_id": str(uuid.uuid4()), "entity": "mediation_case", "op": "upsert", "record_id": case_id,
            "base_rev": 0, "client_time": "2026-11-28T10:00:00+08:00",
            "fields": {"org_code": "340321108200", "title": title, "category": "neighbor", "source": "proactive",
                       "received_on": time.strftime("%Y-%m-%d"), "parties": [{"name": "李四", "role": "applicant"}],
                       "risk_level": "blue", "status": "registered"},
        }],
    })
    if r.status_code == 422:  # the token's client id must match the body's: use a fresh session for both
        cid = str(uuid.uuid4())
        tok = server.token("wanfucun.mediator", client_id=cid)
        body = r.request.content.decode().replace("00000000-0000-4000-8000-0000000000e2", cid)
        r = httpx.post(f"{server.url}/api/v1/sync/push", headers={"Authorization": f"Bearer {tok}",
                                                                 "Content-Type": "application/json"}, content=body)
    r.raise_for_status()
    assert r.json()["results"][0]["status"] == "applied", r.json()

    ctx_a = browser.new_context(viewport={"width": 412, "height": 860}, locale="zh-CN")
    ctx_b = browser.new_context(viewport={"width": 412, "height": 860}, locale="zh-CN")
    try:
        a, b = ctx_a.new_page(), ctx_b.new_page()
        login(a, server.url, "wanfucun.mediator")
        login(b, server.url, "wanfucun.admin")
        open_case_by_title(a, title)
        open_case_by_title(b, title)

        ctx_a.set_offline(True)
        ctx_b.set_offline(True)
        for page, value in ((a, "村口"), (b, "祠堂")):
            page.get_by_test_id("edit-case").click()
            page.get_by_test_id("case-place").locator("input").fill(value)
            page.get_by_test_id("save-case").click()
            page.get_by_test_id("detail-pending").wait_for()

        ctx_a.set_offline(False)
        wait_synced(a)
        ctx_b.set_offline(False)
        b.get_by_test_id("detail-conflict").wait_for(timeout=30_000)
        b.get_by_test_id("detail-conflict").first.click()
        b.get_by_test_id("conflict-field").first.wait_for()
        assert b.get_by_test_id("mine-value").first.inner_text() == "祠堂"
        assert b.get_by_test_id("server-value").first.inner_text() == "村口"
        b.get_by_test_id("choose-mine").first.click()
        shot(b, "conflicts")
        if AXE.exists():
            assert violations(b) == []
        b.get_by_test_id("resolve").click()
        b.get_by_test_id("conflict-gone").wait_for(timeout=30_000)
        wait_synced(b)

        sync_now(a)
        for page in (a, b):
            page.goto(server.url + "/")
            open_case_by_title(page, title)
        deadline = time.time() + 20
        while "祠堂" not in a.locator(".van-cell", has_text="地点").inner_text():
            assert time.time() < deadline
            sync_now(a)
            time.sleep(0.5)
        assert "祠堂" in b.locator(".van-cell", has_text="地点").inner_text()
        rec = server.pull_all("wanfu.admin")[case_id]
        assert rec["place"] == "祠堂"
    finally:
        ctx_a.close()
        ctx_b.close()


def test_rejected_change_needs_attention_then_fixed(server, context):
    """A phone whose clock runs days ahead lets a future intake date through its own check; the server refuses
    the create. It stays in the list marked, needs attention, and is fixed in the same form it was made in."""
    page = context.new_page()
    login(page, server.url)
    real_today = time.strftime("%Y-%m-%d")
    page.clock.set_system_time(time.time() + 3 * 86400)
    page.reload()
    page.get_by_test_id("case-row").first.wait_for()
    context.set_offline(True)
    title = f"劳务费纠纷 {uuid.uuid4().hex[:6]}"
    fill_new_case(page, title, "王五", "labor_wage", "blue")
    future = page.evaluate("new Date(Date.now()).toISOString().slice(0, 10)")
    page.get_by_test_id("received-on").locator("input").fill(future)
    page.get_by_test_id("save-case").click()
    page.get_by_test_id("detail-title").wait_for()

    context.set_offline(False)
    page.get_by_test_id("detail-refused").wait_for(timeout=30_000)  # the case stays, with the server's reason
    page.get_by_test_id("sync-indicator").click()
    item = page.get_by_test_id("rejected-item")
    item.first.wait_for(timeout=30_000)
    reason = item.first.get_by_test_id("rejected-reason").inner_text()
    assert reason.startswith("服务器退回")
    shot(page, "needs-attention")
    # it stays after another sync
    sync_now(page)
    time.sleep(1)
    assert page.get_by_test_id("rejected-item").count() == 1

    item.first.get_by_test_id("fix").click()
    field = page.get_by_test_id("received-on")
    field.wait_for()
    assert "今天" in field.inner_text()  # the server's reason, next to the field
    assert page.get_by_test_id("case-title").locator("input").input_value() == title
    field.locator("input").fill(real_today)
    page.on("console", lambda m: print("CONSOLE", m.type, m.text))
    page.on("pageerror", lambda e: print("PAGEERROR", e))
    page.get_by_test_id("save-case").click()
    time.sleep(0.3)
    time.sleep(2)
    print("TOAST", page.locator(".van-toast").all_inner_texts(), page.url, page.locator(".cz-empty").all_inner_texts())
    try:
        page.get_by_test_id("detail-title").wait_for()
    finally:
        shot(page, "debug-fix", full_page=True)
    page.get_by_test_id("detail-refused").wait_for(state="detached", timeout=30_000)
    wait_synced(page)
    recs = [r for r in server.pull_all("wanfu.admin").values() if r.get("title") == title]
    assert len(recs) == 1 and recs[0]["case_number"] and recs[0]["received_on"] == real_today


def test_revoked_session_wipes_local_data(server, context):
    page = context.new_page()
    login(page, server.url)
    session = page.evaluate("JSON.parse(localStorage.getItem('cunzhi.session'))")
    db_name = f"cunzhi-u-{session['user']['id']}"
    assert db_name in page.evaluate("indexedDB.databases().then((l) => l.map((d) => d.name))")
    # the township admin (here: the user, on another device) revokes this phone's session
    r = httpx.delete(f"{server.url}/api/v1/sessions/{session['session_id']}",
                     headers={"Authorization": f"Bearer {session['token']}"})
    assert r.status_code in (200, 204), r.text
    page.evaluate("window.__cunzhiSync()")
    page.wait_for_url("**/login", timeout=30_000)
    page.get_by_test_id("login-submit").wait_for()
    assert "已被撤销" in page.locator(".notice").inner_text()
    assert page.evaluate("localStorage.getItem('cunzhi.session')") is None
    names = page.evaluate("indexedDB.databases().then((l) => l.map((d) => d.name))")
    assert db_name not in names


def test_expired_session_asks_for_password_and_keeps_the_outbox(server, context):
    page = context.new_page()
    login(page, server.url)
    # a change waits in the outbox while the server says the session expired
    expired = {"code": "session_expired", "message": "登录已过期", "details": []}
    page.route("**/api/v1/sync/**", lambda route: route.fulfill(status=401, json=expired))
    title = f"过期会话 {uuid.uuid4().hex[:6]}"
    fill_new_case(page, title, "赵六", "neighbor", "blue")
    page.get_by_test_id("save-case").click()
    page.get_by_test_id("relogin").wait_for(timeout=30_000)
    assert "1 条待同步" in page.get_by_test_id("sync-pending").inner_text()
    # the person may put it off and keep reading (offline work goes on); the red bar opens the dialog again
    page.get_by_test_id("relogin-later").click()
    page.get_by_test_id("relogin").wait_for(state="detached")
    page.get_by_test_id("tab-cases").click()
    page.get_by_test_id("case-row").first.click()
    page.get_by_test_id("detail-title").wait_for()
    page.get_by_test_id("relogin-open").click()
    page.get_by_test_id("relogin").wait_for()
    page.unroute("**/api/v1/sync/**")
    page.get_by_test_id("relogin-password").locator("input").fill("cunzhi-demo")
    page.get_by_test_id("relogin").get_by_role("button", name="登录", exact=True).click()
    page.get_by_test_id("relogin").wait_for(state="detached", timeout=30_000)
    wait_synced(page)
    assert any(r.get("title") == title for r in server.pull_all("wanfu.admin").values())


def test_upgrade_required_keeps_the_outbox(server, context):
    page = context.new_page()
    login(page, server.url)
    page.route("**/api/v1/sync/**", lambda route: route.fulfill(
        status=426, json={"code": "upgrade_required", "message": "请更新应用", "details": []}))
    fill_new_case(page, "需要更新", "钱七", "neighbor", "blue")
    page.get_by_test_id("save-case").click()
    page.locator(".cz-banner", has_text="需要更新应用").wait_for(timeout=30_000)
    assert "1 条待同步" in page.get_by_test_id("sync-pending").inner_text()


def test_english_ui(server, context):
    page = context.new_page()
    login(page, server.url)
    page.get_by_test_id("tab-me").click()  # the language is chosen in 我的 (one place)
    page.get_by_test_id("lang-en").click()
    page.get_by_test_id("tab-cases").click()
    page.wait_for_function("() => document.querySelector('[data-testid=sync-pending]').textContent.includes('All synced')")
    # the list counts again after the tab switch ("…" while it does)
    page.wait_for_function("() => document.querySelector('[data-testid=case-count]')?.textContent.includes('cases')")
    shot(page, "case-list-en")
    page.get_by_test_id("tab-me").click()
    page.get_by_test_id("lang-zh-CN").click()


def test_each_user_has_their_own_database_and_outbox(server, context):
    page = context.new_page()
    login(page, server.url, "wanfucun.mediator")
    context.set_offline(True)
    title = f"仅本人可见 {uuid.uuid4().hex[:6]}"
    fill_new_case(page, title, "孙八", "neighbor", "blue")
    page.get_by_test_id("save-case").click()
    page.get_by_test_id("detail-title").wait_for()
    # Background Sync is asked for where the browser has it
    tags = page.evaluate("navigator.serviceWorker.ready.then((r) => r.sync ? r.sync.getTags() : null)")
    assert tags is None or "cunzhi-sync" in tags
    author_id = page.evaluate("JSON.parse(localStorage.getItem('cunzhi.session')).user.id")
    # sign out offline: warned with the count of waiting changes; signed out at once, the data kept until sent
    page.get_by_test_id("tab-me").click()  # 我的 → 退出登录
    page.get_by_test_id("sign-out").click()
    dialog = page.locator(".van-dialog")
    dialog.wait_for()
    assert "1 项更改尚未同步" in dialog.inner_text()
    dialog.locator(".van-dialog__confirm").click()
    page.get_by_test_id("login-submit").wait_for()
    assert page.evaluate("localStorage.getItem('cunzhi.session')") is None
    names = page.evaluate("indexedDB.databases().then((l) => l.map((d) => d.name))")
    assert f"cunzhi-u-{author_id}" in names  # the waiting change is not lost
    # the network returns: the change goes under the author's own session, then the session ends and the
    # author's data leaves the phone
    context.set_offline(False)
    page.wait_for_function("() => localStorage.getItem('cunzhi.pending_signouts') === null", timeout=30_000)
    names = page.evaluate("indexedDB.databases().then((l) => l.map((d) => d.name))")
    assert f"cunzhi-u-{author_id}" not in names
    recs = [r for r in server.pull_all("wanfu.admin").values() if r.get("title") == title]
    assert len(recs) == 1 and recs[0]["created_by"] == author_id
    # another user of the phone never sees it locally (their own database, their own scope)
    login(page, server.url, "zhendong.mediator")
    page.get_by_test_id("case-search").locator("input").fill(title)
    page.wait_for_function("() => document.querySelector('[data-testid=case-count]').textContent.includes('共 0 件')")


def test_sign_out_online_revokes_the_session_and_wipes_the_data(server, context):
    page = context.new_page()
    login(page, server.url, "wanfucun.mediator")
    session = page.evaluate("JSON.parse(localStorage.getItem('cunzhi.session'))")
    page.get_by_test_id("tab-me").click()  # 我的 → 退出登录
    page.get_by_test_id("sign-out").click()
    dialog = page.locator(".van-dialog")
    dialog.wait_for()
    assert "将被删除" in dialog.inner_text()
    dialog.locator(".van-dialog__confirm").click()
    page.get_by_test_id("login-submit").wait_for()
    page.wait_for_function("() => localStorage.getItem('cunzhi.pending_signouts') === null", timeout=30_000)
    names = page.evaluate("indexedDB.databases().then((l) => l.map((d) => d.name))")
    assert f"cunzhi-u-{session['user']['id']}" not in names
    import httpx

    r = httpx.get(server.url + "/api/v1/me", headers={"Authorization": f"Bearer {session['token']}"})
    assert r.status_code == 401 and r.json()["code"] == "session_revoked"


def test_township_admin_deactivates_a_user_in_the_app(server, context):
    import httpx

    page = context.new_page()
    login(page, server.url, "wanfu.admin")
    page.goto(server.url + "/me")
    page.get_by_test_id("admin-users").click()
    row = page.get_by_test_id("admin-user-wanfu.viewer")
    row.wait_for(timeout=30_000)
    assert page.get_by_test_id("admin-user-tangji.admin").count() == 0  # another township's account
    # each account reads as its role and unit in Chinese, not as codes (grid_worker · 340321108200)
    grid = page.get_by_test_id("admin-user-wanfucun.grid")
    assert "网格员 · 万福村" in grid.inner_text(), grid.inner_text()
    listing = page.locator(".van-cell-group").inner_text()
    assert "grid_worker" not in listing and "340321108200" not in listing, listing
    # a password the rules refuse: the server's message, in the dialog (shared demo accounts keep theirs)
    row.get_by_test_id("admin-set-password").click()
    page.get_by_test_id("admin-password").locator("input").fill("short")
    page.locator(".van-dialog").get_by_role("button", name="保存").click()
    page.get_by_text("密码至少需要 12 个字符").wait_for()
    page.locator(".van-dialog").get_by_role("button", name="取消").click()
    row.get_by_test_id("admin-deactivate").click()
    page.locator(".van-dialog").get_by_role("button", name="确认").click()
    row.get_by_text("已停用").wait_for()
    login_as = {"username": "wanfu.viewer", "password": "cunzhi-demo", "client_id": "00000000-0000-4000-8000-0000000000e3"}
    assert httpx.post(server.url + "/api/v1/auth/token", data=login_as).status_code == 401
    row.get_by_test_id("admin-activate").click()
    row.get_by_test_id("admin-deactivate").wait_for()
    assert httpx.post(server.url + "/api/v1/auth/token", data=login_as).status_code == 200
