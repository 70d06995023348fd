"""Telling a unit's liaisons, once, what the office did about their unit, with the score change.

The notice goes through the outbox (it survives restarts and WeCom outages, and is sent once):
one row per action, addressed to every active liaison of the unit. The score change is the base
total before and after ("当前基本分 71.6 → 78.1"), from the same engine as everywhere else.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from handlers import review_texts as rt
from handlers.channel import Channel
from handlers.context import office_name
from handlers.scoretext import unit_card
from reminders.dispatch import send_payload
from scoring.numbers import fmt
from scoring.scorecard import ScoreCard
from storage.db import Database
from storage.models import Role, Unit
from storage.outbox import claim_one, enqueue, mark_sent
from storage.units import list_members

log = logging.getLogger(__name__)
RECIPIENT_MAX = 200  # outbox.recipient


async def card_of(db: Database, unit_id: int, year: int, today: date) -> ScoreCard | None:
    """The unit's running card of `year` (None for an unknown unit)."""
    async with db.session() as session:
        unit = await session.get(Unit, unit_id)
    if unit is None:
        return None
    return await unit_card(db, unit_id, unit.scheme_id, year, today)


def change_text(before: ScoreCard | None, after: ScoreCard | None) -> str:
    """'当前基本分 71.6 → 78.1' (and the bonus when it moved); '' without cards."""
    if before is None or after is None:
        return ""
    if before.base_total == after.base_total:
        text = rt.SCORE_SAME.format(after=fmt(after.base_total))
    else:
        text = rt.SCORE_CHANGE.format(before=fmt(before.base_total), after=fmt(after.base_total))
    if before.bonus != after.bonus:
        text += rt.BONUS_CHANGE.format(before=fmt(before.bonus), after=fmt(after.bonus))
    return text


async def tell_unit_change(
    db: Database,
    unit_id: int,
    lines: list[str],
    *,
    year: int,
    before: ScoreCard | None,
    today: date,
    now: datetime,
    channel: Channel | None = None,
) -> int:
    """Tell the unit's liaisons what the office recorded (`lines`, under one heading) with the
    change of the base score since `before` (the card read before writing)."""
    after = await card_of(db, unit_id, year, today) if before is not None else None
    change = change_text(before, after)
    head = rt.NOTICE_OFFICE_HEAD.format(office=office_name())
    text = "\n".join([head, *lines, *([change] if change else [])])
    return await tell_unit(db, unit_id, text, now=now, channel=channel)


async def liaisons_of(db: Database, unit_id: int) -> list[str]:
    async with db.session() as session:
        members = await list_members(session, unit_id)
    return [m.userid for m in members if m.role == Role.LIAISON.value and m.active]


async def tell_unit(
    db: Database, unit_id: int, text: str, *, now: datetime, channel: Channel | None = None
) -> int:
    """Queue `text` for the unit's liaisons (one outbox row) and, with a channel, send it at
    once; a failed send stays in the outbox for its retries. How many people it goes to."""
    to = await liaisons_of(db, unit_id)
    if not to:
        return 0
    await queue_and_send(db, to, {"type": "text", "to": to, "text": text}, now=now, channel=channel)
    return len(to)


async def queue_and_send(
    db: Database,
    to: list[str],
    payload: dict[str, Any],
    *,
    now: datetime,
    channel: Channel | None = None,
) -> int:
    """One outbox row for `to`, committed; sent at once when a channel is given (a failure is
    left to the outbox's retries). The row's id."""
    async with db.session() as session:
        row = enqueue(session, "|".join(to)[:RECIPIENT_MAX], payload, not_before=now)
        await session.commit()
        assert row.id is not None
        outbox_id = row.id
    if channel is not None:
        await send_now(db, outbox_id, now=now, channel=channel)
    return outbox_id


async def send_now(db: Database, outbox_id: int, *, now: datetime, channel: Channel) -> None:
    """Send a committed outbox row at once; a failure is left to the outbox's retries."""
    item = await claim_one(db, outbox_id, now=now)
    if item is None:
        return
    try:
        await send_payload(channel, item.recipient, item.payload)
    except Exception:  # the lease runs out and the dispatcher tries again
        log.warning("outbox %s to %s not sent now; left to its retries", outbox_id, item.recipient)
    else:
        await mark_sent(db, outbox_id, at=now)
