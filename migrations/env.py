"""Alembic environment: async (asyncpg), URL from DATABASE_URL, one migrator at a time."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from backend.data.models import Base
from backend.runtime.config import asyncpg_url, database_url_from_env
from backend.runtime.migrate import MIGRATION_LOCK_KEY

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def database_url() -> str:
    url = config.get_main_option("sqlalchemy.url") or database_url_from_env()
    if not url:
        raise SystemExit(
            "DATABASE_URL is not set (or use `todoapp db ...` for the embedded server)"
        )
    return asyncpg_url(url)


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        # Replicas starting together queue here; whoever comes second reads the version table
        # only after the first has committed, finds the schema at head and does nothing.
        # A transaction-level lock is released by the commit, so it cannot be held twice.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        context.run_migrations()


async def run_migrations_online() -> None:
    engine = create_async_engine(database_url(), poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
