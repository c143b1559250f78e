"""A seeded world shared by a module's tests (read-mostly): one database and server per module and DB kind.

Seeds, each with parties carrying phone and ID numbers, one case event, one stored conflict on ``parties``
and one attachment:

    W   340321108200 万福村 (village)          by wanfucun.mediator
    Z   340321108201 镇东村 (village)          by zhendong.mediator
    WT  340321108    万福镇 (township-level)   by wanfu.admin
    T   340321109    唐集镇 (township-level)   by tangji.admin
    X   340322100200 a village of another county (五河县), by wuhe.mediator — outside every demo scope
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from tests.api import helpers as h
from tests.support import databases
from tests.support.device import PASSWORD, login, mutation, new_case_fields, push
from tests.support.server import ThreadServer

USERS = {  # short name → username (the matrix's column order)
    "M": "wanfucun.mediator", "G": "wanfucun.grid", "VA": "wanfucun.admin", "ZM": "zhendong.mediator",
    "ZA": "zhendong.admin", "TA": "wanfu.admin", "TV": "wanfu.viewer", "TM": "wanfu.mediator",
    "OA": "tangji.admin", "CA": "county.admin",
}
ORDER = list(USERS)

SEEDS = {  # name → (org_code, creator username, index for personal data)
    "W": ("340321108200", "wanfucun.mediator", 1),
    "Z": ("340321108201", "zhendong.mediator", 2),
    "WT": ("340321108", "wanfu.admin", 3),
    "T": ("340321109", "tangji.admin", 4),
    "X": ("340322100200", "wuhe.mediator", 5),
}


@dataclass
class Seed:
    name: str
    org: str
    creator: str
    case_id: str
    event_id: str
    conflict_id: str
    attachment_id: str
    phones: list[str]
    id_number: str
    attachment_bytes: bytes = b""


@dataclass
class World:
    url: str
    base: str
    engine: object
    clients: dict[str, httpx.Client] = field(default_factory=dict)  # username → client
    seeds: dict[str, Seed] = field(default_factory=dict)
    extra: list[httpx.Client] = field(default_factory=list)

    def c(self, short_or_username: str) -> httpx.Client:
        return self.clients[USERS.get(short_or_username, short_or_username)]

    def login(self, username: str, client_id: str | None = None, lang: str = "zh-CN") -> httpx.Client:
        """A new device of this user (session written straight to the DB: argon2 is slow on shared CI)."""
        cl = fast_login(self.engine, self.base, username, client_id, lang)
        self.extra.append(cl)
        return cl

    def anon(self, lang: str = "zh-CN") -> httpx.Client:
        cl = httpx.Client(base_url=self.base, timeout=30, headers={"Accept-Language": lang})
        self.extra.append(cl)
        return cl

    def secrets(self) -> dict[str, list[str]]:
        """Seed name → every full personal value it ever held (phones and ID)."""
        return {s.name: s.phones + [s.id_number] for s in self.seeds.values()}


def fast_login(engine, base: str, username: str, client_id: str | None = None, lang: str = "zh-CN",
               with_session: bool = False):
    """A logged-in client whose session row is written directly (the login endpoint has its own cells)."""
    import secrets
    from datetime import timedelta

    import sqlalchemy as sa

    from cunzhi.core.clock import utcnow
    from cunzhi.users.models import AuthSession
    from cunzhi.users.service import token_hash

    client_id = client_id or str(uuid.uuid4())
    token, now, sid = secrets.token_urlsafe(32), utcnow(), str(uuid.uuid4())
    with engine.begin() as conn:
        uid, org = conn.execute(sa.text("SELECT id, org_code FROM app_user WHERE username = :u"),
                                {"u": username}).one()
        conn.execute(AuthSession.__table__.insert().values(
            id=sid, user_id=uid, client_id=client_id, token_hash=token_hash(token), org_code=org,
            user_agent="test", created_at=now, last_seen_at=now, expires_at=now + timedelta(days=30)))
    cl = httpx.Client(base_url=base, timeout=30, headers={"Accept-Language": lang,
                                                           "Authorization": f"Bearer {token}"})
    cl.client_id = client_id  # type: ignore[attr-defined]
    cl.username = username  # type: ignore[attr-defined]
    cl.session_id = sid  # type: ignore[attr-defined]
    return cl


def _add_other_county(url: str) -> None:
    from cunzhi.core.db import write_tx
    from cunzhi.orgs.service import import_units
    from cunzhi.users.service import create_user

    with write_tx() as conn:
        import_units(conn, [
            {"code": "340322", "name": "五河县", "level": "county", "parent_code": "3403"},
            {"code": "340322100", "name": "城关镇", "level": "township", "parent_code": "340322"},
            {"code": "340322100200", "name": "城关村", "level": "village", "parent_code": "340322100"},
        ])
        create_user(conn, "wuhe.mediator", PASSWORD, "mediator", "340322100200", "五河县调解员")


def new_case(client: httpx.Client, org: str, idx: int = 9, **over) -> dict:
    """Create a case (with personal data) and return the record of the answer."""
    rid = str(uuid.uuid4())
    fields = new_case_fields(org, parties=[
        {"name": "张三", "role": "applicant", "phone": h.phone(idx, 0), "id_number": h.id_number(idx, 0)},
        {"name": "李四", "role": "respondent"}], **over)
    r = push(client, [mutation("mediation_case", rid, fields)])
    assert r.status_code == 200, r.text
    res = r.json()["results"][0]
    assert res["status"] == "applied", res
    return res["record"]


def make_conflict(world: World, creator: str, case: dict, field_name: str, first, second) -> str:
    """Two devices of the creator change the same field from the same base: the second is a conflict."""
    a, b = world.login(creator), world.login(creator)
    r1 = push(a, [mutation("mediation_case", case["id"], {field_name: first}, base_rev=case["rev"])]).json()
    assert r1["results"][0]["status"] == "applied", r1
    r2 = push(b, [mutation("mediation_case", case["id"], {field_name: second}, base_rev=case["rev"])]).json()
    assert r2["results"][0]["status"] == "conflict", r2
    return r2["results"][0]["conflict_id"]


def _seed(world: World, name: str, org: str, creator: str, idx: int) -> Seed:
    c = world.clients.get(creator) or world.login(creator)
    case = new_case(c, org, idx)
    ev = str(uuid.uuid4())
    r = push(c, [mutation("case_event", ev, {"case_id": case["id"], "kind": "session",
                                              "occurred_at": "2026-11-21T10:00:00+08:00", "content": "首次调解"})])
    assert r.json()["results"][0]["status"] == "applied", r.text
    parties_b = [{"name": "张三", "role": "applicant", "phone": h.phone(idx, 1), "id_number": h.id_number(idx, 0)},
                 {"name": "李四", "role": "respondent"}]
    parties_c = [{"name": "张三", "role": "applicant", "phone": h.phone(idx, 2), "id_number": h.id_number(idx, 0)},
                 {"name": "李四", "role": "respondent"}]
    conflict = make_conflict(world, creator, case, "parties", parties_b, parties_c)
    aid = str(uuid.uuid4())
    data = h.jpeg_bytes(color=(idx * 20, 0, 0))
    r = h.upload(c, aid, data, case["id"])
    assert r.status_code == 200, r.text
    return Seed(name, org, creator, case["id"], ev, conflict, aid, [h.phone(idx, j) for j in range(3)],
                h.id_number(idx, 0), data)


@pytest.fixture(scope="module", params=databases.KINDS)
def world(request, template_root, tmp_path_factory) -> Iterator[World]:
    kind = request.param
    tmp = tmp_path_factory.mktemp(f"world-{kind}")
    url = databases.fresh(kind, template_root, tmp)
    databases.use(url, tmp)
    _add_other_county(url)
    engine = h.engine_for(url)
    with ThreadServer() as srv:
        w = World(url, srv.base, engine)
        try:
            w.clients["wanfucun.mediator"] = login(srv.base, "wanfucun.mediator")  # one real login
            for username in [*USERS.values(), "wuhe.mediator"]:
                if username not in w.clients:
                    w.clients[username] = fast_login(engine, srv.base, username)
            for name, (org, creator, idx) in SEEDS.items():
                w.seeds[name] = _seed(w, name, org, creator, idx)
            yield w
        finally:
            for cl in list(w.clients.values()) + w.extra:
                cl.close()
    engine.dispose()
    databases.drop(kind, url)
