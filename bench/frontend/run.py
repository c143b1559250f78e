"""Phone budgets of the PWA (docs: shared budgets "Phone"), one command:

    python bench/frontend/run.py [--cases 5000] [--runs 5] [--lighthouse | --lighthouse-only]

Starts the real server on a temp SQLite database with the demo, adds N cases for 万福村 through
the sync API, lets headless Chromium (mobile viewport) sign in and pull them, then measures:

1. gzip bytes of the JavaScript + CSS the first field screen (the case list) loads;
2. cold start offline to an interactive case list, with 4x CPU slowdown (CDP
   Emulation.setCPUThrottlingRate), median of --runs;
3. list interactions over the N local cases (status filter, category filter, overdue, search,
   scroll), each from the moment the filter takes effect to rows drawn, at 4x slowdown;
4. with --lighthouse: Lighthouse 11 (mobile preset) on the sign-in page without a session, then signed in
   (same browser, storage kept) on the mediator's case list and the grid worker's home screen.

Prints a table with each budget and writes bench/frontend/results.json.
Needs: the cunzhi package, playwright (Python), Chromium at /usr/bin/chromium (or CHROMIUM_PATH),
a built frontend/dist (built here when missing).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlparse

import httpx

REPO = Path(__file__).resolve().parents[2]
DIST = REPO / "frontend" / "dist"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
USER = "wanfucun.mediator"
PASSWORD = "cunzhi-demo"
ORG = "340321108200"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tmp: Path) -> tuple[subprocess.Popen, str]:
    env = dict(os.environ, CUNZHI_DATABASE_URL=f"sqlite:///{tmp}/bench.db", CUNZHI_DATA_DIR=str(tmp),
               CUNZHI_DEMO="1", CUNZHI_FRONTEND_DIR=str(DIST))
    subprocess.run([sys.executable, "-m", "cunzhi", "demo"], env=env, check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    log = open(tmp / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "cunzhi", "serve", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(url + "/", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError("server did not start")


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
KINDS = [("neighbor", "邻里{a}与{b}噪音纠纷"), ("homestead", "{a}与{b}宅基地边界纠纷"),
         ("labor_wage", "{a}追讨{b}拖欠工资纠纷"), ("marriage_family", "{a}与{b}赡养纠纷"),
         ("land_contract", "{a}与{b}土地承包纠纷"), ("damages", "{a}与{b}损害赔偿纠纷")]


def seed_cases(url: str, n: int) -> None:
    client_id = str(uuid.uuid4())
    tok = httpx.post(url + "/api/v1/auth/token", data={"username": USER, "password": PASSWORD,
                                                       "client_id": client_id}).json()["access_token"]
    rnd = random.Random(7)
    today = date.today()
    muts = []
    for i in range(n):
        a = rnd.choice(SURNAMES) + rnd.choice("建国秀英志强丽华明德玉兰")
        b = rnd.choice(SURNAMES) + rnd.choice("春生桂芳海涛红梅永福")
        cat, tpl = rnd.choice(KINDS)
        muts.append({
            "mutation_id": str(uuid.uuid4()), "entity": "mediation_case", "op": "upsert", "record_id": str(uuid.uuid4()),
            "base_rev": 0, "client_time": f"{today.isoformat()}T09:00:00+08:00",
            "fields": {"org_code": ORG, "title": tpl.format(a=a[0] + "某", b=b[0] + "某") + f" {i}", "category": cat,
                       "source": rnd.choice(["party_request", "proactive", "patrol"]),
                       "received_on": (today - timedelta(days=rnd.randint(0, 120))).isoformat(),
                       "parties": [{"name": a, "role": "applicant"}, {"name": b, "role": "respondent"}],
                       "risk_level": rnd.choice(["red", "orange", "yellow", "blue", "blue"]),
                       "status": "registered"},
        })
    with httpx.Client(timeout=120) as c:
        for i in range(0, n, 500):
            r = c.post(url + "/api/v1/sync/push", headers={"Authorization": f"Bearer {tok}"},
                       json={"client_id": client_id, "mutations": muts[i:i + 500]})
            r.raise_for_status()
            bad = [x for x in r.json()["results"] if x["status"] not in ("applied", "merged")]
            assert not bad, bad[:2]


def lighthouse_cli(target: str, out: Path, extra: list[str]) -> dict:
    """Lighthouse 11 (mobile preset, simulated throttling), fetched with npx; 11 is the last with the PWA
    category ("installable")."""
    env = dict(os.environ, CHROME_PATH=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
    subprocess.run(["npx", "-y", "lighthouse@11", target, "--quiet",
                    "--only-categories=performance,accessibility,best-practices,pwa",
                    "--output=json", f"--output-path={out}", *extra], env=env, check=True, timeout=600)
    report = json.loads(out.read_text())
    scores: dict = {k: round(v["score"] * 100) for k, v in report["categories"].items()}
    audits = report["audits"]
    scores["url"] = report.get("finalDisplayedUrl") or report.get("finalUrl")
    scores["fcp"] = audits["first-contentful-paint"]["displayValue"]
    scores["lcp"] = audits["largest-contentful-paint"]["displayValue"]
    scores["tbt"] = audits["total-blocking-time"]["displayValue"]
    scores["installable"] = audits["installable-manifest"]["score"] == 1
    # what cost points: every scored audit below 1 (id and title), so a drop can be acted on
    scores["failed_audits"] = sorted(
        f"{a['id']}: {a['title']}" for a in audits.values()
        if a.get("score") is not None and a["score"] < 1 and a.get("scoreDisplayMode") in ("binary", "numeric"))
    return scores


def run_lighthouse(url: str) -> dict:
    """The sign-in page, as a stranger first sees it: Lighthouse starts its own Chromium, no session."""
    flags = "--headless=new " + " ".join(ARGS)
    return lighthouse_cli(url + "/", Path(tempfile.gettempdir()) / "cunzhi-lighthouse.json",
                          [f"--chrome-flags={flags}"])


# The first sync has finished: nothing waits in the outbox (已全部同步), no cycle runs (同步中) and one has completed
# (not 尚未同步). The outbox alone is empty from the start, while the first pull (5,000 cases: five pages) still runs:
# a Lighthouse run that starts then audits that pull, not the screen.
FIRST_SYNC_DONE = """() => {
    const bar = document.querySelector('[data-testid=sync-indicator]')
    return !!bar && bar.querySelector('[data-testid=sync-pending]').textContent.includes('已全部同步')
        && !bar.textContent.includes('同步中') && !bar.textContent.includes('尚未同步')
}"""


def run_lighthouse_signed_in(url: str, user: str = USER, path: str = "/") -> dict:
    """A signed-in screen, as the person opens the installed app again later: Playwright signs in on a Chromium
    with a persistent profile, the app pulls its records (the whole first sync) and its service worker takes
    control; that browser is then closed, and a new Chromium on the same profile (session in localStorage, local
    database in IndexedDB, the service worker and its precache, as on the phone) is started with a remote-debugging
    port. Lighthouse attaches to it (--port) with storage reset disabled, opens its own tab and applies its own
    mobile emulation and throttling.

    Why a new browser: when Lighthouse audited a tab of the browser that had just run the app, Chromium put its tab
    in the renderer process of the closed one (kept alive by the service worker), and Lighthouse's instrumentation
    first walked that process's heap, still full of the previous app instance: a 140-180 ms task before the page's
    own navigation had even committed, which Lighthouse attributes to no script and counts, four times over, as
    blocking time of the page (2026-11-30 traces; docs/performance.md)."""
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    with tempfile.TemporaryDirectory() as profile:
        with sync_playwright() as p:
            ctx = p.chromium.launch_persistent_context(
                profile, executable_path=chromium, args=ARGS, viewport={"width": 412, "height": 860},
                device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN")
            try:
                page = ctx.pages[0] if ctx.pages else ctx.new_page()
                page.goto(url + "/login")
                page.get_by_test_id("login-username").locator("input").fill(user)
                page.get_by_test_id("login-password").locator("input").fill(PASSWORD)
                page.get_by_test_id("login-submit").click()
                page.wait_for_url(lambda u: "/login" not in u, timeout=60_000)
                page.wait_for_function(
                    "() => navigator.serviceWorker.ready.then(() => !!navigator.serviceWorker.controller)", timeout=60_000)
                page.wait_for_function(FIRST_SYNC_DONE, timeout=300_000, polling=500)
                page.goto(url + path)
                page.wait_for_load_state("networkidle")
                page.wait_for_function(FIRST_SYNC_DONE, timeout=300_000, polling=500)
            finally:
                ctx.close()
        port = free_port()
        browser = subprocess.Popen([chromium, "--headless=new", *ARGS, f"--remote-debugging-port={port}",
                                    f"--user-data-dir={profile}", "about:blank"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    httpx.get(f"http://127.0.0.1:{port}/json/version", timeout=2).raise_for_status()
                    break
                except httpx.HTTPError:
                    time.sleep(0.2)
            scores = lighthouse_cli(url + path, Path(tempfile.gettempdir()) / f"cunzhi-lighthouse-{user}.json",
                                    [f"--port={port}", "--disable-storage-reset"])
        finally:
            browser.terminate()
            browser.wait(10)
    signed_in = scores["url"] and "/login" not in scores["url"]
    if not signed_in:
        raise RuntimeError(f"Lighthouse audited {scores['url']}, not the signed-in screen")
    scores["user"] = user
    return scores


class _SkipTimings(Exception):
    """--lighthouse-only: leave the timed part out"""


def gz(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), 9))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cpu", type=float, default=4.0, help="CPU slowdown factor")
    ap.add_argument("--lighthouse", action="store_true",
                    help="also run Lighthouse 11 (mobile preset; fetched with npx) on the sign-in page and, signed in, "
                         "on the mediator's case list and the grid worker's home screen")
    ap.add_argument("--lighthouse-only", action="store_true",
                    help="only the Lighthouse runs (after seeding --cases), none of the timings above")
    opts = ap.parse_args()
    opts.lighthouse = opts.lighthouse or opts.lighthouse_only
    if not (DIST / "index.html").exists():
        subprocess.run(["npm", "run", "build"], cwd=REPO / "frontend", check=True)
    from playwright.sync_api import sync_playwright

    results: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": f"{os.cpu_count()} cores, {platform.machine()}",
                     "cases_seeded": opts.cases, "cpu_slowdown": opts.cpu}
    with tempfile.TemporaryDirectory() as d:
        proc, url = start_server(Path(d))
        try:
            t = time.time()
            seed_cases(url, opts.cases)
            results["seed_seconds"] = round(time.time() - t, 1)
            with sync_playwright() as p:
                if opts.lighthouse_only:
                    raise _SkipTimings
                browser = p.chromium.launch(executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"), args=ARGS)
                ctx = browser.new_context(viewport={"width": 412, "height": 860}, device_scale_factor=2,
                                          is_mobile=True, has_touch=True, locale="zh-CN")
                page = ctx.new_page()
                page.goto(url + "/login")
                page.get_by_test_id("login-username").locator("input").fill(USER)
                page.get_by_test_id("login-password").locator("input").fill(PASSWORD)
                t = time.time()
                page.get_by_test_id("login-submit").click()
                page.wait_for_selector("[data-testid=case-row]", timeout=60_000)
                page.wait_for_function("() => navigator.serviceWorker.ready.then(() => true)")
                page.wait_for_function(
                    "() => document.querySelector('[data-testid=sync-pending]')?.textContent.includes('已全部同步')"
                    " && /共 (\\d+) 件/.test(document.querySelector('[data-testid=case-count]').textContent)"
                    f" && Number(document.querySelector('[data-testid=case-count]').textContent.match(/\\d+/)[0]) >= {opts.cases}",
                    timeout=300_000, polling=500)
                results["first_pull_seconds"] = round(time.time() - t, 1)
                local = page.evaluate("document.querySelector('[data-testid=case-count]').textContent")
                results["local_cases"] = local

                # 1. bytes of the first field screen: a cold load of the case list
                cold = ctx.new_page()
                loaded: set[str] = set()
                cold.on("request", lambda r: loaded.add(r.url) if r.resource_type in ("script", "stylesheet") else None)
                cold.goto(url + "/")
                cold.wait_for_selector("[data-testid=case-row]")
                cold.wait_for_timeout(1000)
                files = sorted({urlparse(u).path for u in loaded})
                sizes = {f: gz(DIST / f.lstrip("/")) for f in files if (DIST / f.lstrip("/")).is_file()}
                # the entry's CSS is inlined into index.html (vite.config.ts): count it as CSS all the same
                inline_css = "".join(re.findall(r"<style>(.*?)</style>", (DIST / "index.html").read_text(), re.S))
                if inline_css:
                    sizes["/index.html <style>"] = len(gzip.compress(inline_css.encode(), 9))
                results["first_screen_files"] = sizes
                results["first_screen_gzip_kb"] = round(sum(sizes.values()) / 1024, 1)
                cold.close()

                # 2. cold start offline, CPU throttled
                ctx.set_offline(True)
                starts = []
                phases: list[dict] = []
                for _ in range(opts.runs):
                    pg = ctx.new_page()
                    cdp = ctx.new_cdp_session(pg)
                    cdp.send("Emulation.setCPUThrottlingRate", {"rate": opts.cpu})
                    pg.goto(url + "/")
                    pg.wait_for_function("() => window.__czFirstRows > 0", timeout=60_000)
                    starts.append(pg.evaluate("window.__czFirstRows"))
                    phases.append(pg.evaluate("""(() => {
                        const m = Object.fromEntries(performance.getEntriesByType('mark').map((e) => [e.name, e.startTime]))
                        const nav = performance.getEntriesByType('navigation')[0]
                        return {html: nav.responseEnd, script: m['cz-script'], mounted: m['cz-mounted'], query: m['cz-first-query'], query_done: m['cz-first-query-done'], prefetch_done: m['cz-prefetch-done'], rows: window.__czFirstRows}
                    })()"""))
                    pg.wait_for_function("() => !document.querySelector('[data-testid=case-count]').textContent.includes('…')")
                    if _ == opts.runs - 1:
                        page = pg
                    else:
                        pg.close()
                results["cold_start_offline_ms"] = {
                    "median": round(statistics.median(starts)), "runs": [round(x) for x in starts],
                    "phases_median": {k: round(statistics.median([p[k] or 0 for p in phases])) for k in phases[0]}}

                # 3. list interactions over the local cases (still offline and throttled)
                filter_only: dict[str, list[float]] = {}

                def measure(action, name="") -> float:
                    page.evaluate("window.__czRowsReady = 0; window.__czFilterChangedAt = 0; window.__czListReady = 0")
                    action()
                    page.wait_for_function("() => window.__czRowsReady > window.__czFilterChangedAt && window.__czFilterChangedAt > 0",
                                           timeout=30_000)
                    filter_only.setdefault(name, []).append(
                        page.evaluate("window.__czListReady - window.__czFilterChangedAt"))
                    return page.evaluate("window.__czRowsReady - window.__czFilterChangedAt")

                inter: dict[str, list[float]] = {}
                for _ in range(opts.runs):
                    for name, act in [
                        ("filter status=mediating", lambda: page.get_by_test_id("filter-status").select_option("mediating")),
                        ("filter category=homestead", lambda: page.get_by_test_id("filter-category").select_option("homestead")),
                        ("filter risk=red", lambda: page.get_by_test_id("filter-risk").select_option("red")),
                        ("overdue on", lambda: page.get_by_test_id("filter-overdue").click()),
                        ("clear filters", lambda: (page.get_by_test_id("filter-overdue").click(),
                                                   page.get_by_test_id("filter-status").select_option(""),
                                                   page.get_by_test_id("filter-category").select_option(""),
                                                   page.get_by_test_id("filter-risk").select_option(""))),
                        ("search party name 王", lambda: page.get_by_test_id("case-search").locator("input").fill("王")),
                        ("search title 宅基地", lambda: page.get_by_test_id("case-search").locator("input").fill("宅基地")),
                        ("clear search", lambda: page.get_by_test_id("case-search").locator("input").fill("")),
                    ]:
                        inter.setdefault(name, []).append(measure(act, name))
                # scrolling: time to draw a new window of rows
                scrolls = []
                for i in range(opts.runs):
                    page.evaluate("window.__czRowsReady = 0")
                    t0 = page.evaluate(f"(() => {{ const s = document.querySelector('[data-testid=case-list]');"
                                       f" const t = performance.now(); s.scrollTop = {(i + 1) * 20000}; s.dispatchEvent(new Event('scroll')); return t }})()")
                    page.wait_for_function("() => window.__czRowsReady > 0")
                    scrolls.append(page.evaluate("window.__czRowsReady") - t0)
                inter["scroll to a new window"] = scrolls
                results["interactions_ms"] = {k: {"median": round(statistics.median(v), 1), "max": round(max(v), 1)}
                                              for k, v in inter.items()}
                results["filter_compute_ms"] = {k: round(statistics.median(v), 1) for k, v in filter_only.items()}
                browser.close()
        except _SkipTimings:
            pass
        try:
            if opts.lighthouse:
                results["lighthouse_load_average"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
                results["lighthouse"] = run_lighthouse(url)
                results["lighthouse_signed_in"] = [run_lighthouse_signed_in(url, USER, "/"),
                                                   run_lighthouse_signed_in(url, "wanfucun.grid", "/home")]
        finally:
            proc.terminate()
            proc.wait(10)

    print(f"\nCunzhi PWA phone budgets — {results['date']}, {results['machine']}")
    print(f"seeded {opts.cases} cases in {results['seed_seconds']} s", end="")
    if "interactions_ms" in results:
        worst = max(v["median"] for v in results["interactions_ms"].values())
        rows = [
            ("JS+CSS of the first field screen (gzip)", f"{results['first_screen_gzip_kb']} KB", "≤ 150 KB",
             results["first_screen_gzip_kb"] <= 150),
            (f"cold start offline → interactive list ({opts.cpu:g}x CPU)", f"{results['cold_start_offline_ms']['median']} ms",
             "≤ 1000 ms", results["cold_start_offline_ms"]["median"] <= 1000),
            (f"list interaction, {results['local_cases']} local (worst median)", f"{worst} ms", "≤ 50 ms", worst <= 50),
        ]
        print(f"; first sign-in + pull of them: {results['first_pull_seconds']} s")
        for name, got, budget, ok in rows:
            print(f"  {'PASS' if ok else 'FAIL'}  {name:55s} {got:>10s}  (budget {budget})")
        print(f"  cold start phases (median ms from navigation): {results['cold_start_offline_ms']['phases_median']}")
        print("  interactions, filter applied → rows drawn (median / max ms; of which the in-memory filter):")
        for k, v in results["interactions_ms"].items():
            fc = results["filter_compute_ms"].get(k)
            print(f"    {k:30s} {v['median']:7.1f} / {v['max']:7.1f}" + (f"   (filter {fc} ms)" if fc is not None else ""))
    else:
        print()
    if "lighthouse" in results:
        print(f"  Lighthouse 11 (mobile preset), load average at start {results['lighthouse_load_average']};"
              " budget performance/accessibility/best practices ≥ 95 / 95 / 95, installable:")
        for lh in [results["lighthouse"], *results["lighthouse_signed_in"]]:
            ok = (lh["performance"] >= 95 and lh["accessibility"] >= 95 and lh["best-practices"] >= 95
                  and lh["installable"])
            who = f"signed in as {lh['user']}" if "user" in lh else "no session"
            print(f"  {'PASS' if ok else 'FAIL'}  {lh['url']} ({who}): {lh['performance']} / {lh['accessibility']} / "
                  f"{lh['best-practices']}, installable {lh['installable']}; FCP {lh['fcp']}, LCP {lh['lcp']}, TBT {lh['tbt']}")
            for a in lh["failed_audits"]:
                print(f"        below 1: {a}")
    out = Path(__file__).with_name("results.json")
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(f"written {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
