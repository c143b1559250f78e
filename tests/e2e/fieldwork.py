"""Helpers of the grid-work, six-no, nominations and points end-to-end tests (f78)."""

from __future__ import annotations

import time

import httpx

from .conftest import DEMO_PASSWORD, wait_synced

WANFU_CUN = "340321108200"
HOME = (32.9563, 117.2043)  # 万福镇, roughly (WGS-84)


def sign_in(page, base_url: str, username: str) -> None:
    """Signs in and waits for the role's first screen, an active service worker and a first sync."""
    page.goto(base_url + "/login")
    page.get_by_test_id("login-username").locator("input").fill(username)
    page.get_by_test_id("login-password").locator("input").fill(DEMO_PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_selector("[data-testid=home-title], [data-testid=case-list]", timeout=30_000)
    page.wait_for_function("() => navigator.serviceWorker.ready.then(() => true)", timeout=30_000)
    wait_synced(page, timeout=60_000)


def api(server, username: str, method: str, path: str, **kw) -> httpx.Response:
    tok = server.token(username)
    return httpx.request(method, server.url + path, headers={"Authorization": f"Bearer {tok}"}, timeout=30, **kw)


def wait_record(server, username: str, record_id: str, ok, page=None, timeout: float = 45) -> dict:
    """Polls the server's feed (as `username`) until the record satisfies `ok`; nudges the page's sync."""
    deadline = time.time() + timeout
    rec: dict | None = None
    while time.time() < deadline:
        rec = server.pull_all(username).get(record_id)
        if rec and ok(rec):
            return rec
        if page is not None:
            page.evaluate("window.__cunzhiSync && window.__cunzhiSync()")
        time.sleep(1)
    raise AssertionError(f"record {record_id} not as expected on the server: {rec}")


def route_points(page) -> int:
    return int(page.get_by_test_id("route").get_attribute("data-points") or "0")
