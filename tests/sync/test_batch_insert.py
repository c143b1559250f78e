"""A push inserts a batch's new records of one type in one multi-row INSERT, which binds the keys of its first
row only. Rows whose keys differ (a nullable column one record's rules set and another's do not — it happened
to a points entry and its reversal in one push, whose ``reverses_id`` was silently lost) must all be stored whole."""

from __future__ import annotations

import uuid

import sqlalchemy as sa



def test_rows_of_one_insert_with_different_keys_keep_every_value(database):
    from cunzhi.core.db import get_engine, write_tx
    from cunzhi.core.scope import Scope
    from cunzhi.grid.entities import household
    from cunzhi.sync.mutation import Mutation
    from cunzhi.sync.push import Push

    with get_engine().connect() as conn:
        uid = conn.execute(sa.text("select id from app_user where username = 'wanfucun.admin'")).scalar_one()
    actor = Scope(uid, "wanfucun.admin", "village_admin", "340321108200", str(uuid.uuid4()), "s")
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    with write_tx() as conn:
        push = Push(conn, actor)
        for rid, address in ((first, None), (second, "东庄 12 号")):
            fields = {"org_code": "340321108200", "head_name": "张三", "members": 3}
            if address:
                fields["address"] = address
            res = push.apply(Mutation(str(uuid.uuid4()), "household", "upsert", rid, 0, fields))
            assert res.status == "applied", res
        # the first record's row lacks the column entirely (as a type's rules may leave it): the second has it
        pending = push._pending["household"]
        pending[0].pop("address", None)
        push.flush()
    with get_engine().connect() as conn:
        t = household.table
        got = dict(conn.execute(sa.select(t.c.id, t.c.address).where(t.c.id.in_([first, second]))).all())
    assert got == {first: None, second: "东庄 12 号"}
