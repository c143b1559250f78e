"""The permission matrix's column for API keys, over every route the app serves.

Read routes: a key sees its unit's subtree and nothing else (another unit's record answers 404, as an absent
one does), personal data masked unless the key is unmasked, and a revoked key is 401 everywhere. Every route
that is not a read answers 403 to a key (keys are read-only) and changes nothing. New routes join these
checks by themselves: they are read from the app's OpenAPI schema."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.api import helpers as h
from tests.api.conftest import World

PUBLIC = {"/api/v1/health", "/api/v1/auth/token"}


def _routes() -> list[tuple[str, str]]:
    from cunzhi.main import create_app

    paths = create_app().openapi()["paths"]
    return sorted((m.upper(), p) for p, ops in paths.items() if p.startswith("/api/") and p not in PUBLIC
                  for m in ops if m in ("get", "post", "put", "patch", "delete"))


def _key(world: World, org: str, unmasked: bool = False, entities: list[str] | None = None,
         name: str = "矩阵列") -> httpx.Client:
    from cunzhi.integrations.keys import create_key

    with world.engine.begin() as conn:
        secret = create_key(conn, name=name, org_code=org, entities=entities, expires_on=None,
                            unmasked=unmasked, creator=None)["secret"]
    cl = httpx.Client(base_url=world.base, timeout=30, headers={"Authorization": f"Bearer {secret}"})
    world.extra.append(cl)
    return cl


def _fill(path: str, ident: str) -> str:
    return re.sub(r"\{[^}]+\}", ident, path)


def _list_routes() -> list[str]:
    """Record lists: a GET without path parameters whose answer is ``{items}`` of records with org codes."""
    skip = {"/api/v1/me", "/api/v1/reference", "/api/v1/sync/pull", "/api/v1/sessions", "/api/v1/api-keys",
            "/api/v1/webhooks", "/api/v1/notices"}
    return [p for m, p in _routes() if m == "GET" and "{" not in p and p not in skip]


def test_writes_refuse_keys_and_change_nothing(world):
    key = _key(world, "340321108")
    for method, path in _routes():
        if method == "GET":
            continue
        r = key.request(method, _fill(path, h.new_id()), json={})
        h.assert_error(r, 403, "forbidden")


def test_revoked_key_is_401_on_every_route(world):
    from cunzhi.core.clock import utcnow
    from cunzhi.integrations.models import ApiKey

    key = _key(world, "340321108", name="revoked-in-test")
    with world.engine.begin() as conn:
        t = ApiKey.__table__
        conn.execute(t.update().where(t.c.name == "revoked-in-test").values(revoked_at=utcnow()))
    for method, path in _routes():
        r = key.request(method, _fill(path, h.new_id()), json={} if method != "GET" else None)
        h.assert_error(r, 401, "key_revoked")


@pytest.mark.parametrize("path", _list_routes())
def test_lists_and_items_stay_in_the_keys_unit(world, path):
    village, other = _key(world, "340321108200"), _key(world, "340321109")
    secrets = [s for name, seed in world.seeds.items() if name != "W" for s in seed.phones + [seed.id_number]]
    mine = village.get(path)
    if mine.status_code == 422:  # a list that needs a filter (e.g. a period): not a record list
        return
    if mine.status_code == 403:  # an administrators' route (e.g. /users): refused to every key alike
        h.assert_error(mine, 403, "forbidden")
        h.assert_error(other.get(path), 403, "forbidden")
        return
    assert mine.status_code == 200, mine.text
    assert not any(s in mine.text for s in secrets)
    if not mine.headers.get("content-type", "").startswith("application/json") or "items" not in mine.json():
        return  # not a record list (e.g. the dashboard's export file)
    items = mine.json()["items"]
    for it in items:
        if isinstance(it, dict) and "org_code" in it:
            assert it["org_code"].startswith("340321108200"), (path, it)
    assert not any(s in mine.text for s in secrets)
    # each record the village key sees is absent for the other township's key
    for it in items[:3]:
        if isinstance(it, dict) and "id" in it and "org_code" in it:
            r = other.get(f"{path}/{it['id']}")
            h.assert_error(r, 404, "not_found")
    theirs = other.get(path)
    assert theirs.status_code == 200
    assert "340321108200" not in theirs.text


def test_pull_is_the_change_feed_of_the_keys_scope(world):
    from tests.support.device import pull_all

    masked, unmasked = _key(world, "340321108200"), _key(world, "340321108200", unmasked=True)
    w = world.seeds["W"]
    for cl, full in ((masked, False), (unmasked, True)):
        changes, cursor = pull_all(cl)
        assert {c["record"]["org_code"] for c in changes} == {"340321108200"}
        case = next(c["record"] for c in changes if c["record"]["id"] == w.case_id)
        assert (case["parties"][0]["id_number"] == w.id_number) is full
        again, _ = pull_all(cl, cursor)
        assert again == []  # incremental: nothing new since the cursor


def test_a_method_a_path_lacks_is_405_with_every_allowed_method(world):
    """integrations.md: a method a path does not have answers 405 with the right ``Allow`` header."""
    from collections import defaultdict

    by_path: dict[str, set[str]] = defaultdict(set)
    for method, path in _routes():
        by_path[path].add(method)
    templates = [(re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(p)) + "$"), ms)
                 for p, ms in by_path.items()]
    client = world.c("TA")
    for path in by_path:
        concrete = _fill(path, h.new_id())
        # a concrete path has the methods of every route template it matches; a path written out is that
        # resource alone (/households/import is not a household's id: POST only); a method it lacks is the 405
        methods = by_path[concrete] if concrete in by_path else \
            set().union(*(ms for pattern, ms in templates if pattern.match(concrete)))
        missing = sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - methods)
        if not missing:
            continue
        for method in missing:
            r = client.request(method, concrete, json={})
            h.assert_error(r, 405, "method_not_allowed")
            assert set(r.headers["Allow"].split(", ")) == methods, (method, path, r.headers["Allow"])
