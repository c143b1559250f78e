"""A township admin manages API keys on a PC: creates one (the secret shown once), an integration reads
with it, the admin revokes it and the next read is refused."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import login, shot


def test_admin_creates_and_revokes_a_key(server, browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    login(page, server.url, "wanfu.admin")
    page.get_by_test_id("tab-me").click()  # reached from 我的
    page.get_by_test_id("open-integrations").click()
    # a key's unit is the admin's own or one below it: the county is not offered
    page.get_by_test_id("key-org").locator("option[value='340321108200']").wait_for(state="attached")
    units = page.get_by_test_id("key-org").locator("option").evaluate_all("os => os.map(o => o.value)")
    assert "340321108" in units and "340321108200" in units and "340321" not in units, units
    page.get_by_test_id("key-name").locator("input").fill("县综治平台")
    page.get_by_test_id("key-create").click()
    secret = page.get_by_test_id("secret").inner_text().strip()
    assert secret.startswith("czk_")
    shot(page, "integrations-key-secret")
    page.get_by_role("button", name="已保存").click()
    page.get_by_test_id("key-row").first.wait_for()
    assert secret not in page.content()  # shown once: the list holds only its prefix

    r = httpx.get(server.url + "/api/v1/mediation-cases", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 200 and r.json()["items"], r.text
    page.reload()
    page.get_by_text("最近使用").first.wait_for()
    shot(page, "integrations")

    page.get_by_test_id("key-revoke").first.click()
    page.get_by_role("button", name="确认").click()
    page.get_by_text("已撤销").first.wait_for()
    r = httpx.get(server.url + "/api/v1/mediation-cases", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 401 and r.json()["code"] == "key_revoked"
    ctx.close()


def test_docs_work_without_internet(server, browser):
    """/docs draws Swagger UI from assets this server serves (the browser may reach nothing else)."""
    ctx = browser.new_context()
    outside: list[str] = []

    def only_local(route):
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    ctx.route("**/*", only_local)
    page = ctx.new_page()
    page.goto(server.url + "/docs")
    page.locator(".swagger-ui .opblock").first.wait_for(timeout=30_000)
    assert page.locator(".swagger-ui .opblock").count() > 20
    assert outside == []
    ctx.close()


def test_a_viewer_cannot_reach_forms_by_their_address(server, browser):
    """A township viewer writes nothing: typing the address of a form or an admin screen lands on its own screens."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    login(page, server.url, "wanfu.viewer")
    for path in ("/integrations", "/grids", "/cases/new", "/incidents/new", "/points/new"):
        page.goto(server.url + path)
        page.wait_for_load_state("networkidle")
        assert page.url.rstrip("/").endswith(("/dashboard", "/home", server.url.split("//")[1])), (path, page.url)
        assert page.get_by_test_id("key-create").count() == 0 and page.get_by_test_id("grid-new").count() == 0
    ctx.close()
