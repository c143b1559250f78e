"""axe-core (from frontend/node_modules) on the field screens: no serious or critical violations."""

from __future__ import annotations

import pytest

from .conftest import FRONTEND, login

AXE = FRONTEND / "node_modules" / "axe-core" / "axe.min.js"


def violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["html"][:120] for n in v["nodes"][:3]]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.skipif(not AXE.exists(), reason="npm ci in frontend/ first")
def test_field_screens_have_no_serious_accessibility_violations(server, context):
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
