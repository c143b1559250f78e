"""A new build deployed on the server shows the update prompt; the app updates only on a tap."""

from __future__ import annotations

import shutil


from .conftest import Server, build_frontend, login



def test_update_prompt_after_new_build(tmp_path, browser):
    v1 = build_frontend(tmp_path / "build-v1", version="e2e-v1")
    v2 = build_frontend(tmp_path / "build-v2", version="e2e-v2")
    served = tmp_path / "served"
    shutil.copytree(v1, served)
    srv = Server(tmp_path, served).start()
    ctx = browser.new_context(viewport={"width": 412, "height": 860}, locale="zh-CN")
    try:
        page = ctx.new_page()
        login(page, srv.url)
        assert page.evaluate("window.__CUNZHI_VERSION__") == "e2e-v1"
        assert page.get_by_test_id("update-prompt").count() == 0

        # deploy the new build
        shutil.rmtree(served)
        shutil.copytree(v2, served)
        page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r && r.update())")
        page.get_by_test_id("update-prompt").wait_for(timeout=30_000)
        # still the old version until the person taps "update"
        assert page.evaluate("window.__CUNZHI_VERSION__") == "e2e-v1"
        page.get_by_test_id("update-now").click()
        page.wait_for_function("() => window.__CUNZHI_VERSION__ === 'e2e-v2'", timeout=30_000)
        page.get_by_test_id("case-row").first.wait_for(timeout=30_000)
    finally:
        ctx.close()
        srv.stop()
