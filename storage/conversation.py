"""Per-user conversation state for the chat layer's multi-step dialogues: a typed model, stored as
JSON (one row per key; each dialogue keeps its own key, e.g. the 政务信息 draft under the user id,
an admin's action awaiting 确认 under "p:<userid>").

The kinds of state are one discriminated union (`flow`). Rows written before the union had no
`flow` except the draft's ("info"); `state_from_json` still reads them (the shape tells which
kind), so an upgrade in the middle of a conversation loses nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sqlalchemy import delete
from sqlmodel import col, select

from storage.db import Database
from storage.dialects import insert_for
from storage.inspection import EventKind
from storage.models import ConversationState
from storage.outbox import enqueue
from storage.types import utcnow

log = logging.getLogger(__name__)


class _State(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Ask(StrEnum):
    """The question a draft waits on, if any."""

    RESTART = "restart"  # 「报送政务信息」 arrived while a draft was open: drop it and start anew?
    REPEAT = "repeat"  # the item looks like one already logged: 「确认」 logs it anyway


class InfoDraft(_State):
    """The 政务信息 a liaison is writing (handlers/conversation.py), under their user id."""

    flow: Literal["info"] = "info"
    title: str = ""
    body: str = ""
    attachments: tuple[dict[str, Any], ...] = ()  # files, images, shared articles, as received
    source: str = ""  # the item's source key: logged once however often 确认 arrives
    sent_at: datetime | None = None  # when its content was last sent (the item's time)
    touched: datetime | None = None  # last written (the draft expires after the TTL)
    ask: Ask | None = None
    repeat_of: str | None = None  # with Ask.REPEAT: the ref of the item it looks like

    @property
    def has_content(self) -> bool:
        return bool(self.title or self.body or self.attachments)


class PendingAction(StrEnum):
    """What 确认 runs (handlers/pending.py registers a runner for each); the values are stored."""

    CHARTER = "charter"  # apply a 责任书 file
    ASSIGN_TASK = "assign_task"  # 布置任务 with a past due date or twice to a unit
    ADMIN_ENTRY = "admin_entry"  # the same entry again within minutes
    REDATE = "redate"  # 改期 to a date already past
    GRADE = "grade"  # 定级 outside seed 000 第七条, as a stated exception
    RATING_CLOSE = "rating_close"  # 结束测评 while raters have not finished
    EVIDENCE_TASKS = "evidence_tasks"  # an approved 佐证 named a target: complete its task too?
    REPEAT_SUBMISSION = "repeat_submission"  # a liaison's repeat, held back: log it anyway


class PendingConfirmation(_State):
    """An admin's action that waits for 确认 (handlers/pending.py), under "p:<userid>"."""

    flow: Literal["pending"] = "pending"
    action: PendingAction
    args: dict[str, Any]  # the runner's arguments (JSON)
    at: datetime  # when it was asked (it lapses after the TTL)


class ReviewPage(_State):
    """The page of 待审核 an admin saw last (handlers/review.py), under "rq:<userid>"."""

    flow: Literal["review_page"] = "review_page"
    ids: tuple[int, ...]  # the submissions listed, for 「通过 本页」
    scope: str = ""  # the unit or target the listing was for
    offset: int = 0


class EvidenceWindow(_State):
    """A finding open for photos (handlers/inspection.py), under "j:<userid>": what the user sends
    in the next minutes attaches to it."""

    flow: Literal["evidence"] = "evidence"
    inspection: int
    event: EventKind  # whose evidence: the office's (EVIDENCE) or the unit's (APPEAL)
    at: datetime


class SelfCheckWindow(_State):
    """A 自查 line just marked (handlers/selfcheck.py), under "sc:<userid>": files sent in the next
    minutes are its evidence."""

    flow: Literal["selfcheck"] = "selfcheck"
    line: str  # the checklist line's key
    year: int
    at: datetime


class ChaseListing(_State):
    """The units and items of an admin's last 「未报」 (handlers/followup.py), under "ch:<userid>":
    what 「一键催报」 chases. `id` grows with each listing: a card of an earlier one is refused."""

    flow: Literal["chase"] = "chase"
    id: int
    scope: str = ""
    years: tuple[int, ...] | None = None  # the assessment years read (None: the current ones)
    items: tuple[tuple[int, str, str], ...] = ()  # (unit id, deadline key, period)


class AssessmentChoice(_State):
    """The assessment a person with roles in several works in (分级考核, handlers/assessments.py),
    under "as:<userid>"; kept until they choose another."""

    flow: Literal["assessment"] = "assessment"
    assessment: int


ChatState = (
    InfoDraft
    | PendingConfirmation
    | ReviewPage
    | EvidenceWindow
    | SelfCheckWindow
    | AssessmentChoice
    | ChaseListing
)
_ADAPTER: TypeAdapter[ChatState] = TypeAdapter(Annotated[ChatState, Field(discriminator="flow")])


def _with_flow(data: dict[str, Any]) -> dict[str, Any]:
    """A row as the union reads it: rows written before it carried no `flow` but the draft's."""
    if "flow" in data:
        return data
    if "action" in data:
        return {**data, "flow": "pending"}
    if "ids" in data:
        return {**data, "flow": "review_page"}
    if "line" in data:
        return {**data, "flow": "selfcheck"}
    if "inspection" in data:
        rest = {k: v for k, v in data.items() if k != "kind"}
        return {**rest, "flow": "evidence", "event": data.get("kind", "")}
    return data


def state_from_json(data: Any) -> ChatState | None:
    """The state a row holds; None (logged) for one that no longer reads, which is then as good
    as no state: a conversation is short-lived, and the user is asked again."""
    if data is None:
        return None
    try:
        return _ADAPTER.validate_python(_with_flow(dict(data)))
    except (ValidationError, TypeError, ValueError) as exc:
        log.warning("conversation: a stored state does not read (%s): %r", exc, data)
        return None


def state_to_json(state: ChatState) -> dict[str, Any]:
    return state.model_dump(mode="json")


async def get_state(db: Database, userid: str) -> ChatState | None:
    """The state kept under `userid` (a user id or a dialogue's own key), or None."""
    async with db.session() as session:
        row = await session.get(ConversationState, userid)
        return state_from_json(row.state) if row is not None else None


async def set_state(db: Database, userid: str, state: ChatState) -> None:
    """Replace the state kept under `userid` (an upsert, safe under concurrent writers)."""
    insert = insert_for(db.dialect)
    now = utcnow()
    data = state_to_json(state)
    statement = insert(ConversationState).values(userid=userid, state=data, updated_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[col(ConversationState.userid)],
        set_={"state": statement.excluded.state, "updated_at": statement.excluded.updated_at},
    )
    async with db.session() as session:
        await session.exec(statement)
        await session.commit()


async def clear_state(db: Database, userid: str) -> None:
    async with db.session() as session:
        await session.exec(delete(ConversationState).where(col(ConversationState.userid) == userid))
        await session.commit()


async def list_states(db: Database) -> list[tuple[str, ChatState, datetime]]:
    """Every state that reads, with its key and the time it was last written (few: one per
    user and dialogue)."""
    async with db.session() as session:
        rows = await session.exec(select(ConversationState))
        found = [(row.userid, state_from_json(row.state), row.updated_at) for row in rows.all()]
    return [(key, state, at) for key, state, at in found if state is not None]


async def clear_state_if(
    db: Database, userid: str, updated_at: datetime, *, notice: dict[str, Any] | None = None
) -> bool:
    """Drop the user's state only if it was not written since `updated_at`, and queue `notice`
    (an outbox payload) for the user in the same transaction; True if dropped. Of several
    sweeps, or a sweep and the user's next message, exactly one acts on it, and its notice
    survives a crash or an outage like any outbox message."""
    async with db.session() as session:
        result = await session.exec(
            delete(ConversationState).where(
                col(ConversationState.userid) == userid,
                col(ConversationState.updated_at) == updated_at,
            )
        )
        if not result.rowcount:
            await session.rollback()
            return False
        if notice is not None:
            enqueue(session, userid, notice)
        await session.commit()
        return True
