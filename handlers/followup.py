"""The office's follow-up in chat: 「未报」 and 「一键催报」.

「未报」 lists, per unit, every obligation still owed — the 政务信息 quota, feedback tasks,
reports, 责任书 targets and projects — from the same computation as the dashboard's board and the
reminders (reminders/board.py `owed`): for this month, a month ("未报 11月", "未报 2025年12月",
"未报 十月"), one task ("未报 K47") or everything due by today ("未报 全部"). The reply comes with
a card whose button 「一键催报」 (or the words, typed) sends the reminder now to exactly the units
listed, for exactly the items listed that are still owed. Each item is claimed under the same
unique key as the scheduled reminders (storage/reminders.py): a deadline whose overdue (or today's)
reminder has not gone out is claimed under that stage, so the scheduler will not send it again;
one reminded today already is not chased again; otherwise it is claimed once per day as a 催报.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from handlers import followup_texts as ft
from handlers.channel import clip, fit_lines, reply_to_data
from handlers.context import Ctx, office_name
from handlers.intents import (
    CN_MONTH,
    CN_MONTHS,
    LAST_MONTH,
    Intent,
    IntentName,
    normalize,
    parse_month,
    previous_month,
)
from handlers.notify import send_now
from handlers.office_intents import CHASE_KEY, OfficeIntent
from handlers.router import ADMIN, Router
from handlers.texts import fmt_date
from handlers.types import Button, Card, CardReply
from reminders import texts as reminder_texts
from reminders.board import UnitOwed, owed, workdays_late
from reminders.calendar import WorkCalendar
from reminders.deadlines import Deadline
from reminders.stages import DEFAULT_POLICY, current_stage
from reminders.tick import load_calendar
from scoring.kinds import Delivery
from scoring.periods import TZ
from storage.conversation import ChaseListing, get_state, set_state
from storage.outbox import enqueue
from storage.reminder_claims import claimed_reminders, claimed_since
from storage.reminders import Claim, claim_reminders

router = Router()

ITEMS_PER_UNIT = 3  # items named per unit in the 未报 reply (then "等N项")
CARD_NAMES = 12  # unit names on the 一键催报 card
RECIPIENT_MAX = 200
_CN_MONTH = re.compile(rf"(?:(?P<y>\d{{4}})\s*年\s*)?(?P<m>{CN_MONTH})\s*月份?")
_TASK = re.compile(r"#?(?P<code>[A-Za-z]{1,3}\d+)")
ALL = frozenset({"全部", "所有", "全年", "全部到期", "all"})


@dataclass(frozen=True)
class Scope:
    """What a 未报 asks about: a month, one task, or everything due by today."""

    label: str
    month: tuple[int, int] | None = None  # (year, month)
    code: str = ""  # a task code (K47, A3)

    @property
    def years(self) -> list[int] | None:
        return [self.month[0]] if self.month else None

    def covers(self, d: Deadline, today: date) -> bool:
        if d.done:
            return False
        if self.month is not None:
            return month_of(d) == self.month
        if self.code:
            return d.key.upper().endswith(f"@{self.code.upper()}")
        return d.due <= today


def month_of(d: Deadline) -> tuple[int, int]:
    """The month a deadline belongs to: its period's month ("2026-11"), else its due date's."""
    if re.fullmatch(r"\d{4}-\d{2}", d.period):
        return int(d.period[:4]), int(d.period[5:])
    return d.due.year, d.due.month


def parse_scope(text: str | None, today: date) -> Scope | None:
    """'' → this month; '11月', '2025年12月', '十月', '上月' → a month; 'K47' → a task;
    '全部' → everything due by today. None when not understood."""
    norm = normalize(text or "").strip()
    if not norm or norm in ("本月", "这个月", "当月"):
        return _month_scope(today.year, today.month, today)
    if norm.lower() in ALL:
        return Scope(ft.SCOPE_ALL)
    if norm in LAST_MONTH:
        return _month_scope(*previous_month(today), today)
    cn = _CN_MONTH.fullmatch(norm)
    if cn:
        return _month_scope(int(cn["y"] or today.year), CN_MONTHS[cn["m"]], today)
    period = parse_month(norm, today.year)
    if period is not None:
        return _month_scope(int(period[:4]), int(period[5:]), today)
    task = _TASK.fullmatch(norm)
    if task:
        code = task["code"].upper()
        return Scope(ft.SCOPE_TASK.format(code=code), code=code)
    return None


def _month_scope(year: int, month: int, today: date) -> Scope:
    label = (
        ft.SCOPE_THIS_MONTH.format(month=month)
        if year == today.year
        else ft.SCOPE_MONTH.format(year=year, month=month)
    )
    return Scope(label, month=(year, month))


def owed_line(d: Deadline, today: date, calendar: WorkCalendar) -> str:
    """'11月政务信息已报1/4篇，还差3篇（截止11月30日，已逾期2个工作日）'."""
    if d.kind == Delivery.QUOTA:
        what = ft.OWED_QUOTA.format(label=d.label, have=d.have, need=d.need, owed=d.owed)
    elif d.kind == Delivery.TARGET:
        what = ft.OWED_TARGET.format(label=d.label)
    else:
        what = ft.OWED_OTHER.format(label=d.label)
    late = ""
    if d.due < today:
        n = workdays_late(d, today, calendar)
        late = ft.LATE_WORKDAYS.format(n=n) if n else ft.LATE
    return what + ft.DUE.format(due=fmt_date(d.due), late=late)


def _state_key(userid: str) -> str:
    return f"ch:{userid}"[:64]


async def _owed(ctx: Ctx, years: list[int] | None) -> tuple[list[UnitOwed], WorkCalendar]:
    calendar = await load_calendar(ctx.db, ctx.today)
    return await owed(ctx.db, ctx.now, calendar, years), calendar


@router.intent(IntentName.MISSING, roles=ADMIN)
async def missing(ctx: Ctx, intent: Intent) -> str:
    text = intent.args.get("period")
    scope = parse_scope(text, ctx.today)
    if scope is None:
        return ft.SCOPE_BAD.format(text=text)
    units, calendar = await _owed(ctx, scope.years)
    rows = [(u, [d for d in u.deadlines if scope.covers(d, ctx.today)]) for u in units]
    rows = [(u, ds) for u, ds in rows if ds]
    today = fmt_date(ctx.today)
    if not rows:
        if scope.code and not any(
            d.key.upper().endswith(f"@{scope.code}") for u in units for d in u.deadlines
        ):
            return ft.TASK_NONE.format(code=scope.code)
        return ft.MISSING_NONE.format(scope=scope.label, today=today)
    lines = []
    for unit, deadlines in rows:
        shown = [owed_line(d, ctx.today, calendar) for d in deadlines[:ITEMS_PER_UNIT]]
        items = "；".join(shown)
        if len(deadlines) > ITEMS_PER_UNIT:
            items += ft.MISSING_MORE.format(count=len(deadlines))
        if not unit.liaisons:
            items += ft.MISSING_NO_LIAISON
        lines.append(ft.MISSING_UNIT.format(unit=unit.unit, items=items))
    count = sum(len(ds) for _, ds in rows)
    previous = await get_state(ctx.db, _state_key(ctx.sender.userid))
    listing = (previous.id if isinstance(previous, ChaseListing) else 0) + 1
    await set_state(
        ctx.db,
        _state_key(ctx.sender.userid),
        ChaseListing(
            id=listing,
            scope=scope.label,
            years=tuple(scope.years) if scope.years else None,
            items=tuple((u.unit_id, d.key, d.period) for u, ds in rows for d in ds),
        ),
    )
    await _offer_card(ctx, scope, listing, [u.unit for u, _ in rows])
    return fit_lines(
        [ft.MISSING_HEAD.format(scope=scope.label, units=len(rows), items=count, today=today)],
        lines,
        [ft.MISSING_FOOT.format(units=len(rows))],
        more=ft.MISSING_MORE_UNITS,
    )


async def _offer_card(ctx: Ctx, scope: Scope, listing: int, names: list[str]) -> None:
    """The card with the 一键催报 button, to the admin who asked (sent after the reply)."""
    shown = "、".join(names[:CARD_NAMES]) + ("等" if len(names) > CARD_NAMES else "")
    card = Card(
        title=clip(
            ft.CHASE_CARD_TITLE.format(scope=scope.label, units=len(names)),
            reminder_texts.TITLE_MAX,
        ),
        description=ft.CHASE_CARD_DESC.format(names=shown),
        task_id=f"chase-{listing}-{int(ctx.now.timestamp() * 1000)}",
        buttons=(Button(ft.BUTTON_CHASE, f"{CHASE_KEY}{listing}"),),
    )
    userid = ctx.sender.userid
    async with ctx.db.session() as session:
        payload = {"type": "card", "to": [userid], "card": reply_to_data(CardReply(card))["card"]}
        enqueue(session, userid, payload, not_before=ctx.now)
        await session.commit()


@router.intent(OfficeIntent.CHASE, roles=ADMIN)
async def chase_typed(ctx: Ctx, intent: Intent) -> str:
    return await chase(ctx, None)


@router.intent(OfficeIntent.CHASE_CLICK, roles=ADMIN)
async def chase_click(ctx: Ctx, intent: Intent) -> str:
    return await chase(ctx, int(intent.args["id"]))


def _stage(d: Deadline, today: date, calendar: WorkCalendar) -> str | None:
    """The scheduled stage this 催报 stands in for: the overdue reminder, or today's stage."""
    stage = current_stage(d, today, calendar, DEFAULT_POLICY)
    if stage is not None and (stage[0] == "overdue" or stage[1] == today):
        return stage[0]
    if d.due < today:
        return "overdue"  # its overdue reminder is stale for the scheduler, not for the office
    return None


async def chase(ctx: Ctx, listing: int | None) -> str:
    """Send the reminder now to the units of the admin's last 未报, for the items still owed."""
    state = await get_state(ctx.db, _state_key(ctx.sender.userid))
    if not isinstance(state, ChaseListing) or not state.items:
        return ft.CHASE_NOTHING
    if listing is not None and state.id != listing:
        return ft.CHASE_STALE
    wanted = set(state.items)
    units, calendar = await _owed(ctx, list(state.years) if state.years else None)
    today = ctx.today
    midnight = datetime.combine(today, time(0), TZ)
    periods = {p for _, _, p in wanted}
    recent = await claimed_since(ctx.db, periods, midnight)
    taken = await claimed_reminders(ctx.db, periods)
    sent: list[tuple[str, int]] = []
    already: list[tuple[str, int]] = []
    done_meanwhile: list[str] = []
    nobody: list[str] = []
    for unit in units:
        listed = [
            d for d in unit.deadlines if (unit.unit_id, d.key, d.period) in wanted
        ]  # as listed, and as they stand now
        if not listed:
            continue
        owed_now = [d for d in listed if not d.done]
        if not owed_now:
            done_meanwhile.append(unit.unit)
            continue
        if not unit.liaisons:
            nobody.append(unit.unit)
            continue
        claims: list[Claim] = []
        fresh: list[Deadline] = []
        skipped = 0
        for d in owed_now:
            if (d.key, unit.unit_id, d.period) in recent:
                skipped += 1
                continue
            stage = _stage(d, today, calendar)
            if stage is None or (d.key, unit.unit_id, d.period, stage) in taken:
                stage = f"chase{today:%Y%m%d}"
            claims.append((d.key, unit.unit_id, d.period, stage))
            fresh.append(d)
        by_key = {(d.key, d.period): d for d in fresh}

        def payload(
            won: list[Claim],
            unit: UnitOwed = unit,
            by_key: dict[tuple[str, str], Deadline] = by_key,
        ) -> dict[str, Any]:
            items = [by_key[(rule, period)] for rule, _, period, _ in won]
            return _chase_payload(unit, items, today, calendar, ctx.now)

        won, outbox_id = (
            await claim_reminders(
                ctx.db,
                claims,
                payload,
                recipient="|".join(unit.liaisons)[:RECIPIENT_MAX],
                now=ctx.now,
            )
            if claims
            else ([], None)
        )
        skipped += len(claims) - len(won)
        if won:
            sent.append((unit.unit, len(won)))
        if skipped:
            already.append((unit.unit, skipped))
        if outbox_id is not None and ctx.deps.channel is not None:
            await send_now(ctx.db, outbox_id, now=ctx.now, channel=ctx.deps.channel)
    lines = []
    if sent:
        lines.append(
            ft.CHASE_SENT.format(
                units=len(sent),
                items=sum(n for _, n in sent),
                names="、".join(name for name, _ in sent),
            )
        )
    else:
        lines.append(ft.CHASE_NONE_SENT)
    if already:
        lines.append(
            ft.CHASE_ALREADY.format(
                items=sum(n for _, n in already), names="、".join(name for name, _ in already)
            )
        )
    if done_meanwhile:
        lines.append(ft.CHASE_DONE_MEANWHILE.format(names="、".join(done_meanwhile)))
    if nobody:
        lines.append(ft.CHASE_NO_LIAISON.format(names="、".join(nobody)))
    return "\n".join(lines)


def _chase_payload(
    unit: UnitOwed, items: list[Deadline], today: date, calendar: WorkCalendar, now: datetime
) -> dict[str, Any]:
    """One card to the unit's liaisons naming every item chased, with the reminders' buttons."""
    if len(items) == 1:
        title = ft.CHASE_TITLE.format(what=items[0].label)
    else:
        title = ft.CHASE_TITLE_MANY.format(unit=unit.unit, count=len(items))
    body = ft.CHASE_BODY.format(
        unit=unit.unit,
        items="；".join(owed_line(d, today, calendar) for d in items),
        office=office_name(),
    )
    buttons = reminder_texts.card_buttons(items)
    body += reminder_texts.how_to_send(items, button=len(buttons) > 1)
    card = {
        "title": clip(title, reminder_texts.TITLE_MAX),
        "description": body,
        "task_id": re.sub(
            r"[^0-9A-Za-z_\-@]", "_", f"chase-{unit.unit_id}-{int(now.timestamp() * 1000)}"
        )[:128],
        "buttons": buttons,
    }
    return {
        "type": "card",
        "to": list(unit.liaisons),
        "card": card,
        "meta": {"unit": unit.unit, "chase": [d.key for d in items]},
    }
