"""Named points of the push's commit path where a test may step in (e.g. hold a writer open inside its
transaction to prove pulls skip nothing). Production installs nothing: each point is one call to a no-op.
The tests install theirs (tests/support/hold.py)."""

from __future__ import annotations

from collections.abc import Callable

_HOOK: Callable[[str, str], None] | None = None


def install(hook: Callable[[str, str], None] | None) -> None:
    """``hook(point, client_id)``; ``None`` removes it."""
    global _HOOK
    _HOOK = hook


def point(name: str, client_id: str) -> None:
    if _HOOK is not None:
        _HOOK(name, client_id)
