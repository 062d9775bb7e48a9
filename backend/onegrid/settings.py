"""One typed settings object, read once from the environment (prefix ONEGRID_)."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from onegrid.cases.deadlines import TimeLimit

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONEGRID_", env_file=".env", extra="ignore")

    # Database: an explicit URL wins; otherwise OneGrid runs its own "embedded" PostGIS cluster.
    database_url: str | None = None
    embedded_port: Annotated[int, Field(ge=1, le=65535)] = 54329
    embedded_dir: Path | None = None  # default: /var/lib/postgresql/onegrid-<port> as root
    database_name: str = "onegrid"

    # Assignment
    # A fix this close to another grid's edge may belong to either.
    on_boundary_m: Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)] = 5.0

    # Workflow: working hours and the holiday file of the work calendar (deadlines.py), the
    # limits of steps whose category does not set one, and duplicate suggestions.
    work_hours: str = "08:30-12:00,13:30-17:30"
    work_calendar_file: Path | None = None  # default: the packaged national calendar
    default_file_limit: str = "30min"
    urgent_file_limit: str = "10min"
    default_handle_limit: str = "3wd"
    default_verify_limit: str = "1h"
    close_limit: str = "1wd"
    duplicate_radius_m: Annotated[float, Field(gt=0, le=5000, allow_inf_nan=False)] = 50.0
    duplicate_window_h: Annotated[float, Field(gt=0, le=24 * 365, allow_inf_nan=False)] = 72.0

    @field_validator(
        "default_file_limit",
        "urgent_file_limit",
        "default_handle_limit",
        "default_verify_limit",
        "close_limit",
    )
    @classmethod
    def _is_time_limit(cls, value: str) -> str:
        return str(TimeLimit.parse(value))  # ValueError names the text and the forms

    # Accounts. Without a secret key, development runs sign tokens with a key made at start-up
    # (tokens end with the process); production refuses to start without one.
    environment: str = "development"
    secret_key: str | None = None
    access_token_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 15
    refresh_token_days: Annotated[int, Field(ge=1, le=365)] = 14
    max_failed_logins: Annotated[int, Field(ge=1, le=100)] = 5
    lockout_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 15
    # Password checks (argon2id, 64 MiB each) run this many at a time; the rest wait their
    # turn without a thread or a database connection, so a burst of sign-ins cannot take
    # the server's memory.
    password_checks_at_once: Annotated[int, Field(ge=1, le=64)] = 2
    # ... and at most this many wait (about half a second); more get 429 at once.
    password_checks_queue: Annotated[int, Field(ge=0, le=10_000)] = 16
    # Map page
    tile_url: str | None = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    tile_attribution: str = "© OpenStreetMap contributors"
    tile_max_zoom: int = 19
    map_zoom: int = 14

    # Imports
    default_time_zone: str = "Asia/Shanghai"
    import_chunk_rows: int = 100_000

    # HTTP
    cors_origins: list[str] = []  # e.g. ["https://grid.example.gov.cn"]; none by default
    max_body_bytes: int = 1_000_000  # a report is a few hundred bytes
    max_upload_bytes: int = 10_000_000  # a phone photo
    upload_dir: Path = PROJECT_ROOT / "var" / "uploads"

    # Resident reports (POST /api/reports, no account needed), per client address: new reports
    # per hour, and uses of a follow token per minute (so that guessing tokens is slow too).
    report_rate_per_hour: Annotated[int, Field(ge=1, le=100_000)] = 10
    report_reads_per_minute: Annotated[int, Field(ge=1, le=100_000)] = 60
    # Sign-in attempts per client address (any account): lock-out guards one account, this
    # slows an address trying many.
    sign_ins_per_minute: Annotated[int, Field(ge=1, le=100_000)] = 30
    # Reverse proxies (addresses or networks) whose X-Forwarded-For names the client. Anyone
    # else's header is ignored: a client must not choose its own rate-limit key.
    report_trusted_proxies: list[str] = []

    @field_validator("report_trusted_proxies")
    @classmethod
    def _are_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            ipaddress.ip_network(entry, strict=False)  # ValueError names the entry
        return value

    frontend_dir: Path = PROJECT_ROOT / "frontend"


@lru_cache
def get_settings() -> Settings:
    return Settings()
