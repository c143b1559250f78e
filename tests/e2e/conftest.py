"""End-to-end fixtures: the real server (demo data, temp SQLite) and headless Chromium.

Needs: the `cunzhi` package installed, `playwright` (Python) and Chromium at /usr/bin/chromium
(or CHROMIUM_PATH). Playwright's own browser download is not used.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
FRONTEND = REPO / "frontend"
# every run writes its screenshots under test-results/ (git-ignored); the README's pictures in docs/screenshots/
# change only when asked (CUNZHI_UPDATE_SCREENSHOTS=1), so a test run leaves the tree clean
SCREENSHOTS = REPO / "test-results" / "screenshots"
DOC_SCREENSHOTS = REPO / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
DEMO_PASSWORD = "cunzhi-demo"


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(path).exists():
        pytest.fail(f"Chromium not found at {path}: apt-get install -y chromium, or set CHROMIUM_PATH")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_frontend(out_dir: Path, version: str | None = None) -> Path:
    """Builds the PWA into out_dir (npm ci first when node_modules is missing)."""
    if not (FRONTEND / "node_modules").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=FRONTEND, check=True)
    env = dict(os.environ)
    if version:
        env["CUNZHI_APP_VERSION"] = version
    subprocess.run(["node", "scripts/gen-icons.mjs"], cwd=FRONTEND, check=True)
    subprocess.run(["npx", "vite", "build", "--outDir", str(out_dir), "--emptyOutDir"], cwd=FRONTEND, env=env,
                   check=True, stdout=subprocess.DEVNULL)
    return out_dir


class Server:
    def __init__(self, tmp: Path, frontend_dir: Path):
        self.tmp = tmp
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ)
        self.env.update({
            "CUNZHI_DATABASE_URL": f"sqlite:///{tmp}/e2e.db",
            "CUNZHI_DATA_DIR": str(tmp),
            "CUNZHI_DEMO": "1",
            "CUNZHI_FRONTEND_DIR": str(frontend_dir),
        })
        self.proc: subprocess.Popen | None = None

    def start(self) -> Server:
        subprocess.run([sys.executable, "-m", "cunzhi", "demo"], env=self.env, check=True, cwd=self.tmp,
                       stdout=subprocess.DEVNULL)
        self.log = open(self.tmp / "serve.log", "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "cunzhi", "serve", "--port", str(self.port)],
                                     env=self.env, cwd=self.tmp, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError((self.tmp / "serve.log").read_text())
            try:
                if httpx.get(self.url + "/", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if getattr(self, "log", None):
            self.log.close()

    # --- API helpers for assertions -------------------------------------------------------
    def token(self, username: str, client_id: str = "00000000-0000-4000-8000-0000000000e2") -> str:
        r = httpx.post(self.url + "/api/v1/auth/token",
                       data={"username": username, "password": DEMO_PASSWORD, "client_id": client_id})
        r.raise_for_status()
        return r.json()["access_token"]

    def pull_all(self, username: str) -> dict[str, dict]:
        tok = self.token(username)
        out: dict[str, dict] = {}
        cursor = ""
        while True:
            r = httpx.get(self.url + "/api/v1/sync/pull", params={"cursor": cursor, "limit": 1000},
                          headers={"Authorization": f"Bearer {tok}"})
            r.raise_for_status()
            body = r.json()
            for ch in body["changes"]:
                out[ch["record"]["id"]] = ch["record"]
            cursor = body["cursor"]
            if not body["has_more"]:
                return out


@pytest.fixture(scope="session")
def frontend_dist(tmp_path_factory) -> Path:
    dist = FRONTEND / "dist"
    if os.environ.get("CUNZHI_E2E_REBUILD") == "1" or not (dist / "index.html").exists():
        build_frontend(dist)
    return dist


@pytest.fixture(scope="session")
def server(tmp_path_factory, frontend_dist):
    srv = Server(tmp_path_factory.mktemp("e2e-server"), frontend_dist).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 412, "height": 860}, device_scale_factor=1, locale="zh-CN",
                              service_workers="allow")
    yield ctx
    ctx.close()


def _has_cjk_font() -> bool:
    try:
        out = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(out.strip())


def shot(page, name: str, full_page: bool = False) -> Path:
    """Saves test-results/screenshots/NAME.png; with CUNZHI_UPDATE_SCREENSHOTS=1 also docs/screenshots/NAME.png,
    the README's picture (only where Chinese can be drawn, fonts-noto-cjk: elsewhere it would be boxes)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:  # no toast over the picture
        page.locator(".van-toast").first.wait_for(state="hidden", timeout=5_000)
    except Exception:  # noqa: BLE001 - the toast may be gone already, or never shown
        pass
    out = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(out), full_page=full_page)
    if os.environ.get("CUNZHI_UPDATE_SCREENSHOTS") == "1":
        if not _has_cjk_font():
            raise RuntimeError("CUNZHI_UPDATE_SCREENSHOTS=1 needs a Chinese font (fonts-noto-cjk): the pictures "
                               "would show boxes")
        shutil.copyfile(out, DOC_SCREENSHOTS / out.name)
    return out


def login(page, base_url: str, username: str = "wanfucun.mediator", screenshot: str | None = None) -> None:
    page.goto(base_url + "/login")
    page.get_by_test_id("login-username").locator("input").fill(username)
    page.get_by_test_id("login-password").locator("input").fill(DEMO_PASSWORD)
    if screenshot:
        shot(page, screenshot)
    page.get_by_test_id("login-submit").click()
    # each role's first screen: the case list, its home screen, or (county admin) the dashboard
    page.wait_for_selector("[data-testid=case-row], [data-testid=home-title], [data-testid=dash-title]", timeout=30_000)
    # the service worker must be active before the app can start offline
    page.wait_for_function("() => navigator.serviceWorker.ready.then(() => true)", timeout=30_000)
    wait_synced(page)


def wait_synced(page, timeout: float = 30_000) -> None:
    page.wait_for_function(
        "() => { const el = document.querySelector('[data-testid=sync-pending]');"
        " return el && (el.textContent.includes('已全部同步') || el.textContent.includes('All synced')) }",
        timeout=timeout)


def sync_now(page) -> None:
    page.evaluate("window.__cunzhiSync && window.__cunzhiSync()")


__all__ = ["Server", "build_frontend", "login", "shot", "wait_synced", "sync_now", "REPO", "FRONTEND"]
