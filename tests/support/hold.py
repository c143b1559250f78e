"""The tests' hold hook: a writer waits at a named point of the push's commit path (``before_seq``,
``after_seq``) while ``<hold dir>/<client_id>.<point>`` exists, so tests can keep transactions open and commit
them out of order. Installed through ``cunzhi.sync.hooks`` — production code installs nothing.

``python -m tests.support.hold serve --port N`` runs ``cunzhi serve`` with the hook installed, reading the
folder from ``CUNZHI_TEST_HOLD_DIR`` (tests/support/server.py does this for servers given that variable).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def hold_at(hold_dir: Path):
    def hook(point: str, client_id: str) -> None:
        flag = hold_dir / f"{client_id}.{point}"
        deadline = time.monotonic() + 60
        while flag.exists() and time.monotonic() < deadline:
            (hold_dir / f"{client_id}.{point}.reached").touch()
            time.sleep(0.02)

    return hook


def install(hold_dir: Path) -> None:
    from cunzhi.sync import hooks

    hooks.install(hold_at(hold_dir))


if __name__ == "__main__":
    install(Path(os.environ["CUNZHI_TEST_HOLD_DIR"]))
    from cunzhi.cli import app

    sys.argv = ["cunzhi", *sys.argv[1:]]
    app()
