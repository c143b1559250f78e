"""A small HTTP-aware TCP proxy on loopback that can lose answers.

Each request from the client is forwarded to the server on its own upstream connection
(``Connection: close``); the server commits and answers; the proxy then either relays the answer or —
for the requests chosen by :meth:`LossyProxy.drop_answers` / while :attr:`LossyProxy.dropping` is set —
closes the client's connection without relaying a byte of it. The client sees a transport error although
the server did the work: the "lost answer" of sync-protocol.md, fault scenario 1.

Requests can also be dropped *before* they reach the server (:meth:`drop_requests`), which the client sees
the same way (but the server did nothing).
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable


class LossyProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        self.dropping = False  # while set: every matching answer is lost
        self.path_filter: Callable[[str, str], bool] = lambda method, path: True
        self._drop_answer_budget = 0
        self._drop_request_budget = 0
        self.seen: list[tuple[str, str]] = []  # (method, path) of every request
        self.answers_dropped = 0
        self.requests_dropped = 0
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)

    # ---- control ------------------------------------------------------------------------------
    def drop_answers(self, n: int = 1, only: Callable[[str, str], bool] | None = None) -> None:
        """Lose the answers of the next ``n`` matching requests (the server still handles them)."""
        with self.lock:
            self._drop_answer_budget = n
            if only is not None:
                self.path_filter = only

    def drop_requests(self, n: int = 1, only: Callable[[str, str], bool] | None = None) -> None:
        """Lose the next ``n`` matching requests before they reach the server."""
        with self.lock:
            self._drop_request_budget = n
            if only is not None:
                self.path_filter = only

    def _take(self, method: str, path: str) -> tuple[bool, bool]:
        with self.lock:
            self.seen.append((method, path))
            if not self.path_filter(method, path):
                return False, False
            if self._drop_request_budget > 0:
                self._drop_request_budget -= 1
                self.requests_dropped += 1
                return True, False
            if self.dropping or self._drop_answer_budget > 0:
                if self._drop_answer_budget > 0:
                    self._drop_answer_budget -= 1
                self.answers_dropped += 1
                return False, True
            return False, False

    # ---- lifecycle ----------------------------------------------------------------------------
    def __enter__(self) -> LossyProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop = True
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            pass
        self.sock.close()
        self.thread.join(timeout=5)

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self._stop:
                conn.close()
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    # ---- one client connection ----------------------------------------------------------------
    def _handle(self, client: socket.socket) -> None:
        buf = b""
        try:
            while True:
                head, buf = _read_until(client, buf, b"\r\n\r\n")
                if head is None:
                    return
                lines = head.split(b"\r\n")
                method, path = (lines[0].decode("latin-1").split(" ") + ["", ""])[:2]
                headers, length = [], 0
                for line in lines[1:]:
                    if not line:
                        continue
                    name, _, value = line.partition(b":")
                    lname = name.strip().lower()
                    if lname == b"content-length":
                        length = int(value.strip())
                    if lname in (b"connection", b"keep-alive"):
                        continue
                    headers.append(line)
                while len(buf) < length:
                    chunk = client.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                body, buf = buf[:length], buf[length:]
                drop_request, drop_answer = self._take(method, path)
                if drop_request:
                    _abort(client)
                    return
                request = b"\r\n".join([lines[0], *headers, b"Connection: close", b"", b""]) + body
                answer = _round_trip(self.upstream, request)
                if drop_answer:
                    _abort(client)  # the server committed and answered; the client never hears it
                    return
                client.sendall(answer)
                # the answer carries "connection: close" (we asked for it): one request per connection
                return
        except OSError:
            return
        finally:
            try:
                client.close()
            except OSError:
                pass


def _read_until(sock: socket.socket, buf: bytes, marker: bytes) -> tuple[bytes | None, bytes]:
    while marker not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return None, buf
        buf += chunk
    head, _, rest = buf.partition(marker)
    return head, rest


def _round_trip(upstream: tuple[str, int], request: bytes) -> bytes:
    with socket.create_connection(upstream, timeout=120) as up:
        up.sendall(request)
        out = b""
        while True:
            chunk = up.recv(65536)
            if not chunk:
                return out
            out += chunk


def _abort(sock: socket.socket) -> None:
    """Close with a reset (SO_LINGER 0), like a dropped mobile link."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()
