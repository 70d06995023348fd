"""通知 and their 签收: what the office sent to whom, and who acknowledged it.

A notice is one row with its recipients (user ids, as sent); with `ack_required` every recipient
is asked to 签收. An acknowledgement is one `notice_ack` row, UNIQUE per (notice, person): a
second click, a repeated 「签收」 or a retried delivery finds the first row and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.audit import audit
from storage.db import Database
from storage.models import Notice, NoticeAck
from storage.types import to_utc

RECENT = 50  # notices looked at when a person types 「签收」 without a number


def notice_ref(notice_id: int) -> str:
    return f"N{notice_id}"


async def add_notice(
    session: AsyncSession,
    *,
    text: str,
    recipients: list[str],
    actor: str,
    at: datetime,
    ack_required: bool,
) -> Notice:
    """A new notice (the caller commits), with its audit row."""
    row = Notice(
        text=text,
        ack_required=ack_required,
        recipients=list(recipients),
        actor=actor,
        at=to_utc(at),
    )
    session.add(row)
    await session.flush()
    audit(
        session,
        actor,
        "notice",
        {"notice": row.id, "to": len(recipients), "ack": ack_required},
        at=at,
    )
    return row


@dataclass(frozen=True)
class Acked:
    notice: Notice
    at: datetime  # when the person acknowledged (the first time)
    new: bool  # False: acknowledged before, nothing written


async def acknowledge(db: Database, notice_id: int, userid: str, *, at: datetime) -> Acked | None:
    """Record `userid`'s 签收 of the notice once; None when the notice does not ask them to."""
    async with db.session() as session:
        notice = await session.get(Notice, notice_id)
        if notice is None or not notice.ack_required or userid not in notice.recipients:
            return None
        before = await _ack_of(session, notice_id, userid)
        if before is not None:
            return Acked(notice, before.at, False)
        session.add(NoticeAck(notice_id=notice_id, userid=userid, at=to_utc(at)))
        try:
            await session.commit()
        except IntegrityError:  # the same click, handled at the same time elsewhere
            await session.rollback()
            first = await _ack_of(session, notice_id, userid)
            assert first is not None
            return Acked(notice, first.at, False)
    return Acked(notice, to_utc(at), True)


async def _ack_of(session: AsyncSession, notice_id: int, userid: str) -> NoticeAck | None:
    return (
        await session.exec(
            select(NoticeAck).where(NoticeAck.notice_id == notice_id, NoticeAck.userid == userid)
        )
    ).first()


async def acks(session: AsyncSession, notice_id: int) -> dict[str, datetime]:
    """Who acknowledged the notice, and when."""
    rows = await session.exec(select(NoticeAck).where(NoticeAck.notice_id == notice_id))
    return {row.userid: row.at for row in rows.all()}


async def get_notice(session: AsyncSession, notice_id: int) -> Notice | None:
    return await session.get(Notice, notice_id)


async def recent_ack_notices(session: AsyncSession) -> list[Notice]:
    """The newest notices that ask for 签收, newest first."""
    rows = await session.exec(
        select(Notice)
        .where(col(Notice.ack_required).is_(True))
        .order_by(col(Notice.id).desc())
        .limit(RECENT)
    )
    return list(rows.all())


async def unacknowledged_for(session: AsyncSession, userid: str) -> list[Notice]:
    """The recent notices asking `userid` for 签收 that they have not acknowledged, oldest first."""
    rows = (
        await session.exec(
            select(Notice)
            .where(col(Notice.ack_required).is_(True))
            .order_by(col(Notice.id).desc())
            .limit(RECENT)
        )
    ).all()
    mine = [n for n in rows if userid in n.recipients]
    if not mine:
        return []
    done = set(
        (
            await session.exec(
                select(NoticeAck.notice_id).where(
                    NoticeAck.userid == userid,
                    col(NoticeAck.notice_id).in_([n.id for n in mine]),
                )
            )
        ).all()
    )
    return [n for n in reversed(mine) if n.id not in done]
