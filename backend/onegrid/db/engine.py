"""Engine, sessions and the one place that decides which PostGIS we talk to."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from onegrid.db.embedded import EmbeddedCluster
from onegrid.errors import DatabaseUnavailable
from onegrid.settings import PROJECT_ROOT, Settings

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def embedded_cluster(settings: Settings) -> EmbeddedCluster:
    return EmbeddedCluster.for_project(PROJECT_ROOT, settings.embedded_port, settings.embedded_dir)


def resolve_database_url(settings: Settings, *, start: bool = True, log=print) -> str:
    """ONEGRID_DATABASE_URL when set; otherwise the embedded cluster (started if needed)."""
    if settings.database_url:
        url = make_url(settings.database_url)
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        return url.render_as_string(hide_password=False)
    cluster = embedded_cluster(settings)
    if start:
        cluster.up(log=log)
    return cluster.url(settings.database_name)


def make_engine(url: str, **kwargs) -> Engine:
    return sa.create_engine(url, **{"pool_pre_ping": True, **kwargs})


def ensure_database(url: str, log=print) -> None:
    """Create the database and the PostGIS extension if missing, then migrate to head."""
    target = make_url(url)
    admin = make_engine(
        target.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    try:
        with admin.connect() as conn:
            exists = conn.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
            )
            if not exists:
                log(f"Creating database {target.database}")
                conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    except sa.exc.OperationalError as exc:
        raise DatabaseUnavailable(
            f"Cannot reach PostgreSQL at {target.host}:{target.port}: {exc.orig}"
        ) from exc
    finally:
        admin.dispose()
    migrate(url)


def migrate(url: str, revision: str = "head") -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["url"] = url
    command.upgrade(config, revision)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session
