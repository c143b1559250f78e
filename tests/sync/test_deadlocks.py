"""Defect 10: concurrent pushes that create and edit across two villages in opposite orders never deadlock
(PostgreSQL: rows locked FOR NO KEY UPDATE in one global order, serial counters up front in sorted order,
the feed counter last); not one answer is 503 busy."""

from __future__ import annotations

import threading

from tests.support.device import login, mutation, new_case_fields, push
from tests.sync.util import uid

WANFU, ZHENDONG = "340321108200", "340321108201"


def test_10_opposite_orders_across_two_villages_never_deadlock(server):
    a, b = login(server.base, "wanfu.admin"), login(server.base, "wanfu.admin")
    setup = login(server.base, "wanfu.admin")
    cases = {}
    for org in (WANFU, ZHENDONG):
        r = push(setup, [mutation("mediation_case", uid(), new_case_fields(org))])
        cases[org] = r.json()["results"][0]["record"]["id"]
    events = {}

    def batch(first: str, second: str, field: str, i: int) -> list[dict]:
        # locks this push takes: its own village's case (edited), the other village's case (a new event's
        # foreign key), both villages' case-number counters — the other push takes the same in the other order
        return [mutation("mediation_case", uid(), new_case_fields(first, title=f"{first}-{i}")),
                mutation("case_event", uid(), {"case_id": cases[second], "kind": "note",
                                               "occurred_at": "2026-11-20T10:00:00+08:00"}),
                mutation("mediation_case", cases[first], {field: f"{i}"}, base_rev=1),
                mutation("mediation_case", uid(), new_case_fields(second, title=f"{second}-{i}"))]

    statuses: list[int] = []

    def run(client, first, second, field, rounds):
        for i in range(rounds):
            r = push(client, batch(first, second, field, i))
            statuses.append(r.status_code)
            events[(field, i)] = r.json() if r.status_code == 200 else r.text

    threads = [threading.Thread(target=run, args=(a, WANFU, ZHENDONG, "place", 12)),
               threading.Thread(target=run, args=(b, ZHENDONG, WANFU, "description", 12))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert statuses.count(503) == 0, [v for v in events.values() if isinstance(v, str)][:3]
    assert statuses == [200] * 24
    for v in events.values():
        assert all(x["status"] in ("applied", "merged") for x in v["results"]), v
