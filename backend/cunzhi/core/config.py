"""Typed settings, read from the environment (prefix ``CUNZHI_``) and an optional ``.env`` file."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[3]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CUNZHI_", env_file=".env", extra="ignore")

    data_dir: Path = Path("./data")
    database_url: str = ""
    secret_key: str = ""
    demo: bool = False
    frontend_dir: Path = REPO_ROOT / "frontend" / "dist"
    session_days: int = 30
    retention_days: int = 180
    attachment_purge_days: int = 30
    max_push_mutations: int = 500
    max_push_bytes: int = 5 * 1024 * 1024
    max_attachment_bytes: int = 10 * 1024 * 1024
    max_body_bytes: int = 1024 * 1024
    pull_default_limit: int = 500
    pull_max_limit: int = 5000
    # PostgreSQL: a statement running longer than this is cancelled (answers 503 busy), so one
    # stuck transaction cannot hold the sync counter and stall every push.
    statement_timeout_ms: int = 15000
    # how often the running server notes the change feed's high-water mark outside the database
    watermark_seconds: float = 10.0
    # integrations: requests a minute per API key (token bucket, per process) and the burst allowed
    api_key_rate_per_minute: int = 600
    api_key_burst: int = 60
    # webhooks: http and loopback/private addresses allowed (tests, intranets); the delivery worker
    webhook_allow_private: bool = False
    webhook_worker: bool = True
    webhook_timeout_s: float = 10.0
    webhook_poll_s: float = 1.0
    webhook_retry_days: float = 3.0
    webhook_backoff_s: float = 5.0
    # Seen from the test harness only: when set, the push waits for this file to disappear
    # before committing (used to hold writers open inside their transactions).
    test_hold_dir: Path | None = Field(default=None)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'cunzhi.db').as_posix()}"

    @property
    def resolved_secret_key(self) -> str:
        """The signing key: from the environment, else generated once into DATA_DIR/secret_key."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
