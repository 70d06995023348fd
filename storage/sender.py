"""Who sent a message and where their conversation stands: one unit of work per message.

The chat handler needs both for every message; reading them together (two prepared statements,
one transaction, one hop to the database thread on SQLite) is what makes a reply like 「我的得分」
cheap: one statement for a member. The statements are built once at import, with bound parameters.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Connection

from storage.conversation import AssessmentChoice, ChatState, state_from_json
from storage.db import Database
from storage.models import AssessmentAdmin, ConversationState, Member, Unit
from storage.prepared import Ahead, Prepared


@dataclass(frozen=True)
class MemberRow:
    """A member with the fields of their unit (None when they have none)."""

    userid: str
    name: str
    role: str
    active: bool
    unit_id: int | None
    unit_name: str | None
    scheme_id: str | None
    assessment_id: int | None = None  # the unit's assessment (分级考核)


_m, _u = Member.__table__.c, Unit.__table__.c  # type: ignore[attr-defined]
_cs = ConversationState.__table__.c  # type: ignore[attr-defined]
_chosen = ConversationState.__table__.alias("chosen")  # type: ignore[attr-defined]
_pending = ConversationState.__table__.alias("pending")  # type: ignore[attr-defined]
_aa = AssessmentAdmin.__table__.c  # type: ignore[attr-defined]
_ADMINS = select(func.count()).where(_aa.userid == _m.userid).scalar_subquery()
# the member, their unit, their conversation state, the assessment they chose last, how many
# assessments they are an admin of (most people: none) and whether an action of theirs waits for
# 确认 (handlers/pending.py): one row
_MEMBER_STATE = Prepared(
    select(
        _m.userid,
        _m.name,
        _m.role,
        _m.active,
        _u.id,
        _u.name,
        _u.scheme_id,
        _u.assessment_id,
        _cs.state,
        _chosen.c.state,
        _ADMINS,
        _pending.c.userid,
    )
    .outerjoin(Unit.__table__, _u.id == _m.unit_id)  # type: ignore[attr-defined]
    .outerjoin(ConversationState.__table__, _cs.userid == _m.userid)  # type: ignore[attr-defined]
    .outerjoin(_chosen, _chosen.c.userid == bindparam("key"))
    .outerjoin(_pending, _pending.c.userid == bindparam("pkey"))
    .where(_m.userid == bindparam("userid"))
)
_STATE = Prepared(select(_cs.state).where(_cs.userid == bindparam("userid")))
_ADMIN_OF = Prepared(select(_aa.assessment_id).where(_aa.userid == bindparam("userid")))
_CHOSEN = Prepared(select(_cs.state).where(_cs.userid == bindparam("key")))


def choice_key(userid: str) -> str:
    """Where the assessment a person last worked in is remembered (a conversation state row)."""
    return f"as:{userid}"[:64]


def pending_key(userid: str) -> str:
    """Where an action of the person's waiting for 确认 is kept (a conversation state row)."""
    key = f"p:{userid}"
    return key if len(key) <= 64 else "p:" + hashlib.sha256(userid.encode()).hexdigest()[:40]


def _params(userid: str) -> dict[str, str]:
    return {"userid": userid, "key": choice_key(userid), "pkey": pending_key(userid)}


class SenderTurn(NamedTuple):
    """What the chat needs of a sender before it handles their message."""

    member: MemberRow | None
    state: ChatState | None  # their 政务信息 draft, if one is open
    scopes: Scopes
    pending: bool  # an action of theirs waits for 确认


@dataclass(frozen=True)
class Scopes:
    """The assessments a person is an admin of besides their unit's, and the one they chose
    last (None: never chose)."""

    admin_of: tuple[int, ...] = ()
    chosen: int | None = None


def scopes_of(conn: Connection, userid: str, home: int | None = None) -> Scopes:
    """`home`: the assessment of the person's unit. The choice is read only when the person may
    have roles in more than one assessment (most people: one statement, not two)."""
    admin_of = tuple(sorted({i for (i,) in _ADMIN_OF.all(conn, {"userid": userid})}))
    if not admin_of and home in (None, 1):
        return Scopes()
    state = state_from_json(_CHOSEN.scalar(conn, {"key": choice_key(userid)}))
    chosen = state.assessment if isinstance(state, AssessmentChoice) else None
    return Scopes(admin_of, chosen)


def _scopes(conn: Connection, userid: str, home: int | None, chosen: ChatState | None) -> Scopes:
    """`scopes_of` with the choice already read."""
    admin_of = tuple(sorted({i for (i,) in _ADMIN_OF.all(conn, {"userid": userid})}))
    if not admin_of and home in (None, 1):
        return Scopes()
    return Scopes(admin_of, chosen.assessment if isinstance(chosen, AssessmentChoice) else None)


def member_state_ahead(userid: str) -> Ahead:
    """The first read of `member_state_scopes_of`, to be read ahead (`first_reading_ahead`)."""
    return _MEMBER_STATE, _params(userid)


def member_state_scopes_of(conn: Connection, userid: str) -> SenderTurn:
    """One statement for a member of one assessment: the member with their unit, state, last
    choice of assessment, how many they administer and their waiting action (joined); a second
    one for the assessments of a person with roles in several."""
    row = _MEMBER_STATE.first(conn, _params(userid))
    if row is None:
        member, state = member_and_state_of(conn, userid)
        pending = _STATE.scalar(conn, {"userid": pending_key(userid)}) is not None
        return SenderTurn(member, state, scopes_of(conn, userid), pending)
    member = MemberRow(*row[:8])
    state = state_from_json(row[8])
    pending = row[11] is not None
    if not row[10] and member.assessment_id in (None, 1):
        return SenderTurn(member, state, Scopes(), pending)
    scopes = _scopes(conn, userid, member.assessment_id, state_from_json(row[9]))
    return SenderTurn(member, state, scopes, pending)


async def member_state_scopes(db: Database, userid: str) -> SenderTurn:
    """`member_and_state`, the person's assessments and whether an action of theirs waits, in
    the same unit of work."""
    return await db.run_small(member_state_scopes_of, userid)


def member_and_state_of(conn: Connection, userid: str) -> tuple[MemberRow | None, ChatState | None]:
    """One statement for a member (their unit and state joined); a second one only for the
    state of someone who is no member."""
    params = _params(userid)
    row = _MEMBER_STATE.first(conn, params)
    if row is None:
        return None, state_from_json(_STATE.scalar(conn, params))
    return MemberRow(*row[:8]), state_from_json(row[8])


async def member_and_state(db: Database, userid: str) -> tuple[MemberRow | None, ChatState | None]:
    """The member with this user id (with their unit) and their conversation state."""
    return await db.run_small(member_and_state_of, userid)
