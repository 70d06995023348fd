"""The daily housekeeping job `kaohe serve` runs (03:30 Beijing time, and once soon after start):

* retention: the plaintext of inbound messages and the attachment files from before the kept
  assessment years (KAOHE_RETENTION_YEARS, default 2: this year and last) are removed;
* the holiday calendar: from 1 December, whether next year's statutory holidays are known
  (the admins' weekly notice is part of the reminder tick; here it feeds /readyz and /metrics).

Everything here is idempotent, so two instances running it is harmless.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from bot import metrics
from reminders.calendar import holiday_data_gap
from scoring.periods import TZ
from storage.db import Database
from storage.retention import purge_inbound_plaintext
from storage.workdays import list_overrides

log = logging.getLogger(__name__)

RUN_AT = time(3, 30)


def retention_cutoff(today: date, years: int) -> datetime:
    """Start of the oldest kept assessment year (1 January, Beijing time)."""
    return datetime(today.year - (years - 1), 1, 1, tzinfo=TZ)


def purge_media(media_dir: Path, cutoff: datetime) -> int:
    """Remove attachment folders (media/YYYY/MM) of months before the cut-off; returns files
    removed. Anything not named like that is left alone."""
    removed = 0
    if not media_dir.is_dir():
        return 0
    for year_dir in media_dir.iterdir():
        if not (year_dir.is_dir() and year_dir.name.isdigit() and len(year_dir.name) == 4):
            continue
        for month_dir in year_dir.iterdir():
            if not (month_dir.is_dir() and month_dir.name.isdigit()):
                continue
            if (int(year_dir.name), int(month_dir.name)) < (cutoff.year, cutoff.month):
                removed += sum(1 for p in month_dir.rglob("*") if p.is_file())
                shutil.rmtree(month_dir)
        if not any(year_dir.iterdir()):
            year_dir.rmdir()
    return removed


@dataclass
class MaintenanceResult:
    inbound_purged: int = 0
    media_removed: int = 0
    holiday_gap: str | None = None


async def holiday_status(db: Database, today: date) -> str | None:
    """The /readyz detail when next year's holidays are unknown (None when all is known)."""
    gap = holiday_data_gap(today)
    if gap is None:
        metrics.HOLIDAY_DATA_MISSING.set(0)
        return None
    entered = await list_overrides(db, date(gap, 1, 1), date(gap, 12, 31))
    metrics.HOLIDAY_DATA_MISSING.set(1)
    note = (
        f"chinesecalendar has no {gap} holidays; "
        f"{len(entered)} day(s) of {gap} entered with `kaohe calendar set`"
    )
    return note


async def run_maintenance(
    db: Database, *, media_dir: Path, retention_years: int, now: datetime
) -> MaintenanceResult:
    today = now.astimezone(TZ).date()
    cutoff = retention_cutoff(today, retention_years)
    result = MaintenanceResult()
    result.inbound_purged = await purge_inbound_plaintext(db, cutoff)
    result.media_removed = await asyncio.to_thread(purge_media, media_dir, cutoff)
    result.holiday_gap = await holiday_status(db, today)
    log.info(
        "maintenance: kept from %s; %d inbound plaintexts and %d attachment files removed%s",
        cutoff.date(),
        result.inbound_purged,
        result.media_removed,
        f"; {result.holiday_gap}" if result.holiday_gap else "",
    )
    return result


def seconds_until_next_run(now: datetime) -> float:
    local = now.astimezone(TZ)
    target = datetime.combine(local.date(), RUN_AT, TZ)
    if target <= local:
        target += timedelta(days=1)
    return (target - local).total_seconds()


async def daily_loop(db: Database, *, media_dir: Path, retention_years: int, **_: Any) -> None:
    """Run soon after start, then every day at RUN_AT; a failure is logged and retried tomorrow."""
    delay = 30.0
    while True:
        await asyncio.sleep(delay)
        try:
            await run_maintenance(
                db,
                media_dir=media_dir,
                retention_years=retention_years,
                now=datetime.now(TZ),
            )
        except Exception:
            log.exception("maintenance failed; next try tomorrow")
        delay = seconds_until_next_run(datetime.now(TZ))
