"""A webhook receiver on loopback that can fail, drop the connection, hang or answer 410, and keeps
every request it got (headers and body) for the tests to check."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, behave: Callable[[str, int], str] | None = None) -> None:
        """``behave(webhook_id, nth time this id arrives)`` → "ok" | "fail" | "drop" | "hang" | "gone" | "bad"."""
        self.behave = behave or (lambda _id, _n: "ok")
        self.got: list[dict] = []  # every request, in arrival order
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with outer.lock:
                    n = sum(1 for g in outer.got if g["headers"].get("webhook-id") == headers.get("webhook-id"))
                    what = outer.behave(headers.get("webhook-id", ""), n + 1)
                    outer.got.append({"headers": headers, "body": body, "what": what, "at": time.monotonic()})
                if what == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if what == "hang":
                    time.sleep(2.5)
                code = {"ok": 200, "hang": 200, "fail": 503, "gone": 410, "bad": 400}[what]
                self.send_response(code)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def accepted(self) -> list[dict]:
        """Requests answered 2xx, with their parsed bodies."""
        with self.lock:
            return [dict(g, json=json.loads(g["body"])) for g in self.got if g["what"] in ("ok",)]

    def wait_for(self, pred: Callable[[], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred():
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out; got {len(self.got)} requests")
