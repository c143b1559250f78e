"""Password hashes: real accounts get argon2id at argon2-cffi's default cost; a hash made at another cost (the
test suite's cheap one, or an older default) still signs its account in."""

from __future__ import annotations

import sqlalchemy as sa
from argon2 import PasswordHasher

from cunzhi.core.config import Settings, get_settings
from cunzhi.core.db import write_tx
from tests.support.device import PASSWORD, login


def test_the_default_cost_is_argon2_cffis(monkeypatch):
    monkeypatch.delenv("CUNZHI_PASSWORD_HASH_TIME_COST")
    monkeypatch.delenv("CUNZHI_PASSWORD_HASH_MEMORY_KIB")
    settings = Settings()
    reference = PasswordHasher()
    assert (settings.password_hash_time_cost, settings.password_hash_memory_kib) == \
        (reference.time_cost, reference.memory_cost) == (3, 65536)
    get_settings.cache_clear()
    from cunzhi.users.service import hash_password

    assert hash_password("a-long-password").startswith("$argon2id$v=19$m=65536,t=3,")
    get_settings.cache_clear()


def test_a_hash_of_another_cost_still_signs_in(server):
    strong = PasswordHasher().hash(PASSWORD)  # the production cost, while this process hashes cheaply
    assert "m=65536,t=3" in strong and f"m={get_settings().password_hash_memory_kib}," not in strong
    with write_tx() as conn:
        conn.execute(sa.text("UPDATE app_user SET password_hash = :h WHERE username = 'wanfucun.mediator'"),
                     {"h": strong})
    client = login(server.base, "wanfucun.mediator")
    assert client.get("/api/v1/me").json()["username"] == "wanfucun.mediator"
    client.close()
