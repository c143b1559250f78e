"""A server-only install (``requirements.lock``, no test extras) has every package the server imports.

``make run`` and the Docker image install ``requirements.lock`` alone; the tests run with
``requirements-test.lock``, which holds more (pytest, hypothesis, schemathesis, playwright…), so a server module
importing a package only the test lock pins passes every other test and fails at start-up from a fresh clone (it
happened with httpx, used by the webhook worker). Two checks, neither builds a virtualenv:

- every third-party module ``backend/cunzhi`` and the migrations import (at the top of a module or inside a
  function) belongs to a distribution the server lock pins, mapped with
  ``importlib.metadata.packages_distributions()``;
- ``cunzhi serve`` starts and answers ``/api/v1/health`` in a process where the installed packages the server
  lock does not pin cannot be imported.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import httpx

from tests.support.server import free_port, wait_up

REPO = Path(__file__).resolve().parents[2]
LOCK = REPO / "requirements.lock"
SERVER_SOURCES = (REPO / "backend" / "cunzhi", REPO / "migrations")  # the server runs the migrations at start-up
# what `python -m venv` puts into every virtualenv before the lock is installed (make's $(PY) target)
VENV_BASE = {"pip", "setuptools"}
OWN = "cunzhi"


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_names(path: Path = LOCK) -> set[str]:
    text = path.read_text(encoding="utf-8")
    return {_norm(m.group(1)) for m in re.finditer(r"^([A-Za-z0-9][A-Za-z0-9_.-]*)==", text, re.M)}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(source: str, filename: str = "<source>") -> list[tuple[str, int]]:
    """Top-level names of the absolute imports in ``source`` (wherever they are: module level, in functions),
    with their lines; those under ``if TYPE_CHECKING:`` are never run and left out. Literal
    ``importlib.import_module("…")`` calls count too."""
    out: list[tuple[str, int]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            out.extend((a.name.partition(".")[0], node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.module.partition(".")[0], node.lineno))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str) and not node.args[0].value.startswith(".")):
            out.append((node.args[0].value.partition(".")[0], node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source, filename))
    return out


def not_in_lock(sources: dict[str, str], locked: set[str]) -> list[str]:
    """``file:line module (distributions)`` for each third-party import no locked distribution provides."""
    dists = packages_distributions()
    allowed = locked | VENV_BASE
    problems = []
    for filename, source in sorted(sources.items()):
        for module, line in imports_of(source, filename):
            if module == OWN or module in sys.stdlib_module_names:
                continue
            providers = {_norm(d) for d in dists.get(module, [])}
            if not providers & allowed:
                problems.append(f"{filename}:{line} {module} ({', '.join(sorted(providers)) or 'not installed'})")
    return problems


def server_sources() -> dict[str, str]:
    return {str(p.relative_to(REPO)): p.read_text(encoding="utf-8")
            for root in SERVER_SOURCES for p in sorted(root.rglob("*.py"))}


def test_every_module_the_server_imports_is_in_the_server_lock():
    problems = not_in_lock(server_sources(), lock_names())
    assert not problems, ("server code imports packages requirements.lock does not pin (add them to "
                          "[project] dependencies and run `make lock`, or keep them in tests):\n" + "\n".join(problems))


def test_the_check_sees_a_test_only_import_and_a_missing_pin():
    """The check above can fail: a test-only package in server code, and the lock that once lacked httpx."""
    locked = lock_names()
    source = "from __future__ import annotations\nimport json\n\ndef f():\n    import pytest\n    from hypothesis import given\n"
    assert [p.split(" ")[:2] for p in not_in_lock({"x.py": source}, locked)] == [["x.py:5", "pytest"],
                                                                                ["x.py:6", "hypothesis"]]
    typing_only = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pytest\n"
    assert not_in_lock({"y.py": typing_only}, locked) == []
    assert "httpx" in locked
    missing = not_in_lock(server_sources(), locked - {"httpx"})
    assert missing and all(" httpx (" in p for p in missing), missing
    assert any(p.startswith("backend/cunzhi/integrations/worker.py:") for p in missing), missing


# ---- start-up in a process that can import only what the lock pins -------------------------------------
BLOCKER = r"""
import importlib.abc, json, runpy, sys
from importlib.metadata import packages_distributions
import re
allowed = set(json.loads(sys.argv[1]))
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
blocked = {top for top, dists in packages_distributions().items()
           if top != "cunzhi" and top not in sys.stdlib_module_names and not {norm(d) for d in dists} & allowed}

class NotInLock(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r} (not in requirements.lock)", name=name)
        return None

for name in [m for m in sys.modules if m.partition(".")[0] in blocked]:
    del sys.modules[name]  # nothing imported before (by site) stays usable
sys.meta_path.insert(0, NotInLock())
sys.argv = ["cunzhi", *sys.argv[2:]]
runpy.run_module("cunzhi", run_name="__main__", alter_sys=True)
"""


def _serve(locked: set[str], tmp_path: Path) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUNZHI_")}
    env.update({"CUNZHI_DATA_DIR": str(tmp_path / "data"), "CUNZHI_DEMO": "0",
                "CUNZHI_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'server-only.db'}"})
    (tmp_path / "data").mkdir(parents=True, exist_ok=True)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", BLOCKER, json.dumps(sorted(locked | VENV_BASE)), "serve",
                             "--port", str(port)], cwd=str(tmp_path), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    return proc, f"http://127.0.0.1:{port}"


def test_the_server_starts_with_only_the_locked_packages(tmp_path):
    proc, base = _serve(lock_names(), tmp_path)
    try:
        try:
            wait_up(base, timeout=90, proc=proc)
        except RuntimeError:
            proc.kill()
            raise AssertionError(proc.communicate(timeout=10)[0][-3000:]) from None
        r = httpx.get(base + "/api/v1/health", timeout=10)
        assert r.status_code == 200 and r.json()["status"] == "ok", r.text
        assert httpx.get(base + "/", timeout=10).status_code in (200, 404)  # the app itself, not only /health
    finally:
        proc.kill()
        proc.wait(10)
    # and the same start-up with a lock that lacks a package the server needs at start-up fails, saying which
    proc, base = _serve(lock_names() - {"uvicorn"}, tmp_path / "without")
    try:
        err, _ = proc.communicate(timeout=90)
    finally:
        proc.kill()
    assert proc.returncode != 0 and "'uvicorn' (not in requirements.lock)" in err, err[-3000:]
