"""One typed settings object, read once from the environment (prefix ONEGRID_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

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

    # Map page
    tile_url: str | None = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    tile_attribution: str = "© OpenStreetMap contributors"
    tile_max_zoom: int = 19
    map_zoom: int = 14

    # Imports
    default_time_zone: str = "Asia/Shanghai"
    import_chunk_rows: int = 100_000

    # HTTP
    max_body_bytes: int = 1_000_000  # a report is a few hundred bytes; photos come later

    frontend_dir: Path = PROJECT_ROOT / "frontend"


@lru_cache
def get_settings() -> Settings:
    return Settings()
