"""The e2e screenshots go to test-results/ (git-ignored): a test run must not rewrite the README's pictures in
docs/screenshots/, which change only with CUNZHI_UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

from .conftest import DOC_SCREENSHOTS, REPO, shot


def test_screenshots_leave_the_docs_alone_unless_asked(server, context, monkeypatch):
    monkeypatch.delenv("CUNZHI_UPDATE_SCREENSHOTS", raising=False)
    page = context.new_page()
    page.goto(server.url + "/login")
    page.get_by_test_id("login-submit").wait_for()
    before = {p.name: p.stat().st_mtime_ns for p in DOC_SCREENSHOTS.glob("*.png")}
    out = shot(page, "login")
    assert out == REPO / "test-results" / "screenshots" / "login.png" and out.stat().st_size > 0
    assert {p.name: p.stat().st_mtime_ns for p in DOC_SCREENSHOTS.glob("*.png")} == before
