"""Grid work end to end (issue 7), headless Chromium against the real server: a patrol recorded offline with
a mocked position and a photo, the tab closed mid-patrol and reopened with its route, synced when back
online; a dispute incident turned into a mediation case; a roster import with one bad row."""

from __future__ import annotations

import time
import uuid

from .conftest import shot, wait_synced
from .fieldwork import HOME, WANFU_CUN, api, route_points, sign_in, wait_record
from .test_field_app import big_photo


def grid_context(browser):
    ctx = browser.new_context(viewport={"width": 412, "height": 860}, device_scale_factor=1, locale="zh-CN",
                              service_workers="allow", permissions=["geolocation"],
                              geolocation={"latitude": HOME[0], "longitude": HOME[1], "accuracy": 8})
    return ctx


STEPS = [(0.0002, 0.0), (0.0001, 0.00025), (0.0002, 0.0001), (0.0, 0.0003), (-0.00015, 0.0002)]


def walk(context, page, steps: int, start: tuple[float, float]) -> tuple[float, float]:
    """Moves the mocked position along village lanes in steps of ~20–30 m; the app keeps each fix that moved ≥ 5 m."""
    lat, lon = start
    for i in range(steps):
        before = route_points(page)
        dlat, dlon = STEPS[(i + route_points(page)) % len(STEPS)]
        lat, lon = lat + dlat, lon + dlon
        context.set_geolocation({"latitude": lat, "longitude": lon, "accuracy": 8})
        deadline = time.time() + 10
        while route_points(page) <= before:
            assert time.time() < deadline, "the route did not grow after the position moved"
            time.sleep(0.2)
    return lat, lon


def test_patrol_offline_closed_midway_resumed_and_synced(server, browser):
    context = grid_context(browser)
    try:
        page = context.new_page()
        sign_in(page, server.url, "wanfucun.grid")
        page.get_by_test_id("home-start-patrol").wait_for()
        shot(page, "grid-worker-home")

        context.set_offline(True)
        page.get_by_test_id("home-start-patrol").click()
        page.get_by_test_id("patrol-grid").locator("[data-code]").first.click()
        page.get_by_test_id("patrol-go").click()
        page.get_by_test_id("patrol-state").wait_for()
        patrol_id = page.url.rstrip("/").split("/")[-1]
        page.wait_for_function("() => document.querySelector('[data-testid=route]').dataset.points >= 1", timeout=15_000)
        pos = walk(context, page, 3, HOME)
        page.get_by_test_id("check-fire_safety").locator("[data-v=ok]").click()
        page.get_by_test_id("check-building_safety").locator("[data-v=issue]").click()
        page.get_by_test_id("patrol-notes").locator("textarea").fill("东庄危房一处，已告知户主。")
        page.get_by_test_id("patrol-notes").locator("textarea").blur()
        page.locator("[data-testid=photo-input]").set_input_files(
            files=[{"name": "hazard.jpg", "mimeType": "image/jpeg", "buffer": big_photo()}])
        page.locator(".cz-photo").first.wait_for(timeout=15_000)
        kept = route_points(page)
        assert kept >= 4
        time.sleep(3.5)  # the route is saved to IndexedDB every 3 s
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, "patrol-recording")

        # the tab is closed mid-patrol (no goodbye); a new one opens offline and resumes with the route
        page.close()
        page = context.new_page()
        page.goto(server.url + "/home")
        page.get_by_test_id("home-continue-patrol").click()
        page.get_by_test_id("patrol-state").wait_for()
        page.wait_for_function(f"() => document.querySelector('[data-testid=route]').dataset.points >= {kept}", timeout=15_000)
        assert page.url.endswith(patrol_id)
        pos = walk(context, page, 2, pos)
        assert route_points(page) >= kept + 2
        assert page.get_by_test_id("check-fire_safety").locator("[data-v=ok]").get_attribute("aria-checked") == "true"
        page.get_by_test_id("patrol-end").click()
        page.wait_for_function("() => document.querySelector('[data-testid=patrol-state]').textContent.includes('已完成')")
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, "patrol-ended")
        final_points = route_points(page)

        context.set_offline(False)
        wait_synced(page, timeout=60_000)
        rec = wait_record(server, "wanfucun.admin", patrol_id, lambda r: r.get("state") == "completed", page)
        assert len(rec["route"]) == final_points
        assert rec["ended_at"] >= rec["started_at"]
        assert {c["item"]: c["ok"] for c in rec["checklist"]} == {"fire_safety": True, "building_safety": False}
        assert rec["notes"].startswith("东庄危房")
        assert rec["distance_m"] > 100
        assert len(rec["attachment_ids"]) == 1
        deadline = time.time() + 30
        while api(server, "wanfucun.grid", "GET", f"/api/v1/attachments/{rec['attachment_ids'][0]}").status_code != 200:
            assert time.time() < deadline, "the patrol photo was not uploaded"
            page.evaluate("window.__cunzhiSync && window.__cunzhiSync()")
            time.sleep(1)
    finally:
        context.close()


def test_location_refused_places_typed(server, browser):
    context = browser.new_context(viewport={"width": 412, "height": 860}, locale="zh-CN", service_workers="allow")
    try:
        page = context.new_page()
        sign_in(page, server.url, "wanfucun.grid")
        page.goto(server.url + "/patrols/new")
        page.get_by_test_id("patrol-grid").locator("[data-code]").first.click()
        page.get_by_test_id("patrol-go").click()
        # no permission granted: the browser refuses, the app asks for the places instead
        page.wait_for_function("() => document.querySelector('[data-testid=location-state]')?.textContent.includes('手动填写')",
                               timeout=15_000)
        page.get_by_test_id("place-input").locator("input").fill("东庄 12 号")
        page.get_by_test_id("place-add").click()
        page.get_by_test_id("place-item").first.wait_for()
        patrol_id = page.url.rstrip("/").split("/")[-1]
        page.get_by_test_id("patrol-end").click()
        rec = wait_record(server, "wanfucun.admin", patrol_id, lambda r: r.get("state") == "completed", page)
        assert rec["places_visited"] == ["东庄 12 号"]
        assert rec["route"] == []
    finally:
        context.close()


def test_dispute_incident_becomes_a_case(server, context):
    hh = api(server, "wanfucun.admin", "GET", "/api/v1/households", params={"org_code": WANFU_CUN, "limit": 1}).json()
    head = hh["items"][0]["head_name"]
    page = context.new_page()
    sign_in(page, server.url, "wanfucun.grid")
    title = f"两户因排水沟争吵 {uuid.uuid4().hex[:6]}"
    page.goto(server.url + "/incidents/new")
    page.get_by_test_id("incident-type").locator("[data-code=dispute]").click()
    page.get_by_test_id("incident-severity").locator("[data-code=general]").click()
    page.get_by_test_id("incident-title").locator("input").fill(title)
    page.get_by_test_id("incident-place").locator("input").fill("西庄路口")
    page.get_by_test_id("household-search").fill(head)
    page.get_by_test_id("household-option").first.click()
    page.get_by_test_id("household-chosen").wait_for()
    shot(page, "incident-new", full_page=True)
    page.get_by_test_id("save-incident").click()
    page.get_by_test_id("incident-detail-title").wait_for()
    incident_id = page.url.rstrip("/").split("/")[-1]

    # one tap: the case form opens prefilled from the incident
    page.get_by_test_id("incident-to-case").click()
    page.get_by_test_id("case-title").wait_for()
    assert page.get_by_test_id("case-title").locator("input").input_value() == title
    assert page.get_by_test_id("party-name-0").locator("input").input_value() == head
    assert page.get_by_test_id("source").locator("[data-code=patrol]").get_attribute("aria-checked") == "true"
    page.get_by_test_id("category").locator("[data-code=neighbor]").click()
    page.get_by_test_id("risk").locator("[data-code=blue]").click()
    page.get_by_test_id("save-case").click()
    page.get_by_test_id("detail-title").wait_for()
    case_id = page.url.rstrip("/").split("/")[-1]
    wait_synced(page)

    case = wait_record(server, "wanfucun.admin", case_id, lambda r: r.get("case_number"), page)
    assert case["incident_id"] == incident_id and case["source"] == "patrol" and case["place"] == "西庄路口"
    inc = wait_record(server, "wanfucun.admin", incident_id, lambda r: r.get("case_id") == case_id, page)
    assert inc["state"] == "handling"
    # the derived link reaches the phone: the incident shows its case
    page.goto(server.url + f"/incidents/{incident_id}")
    page.get_by_test_id("incident-case-link").wait_for(timeout=30_000)
    assert "处" in page.get_by_test_id("record-state").inner_text()
    shot(page, "incident-to-case")


def test_roster_import_with_one_bad_row(server, context):
    tag = uuid.uuid4().hex[:4]
    csv = ("户主姓名,住址,人口,联系电话,身份证号,网格\n"
           f"赵导入{tag},南庄 1 号,3,13812345678,,\n"
           f"钱导入{tag},南庄 2 号,0,,,\n"  # members 0: the bad row (row 3 of the file)
           f"孙导入{tag},南庄 3 号,5,,,\n").encode()
    page = context.new_page()
    sign_in(page, server.url, "wanfucun.admin")
    page.goto(server.url + "/households/import")
    page.get_by_test_id("import-file").set_input_files(files=[{"name": "roster.csv", "mimeType": "text/csv", "buffer": csv}])
    page.get_by_test_id("import-check").click()
    page.get_by_test_id("import-result").wait_for(timeout=30_000)
    rows = page.get_by_test_id("import-error-row")
    assert rows.count() == 1
    assert "3" in rows.first.inner_text() and "人口" in rows.first.inner_text()
    assert page.get_by_test_id("import-valid").inner_text().strip().endswith("2")
    shot(page, "roster-import-dry-run", full_page=True)
    page.get_by_test_id("import-confirm").click()
    page.wait_for_function("() => document.body.textContent.includes('已导入')", timeout=30_000)

    wait_synced(page)
    page.goto(server.url + "/households")
    page.get_by_test_id("households-search").fill(f"导入{tag}")
    deadline = time.time() + 30
    while page.get_by_test_id("household-row").count() != 2:
        assert time.time() < deadline, "the imported households did not reach the phone"
        page.evaluate("window.__cunzhiSync && window.__cunzhiSync()")
        time.sleep(1)
    listed = api(server, "wanfucun.admin", "GET", "/api/v1/households", params={"org_code": WANFU_CUN, "limit": 500}).json()
    names = [h["head_name"] for h in listed["items"] if tag in h["head_name"]]
    assert sorted(names) == sorted([f"赵导入{tag}", f"孙导入{tag}"])


def test_incident_assigned_handled_resolved_verified(server, browser):
    """The village admin assigns; the assignee (a grid worker) starts handling and resolves; the admin verifies."""
    admin_ctx = browser.new_context(viewport={"width": 412, "height": 860}, locale="zh-CN", service_workers="allow")
    grid_ctx = browser.new_context(viewport={"width": 412, "height": 860}, locale="zh-CN", service_workers="allow")
    try:
        admin, grid = admin_ctx.new_page(), grid_ctx.new_page()
        sign_in(admin, server.url, "wanfucun.admin")
        title = f"路灯损坏 {uuid.uuid4().hex[:6]}"
        admin.goto(server.url + "/incidents/new")
        admin.get_by_test_id("incident-type").locator("[data-code=safety_hazard]").click()
        admin.get_by_test_id("incident-severity").locator("[data-code=serious]").click()
        admin.get_by_test_id("incident-title").locator("input").fill(title)
        admin.get_by_test_id("save-incident").click()
        admin.get_by_test_id("incident-detail-title").wait_for()
        iid = admin.url.rstrip("/").split("/")[-1]
        assert admin.get_by_test_id("move-handling").count() == 0  # only an assignee starts handling
        admin.get_by_test_id("move-assigned").click()
        admin.get_by_test_id("assignee-options").get_by_role("radio", name="刘建国（万福村网格员）").click()
        admin.get_by_test_id("save-assign").click()
        admin.wait_for_function("() => document.querySelector('[data-testid=record-state]').textContent.includes('指派')")
        wait_synced(admin)
        wait_record(server, "wanfucun.admin", iid, lambda r: r.get("state") == "assigned", admin)

        sign_in(grid, server.url, "wanfucun.grid")
        row = grid.get_by_test_id("home-waiting").get_by_test_id("incident-row").filter(has_text=title)
        row.first.wait_for(timeout=30_000)
        row.first.click()
        assert grid.get_by_test_id("move-cancelled").count() == 0  # cancelling is the admins'
        grid.get_by_test_id("move-handling").click()
        grid.get_by_test_id("move-resolved").click()
        grid.get_by_test_id("incident-resolution").locator("textarea").fill("已联系供电所更换灯泡。")
        grid.get_by_test_id("save-resolution").click()
        grid.wait_for_function("() => !document.querySelector('[data-testid=move-resolved]')")
        wait_synced(grid)
        wait_record(server, "wanfucun.admin", iid, lambda r: r.get("state") == "resolved", grid)

        admin.reload()
        deadline = time.time() + 30
        while not admin.get_by_test_id("move-verified").count():
            assert time.time() < deadline, "the resolved incident did not reach the admin"
            admin.evaluate("window.__cunzhiSync && window.__cunzhiSync()")
            time.sleep(1)
        admin.get_by_test_id("move-verified").click()
        wait_synced(admin)
        rec = wait_record(server, "wanfucun.admin", iid, lambda r: r.get("state") == "verified", admin)
        assert rec["resolution"].startswith("已联系") and rec["deadline_color"] == "green"
    finally:
        admin_ctx.close()
        grid_ctx.close()
