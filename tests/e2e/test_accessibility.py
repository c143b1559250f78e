"""axe-core (from frontend/node_modules) on the field screens of each role: no violation of any impact.

Lighthouse's accessibility score drops for a violation of any impact (a "minor" one such as a link given
role="status" counts as much as a missing label), so every impact fails here, not only serious ones."""

from __future__ import annotations

import pytest

from .conftest import FRONTEND, login

AXE = FRONTEND / "node_modules" / "axe-core" / "axe.min.js"


def violations(page) -> list[dict]:
    # evaluated through DevTools rather than added as an inline <script>: the app's CSP (script-src 'self')
    # rightly blocks inline scripts
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())  # the file is one expression (a UMD wrapper) that sets window.axe
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["html"][:120] for n in v["nodes"][:3]]}
            for v in result["violations"]]


@pytest.mark.skipif(not AXE.exists(), reason="npm ci in frontend/ first")
def test_field_screens_have_no_accessibility_violations(server, context):
    page = context.new_page()
    page.goto(server.url + "/login")
    page.get_by_test_id("login-submit").wait_for()
    found = {"login": violations(page)}
    login(page, server.url)
    found["case list"] = violations(page)
    page.get_by_test_id("case-row").first.click()
    page.get_by_test_id("detail-title").wait_for()
    found["case detail"] = violations(page)
    page.goto(server.url + "/cases/new")
    page.get_by_test_id("case-title").wait_for()
    found["new case"] = violations(page)
    page.goto(server.url + "/sync")
    page.get_by_test_id("sync-now").wait_for()
    found["sync"] = violations(page)
    page.goto(server.url + "/me")
    page.get_by_test_id("me-page").wait_for()
    found["me"] = violations(page)
    assert not any(found.values()), found


@pytest.mark.skipif(not AXE.exists(), reason="npm ci in frontend/ first")
def test_grid_and_township_screens_have_no_accessibility_violations(server, browser):
    found = {}
    for user, screens in [("wanfucun.grid", [("/home", "home-title")]),
                          ("wanfu.admin", [("/home", "home-title"), ("/admin/users", "admin-user-wanfu.viewer")])]:
        ctx = browser.new_context(viewport={"width": 412, "height": 860}, is_mobile=True, has_touch=True, locale="zh-CN")
        page = ctx.new_page()
        login(page, server.url, user)
        for path, ready in screens:
            page.goto(server.url + path)
            page.get_by_test_id(ready).first.wait_for(timeout=30_000)
            found[f"{user} {path}"] = violations(page)
        ctx.close()
    assert not any(found.values()), found


def test_screens_log_no_errors_and_reach_no_other_host(server, context):
    """Lighthouse's best practices fail on any console error (and on any http:// URL of another host): e.g.
    Vant's icon font naming a CDN fallback that the app's CSP refuses, logged on every page with an icon."""
    errors: list[str] = []
    outside: list[str] = []
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((server.url, "data:", "blob:")) else None)
    page.goto(server.url + "/login")
    page.get_by_test_id("login-submit").wait_for()
    page.wait_for_load_state("networkidle")
    login(page, server.url)
    page.get_by_test_id("case-row").first.click()
    page.get_by_test_id("detail-title").wait_for()
    page.goto(server.url + "/me")
    page.get_by_test_id("me-page").wait_for()
    page.wait_for_load_state("networkidle")
    assert not errors and not outside, (errors, outside)
