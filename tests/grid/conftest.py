"""Grid-work fixtures: a fresh database per test with the three demo grids of 万福村 and a 镇东村 grid, a real
server, and logged-in clients for the demo accounts (sessions written straight to the DB: argon2 is slow)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.grid.support import G


@pytest.fixture
def g(server) -> Iterator[G]:
    world = G(server.base)
    try:
        world.setup()
        yield world
    finally:
        world.close()
