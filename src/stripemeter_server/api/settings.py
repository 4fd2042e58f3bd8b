"""Settings, read once at the entry point from ``STRIPEMETER_*`` variables and ``.env``."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STRIPEMETER_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///data/stripemeter.db"
    sqlite_synchronous: str = "NORMAL"
    db_pool_size: int = 10
    auto_migrate: bool = True
    bootstrap_key: str | None = None
    max_batch_events: int = 1000
    max_body_bytes: int = 1024 * 1024
    max_meta_bytes: int = 4096
    max_future_skew_seconds: int = 300
    ingest_writers: int = 0  # 0: one writer on SQLite, two on PostgreSQL
    max_group_events: int = 5000
    host: str = "127.0.0.1"
    port: int = 3000
