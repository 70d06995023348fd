"""The reminder tick: from the data and the time, what is due now, and claiming it.

`plan(db, now, ...)` works out, without writing anything, which reminders are due at `now`: for
every unit, its deadlines (reminders/deadlines.py) that are still owed and whose current stage
(reminders/stages.py) has come; plus the admins' daily digest of missed deadlines and, on the first
working day of a month, the monthly summary. `run_tick` claims each planned send under its
database unique key, together with its outbox row (storage.reminders.claim_reminder,
storage.reminder_digests.claim_digest): a reminder already claimed — by an earlier tick, before a
restart, or by another instance — is never queued again. Nothing here reads the wall clock.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

import chinese_calendar

from reminders import texts
from reminders.board import light_of, owed, workdays_late
from reminders.calendar import WorkCalendar, holiday_data_gap
from reminders.clock import local
from reminders.deadlines import Deadline, deadlines_for
from reminders.rating import rating_reminders
from reminders.stages import DEFAULT_POLICY, StagePolicy, current_stage, stage_label
from scoring import SchemeError, load_scheme
from scoring.facts import Facts
from scoring.kinds import Delivery
from scoring.model import Scheme
from scoring.periods import day_label, period_label
from storage.db import Database
from storage.facts import Window, collector_paused, read_facts
from storage.models import Role
from storage.reminder_claims import claimed_digests, claimed_reminders
from storage.reminder_digests import claim_digest, digest_sent
from storage.reminders import claim_reminder, reminder_sent
from storage.scope import DEFAULT_ASSESSMENT
from storage.units import roster
from storage.workdays import list_overrides

log = logging.getLogger(__name__)

RECIPIENT_MAX = 200  # outbox.recipient column
ESCALATE = "escalate"  # the stage of a reminder sent to the unit's leaders


class PlanKind(StrEnum):
    """What a planned send is: a unit's reminder, or an admin digest (its claim's kind)."""

    REMINDER = "reminder"
    DAILY = "daily"
    MONTHLY = "monthly"
    HOLIDAYS = "holidays"  # next year's statutory holidays are missing (weekly)


@dataclass(frozen=True)
class Planned:
    """One send the tick would make now."""

    kind: PlanKind
    recipients: tuple[str, ...]
    payload: dict[str, Any]
    reason: str
    unit_id: int | None = None
    unit_name: str = ""
    rule: str = ""  # claim key (reminders) ...
    period: str = ""
    stage: str = ""
    digest_key: str = ""  # ... or digest key (digests)

    @property
    def claim(self) -> str:
        if self.kind == PlanKind.REMINDER:
            return f"{self.rule}/{self.unit_id}/{self.period}/{self.stage}"
        return f"{self.kind}/{self.digest_key}/{self.recipients[0]}"


@dataclass
class Plan:
    now: datetime  # local time
    items: list[Planned] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TickResult:
    planned: int
    claimed: int
    already: int


def _task_id(*parts: object) -> str:
    """A WeCom card task id: unique per reminder, only [0-9A-Za-z_-@], at most 128 bytes."""
    return re.sub(r"[^0-9A-Za-z_\-@]", "_", "-".join(str(p) for p in parts))[:128]


async def load_calendar(db: Database, around: date) -> WorkCalendar:
    """The work-day calendar with the admins' overrides for the years around `around`."""
    overrides = await list_overrides(db, date(around.year - 1, 1, 1), date(around.year + 1, 12, 31))
    return WorkCalendar(overrides)


def _scheme(scheme_id: str, broken: dict[str, str]) -> Scheme | None:
    """The unit's scheme (built-in schemes are cached by the loader); None, noted once per tick in
    `broken`, when it cannot be loaded."""
    try:
        return load_scheme(scheme_id)
    except SchemeError as exc:
        if scheme_id not in broken:
            broken[scheme_id] = str(exc)
            log.error("reminders: scheme %s cannot be loaded: %s", scheme_id, exc)
        return None


# the longest run of days without a working day (Spring Festival, National Day): how far before
# its due date a deadline can be reminded on its "day of"
REMIND_EARLY_MAX = timedelta(days=14)


def tick_window(today: date, policy: StagePolicy) -> tuple[date, date]:
    """The due dates a tick on `today` can act on: a stage of the deadline comes today (the
    bounds of `current_stage`), it is in the daily digest of missed deadlines, or it is in last
    month's summary. The tick reads only the submissions of these deadlines' periods and the
    tasks due in it (with their answers and confirmations)."""
    ahead = max((n for n in policy.before_workdays if n > 0), default=0)
    back = max(policy.digest_window_days, 3 * policy.overdue_window + 14)
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    lo = min(last_month, today - timedelta(days=back))
    hi = today + timedelta(days=3 * ahead + 14) + REMIND_EARLY_MAX
    return lo, hi


def _periods_due(
    schemes: Iterable[Scheme | None], year: int, cal: WorkCalendar, lo: date, hi: date
) -> frozenset[str]:
    """The periods of `year` with a deadline due between `lo` and `hi` under any of `schemes`
    (the deadlines themselves come from the rule kinds, as for scoring: one source of truth)."""
    periods: set[str] = set()
    for scheme in schemes:
        if scheme is None:
            continue
        for d in deadlines_for(scheme, Facts(unit="", year=year), cal, due_between=(lo, hi)):
            if d.kind != Delivery.TASK:
                periods.add(d.period)
    return frozenset(periods)


async def plan(
    db: Database,
    now: datetime,
    *,
    admins: Iterable[str] = (),
    policy: StagePolicy = DEFAULT_POLICY,
    calendar: WorkCalendar | None = None,
) -> Plan:
    """What is due at `now` (aware), and why. Writes nothing."""
    moment = local(now)
    today = moment.date()
    result = Plan(moment)
    cal = calendar or await load_calendar(db, today)
    if not cal.is_workday(today):
        result.notes.append(f"{day_label(today)}（{cal.describe(today)}）不是工作日，不发提醒")
        return result
    if not policy.in_office_hours(moment):
        result.notes.append(
            f"{moment:%H:%M}不在办公时间（{policy.office_start:%H:%M}–"
            f"{policy.office_end:%H:%M}）内，不发提醒"
        )
        return result
    broken: dict[str, str] = {}

    units, registered_admins = await roster(db)
    years = [today.year - 1, today.year] if today.month <= 2 else [today.year]
    lo, hi = tick_window(today, policy)
    schemes = {sid: _scheme(sid, broken) for sid in sorted({u.scheme_id for u in units})}
    facts_by_year: dict[int, dict[int, Facts]] = {}
    for year in years:
        periods = _periods_due(schemes.values(), year, cal, lo, hi)
        found = await read_facts(db, year, known_at=now, window=Window(periods, lo, hi))
        facts_by_year[year] = {uf.unit.id: uf.facts for uf in found}
    admin_ids = sorted(set(registered_admins) | set(admins))

    missed: list[tuple[str, Deadline]] = []
    month_rows: list[tuple[str, list[Deadline]]] = []
    first_workday = today == cal.first_workday_of_month(today.year, today.month)
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    with collector_paused():  # every unit's deadlines at once; no await inside
        for unit in units:
            scheme = schemes[unit.scheme_id]
            if scheme is None:
                result.notes.append(f"单位“{unit.name}”的考核方案 {unit.scheme_id} 无法加载，跳过")
                continue
            liaisons = tuple(sorted(m.userid for m in unit.members if m.role == Role.LIAISON.value))
            leaders = tuple(
                sorted(m.userid for m in unit.members if m.role == Role.LEADER.value and m.active)
            )
            last_month_deadlines: list[Deadline] = []
            for year in years:
                facts = facts_by_year[year].get(unit.id)
                if facts is None:
                    continue
                # only the deadlines it can act on today: their periods are the ones read
                for d in deadlines_for(scheme, facts, cal, now, due_between=(lo, hi)):
                    if (d.due.year, d.due.month) == (last_month.year, last_month.month):
                        last_month_deadlines.append(d)
                    if d.done:
                        continue
                    late = d.due < today <= d.due + timedelta(days=policy.digest_window_days)
                    if late and unit.assessment_id == DEFAULT_ASSESSMENT:
                        missed.append((unit.name, d))  # the digest's admins are the default's
                    if d.due < today and policy.escalate_after > 0:
                        escalation = _escalation(unit.id, unit.name, d, today, leaders, cal, policy)
                        if escalation is not None:
                            result.items.append(escalation)
                        elif not leaders and _due_for_escalation(d, today, cal, policy):
                            note = texts.NO_LEADER.format(unit=unit.name)
                            if note not in result.notes:
                                result.notes.append(note)
                    stage = current_stage(d, today, cal, policy)
                    if stage is None:
                        continue
                    name, stage_day = stage
                    if not liaisons:
                        note = texts.NO_LIAISON.format(unit=unit.name)
                        if note not in result.notes:
                            result.notes.append(note)
                            log.warning("reminders: %s", note)
                        continue
                    result.items.append(
                        _reminder(unit.id, unit.name, d, name, stage_day, today, liaisons, cal)
                    )
            if first_workday and last_month_deadlines and unit.assessment_id == DEFAULT_ASSESSMENT:
                month_rows.append((unit.name, last_month_deadlines))

    result.items += await rating_reminders(db, today, cal, policy)

    if policy.digest and missed and admin_ids:
        result.items += _digests(
            PlanKind.DAILY,
            admin_ids,
            texts.daily_digest(today, missed, cal),  # as sent: run_tick adds the lights
            f"每日逾期汇总：{len(missed)}项逾期未报",
            today.isoformat(),
        )
    if policy.monthly_summary and first_workday and admin_ids:
        label = f"{last_month.year}年{period_label(f'{last_month:%Y-%m}')}"
        result.items += _digests(
            PlanKind.MONTHLY,
            admin_ids,
            texts.monthly_summary(label, month_rows, cal),
            f"本月第一个工作日：{label}报送情况汇总",
            f"{last_month:%Y-%m}",
        )
    gap = holiday_data_gap(today)
    if gap is not None and admin_ids and not any(day.year == gap for day in cal.overrides):
        iso = today.isocalendar()
        result.items += _digests(  # weekly until the data or the office's first entry is there
            PlanKind.HOLIDAYS,
            admin_ids,
            texts.holiday_data_notice(gap, getattr(chinese_calendar, "__version__", "?")),
            f"{gap}年法定节假日数据缺失（每周提醒一次）",
            f"{gap}@{iso.year}-W{iso.week:02d}",
        )
    if (missed or first_workday) and not admin_ids:
        result.notes.append("没有管理员（成员角色 admin 或 KAOHE_ADMINS），管理员汇总不发送")
    return result


async def daily_lights(db: Database, now: datetime, calendar: WorkCalendar | None = None) -> str:
    """The daily digest as sent: each unit's light as on the dashboard's board (reminders/board.py,
    the whole year's deadlines). Worked out by `run_tick` only when it claims a daily digest (once
    a day), not by `plan`: it reads every unit's year."""
    today = local(now).date()
    cal = calendar or await load_calendar(db, today)
    units = await owed(db, now, cal)
    return texts.light_digest(today, [light_of(u, today, cal) for u in units], cal)


def _due_for_escalation(d: Deadline, today: date, cal: WorkCalendar, policy: StagePolicy) -> bool:
    """Overdue by `escalate_after` working days, and not stale: within `overdue_window` working
    days after that (a deployment does not escalate a year of old misses on its first day)."""
    late = workdays_late(d, today, cal)
    return policy.escalate_after <= late <= policy.escalate_after + policy.overdue_window


def _escalation(
    unit_id: int,
    unit_name: str,
    d: Deadline,
    today: date,
    leaders: tuple[str, ...],
    cal: WorkCalendar,
    policy: StagePolicy,
) -> Planned | None:
    """The overdue item sent, once, to the unit's leaders (claimed as stage `escalate`)."""
    if not leaders or not _due_for_escalation(d, today, cal, policy):
        return None
    days = workdays_late(d, today, cal)
    card = {
        "title": texts.escalation_title(unit_name, d),
        "description": texts.escalation_body(unit_name, d, days, cal),
        "task_id": _task_id("esc", unit_id, d.key, d.period),
        "buttons": [{"text": texts.BUTTON_PROGRESS[0], "key": texts.BUTTON_PROGRESS[1]}],
    }
    return Planned(
        kind=PlanKind.REMINDER,
        recipients=leaders,
        payload={
            "type": "card",
            "to": list(leaders),
            "card": card,
            "meta": {"unit": unit_name, "rule": d.key, "period": d.period, "stage": ESCALATE},
        },
        reason=f"逾期{days}个工作日，督办单位领导：{texts.owed_text(d, cal)}",
        unit_id=unit_id,
        unit_name=unit_name,
        rule=d.key,
        period=d.period,
        stage=ESCALATE,
    )


def _digests(kind: PlanKind, admins: list[str], body: str, reason: str, key: str) -> list[Planned]:
    """One markdown digest per admin, claimed once per (kind, key, admin)."""
    return [
        Planned(
            kind=kind,
            recipients=(admin,),
            payload={"type": "markdown", "to": [admin], "markdown": body},
            reason=reason,
            digest_key=key,
        )
        for admin in admins
    ]


def _reminder(
    unit_id: int,
    unit_name: str,
    d: Deadline,
    stage: str,
    stage_day: date,
    today: date,
    liaisons: tuple[str, ...],
    cal: WorkCalendar,
) -> Planned:
    title = texts.reminder_title(d, stage)
    description = texts.reminder_description(unit_name, d, stage, today, cal)
    card = {
        "title": title,
        "description": description,
        "task_id": _task_id("rem", unit_id, d.key, d.period, stage),
        "buttons": texts.card_buttons([d]),
    }
    reason = (
        f"{texts.owed_text(d, cal)}；{texts.stage_reason(stage_label(stage), stage_day, today)}"
    )
    return Planned(
        kind=PlanKind.REMINDER,
        recipients=liaisons,
        payload={
            "type": "card",
            "to": list(liaisons),
            "card": card,
            "meta": {"unit": unit_name, "rule": d.key, "period": d.period, "stage": stage},
        },
        reason=reason,
        unit_id=unit_id,
        unit_name=unit_name,
        rule=d.key,
        period=d.period,
        stage=stage,
    )


async def is_claimed(db: Database, item: Planned) -> bool:
    if item.kind == PlanKind.REMINDER:
        assert item.unit_id is not None
        return await reminder_sent(db, item.rule, item.unit_id, item.period, item.stage)
    return await digest_sent(db, item.kind, item.digest_key, item.recipients[0])


async def claim(db: Database, item: Planned, now: datetime) -> bool:
    """Claim one planned send and queue it (True), or find it claimed before (False)."""
    if item.kind == PlanKind.REMINDER:
        assert item.unit_id is not None
        return await claim_reminder(
            db,
            item.rule,
            item.unit_id,
            item.period,
            item.stage,
            item.payload,
            recipient="|".join(item.recipients)[:RECIPIENT_MAX],
            not_before=now,
        )
    return await claim_digest(
        db, item.kind, item.digest_key, item.recipients[0], item.payload, not_before=now
    )


async def run_tick(
    db: Database,
    now: datetime,
    *,
    admins: Iterable[str] = (),
    policy: StagePolicy = DEFAULT_POLICY,
) -> TickResult:
    """Plan at `now` and claim every planned send that nobody claimed before."""
    result = await plan(db, now, admins=admins, policy=policy)
    # one query each for what is certainly taken (most items were claimed ticks ago); claiming
    # is what decides for the rest
    taken = await claimed_reminders(
        db, (i.period for i in result.items if i.kind == PlanKind.REMINDER)
    )
    taken_digests = await claimed_digests(db, (i.digest_key for i in result.items if i.digest_key))
    claimed = already = 0
    lights: str | None = None
    for item in result.items:
        if item.kind == PlanKind.REMINDER:
            known = (item.rule, item.unit_id, item.period, item.stage) in taken
        else:
            known = (item.kind, item.digest_key, item.recipients[0]) in taken_digests
        if not known and item.kind == PlanKind.DAILY:
            lights = lights if lights is not None else await daily_lights(db, now)
            item = dataclasses.replace(item, payload={**item.payload, "markdown": lights})
        if known:
            already += 1
        elif await claim(db, item, now):
            claimed += 1
        else:
            already += 1
    if claimed:
        log.info("reminder tick %s: %d queued, %d sent before", result.now, claimed, already)
    return TickResult(len(result.items), claimed, already)
