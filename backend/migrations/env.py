"""Alembic environment: the URL comes from the caller (onegrid.db.engine.migrate)."""

from alembic import context
from sqlalchemy import create_engine, pool

url = context.config.attributes.get("url") or context.config.get_main_option("sqlalchemy.url")
if not url:
    from onegrid.db.engine import resolve_database_url
    from onegrid.settings import get_settings

    url = resolve_database_url(get_settings())

engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
