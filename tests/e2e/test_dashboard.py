"""The township dashboard in headless Chromium against the real server with the demo county: figures with
their formulas, a number opening its records, the village grid, exports, county compare, offline view.
Screenshots (PC and phone) for docs/screenshots/."""

from __future__ import annotations

import csv
import io
from urllib.parse import parse_qsl

import httpx
from openpyxl import load_workbook

from .conftest import login, shot


def _api(server, username: str, path: str, **params):
    tok = server.token(username)
    r = httpx.get(server.url + path, params=params, headers={"Authorization": f"Bearer {tok}"}, timeout=60)
    r.raise_for_status()
    return r


def _open_dashboard(page) -> None:
    page.get_by_test_id("tab-dashboard").click()  # a tab of the township and county roles
    page.get_by_test_id("fig-value-disputes_received").wait_for(timeout=30_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=dash-title]')?.textContent.includes('…')")


def _open_dashboard_again(page) -> None:
    page.get_by_test_id("fig-value-disputes_received").wait_for(timeout=30_000)


def test_dashboard_viewer_pc_admin_phone_county(server, browser):
    api = _api(server, "wanfu.viewer", "/api/v1/dashboard").json()
    received = api["figures"]["disputes_received"]["value"]
    assert received > 0  # the demo has cases this year

    # ---- a township viewer on a PC ----
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN", accept_downloads=True)
    page = ctx.new_page()
    login(page, server.url, "wanfu.viewer")
    _open_dashboard(page)
    fig = page.get_by_test_id("fig-disputes_received")
    assert fig.get_by_test_id("fig-value-disputes_received").inner_text().strip() == str(received)
    assert "受理日期在统计期内" in fig.inner_text()  # its formula on screen
    rate = page.get_by_test_id("fig-six_no_village_rate")
    assert "目标 ≥ 80.0%" in rate.inner_text()
    assert "目标 ≥ 97.0%" in page.get_by_test_id("fig-safe_household_rate").inner_text()
    # the village grid: every village of 万福镇, coloured by state
    assert page.get_by_test_id("village-tile").count() == len(api["breakdowns"]["six_no_by_village"])
    page.locator("[data-testid=chart-disputes_by_category] canvas").first.wait_for(timeout=15_000)
    shot(page, "dashboard-pc-viewer", full_page=True)
    # a number opens the records behind it, as many as it says
    fig.get_by_test_id("fig-value-disputes_received").click()
    page.get_by_test_id("drill-count").filter(has_text="共").wait_for(timeout=30_000)
    assert page.get_by_test_id("drill-count").inner_text().strip() == f"共 {received} 条记录"
    shot(page, "dashboard-drill")
    page.keyboard.press("Escape")
    page.locator(".van-popup__close-icon").click()
    # the records behind a number of another kind open their own pages: an overdue incident, named with its
    # village (not its code) and linked to the incident page
    path, _, query = api["figures"]["incidents_overdue"]["drill"].partition("?")
    overdue = {i["id"]: i for i in _api(server, "wanfu.viewer", path, **dict(parse_qsl(query)), limit=500).json()["items"]}
    assert overdue  # the demo has overdue incidents
    page.get_by_test_id("fig-value-incidents_overdue").click()
    page.get_by_test_id("drill-count").filter(has_text="共").wait_for(timeout=30_000)
    assert page.get_by_test_id("drill-item").count() == len(overdue)
    row = page.get_by_test_id("drill-item").first
    href = row.locator("a").get_attribute("href") or ""
    assert href.startswith("/incidents/") and href.removeprefix("/incidents/") in overdue
    first = overdue[href.removeprefix("/incidents/")]
    assert first["title"] in row.inner_text() and first["org_code"] not in row.inner_text()
    assert "村" in row.inner_text()  # its village by name
    shot(page, "dashboard-drill-incidents")
    row.locator("a").click()
    page.wait_for_url(f"**/incidents/{first['id']}", timeout=10_000)
    page.get_by_text(first["title"]).first.wait_for(timeout=10_000)
    page.go_back()
    _open_dashboard_again(page)
    # a village tile opens that village's six-no report of the year
    tile = page.get_by_test_id("village-tile").first
    village = api["breakdowns"]["six_no_by_village"][0]["key"]
    assert tile.get_attribute("href") == f"/six-no/{village}/{api['to'][:4]}"
    # export: the whole dashboard as XLSX, read back
    with page.expect_download() as dl:
        page.get_by_test_id("export-xlsx").click()
    assert dl.value.suggested_filename.endswith(".xlsx")
    wb = load_workbook(io.BytesIO(open(dl.value.path(), "rb").read()))
    assert wb.sheetnames[0] == "说明" and wb["说明"]["B1"].value == "万福镇"
    figs = {r[0]: r for r in wb["指标"].iter_rows(min_row=2, values_only=True)}
    assert figs["disputes_received"][2] == received
    with page.expect_download() as dl:
        page.get_by_test_id("export-disputes_by_category-csv").click()
    raw = open(dl.value.path(), "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["指标", "名称", "数量"]
    assert sum(int(r[2]) for r in rows[1:]) == received
    # offline: the last dashboard stays viewable, with its time
    ctx.set_offline(True)
    page.reload()
    page.get_by_test_id("dash-offline").wait_for(timeout=30_000)
    assert "离线" in page.get_by_test_id("dash-offline").inner_text()
    assert page.get_by_test_id("fig-value-disputes_received").inner_text().strip() == str(received)
    shot(page, "dashboard-offline")
    ctx.set_offline(False)
    ctx.close()

    # ---- a township admin on a phone: names in lists in full ----
    ctx = browser.new_context(viewport={"width": 412, "height": 860}, locale="zh-CN", is_mobile=True, has_touch=True)
    page = ctx.new_page()
    login(page, server.url, "wanfu.admin")
    _open_dashboard(page)
    page.get_by_test_id("list-overdue_cases").wait_for()
    shot(page, "dashboard-phone-admin")
    shot(page, "dashboard-phone-admin-full", full_page=True)
    ctx.close()

    # ---- a county admin: townships side by side ----
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    login(page, server.url, "county.admin")
    _open_dashboard(page)
    cmp = page.get_by_test_id("dash-compare")
    cmp.wait_for(timeout=60_000)
    assert "万福镇" in cmp.inner_text() and "唐集镇" in cmp.inner_text()
    shot(page, "dashboard-county-compare", full_page=True)
    ctx.close()

    # ---- the viewer and the county admin on a phone too ----
    for username in ("wanfu.viewer", "county.admin"):
        ctx = browser.new_context(viewport={"width": 412, "height": 860}, locale="zh-CN", is_mobile=True,
                                  has_touch=True)
        page = ctx.new_page()
        login(page, server.url, username)
        _open_dashboard(page)
        if username == "county.admin":
            page.get_by_test_id("dash-compare").wait_for(timeout=60_000)
        # nothing wider than the phone but the compare table, which scrolls inside its own box
        assert page.evaluate("document.documentElement.scrollWidth") <= 412
        shot(page, f"dashboard-phone-{username.split('.')[1]}-{username.split('.')[0]}")
        ctx.close()
