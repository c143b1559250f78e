"""A server process settles its heap when the app starts (main.settle_heap): what was imported and built at
startup moves to the collector's permanent generation, so full collections no longer walk it (docs/performance.md:
a push of 500 cases spent 22–27 ms in the collector before). Run in a fresh interpreter: the test process's own
collector is left alone."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import gc, json, warnings
warnings.simplefilter("ignore")
from fastapi.testclient import TestClient
from cunzhi.main import create_app
before = [gc.get_freeze_count(), list(gc.get_threshold())]
with TestClient(create_app()):
    during = [gc.get_freeze_count(), list(gc.get_threshold())]
print(json.dumps({"before": before, "during": during}))
"""


def test_the_app_freezes_its_startup_heap_once_started(tmp_path):
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=True,
                         # no database here: the webhook worker would log its failed poll into the output
                         env={"PATH": "/usr/bin:/bin", "CUNZHI_DATA_DIR": str(tmp_path), "CUNZHI_WEBHOOK_WORKER": "0"})
    seen = json.loads(next(line for line in out.stdout.splitlines() if line.startswith('{"before"')))
    assert seen["before"] == [0, [700, 10, 10]]  # the interpreter's defaults until the app starts
    frozen, threshold = seen["during"]
    assert frozen > 50_000  # the modules, tables, routes and schemas: ~190,000 objects
    assert threshold == [10_000, 10, 10]
