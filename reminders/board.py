"""What every unit still owes, and its light: 红 (something overdue), 黄 (something due within
`soon` working days), 绿 (fine). One computation for 未报 in chat, the 未报/红黄绿 board on the
dashboard, 一键催报 and the admins' daily digest.

Obligations are the deadlines of reminders/deadlines.py: every 政务信息 quota period, every report
period, every feedback task; `owed(db, now)` builds them for every unit from the ledger as known
at `now`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from reminders.calendar import WorkCalendar
from reminders.clock import local
from reminders.deadlines import Deadline, deadlines_for
from scoring import SchemeError, load_scheme
from storage.db import Database
from storage.facts import build_all_facts, collector_paused
from storage.models import Role
from storage.units import list_units

SOON_WORKDAYS = 3


class Light(StrEnum):
    RED = "红"
    YELLOW = "黄"
    GREEN = "绿"


@dataclass(frozen=True)
class UnitOwed:
    """One unit: its people and every deadline of its year(s) with what came in."""

    unit_id: int
    unit: str
    liaisons: tuple[str, ...]
    leaders: tuple[str, ...]
    deadlines: tuple[Deadline, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class UnitLight:
    unit_id: int
    unit: str
    light: Light
    overdue: tuple[Deadline, ...]
    soon: tuple[Deadline, ...]


def light_of(
    unit: UnitOwed, today: date, calendar: WorkCalendar, soon: int = SOON_WORKDAYS
) -> UnitLight:
    """红 when a deadline passed with something owed, 黄 when one is due within `soon` working
    days and not met yet, else 绿."""
    horizon = calendar.add_workdays(today, soon)
    overdue = tuple(d for d in unit.deadlines if not d.done and d.due < today)
    coming = tuple(d for d in unit.deadlines if not d.done and today <= d.due <= horizon)
    light = Light.RED if overdue else Light.YELLOW if coming else Light.GREEN
    return UnitLight(unit.unit_id, unit.unit, light, overdue, coming)


def workdays_late(d: Deadline, today: date, calendar: WorkCalendar) -> int:
    """Working days between the due date and today (0 when not late)."""
    return calendar.workdays_after(d.due, today)


async def owed(
    db: Database, now: datetime, calendar: WorkCalendar, years: Iterable[int] | None = None
) -> list[UnitOwed]:
    """Every unit with its deadlines of `years` (default: this year, and last year in January
    and February, when last year's annual reports are still due), as known at `now`."""
    today = local(now).date()
    wanted = (
        list(years)
        if years is not None
        else ([today.year - 1, today.year] if today.month <= 2 else [today.year])
    )
    async with db.session() as session:
        units = await list_units(session, with_members=True)
        facts = {
            year: {
                uf.unit.id: uf.facts for uf in await build_all_facts(session, year, known_at=now)
            }
            for year in wanted
        }
    out: list[UnitOwed] = []
    with collector_paused():  # every unit's deadlines at once; no await inside
        for unit in units:
            assert unit.id is not None
            try:
                scheme = load_scheme(unit.scheme_id)
            except SchemeError:
                continue
            found: list[Deadline] = []
            for year in wanted:
                unit_facts = facts[year].get(unit.id)
                if unit_facts is not None:
                    found.extend(deadlines_for(scheme, unit_facts, calendar, now))
            people = [m for m in unit.members if m.active]
            out.append(
                UnitOwed(
                    unit.id,
                    unit.name,
                    tuple(sorted(m.userid for m in people if m.role == Role.LIAISON.value)),
                    tuple(sorted(m.userid for m in people if m.role == Role.LEADER.value)),
                    tuple(found),
                )
            )
    return out
