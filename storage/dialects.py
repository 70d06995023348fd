"""`INSERT … ON CONFLICT` for the database in use, imported only for it: SQLAlchemy's PostgreSQL
dialect (with its drivers' adapters, ~1.4 MB resident) is not loaded by a process serving from
SQLite, nor SQLite's by one on PostgreSQL."""

from __future__ import annotations

from typing import Any


def insert_for(dialect: str) -> Any:
    """The dialect's `insert` (with `on_conflict_do_nothing` / `on_conflict_do_update`)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert
