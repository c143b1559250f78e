"""Fault scenario 7: pagination under concurrent writers on PostgreSQL.

Writers are held open inside their transactions (engine test hook ``CUNZHI_TEST_HOLD_DIR``: before and
after they take their feed positions) so that they would commit out of order, while a reader pages with
a small limit; they are released in a different order and the reader keeps paging: nothing is skipped.
Only collected when CUNZHI_TEST_POSTGRES_URL is set (SQLite has a single writer).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.support import databases
from tests.support.device import login, mutation, new_case_fields, push
from tests.support.server import ProcessServer
from tests.sync.util import uid


# Up to eight writers held open at once in one server process: more than the request threads a process runs at once
# by default (CUNZHI_REQUEST_THREADS, 4), which is what several worker processes would admit together.
HELD_WRITERS_ENV = {"CUNZHI_REQUEST_THREADS": "16"}


class Writer:
    def __init__(self, base: str, hold_dir: Path, year: int, n: int = 3):
        # each writer its own year: case-number serials are per org and year, so no writer waits on
        # another's serial row before reaching the point where it is held
        self.client = login(base, "wanfucun.mediator")
        self.hold_dir = hold_dir
        self.batch = [mutation("mediation_case", uid(), new_case_fields(title=f"{year}年第{i}件",
                                                                         received_on=f"{year}-03-0{i + 1}"))
                      for i in range(n)]
        self.ids = [m["record_id"] for m in self.batch]
        self.result: httpx.Response | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def flag(self, point: str) -> Path:
        return self.hold_dir / f"{self.client.client_id}.{point}"

    def hold(self, point: str) -> None:
        (self.hold_dir / f"{self.client.client_id}.{point}.reached").unlink(missing_ok=True)
        self.flag(point).touch()

    def start(self) -> Writer:
        self.thread.start()
        return self

    def _run(self) -> None:
        self.result = push(self.client, self.batch, timeout=120)

    def wait_reached(self, point: str, timeout: float = 30) -> None:
        reached = self.hold_dir / f"{self.client.client_id}.{point}.reached"
        deadline = time.monotonic() + timeout
        while not reached.exists():
            assert time.monotonic() < deadline, f"writer never reached {point}"
            assert self.thread.is_alive(), f"writer finished before {point}: {self.result and self.result.text}"
            time.sleep(0.01)

    def release(self, point: str) -> None:
        self.flag(point).unlink()

    def done(self) -> None:
        self.thread.join(timeout=60)
        assert self.result is not None and self.result.status_code == 200, self.result and self.result.text
        assert [r["status"] for r in self.result.json()["results"]] == ["applied"] * len(self.batch)


class Reader:
    def __init__(self, client: httpx.Client, limit: int = 2):
        self.client, self.limit = client, limit
        self.cursor: str | None = None
        self.seen: list[str] = []
        self.pages = 0

    def page_all(self) -> list[str]:
        got = []
        while True:
            params = {"limit": self.limit} | ({"cursor": self.cursor} if self.cursor else {})
            r = self.client.get("/api/v1/sync/pull", params=params)
            assert r.status_code == 200, r.text
            body = r.json()
            assert len(body["changes"]) <= self.limit
            got += [c["record"]["id"] for c in body["changes"]]
            self.cursor = body["cursor"]
            self.pages += 1
            if not body["has_more"]:
                break
        self.seen += got
        return got


if databases.PG_URL:

    @pytest.mark.parametrize("db_kind", ["postgresql"])
    def test_paging_while_writers_are_held_open(database, tmp_path):
        hold_dir = tmp_path / "hold"
        hold_dir.mkdir()
        srv = ProcessServer(HELD_WRITERS_ENV | {"CUNZHI_TEST_HOLD_DIR": str(hold_dir)}).start()
        try:
            reader = Reader(login(srv.base, "wanfu.admin"), limit=2)
            first = Writer(srv.base, hold_dir, 2026).start()
            first.done()
            assert reader.page_all() == first.ids

            w1, w2, w3, w4, w5 = (Writer(srv.base, hold_dir, y) for y in (2025, 2024, 2023, 2022, 2021))
            # w1, w2 held before they take a feed position, w3 after it (its seq values are taken but
            # uncommitted), then w4 queues behind w3
            w1.hold("before_seq")
            w2.hold("before_seq")
            w3.hold("after_seq")
            for w in (w1, w2, w3):
                w.start()
            for w, point in ((w1, "before_seq"), (w2, "before_seq"), (w3, "after_seq")):
                w.wait_reached(point)
            w4.start()
            time.sleep(0.3)
            assert reader.page_all() == []  # nothing committed yet: the cursor must not move past w3's seqs

            w3.release("after_seq")
            w3.done()
            w4.done()
            assert sorted(reader.page_all()) == sorted(w3.ids + w4.ids)

            # w2 goes first although it started after w1; w1 is then held again, past its feed position
            w1.hold("after_seq")
            w2.release("before_seq")
            w2.done()
            w1.release("before_seq")
            w1.wait_reached("after_seq")
            w5.start()  # waits behind w1's feed counter
            time.sleep(0.3)
            assert reader.page_all() == w2.ids
            w1.release("after_seq")
            w1.done()
            w5.done()
            assert reader.page_all() == w1.ids + w5.ids

            everyone = first.ids + w1.ids + w2.ids + w3.ids + w4.ids + w5.ids
            assert sorted(reader.seen) == sorted(everyone)  # nothing skipped, nothing twice
            assert reader.pages > 8
            fresh = Reader(reader.client, limit=5000).page_all()
            assert sorted(fresh) == sorted(everyone)
            assert fresh[:3] == first.ids and fresh[-6:] == w1.ids + w5.ids  # change order = commit order
        finally:
            for f in hold_dir.glob("*"):
                f.unlink(missing_ok=True)
            srv.kill()

    @pytest.mark.parametrize("db_kind", ["postgresql"])
    def test_many_concurrent_writers_while_reader_pages(database, tmp_path):
        """Eight writers released in a shuffled order while a reader pages continuously."""
        import random

        hold_dir = tmp_path / "hold"
        hold_dir.mkdir()
        srv = ProcessServer(HELD_WRITERS_ENV | {"CUNZHI_TEST_HOLD_DIR": str(hold_dir)}).start()
        try:
            reader = Reader(login(srv.base, "wanfu.admin"), limit=2)
            writers = [Writer(srv.base, hold_dir, 2026 - i, n=2) for i in range(8)]
            for w in writers:
                w.hold("before_seq")
                w.start()
            for w in writers:
                w.wait_reached("before_seq")
            order = list(writers)
            random.Random(7).shuffle(order)
            assert order != writers
            for w in order:
                w.hold("after_seq")
                w.release("before_seq")
                w.wait_reached("after_seq")  # its feed positions are taken, its transaction still open
                assert reader.page_all() == []
                w.release("after_seq")
                w.done()
                assert reader.page_all() == w.ids
            everyone = [rid for w in writers for rid in w.ids]
            assert sorted(reader.seen) == sorted(everyone)
        finally:
            for f in hold_dir.glob("*"):
                f.unlink(missing_ok=True)
            srv.kill()


if databases.PG_URL:

    @pytest.mark.parametrize("db_kind", ["postgresql"])
    def test_a_retry_racing_its_original_applies_once(database, tmp_path):
        """The phone gave up on a push that is still inside its transaction and sends it again: the two run
        concurrently (PostgreSQL). The retry answers 503 busy or duplicate — never a second application."""
        hold_dir = tmp_path / "hold"
        hold_dir.mkdir()
        srv = ProcessServer(HELD_WRITERS_ENV | {"CUNZHI_TEST_HOLD_DIR": str(hold_dir)}).start()
        try:
            w = Writer(srv.base, hold_dir, 2026, n=2)
            rid = w.ids[0]
            w.hold("after_seq")
            w.start()
            w.wait_reached("after_seq")
            retry: list[httpx.Response] = []
            t = threading.Thread(target=lambda: retry.append(push(w.client, w.batch, timeout=120)))
            t.start()
            time.sleep(0.5)
            w.release("after_seq")
            w.done()
            t.join(timeout=60)
            r = retry[0]
            if r.status_code == 503:
                assert r.json()["code"] == "busy" and r.headers.get("Retry-After")
            else:
                assert r.status_code == 200, r.text
                assert [x["status"] for x in r.json()["results"]] == ["duplicate", "duplicate"]
            # an update raced by its own retry
            edit = mutation("mediation_case", rid, {"title": "重试竞争"}, base_rev=1)
            w2 = Writer.__new__(Writer)
            w2.client, w2.hold_dir, w2.batch, w2.ids, w2.result = w.client, hold_dir, [edit], [rid], None
            w2.thread = threading.Thread(target=w2._run, daemon=True)
            w2.hold("after_seq")
            w2.start()
            w2.wait_reached("after_seq")
            retry.clear()
            t = threading.Thread(target=lambda: retry.append(push(w.client, [edit], timeout=120)))
            t.start()
            time.sleep(0.5)
            w2.release("after_seq")
            w2.done()
            t.join(timeout=60)
            r = retry[0]
            assert r.status_code in (200, 503), r.text
            if r.status_code == 200:
                assert r.json()["results"][0]["status"] == "duplicate"
            # after the dust settles: applied exactly once
            final = push(w.client, w.batch + [edit]).json()["results"]
            assert [x["status"] for x in final] == ["duplicate"] * 3
            assert final[0]["record"]["case_number"].endswith("-0001")
            assert final[1]["record"]["case_number"].endswith("-0002")
            hist = w.client.get(f"/api/v1/mediation-cases/{rid}/history").json()["items"]
            assert [h["rev"] for h in hist] == [1, 2]
            nxt = push(w.client, [mutation("mediation_case", uid(), new_case_fields(received_on="2026-03-09"))])
            assert nxt.json()["results"][0]["record"]["case_number"].endswith("-0003")
        finally:
            for f in hold_dir.glob("*"):
                f.unlink(missing_ok=True)
            srv.kill()
