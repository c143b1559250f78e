"""Languages: zh-CN is in the main chunk, English is its own chunk, loaded only when chosen (a Chinese phone
never downloads or builds the English messages), and a phone set to English opens in English after a restart."""

from __future__ import annotations

from urllib.parse import urlparse

from .conftest import login


def test_english_loads_only_when_chosen_and_stays_after_a_restart(server, context):
    page = context.new_page()
    scripts: list[str] = []
    page.on("request", lambda r: scripts.append(urlparse(r.url).path) if r.resource_type == "script" else None)
    login(page, server.url)
    assert page.get_by_test_id("case-search").locator("input").get_attribute("placeholder") == "搜索当事人或案情"
    assert not [s for s in scripts if s.startswith("/assets/en-")], scripts

    page.get_by_test_id("tab-me").click()
    page.get_by_test_id("lang-en").click()
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert [s for s in scripts if s.startswith("/assets/en-")]
    page.get_by_test_id("tab-cases").click()
    assert page.get_by_test_id("case-search").locator("input").get_attribute("placeholder") == "Search party or summary"

    # a restart: the first screen is drawn in English, not in Chinese and then switched
    restarted = context.new_page()
    restarted.add_init_script("""window.__czFirstTexts = []; new MutationObserver(() => {
        const el = document.querySelector('[data-testid=case-search] input');
        if (el && !window.__czFirstTexts.length) window.__czFirstTexts.push(el.placeholder) })
        .observe(document, {subtree: true, childList: true})""")
    restarted.goto(server.url + "/")
    restarted.get_by_test_id("case-row").first.wait_for()
    assert restarted.evaluate("window.__czFirstTexts") == ["Search party or summary"]
    restarted.get_by_test_id("tab-me").click()
    restarted.get_by_test_id("lang-zh-CN").click()
    restarted.wait_for_function("() => document.documentElement.lang === 'zh-CN'")
    restarted.close()
