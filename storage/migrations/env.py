"""Alembic environment (async). Used two ways:

* from code (`storage.db.Database.upgrade`): the caller passes a live connection in
  `config.attributes["connection"]`, so migrations run inside the caller's event loop;
* from the `alembic` command line (e.g. `alembic -c storage/alembic.ini revision --autogenerate`),
  with the URL from `sqlalchemy.url` or `KAOHE_DATABASE_URL`.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config

# every module with tables, so that autogenerate and the models/schema test see them all
import storage.grades  # final_grade
import storage.inspection  # inspection, inspection_event
import storage.models  # the core tables
import storage.rating  # rating_round, rating_answer, rating_close
import storage.reminder_digests  # digest_send
import storage.selfcheck  # selfcheck_entry
import storage.workdays  # noqa: F401  (workday_override)
from storage.models import metadata
from storage.types import DecimalText, UTCDateTime

config = context.config
target_metadata = metadata


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Render our column types as the plain SQLAlchemy types they are stored as, so that
    migrations never import application code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, DecimalText):
        return "sa.String(length=40)"
    return False


def _configure(connection: Connection | None = None, **kw: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=render_item,
        render_as_batch=True,  # SQLite needs batch mode to alter tables
        compare_type=True,
        **kw,
    )


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or os.environ.get(
        "KAOHE_DATABASE_URL", "sqlite+aiosqlite:///./kaohe.db"
    )


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    section = config.get_section(config.config_ini_section, {})
    section["sqlalchemy.url"] = _url()
    connectable = async_engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
    async with connectable.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await connectable.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
    else:
        asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
