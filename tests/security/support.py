"""Helpers of the security suite: a direct connection to the database under attack, a CLI run in-process."""

from __future__ import annotations

import sqlalchemy as sa
from typer.testing import CliRunner

from cunzhi.core.config import get_settings
from tests.api import helpers as h


def cli(*args: str, stdin: str | None = None):
    from cunzhi.cli import app

    return CliRunner().invoke(app, list(args), input=stdin)


def setting(monkeypatch, **values) -> None:
    """Change settings of the running (in-process) server for one test."""
    s = get_settings()
    for k, v in values.items():
        monkeypatch.setattr(s, k, v)


def dump(url: str) -> str:
    """Every row of every table, as text: what a database dump would show."""
    engine = h.engine_for(url)
    try:
        meta = sa.MetaData()
        meta.reflect(engine)
        out = []
        with engine.connect() as conn:
            for t in meta.sorted_tables:
                for row in conn.execute(sa.select(t)):
                    out.append(f"{t.name}: {tuple(row)!r}")
        return "\n".join(out)
    finally:
        engine.dispose()


def audit(url: str, action: str) -> list[dict]:
    engine = h.engine_for(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT * FROM audit_entry WHERE action = :a ORDER BY id"),
                                {"a": action}).mappings().all()
            return [dict(r) for r in rows]
    finally:
        engine.dispose()


def execute(url: str, sql: str, **params) -> None:
    engine = h.engine_for(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(sql), params)
    finally:
        engine.dispose()
