"""Shared fixtures: a fresh migrated database per test (SQLite, and PostgreSQL when configured), a real
HTTP server on loopback, and logged-in clients for the demo accounts."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("CUNZHI_DATA_DIR", "/tmp/cunzhi-test-unused")
# Every simulated phone of a test shares the loopback address: the per-address login throttle would count
# the whole suite's deliberate bad logins together. tests/security sets it low where it is the subject.
os.environ.setdefault("CUNZHI_LOGIN_IP_MAX_FAILURES", "1000")
os.environ.setdefault("CUNZHI_LOG_LEVEL", "WARNING")
# throwaway accounts: cheap argon2 hashes (a default-cost check is 50 ms of CPU; the suite logs in thousands of
# times). tests/security/test_password_cost.py checks the real defaults and that either kind verifies.
os.environ.setdefault("CUNZHI_PASSWORD_HASH_TIME_COST", "1")
os.environ.setdefault("CUNZHI_PASSWORD_HASH_MEMORY_KIB", "1024")  # no request lines in test output (tests/ops turns them on)

import httpx  # noqa: E402

# Every httpx client of the suite shares one TLS context: the tests speak plain HTTP on loopback, and building a
# context loads the CA bundle (20–50 ms of CPU each; py-spy found it at a quarter of the suite's CPU).
_TLS = httpx.create_ssl_context()
_client_init = httpx.Client.__init__


def _client_with_shared_tls(self, *args, verify=True, **kwargs):
    _client_init(self, *args, verify=_TLS if verify is True else verify, **kwargs)


httpx.Client.__init__ = _client_with_shared_tls  # type: ignore[method-assign]

from tests.support import databases  # noqa: E402
from tests.support.device import login  # noqa: E402
from tests.support.server import ThreadServer  # noqa: E402


@pytest.fixture(scope="session")
def template_root(tmp_path_factory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("templates")
    yield root
    databases.drop_templates()


@pytest.fixture(params=databases.KINDS)
def db_kind(request) -> str:
    return request.param


@pytest.fixture
def database(db_kind, template_root, tmp_path) -> Iterator[str]:
    """A fresh database (demo org tree and accounts, no records) that the app now points at."""
    url = databases.fresh(db_kind, template_root, tmp_path)
    databases.use(url, tmp_path)
    yield url
    databases.drop(db_kind, url)


@pytest.fixture
def demo_database(database) -> str:
    """A fresh database the demo will load into: the demo refuses a database with accounts other than its own
    (issue 11), so the harness's two extra accounts (no records of theirs yet) are dropped."""
    import sqlalchemy as sa

    from cunzhi.core.db import write_tx

    with write_tx() as conn:
        conn.execute(sa.text("DELETE FROM app_user WHERE username IN ('wanfu.mediator', 'zhendong.admin')"))
    return database


@pytest.fixture
def server(database) -> Iterator[ThreadServer]:
    with ThreadServer() as srv:
        yield srv


@pytest.fixture
def as_user(server):
    """``as_user("wanfucun.mediator")`` → an httpx client logged in over real HTTP (new device each call)."""
    clients = []

    def make(username: str, client_id: str | None = None, lang: str = "zh-CN"):
        c = login(server.base, username, client_id, lang=lang)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()
