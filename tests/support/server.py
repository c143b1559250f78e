"""Real servers for tests: uvicorn in a thread (real sockets, real HTTP) or in its own process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(base: str, timeout: float = 20, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server at {base} exited with {proc.returncode}")
        try:
            if httpx.get(base + "/api/v1/health", timeout=1).status_code in (200, 503):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"server at {base} did not come up")


_APPS: dict[tuple, object] = {}


def shared_app():
    """One app per test process and configuration: building the routes costs 0.2–1 s of CPU, and most tests start
    a server. The database and data folder are read per request, so they are not part of the key; any other
    CUNZHI_* setting (log format, metrics token…) and the registered record types (tests add their own) are."""
    from cunzhi.main import create_app
    from cunzhi.sync.registry import entities, load_entities

    load_entities()
    key = (tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("CUNZHI_")
                        and k not in ("CUNZHI_DATABASE_URL", "CUNZHI_DATA_DIR"))),
           tuple(sorted(entities())), create_app)  # a test may build its own app (monkeypatched create_app)
    if key not in _APPS:
        _APPS[key] = create_app()
    return _APPS[key]


class ThreadServer:
    """The app served by uvicorn on a loopback port, in a background thread of the test process."""

    def __init__(self) -> None:
        # the listening socket is ours, bound before uvicorn starts: a port picked, freed and bound again could be
        # taken in between by any client connection of the suite (its workers run side by side)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(shared_app(), host="127.0.0.1", port=self.port, log_level="warning",
                                timeout_keep_alive=5)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        wait_up(self.base)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


class ProcessServer:
    """``python -m cunzhi serve`` in its own process: for restarts (kill -9) and restores."""

    def __init__(self, env: dict[str, str], port: int | None = None) -> None:
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **env, "CUNZHI_DEMO": "0"}
        self.proc: subprocess.Popen | None = None
        self._port_chosen = port is not None  # a restart keeps its port; a first start may pick another

    def start(self) -> ProcessServer:
        for _ in range(3):
            try:
                return self._start()
            except RuntimeError as e:
                # the free port was taken between our check and the server's bind (side-by-side workers)
                if self._port_chosen or "address already in use" not in str(e):
                    raise
                self.port = free_port()
                self.base = f"http://127.0.0.1:{self.port}"
        return self._start()

    def _start(self) -> ProcessServer:
        # a server that tests hold open at points of its commit path runs with the tests' hook installed
        module = "tests.support.hold" if self.env.get("CUNZHI_TEST_HOLD_DIR") else "cunzhi"
        self.proc = subprocess.Popen([sys.executable, "-m", module, "serve", "--port", str(self.port)],
                                     env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     cwd=str(Path(__file__).resolve().parents[2]))
        try:
            wait_up(self.base, timeout=60, proc=self.proc)
        except RuntimeError as e:
            self.kill()
            err = self.proc.stderr.read().decode(errors="replace")[-4000:] if self.proc.stderr else ""
            raise RuntimeError(f"{e}\n--- server stderr ---\n{err}") from None
        self._port_chosen = True  # started: a restart must come back on this port
        return self

    def kill(self) -> None:
        """Kill -9: no graceful shutdown, like a crash or a power cut."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def __enter__(self) -> ProcessServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.kill()
