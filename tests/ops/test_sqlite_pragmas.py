"""SQLite connections: WAL, foreign keys, and a checkpoint threshold that a push of 500 records does not cross at
almost every commit (docs/performance.md: SQLite's default of 1,000 pages cost up to a third of a push)."""

from __future__ import annotations

from cunzhi.core.config import get_settings
from cunzhi.core.db import make_engine


def _pragmas(url: str) -> dict[str, object]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                    for name in ("journal_mode", "foreign_keys", "wal_autocheckpoint")}
    finally:
        engine.dispose()


def test_a_sqlite_connection_checkpoints_every_10000_pages_by_default(tmp_path, monkeypatch):
    monkeypatch.delenv("CUNZHI_SQLITE_WAL_AUTOCHECKPOINT", raising=False)
    get_settings.cache_clear()
    try:
        assert _pragmas(f"sqlite:///{tmp_path / 'a.db'}") == {
            "journal_mode": "wal", "foreign_keys": 1, "wal_autocheckpoint": 10000}
    finally:
        get_settings.cache_clear()


def test_the_checkpoint_threshold_is_a_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("CUNZHI_SQLITE_WAL_AUTOCHECKPOINT", "2500")
    get_settings.cache_clear()
    try:
        assert _pragmas(f"sqlite:///{tmp_path / 'b.db'}")["wal_autocheckpoint"] == 2500
    finally:
        get_settings.cache_clear()
