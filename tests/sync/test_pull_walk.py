"""The pull reads the feed per org code in (org_code, seq) index order and merges the codes: a page no longer
reads and sorts the whole scope's feed (it grew with the village: bench/first_pull.py). The pages are exactly the
feed in seq order — several villages and the township's own records, a record moved to the end by an edit, small
pages — and a scope of more codes than ``MAX_ORG_BRANCHES`` reads the range as before, with the same answer."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.support.device import mutation, new_case_fields, pull_all, push
from tests.sync.util import uid, upd

ORGS = ("340321108200", "340321108201", "340321108")  # 万福村, 镇东村, 万福镇 itself


@pytest.mark.parametrize("branches", [32, 1])
def test_pull_pages_are_the_feed_in_order_walked_per_org_code(as_user, monkeypatch, branches):
    from cunzhi.core import db

    monkeypatch.setattr(db, "MAX_ORG_BRANCHES", branches)
    m, zm, ta = as_user("wanfucun.mediator"), as_user("zhendong.mediator"), as_user("wanfu.admin")
    made, revs = [], {}
    for i in range(9):
        client, org = ((m, ORGS[0]), (zm, ORGS[1]), (ta, ORGS[2]))[i % 3]
        rid = uid()
        r = push(client, [mutation("mediation_case", rid, new_case_fields(org_code=org))])
        assert r.json()["results"][0]["status"] == "applied", r.text
        made.append(rid)
        revs[rid] = r.json()["results"][0]["record"]["rev"]
    r = push(m, [upd(made[0], revs[made[0]], place="东庄 9 号")])  # its feed row moves to the end
    assert r.json()["results"][0]["status"] == "applied", r.text
    feed_reads: list[str] = []

    def watch(conn, cursor, statement, parameters, context, executemany):
        if "FROM sync_feed" in statement and "ORDER BY sync_feed.seq" in statement:
            feed_reads.append(statement)

    event.listen(Engine, "before_cursor_execute", watch)
    try:
        township, _ = pull_all(ta, limit=2)
        village, _ = pull_all(m, limit=2)
    finally:
        event.remove(Engine, "before_cursor_execute", watch)
    expected = made[1:] + made[:1]
    assert [c["record"]["id"] for c in township] == expected
    assert [c["record"]["id"] for c in village] == [i for i in expected if i in made[0::3]]
    assert feed_reads
    walked = [s for s in feed_reads if "sync_feed.org_code = " in s]
    if branches == 32:
        assert walked == feed_reads, feed_reads[:1]
    else:  # the township has three codes, more than one: its pages read the range; the village's walk its code
        assert len(walked) < len(feed_reads) and walked
