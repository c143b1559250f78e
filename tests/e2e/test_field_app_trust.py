"""Issue 12 end to end: drafts survive a reload and the back gesture asks; a photo the server refuses reaches
"needs attention"; sign-out says what waits and keeps it; each role is offered only what it may do."""

from __future__ import annotations

import time
import uuid

from .conftest import login, shot, sync_now, wait_synced


def test_a_draft_survives_a_reload_and_back_asks_before_discarding(server, context):
    page = context.new_page()
    login(page, server.url)
    page.get_by_test_id("new-case").click()
    title = f"草稿 {uuid.uuid4().hex[:6]}"
    page.get_by_test_id("case-title").locator("input").fill(title)
    page.get_by_test_id("party-name-0").locator("input").fill("周九")
    page.get_by_test_id("party-phone-0").locator("input").fill("13812345678")
    page.get_by_test_id("category").locator("[data-code=neighbor]").click()
    time.sleep(0.8)  # saved as typed (debounced)
    # the camera app killed the tab, or the person reloaded: everything typed is back
    page.reload()
    page.get_by_test_id("draft-restored").wait_for(timeout=15_000)
    assert page.get_by_test_id("case-title").locator("input").input_value() == title
    assert page.get_by_test_id("party-name-0").locator("input").input_value() == "周九"
    assert page.get_by_test_id("party-phone-0").locator("input").input_value() == "13812345678"
    assert page.get_by_test_id("category").locator("[data-code=neighbor]").get_attribute("aria-checked") == "true"
    shot(page, "draft-restored")
    # the back gesture asks first; "keep editing" stays on the form
    page.go_back()
    dialog = page.locator(".van-dialog")
    dialog.wait_for()
    assert "放弃" in dialog.inner_text()
    page.locator(".van-dialog__cancel").click()
    assert page.get_by_test_id("case-title").locator("input").input_value() == title
    # a saved form leaves no draft behind
    page.get_by_test_id("risk").locator("[data-code=blue]").click()
    page.get_by_test_id("save-case").click()
    page.get_by_test_id("detail-title").wait_for()
    page.goto(server.url + "/cases/new")
    page.get_by_test_id("case-title").wait_for()
    assert page.get_by_test_id("case-title").locator("input").input_value() == ""
    assert page.get_by_test_id("draft-restored").count() == 0


def test_a_photo_the_server_refuses_needs_attention(server, context):
    page = context.new_page()
    login(page, server.url)
    page.get_by_test_id("case-row").first.click()
    page.get_by_test_id("add-event").click()
    page.get_by_test_id("event-content").locator("textarea").fill("现场查看")
    # a file the phone cannot decode, named like a photo: stored as it is, refused by the server (not an image)
    page.locator(".van-popup [data-testid=photo-pick]").set_input_files(
        files=[{"name": "broken.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8\xff\xe0" + b"not a picture" * 20}])
    page.locator(".van-popup .cz-photo").first.wait_for(timeout=15_000)
    page.get_by_test_id("save-event").click()
    page.get_by_test_id("sync-attention").wait_for(timeout=30_000)
    page.get_by_test_id("sync-indicator").click()
    item = page.get_by_test_id("failed-photo")
    item.first.wait_for(timeout=15_000)
    assert "照片格式不支持" in item.first.get_by_test_id("failed-photo-reason").inner_text()
    # not retried for ever: the count of waiting photos is 0, the bar no longer says photos wait
    assert "0 张照片待上传" in page.get_by_test_id("sync-center-photos").inner_text()
    shot(page, "photo-refused")
    item.first.get_by_test_id("failed-photo-discard").click()
    page.locator(".van-dialog__confirm").click()
    item.first.wait_for(state="detached")


def test_sign_out_with_changes_waiting_says_so_and_keeps_them(server, context):
    page = context.new_page()
    login(page, server.url)
    context.set_offline(True)
    title = f"退出前未同步 {uuid.uuid4().hex[:6]}"
    page.get_by_test_id("new-case").click()
    page.get_by_test_id("case-title").locator("input").fill(title)
    page.get_by_test_id("party-name-0").locator("input").fill("吴十")
    page.get_by_test_id("category").locator("[data-code=neighbor]").click()
    page.get_by_test_id("risk").locator("[data-code=blue]").click()
    page.get_by_test_id("save-case").click()
    page.get_by_test_id("detail-title").wait_for()
    page.get_by_test_id("tab-me").click()
    page.get_by_test_id("me-page").wait_for()
    shot(page, "me")
    page.get_by_test_id("sign-out").click()
    dialog = page.locator(".van-dialog")
    dialog.wait_for()
    assert "还有 1 项更改尚未同步" in dialog.inner_text()  # the count, in the security sign-out's words
    page.locator(".van-dialog__cancel").click()  # changed their mind: still signed in
    assert page.get_by_test_id("me-page").is_visible()
    page.get_by_test_id("sign-out").click()
    page.locator(".van-dialog__confirm").click()
    page.get_by_test_id("login-submit").wait_for()
    context.set_offline(False)
    login(page, server.url)
    sync_now(page)
    wait_synced(page)
    assert any(r.get("title") == title for r in server.pull_all("wanfu.admin").values())


def test_each_role_is_offered_only_what_it_may_do(server, context):
    page = context.new_page()
    login(page, server.url, "wanfu.viewer")
    page.get_by_test_id("home-title").wait_for()  # a township user opens on the home screen
    page.get_by_test_id("tab-cases").click()
    page.get_by_test_id("case-row").first.wait_for()
    assert page.get_by_test_id("new-case").count() == 0
    page.get_by_test_id("case-row").first.click()
    page.get_by_test_id("detail-title").wait_for()
    for action in ("edit-case", "add-event", "to-mediating", "to-agreed", "extend"):
        assert page.get_by_test_id(action).count() == 0, action
    # township staff see which village a case is from, and can filter by it
    page.get_by_test_id("tab-cases").click()
    page.get_by_test_id("case-row").first.wait_for()
    assert page.get_by_test_id("filter-village").count() == 1
    assert page.get_by_test_id("case-village").count() > 0
    shot(page, "viewer-list")


ROLE_TABS = {  # each role's first screen and tab bar (app/tabs.ts and the features' tabs.ts)
    "wanfucun.mediator": ("/", ["tab-cases", "tab-home", "tab-incidents", "tab-me"]),
    "wanfucun.grid": ("/home", ["tab-cases", "tab-home", "tab-patrols", "tab-incidents", "tab-me"]),
    "wanfucun.admin": ("/", ["tab-cases", "tab-home", "tab-incidents", "tab-households", "tab-me"]),
    "wanfu.admin": ("/home", ["tab-cases", "tab-home", "tab-six-no", "tab-dashboard", "tab-me"]),
    "wanfu.viewer": ("/home", ["tab-cases", "tab-home", "tab-six-no", "tab-dashboard", "tab-me"]),
    "county.admin": ("/", ["tab-cases", "tab-dashboard", "tab-me"]),
}


def test_each_role_lands_on_its_home_with_its_tabs_and_one_me(server, browser):
    for username, (landing, tabs) in ROLE_TABS.items():
        ctx = browser.new_context(viewport={"width": 393, "height": 851}, locale="zh-CN", is_mobile=True, has_touch=True)
        page = ctx.new_page()
        login(page, server.url, username)
        assert page.url.removeprefix(server.url) == landing, username
        ids = [a.get_attribute("data-testid") for a in page.locator("[data-testid=tabbar] a").all()]
        assert ids == tabs, username
        assert page.get_by_test_id("nav-dashboard").count() == 0  # one way to the dashboard: its tab
        page.get_by_test_id("tab-me").click()
        page.get_by_test_id("me-page").wait_for()
        for part in ("me-name", "lang-zh-CN", "me-storage", "me-sync-log"):
            assert page.get_by_test_id(part).count() == 1, (username, part)
        assert page.get_by_test_id("sign-out").count() == 1, username
        admin = username in ("wanfu.admin", "county.admin")
        assert page.get_by_test_id("admin-users").count() == int(admin), username
        assert page.get_by_test_id("open-integrations").count() == int(admin), username
        # the bar never covers the last thing on the page
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        bar = page.get_by_test_id("tabbar").bounding_box()
        last = page.get_by_test_id("sign-out").bounding_box()
        assert last["y"] + last["height"] <= bar["y"], username
        shot(page, f"me-{username.replace('.', '-')}")
        ctx.close()


def test_saving_a_form_with_mistakes_brings_the_first_one_into_view(server, context):
    """The 保存 button is at the bottom of a long form: a check that fails shows next to its field, and the
    screen goes to the first such field (else the person sees only 请修改标出的内容 under the last field)."""
    page = context.new_page()
    login(page, server.url)
    page.get_by_test_id("new-case").click()
    page.get_by_test_id("case-title").wait_for()
    page.get_by_test_id("case-place").locator("input").fill("村口")  # something typed, the summary left empty
    page.get_by_test_id("save-case").click()
    page.get_by_test_id("form-missing").wait_for()
    page.wait_for_timeout(500)  # a smooth scroll, if any, has ended
    box = page.get_by_test_id("case-title").bounding_box()
    top_bars = page.evaluate("document.querySelector('.cz-header').offsetHeight + document.querySelector('.cz-syncnav').offsetHeight")
    assert top_bars <= box["y"] and box["y"] + box["height"] <= 860, box
    assert page.evaluate("document.activeElement.closest('[data-testid=case-title]') !== null")
