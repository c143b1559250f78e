"""The render cache (sync/present.RenderCache): a record a device already pulled is not rendered again for the next
— and a cached record is never shown to a viewer it was not rendered for, never outlives the version it renders,
and is audited on every delivery like a fresh rendering (over real HTTP, on both databases)."""

from __future__ import annotations

import json
import uuid
from datetime import date

import orjson
import pytest
import sqlalchemy as sa

from cunzhi.core.db import read_tx, reset_engine
from cunzhi.sync.present import RenderCache, present_record, present_records, render_cache
from cunzhi.sync.registry import get_entity, load_entities
from cunzhi.core.scope import Scope
from tests.support.device import pull_all
from tests.sync.util import create_case, get_case, one, upd

PHONE, ID_NUMBER = "13812345678", "340321199001011236"


def _audited(action: str) -> list[dict]:
    from cunzhi.users.models import AuditEntry

    t = AuditEntry.__table__
    with read_tx() as conn:
        return [dict(r) for r in conn.execute(sa.select(t).where(t.c.action == action)).mappings()]


def _case_in(changes: list[dict], rid: str) -> dict:
    return next(c["record"] for c in changes if c["record"]["id"] == rid)


def test_a_second_device_gets_the_cached_rendering_audited_and_masked_by_viewer(as_user):
    village, second = as_user("wanfucun.mediator"), as_user("wanfucun.mediator")
    township = as_user("wanfu.mediator")  # sees the village's parties masked
    rid = create_case(village)["id"]
    render_cache.clear()
    first, _ = pull_all(village)
    rendered = len(render_cache)
    assert rendered >= 1  # the pull rendered through the cache
    again, _ = pull_all(second)  # another phone of the village: the same renderings, none made again
    assert len(render_cache) == rendered
    assert _case_in(again, rid) == _case_in(first, rid)
    assert _case_in(again, rid)["parties"][0]["phone"] == PHONE
    pulls = _audited("sync.pull")
    assert len(pulls) == 2 and all(rid in a["record_ids"] for a in pulls)  # the cached one audited too
    # the township mediator's answer is its own rendering, masked: nothing of the village's cached one
    masked, _ = pull_all(township)
    assert len(render_cache) > rendered
    party = _case_in(masked, rid)["parties"][0]
    assert party["phone"] == "138****5678" and party["id_number"] == "340321********1236"
    assert PHONE not in json.dumps(masked) and ID_NUMBER not in json.dumps(masked)
    assert len(_audited("sync.pull")) == 2  # a masked delivery leaves no audit row
    # and the village mediator still gets the full values afterwards (list and pull)
    listed = village.get("/api/v1/mediation-cases").json()["items"]
    assert next(x for x in listed if x["id"] == rid)["parties"][0]["id_number"] == ID_NUMBER
    assert rid in _audited("mediation_cases.list")[0]["record_ids"]
    assert PHONE not in township.get("/api/v1/mediation-cases").text


def test_a_new_version_is_rendered_anew(as_user):
    village, other = as_user("wanfucun.mediator"), as_user("wanfucun.mediator")
    rid = create_case(village)["id"]
    pull_all(other)  # rev 1 cached
    assert one(village, upd(rid, 1, title="改过的标题"))["status"] == "applied"
    changes, _ = pull_all(other)
    case = _case_in(changes, rid)
    assert (case["rev"], case["title"]) == (2, "改过的标题")
    listed = other.get("/api/v1/mediation-cases").json()["items"]
    assert next(x for x in listed if x["id"] == rid)["title"] == "改过的标题"
    assert get_case(other, rid)["title"] == "改过的标题"


def test_cached_and_fresh_renderings_are_the_same_json(as_user, monkeypatch):
    """With the cache off (CUNZHI_RENDER_CACHE_MB=0) the answers are byte for byte what the cache gives."""
    from cunzhi.core.config import get_settings

    spec, rows = _cases(as_user, 3)
    for username, org, role in (("wanfucun.mediator", "340321108200", "mediator"),
                                ("wanfu.mediator", "340321108", "mediator")):
        viewer = Scope(str(uuid.uuid4()), username, role, org, str(uuid.uuid4()))
        fresh_viewer = Scope(viewer.user_id, username, role, org, viewer.client_id)
        cached = orjson.dumps(present_records(spec, rows, viewer, date(2026, 11, 30)))
        monkeypatch.setenv("CUNZHI_RENDER_CACHE_MB", "0")
        get_settings.cache_clear()
        fresh = orjson.dumps(present_records(spec, rows, fresh_viewer, date(2026, 11, 30)))
        monkeypatch.delenv("CUNZHI_RENDER_CACHE_MB")
        get_settings.cache_clear()
        assert cached == fresh == orjson.dumps([present_record(spec, r, fresh_viewer, date(2026, 11, 30))
                                                for r in rows])
        assert viewer.unmasked_ids == fresh_viewer.unmasked_ids


def _cases(as_user, n: int) -> tuple:
    """``n`` cases of the village, made over HTTP, and their rows as the pages read them."""
    village = as_user("wanfucun.mediator")
    for _ in range(n):
        create_case(village)
    load_entities()
    spec = get_entity("mediation_case")
    return spec, _rows(spec)


def _rows(spec) -> list[dict]:
    from cunzhi.core.db import dicts
    from cunzhi.sync.record import by_ids

    with read_tx() as conn:
        ids = [r[0] for r in conn.execute(sa.select(spec.table.c.id))]
        return dicts(conn.execute(by_ids(conn.dialect.name, spec.table), {"ids": ids}))


@pytest.mark.parametrize("size", [100, 300])
def test_the_cache_keeps_within_its_size_least_recently_used_out_first(size):
    cache = RenderCache()
    for i in range(10):
        cache.put(("e", i), (orjson.Fragment(b"{}"), False, size), 1000)
        assert cache.get(("e", 0)) is not None  # read after every put: the most recently used, never the one out
    kept = [i for i in range(10) if ("e", i) in cache._items]
    fits = 1000 // size
    assert kept == [0, *range(10 - fits + 1, 10)]  # the first (read) and the newest; the rest went oldest first
    assert cache._bytes == fits * size <= 1000


def test_switching_databases_forgets_every_rendering():
    render_cache.put(("mediation_case", "x", 1), (orjson.Fragment(b"{}"), False, 10), 1 << 20)
    assert len(render_cache) >= 1
    reset_engine()
    assert len(render_cache) == 0


def test_the_cache_holds_what_it_counts(as_user):
    """An entry's memory is what the size limit counts (orjson's bytes keep the 16 KB buffer they were written in:
    copied to their own size, 10,000 cached cases took 16 MB, not 160)."""
    import tracemalloc

    spec, rows = _cases(as_user, 4)
    viewer = Scope(str(uuid.uuid4()), "wanfucun.mediator", "mediator", "340321108200", str(uuid.uuid4()))
    render_cache.clear()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for day in range(1, 26):  # 25 days × 4 records: 100 entries
            present_records(spec, rows, viewer, date(2026, 11, day))
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(render_cache) == 100
    assert grown <= 1.2 * render_cache._bytes, (grown, render_cache._bytes)
