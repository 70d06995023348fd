"""通知 that ask for 签收: 「通知签收 正文」 sends the text and a card with a 签收 button to every
liaison and leader; a click (or 「签收」 typed, on platforms whose buttons send their text) is
recorded once; 「签收情况」 shows who has and has not acknowledged; 「催签收」 sends the card again
to those who have not. Everything goes through the outbox.
"""

from __future__ import annotations

import re
from datetime import datetime

from handlers import followup_texts as nt
from handlers.channel import fit_text, reply_to_data
from handlers.context import Ctx, office_name
from handlers.intents import Intent
from handlers.notify import queue_and_send
from handlers.office_intents import ACK_KEY, OfficeIntent
from handlers.router import ADMIN, MEMBERS, Router
from handlers.types import Button, Card, CardReply
from scoring.periods import TZ
from storage import notices as store
from storage.models import Member, Notice, Role
from storage.units import list_members, list_units

router = Router()

EXCERPT = 60  # characters of the notice shown on its card and in 签收情况


def _excerpt(text: str) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1] + "…"


def _when(at: datetime) -> str:
    local = at.astimezone(TZ)
    return f"{local.month}月{local.day}日{local:%H:%M}"


def _card(notice: Notice, now: datetime) -> Card:
    assert notice.id is not None
    ref = store.notice_ref(notice.id)
    return Card(
        title=nt.NOTICE_CARD_TITLE.format(ref=ref, office=office_name()),
        description=nt.NOTICE_CARD_DESC.format(excerpt=_excerpt(notice.text)),
        task_id=f"notice-{notice.id}-{int(now.timestamp() * 1000)}",  # unique per send
        buttons=(Button(nt.BUTTON_ACK, f"{ACK_KEY}{notice.id}"),),
    )


async def _send_card(ctx: Ctx, notice: Notice, to: list[str]) -> None:
    card = reply_to_data(CardReply(_card(notice, ctx.now)))["card"]
    payload = {"type": "card", "to": to, "card": card}
    await queue_and_send(ctx.db, to, payload, now=ctx.now, channel=ctx.deps.channel)


def _recipients(members: list[Member]) -> list[str]:
    roles = (Role.LIAISON.value, Role.LEADER.value)
    return [m.userid for m in members if m.active and m.role in roles]


@router.intent(OfficeIntent.NOTICE_ACK, roles=ADMIN)
async def send_notice(ctx: Ctx, intent: Intent) -> str:
    body = intent.args["body"]
    async with ctx.db.session() as session:
        to = _recipients(await list_members(session))
        if not to:
            return nt.NOTICE_NOBODY
        notice = await store.add_notice(
            session,
            text=body,
            recipients=to,
            actor=ctx.sender.userid,
            at=ctx.now,
            ack_required=True,
        )
        await session.commit()
    assert notice.id is not None
    ref = store.notice_ref(notice.id)
    text = nt.NOTICE_PREFIX.format(ref=ref, office=office_name()) + body
    await queue_and_send(
        ctx.db, to, {"type": "text", "to": to, "text": text}, now=ctx.now, channel=ctx.deps.channel
    )
    await _send_card(ctx, notice, to)
    return nt.NOTICE_SENT.format(ref=ref, count=len(to))


def _ref_id(ref: str | None) -> int | None:
    return int(ref[1:]) if ref and ref[1:].isdigit() else None


async def _ack_one(ctx: Ctx, notice_id: int) -> str:
    acked = await store.acknowledge(ctx.db, notice_id, ctx.sender.userid, at=ctx.now)
    ref = store.notice_ref(notice_id)
    if acked is None:
        return nt.ACK_NOT_YOURS.format(ref=ref)
    if not acked.new:
        return nt.ACKED_BEFORE.format(when=_when(acked.at), ref=ref)
    return nt.ACKED.format(ref=ref)


@router.intent(OfficeIntent.ACK_CLICK, roles=MEMBERS)
async def ack_click(ctx: Ctx, intent: Intent) -> str:
    return await _ack_one(ctx, int(intent.args["id"]))


@router.intent(OfficeIntent.ACK, roles=MEMBERS)
async def ack(ctx: Ctx, intent: Intent) -> str:
    """「签收 N3」, or 「签收」: every notice still waiting for the sender's 签收."""
    wanted = _ref_id(intent.args.get("ref"))
    if wanted is not None:
        return await _ack_one(ctx, wanted)
    async with ctx.db.session() as session:
        waiting = await store.unacknowledged_for(session, ctx.sender.userid)
        if not waiting:  # 「签收」 again: say when the last one was acknowledged
            mine = [
                n
                for n in await store.recent_ack_notices(session)
                if ctx.sender.userid in n.recipients
            ]
    if not waiting:
        if mine and mine[0].id is not None:
            return await _ack_one(ctx, mine[0].id)
        return nt.ACK_NONE
    refs = []
    for notice in waiting:
        assert notice.id is not None
        await store.acknowledge(ctx.db, notice.id, ctx.sender.userid, at=ctx.now)
        refs.append(store.notice_ref(notice.id))
    if len(refs) == 1:
        return nt.ACKED.format(ref=refs[0])
    return nt.ACKED_MANY.format(refs="、".join(refs))


async def _notice(ctx: Ctx, intent: Intent) -> Notice | str:
    """The notice named, else the newest asking for 签收; or the reply saying there is none."""
    wanted = _ref_id(intent.args.get("ref"))
    async with ctx.db.session() as session:
        people = {m.userid for m in await list_members(session, include_inactive=True)}
        if wanted is None:  # the newest of this assessment's (分级考核: its people's) notices
            for notice in await store.recent_ack_notices(session):
                if people & set(notice.recipients):
                    return notice
            return nt.STATUS_NONE
        found = await store.get_notice(session, wanted)
    if found is None or not found.ack_required or not people & set(found.recipients):
        return nt.STATUS_UNKNOWN.format(ref=intent.args.get("ref", "").upper())
    return found


async def _acks(ctx: Ctx, intent: Intent) -> tuple[Notice, dict[str, datetime], list[str]] | str:
    """The notice asked about (`_notice`), who signed for it (user id → when) and who has not
    yet; or the reply saying there is no such notice."""
    notice = await _notice(ctx, intent)
    if isinstance(notice, str):
        return notice
    assert notice.id is not None
    async with ctx.db.session() as session:
        done = await store.acks(session, notice.id)
    return notice, done, [u for u in notice.recipients if u not in done]


async def _people(ctx: Ctx) -> dict[str, tuple[str, str]]:
    """user id → (unit name, person's name)."""
    async with ctx.db.session() as session:
        units = {u.id: u.name for u in await list_units(session)}
        members = await list_members(session)
    return {m.userid: (units.get(m.unit_id, ""), m.name) for m in members}


@router.intent(OfficeIntent.ACK_STATUS, roles=ADMIN)
async def ack_status(ctx: Ctx, intent: Intent) -> str:
    found = await _acks(ctx, intent)
    if isinstance(found, str):
        return found
    notice, done, missing = found
    ref = store.notice_ref(notice.id or 0)
    people = await _people(ctx)

    def who(userid: str) -> tuple[str, str]:
        unit, name = people.get(userid, ("", userid))
        return (f"{unit} " if unit else ""), name

    lines = [
        nt.STATUS_HEAD.format(
            ref=ref, when=_when(notice.at), done=len(done), total=len(notice.recipients)
        ),
        nt.STATUS_EXCERPT.format(excerpt=_excerpt(notice.text)),
    ]
    if missing:
        lines.append(nt.STATUS_MISSING.format(count=len(missing)))
        lines += [nt.STATUS_LINE.format(unit=who(u)[0], name=who(u)[1]) for u in missing]
    if done:
        lines.append(nt.STATUS_DONE.format(count=len(done)))
        for userid, at in sorted(done.items(), key=lambda kv: kv[1]):
            unit, name = who(userid)
            lines.append(nt.STATUS_LINE_AT.format(unit=unit, name=name, when=_when(at)))
    lines.append(nt.STATUS_CHASE.format(ref=ref) if missing else nt.STATUS_ALL)
    return fit_text("\n".join(lines))


@router.intent(OfficeIntent.ACK_CHASE, roles=ADMIN)
async def ack_chase(ctx: Ctx, intent: Intent) -> str:
    found = await _acks(ctx, intent)
    if isinstance(found, str):
        return found
    notice, _done, missing = found
    ref = store.notice_ref(notice.id or 0)
    if not missing:
        return nt.CHASE_ALL_DONE.format(ref=ref)
    text = nt.NOTICE_CARD_AGAIN.format(ref=ref, excerpt=_excerpt(notice.text), office=office_name())
    await queue_and_send(
        ctx.db,
        missing,
        {"type": "text", "to": missing, "text": text},
        now=ctx.now,
        channel=ctx.deps.channel,
    )
    await _send_card(ctx, notice, missing)
    people = await _people(ctx)
    names = "、".join(people.get(u, ("", u))[1] for u in missing)
    return fit_text(nt.CHASED.format(count=len(missing), ref=ref, names=names))
