"""The home screens do not jump while they load (Lighthouse's cumulative layout shift, part of the performance
score): each role's home opened cold in a new tab with the CPU slowed 4× (budgets.md, "Phone"), every layout
shift the page reports is added up, as Lighthouse does for a load without input."""

from __future__ import annotations

import pytest

from .fieldwork import sign_in

OBSERVE = """window.__czShifts = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (!e.hadRecentInput) window.__czShifts.push({value: e.value,
      nodes: e.sources.map((s) => s.node ? (s.node.outerHTML || s.node.nodeName).slice(0, 80) : '')})
  }
}).observe({type: 'layout-shift', buffered: true})"""


@pytest.mark.parametrize("username", ["wanfucun.grid", "wanfucun.mediator", "wanfucun.admin", "wanfu.admin"])
def test_home_screen_does_not_shift_while_it_loads(server, browser, username):
    ctx = browser.new_context(viewport={"width": 412, "height": 823}, device_scale_factor=1.75, is_mobile=True,
                              has_touch=True, locale="zh-CN")
    try:
        sign_in(ctx.new_page(), server.url, username)
        ctx.add_init_script(OBSERVE)
        page = ctx.new_page()
        ctx.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": 4})
        page.goto(server.url + "/home")
        page.get_by_test_id("more-links").wait_for(timeout=30_000)
        page.wait_for_timeout(1500)  # what loads after the links (counts, rows) has drawn by then
        shifts = page.evaluate("window.__czShifts")
        total = sum(s["value"] for s in shifts)
        # Lighthouse counts a CLS up to 0.1 as good; the sync bar's own text updates add ~0.001 each
        assert total < 0.05, shifts
    finally:
        ctx.close()


@pytest.mark.parametrize("username", ["wanfucun.mediator", "wanfu.viewer"])
def test_case_list_search_and_filters_fit_a_phone_in_both_languages(server, browser, username):
    """Every search and filter control of the case list lies inside a 412 px wide screen, in Chinese and in
    English (township staff have one more, the village filter: the 已超期 chip was half off the screen)."""
    ctx = browser.new_context(viewport={"width": 412, "height": 860}, is_mobile=True, has_touch=True, locale="zh-CN")
    try:
        page = ctx.new_page()
        sign_in(page, server.url, username)
        outside = {}
        for lang in ["zh-CN", "en"]:
            page.get_by_test_id("tab-me").click()
            page.get_by_test_id(f"lang-{lang}").click()
            page.get_by_test_id("tab-cases").click()
            page.get_by_test_id("case-row").first.wait_for()
            controls = page.locator("[data-testid=case-search] input, [data-testid=case-search] select, "
                                    ".cz-filters select, .cz-filters button")
            assert controls.count() >= (6 if username == "wanfu.viewer" else 5)
            for i in range(controls.count()):
                box = controls.nth(i).bounding_box()
                if box["x"] < 0 or box["x"] + box["width"] > 412:
                    outside[f"{lang} {controls.nth(i).get_attribute('data-testid') or i}"] = box
        page.get_by_test_id("tab-me").click()
        page.get_by_test_id("lang-zh-CN").click()
        assert not outside, outside
    finally:
        ctx.close()
