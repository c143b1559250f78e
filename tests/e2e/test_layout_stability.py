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
