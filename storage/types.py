"""Column types shared by the tables: aware UTC timestamps and exact decimals.

Timestamps are stored in UTC (PostgreSQL: `timestamp with time zone`; SQLite: ISO text in UTC) and
always come back as timezone-aware `datetime` in UTC. Writing a naive datetime is an error: the
caller must say which zone it means. Convert to Asia/Shanghai for display, not for storage.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, String
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_utc(moment: datetime) -> datetime:
    """An aware datetime in UTC; refuses naive datetimes (which zone would they be in?)."""
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise ValueError(f"naive datetime {moment!r}: pass a timezone-aware datetime")
    return moment.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetime in, aware UTC datetime out, on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        moment = to_utc(value)
        # SQLite has no time zone support: store naive UTC text so that ordering is by time.
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def bind_processor(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            # ours above and SQLAlchemy's SQLite text, in one call (the same text: tested)
            return utc_to_sqlite_text
        return super().bind_processor(dialect)

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        if dialect.name == "sqlite":
            # SQLAlchemy's SQLite processor (fromisoformat) and ours above, in one call: a
            # year's facts read ~100,000 timestamps, and three calls per value showed
            return utc_from_sqlite_text
        return super().result_processor(dialect, coltype)


def utc_to_sqlite_text(value: datetime | None) -> str | None:
    """`value` in UTC as SQLAlchemy's SQLite DATETIME writes it ("2026-03-01 10:00:00.000000")."""
    if value is None:
        return None
    return to_utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")


_NAIVE_LENGTHS = frozenset({19, 26})  # "2026-03-01 10:00:00" with or without ".123456"


def utc_from_sqlite_text(value: str | None) -> datetime | None:
    """A timestamp as SQLite keeps it (naive UTC text) as an aware UTC datetime."""
    if value is None:
        return None
    if len(value) in _NAIVE_LENGTHS:  # naive UTC text, as written: parsed as UTC in one step
        # (a sixth of `fromisoformat(value).replace(tzinfo=UTC)`: `replace` alone took 0.9 µs)
        try:
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:  # not naive after all: below
            pass
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class DecimalText(TypeDecorator[Decimal]):
    """An exact decimal stored as its text ("0.1", "300000"): the same value on every database,
    with no float rounding and no padding to a fixed scale."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: Decimal | int | str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        number = Decimal(str(value))
        if not number.is_finite():
            raise ValueError(f"not a finite number: {value!r}")
        return str(number)

    def process_result_value(self, value: str | None, dialect: Any) -> Decimal | None:
        return None if value is None else Decimal(value)
