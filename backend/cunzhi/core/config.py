"""Typed settings, read from the environment (prefix ``CUNZHI_``) and an optional ``.env`` file."""

from __future__ import annotations

import os
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
    # a session ends this many days after sign-in however often it is used (the sliding expiry stops there)
    session_max_days: int = 90
    # login throttling: after this many failures a username (or a client address) waits, longer each time
    login_max_failures: int = 5
    login_ip_max_failures: int = 20
    login_lock_seconds: int = 5
    login_lock_max_seconds: int = 900
    login_window_seconds: int = 3600
    # argon2id cost of password hashes (argon2-cffi's defaults, RFC 9106's low-memory choice); a hash made with
    # other costs still verifies. Lower only for throwaway databases (the test suite), never for real accounts.
    password_hash_time_cost: int = 3
    password_hash_memory_kib: int = 65536
    # uploads: images over this many pixels are refused before they are decoded; per-user storage quota
    max_image_pixels: int = 25_000_000
    attachment_quota_bytes: int = 500 * 1024 * 1024
    # personal data of records closed more than this many years ago is anonymised by `cunzhi maintain`
    # (0: kept until erased by hand)
    personal_data_retention_years: int = 0
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
    # SQLite: WAL pages written before a commit copies them back into the database file (SQLite's default is
    # 1,000 ≈ 4 MB: a push of 500 records then checkpointed at almost every commit, up to a third of its time)
    sqlite_wal_autocheckpoint: int = Field(default=10000, ge=0)
    # route handlers (and sync dependencies) running at once per server process; the rest wait in line. Python runs
    # one thread at a time: 40 (the framework's default) time-sliced every request in flight, so under load each
    # took as long as the slowest and the API mix's p99 at 100 requests/s swung from 70 ms to 700 ms on
    # PostgreSQL; a few keep the database busy while one thread holds the interpreter (docs/performance.md)
    request_threads: int = Field(default=4, ge=1, le=200)
    # records rendered to JSON kept per process for the pages many devices read (sync/present.RenderCache); 0: off
    render_cache_mb: int = Field(default=32, ge=0, le=4096)
    # how often the running server notes the change feed's high-water mark outside the database
    watermark_seconds: float = 10.0
    # ---- operations (issue 14) ----
    log_level: str = "INFO"
    log_json: bool = False  # one JSON object per line (for a log collector) instead of key=value lines
    metrics_token: str = ""  # /metrics answers only `Authorization: Bearer <this>`; empty: /metrics is off (404)
    backup_dir: Path | None = None  # `cunzhi db backup` writes here (default DATA_DIR/backups)
    backup_keep: int = 14  # backups kept by rotation
    migrate_on_start: bool = True  # `cunzhi serve` applies pending migrations (under a lock) before serving
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
    def resolved_backup_dir(self) -> Path:
        return self.backup_dir or self.data_dir / "backups"

    @property
    def resolved_secret_key(self) -> str:
        """The signing key: from the environment, else generated once into DATA_DIR/secret_key."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            _create_secret_file(path)
        return path.read_text().strip()


def _create_secret_file(path: Path) -> None:
    """Write a new key readable by the owner only, atomically: never a moment with a world-readable or
    half-written file, and when two processes race the first key wins and both read it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # fails if another process made the key first: keep theirs
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)


@lru_cache
def get_settings() -> Settings:
    return Settings()
