"""A server process runs at most ``CUNZHI_REQUEST_THREADS`` sync handlers at once; the others wait in line
(main._lifespan). One interpreter runs one thread at a time, so 40 handlers in flight (the framework's default)
time-sliced every request and each took as long as the slowest: the API mix's p99 at 100 requests/s swung from
70 ms to 700 ms on PostgreSQL (docs/performance.md). Run in a fresh interpreter: the limit belongs to its event loop."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import json, threading, time, warnings
from concurrent.futures import ThreadPoolExecutor
warnings.simplefilter("ignore")
from fastapi.testclient import TestClient
from cunzhi.main import create_app

app = create_app()
lock, state = threading.Lock(), {"now": 0, "most": 0}

def probe():  # a sync handler, as the record routes are: it runs on the thread pool
    with lock:
        state["now"] += 1
        state["most"] = max(state["most"], state["now"])
    time.sleep(0.1)
    with lock:
        state["now"] -= 1
    return {"ok": True}

app.add_api_route("/probe", probe)
app.router.routes.insert(0, app.router.routes.pop())  # before the app's catch-all page route

with TestClient(app) as client, ThreadPoolExecutor(8) as pool:
    codes = list(pool.map(lambda _: client.get("/probe").status_code, range(8)))
print(json.dumps({"codes": codes, "most": state["most"]}))
"""


def run(tmp_path, **env) -> dict:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=True,
                         # no database here: the webhook worker would log its failed poll into the output
                         env={"PATH": "/usr/bin:/bin", "CUNZHI_DATA_DIR": str(tmp_path), "CUNZHI_WEBHOOK_WORKER": "0",
                              **env})
    return json.loads(next(line for line in out.stdout.splitlines() if line.startswith('{"codes"')))


def test_handlers_in_flight_stay_within_the_setting(tmp_path):
    seen = run(tmp_path, CUNZHI_REQUEST_THREADS="2")
    assert seen["codes"] == [200] * 8  # every request is answered: the others waited their turn
    assert seen["most"] == 2


def test_the_default_is_a_few_threads_not_forty(tmp_path):
    assert run(tmp_path)["most"] == 4
