"""The sign-in page: the first screen of a new phone, on a slow network (Lighthouse mobile).

It paints from the entry's own requests (no second round of chunks, no stylesheet request: the entry's CSS is
inlined into index.html), and its plain form still asks for what is missing and shows the server's refusal."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from .conftest import FRONTEND


def test_sign_in_page_needs_no_second_round_of_requests(server, context):
    index = (FRONTEND / "dist" / "index.html").read_text()
    named = set(re.findall(r'(?:src|href)="(/assets/[^"]+)"', index))
    page = context.new_page()
    loaded: list[tuple[str, str]] = []
    page.on("request", lambda r: loaded.append((r.resource_type, urlparse(r.url).path))
            if r.resource_type in ("script", "stylesheet") else None)
    page.goto(server.url + "/login")
    page.get_by_test_id("login-submit").wait_for()
    page.wait_for_load_state("networkidle")
    assert "<style>" in index and not any(kind == "stylesheet" for kind, _ in loaded), loaded
    # the service worker's registration (workbox-window) is loaded when the page has drawn; nothing else is
    later = [path for _, path in loaded if path not in named and not path.startswith("/assets/workbox-window")]
    assert not later, later
    assert page.get_by_label("用户名").is_visible() and page.get_by_label("密码").is_visible()


def test_sign_in_form_asks_for_missing_fields_and_shows_the_refusal(server, context):
    page = context.new_page()
    page.goto(server.url + "/login")
    submit = page.get_by_test_id("login-submit")
    submit.click()
    username, password = page.get_by_label("用户名"), page.get_by_label("密码")
    assert page.locator(".field-error").all_inner_texts() == ["必填", "必填"]
    assert username.get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "login-username"
    username.fill("wanfucun.mediator")
    assert page.locator(".field-error").all_inner_texts() == ["必填"]  # typing clears its own message
    submit.click()
    assert page.evaluate("document.activeElement.id") == "login-password"
    assert page.get_by_test_id("login-error").count() == 0  # nothing was sent
    password.fill("not-the-password")
    submit.click()
    page.get_by_test_id("login-error").wait_for()
    assert page.get_by_test_id("login-error").inner_text().strip()
    assert "/login" in page.url
    password.fill("cunzhi-demo")
    password.press("Enter")
    page.wait_for_url(lambda u: "/login" not in u, timeout=30_000)
