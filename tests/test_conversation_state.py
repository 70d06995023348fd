"""The conversation state is a typed model (one union, discriminated by `flow`) stored as JSON;
rows written before it (dicts with string keys) still load, also in the middle of a dialogue."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from handlers import texts
from storage.conversation import (
    Ask,
    EvidenceWindow,
    InfoDraft,
    PendingConfirmation,
    ReviewPage,
    SelfCheckWindow,
    get_state,
    list_states,
    set_state,
    state_from_json,
)
from storage.db import Database
from storage.inspection import EventKind
from storage.ledger import list_submissions
from storage.models import ConversationState
from storage.sender import member_and_state
from storage.units import get_unit_by_name
from tests.chat_env import TZ, bench

AT = datetime(2026, 11, 10, 9, 0, tzinfo=TZ)

# Rows as the handlers wrote them before the typed model (copied from the old code paths).
OLD_DRAFT = {
    "flow": "info",
    "title": "椒江区开展河道清理",
    "body": "共清理12公里",
    "attachments": [{"type": "image", "media_id": "m1", "file": "a.jpg", "name": None}],
    "source": "conv:k1",
    "sent_at": AT.isoformat(),
    "touched": AT.isoformat(),
    "ask": "repeat",
    "repeat_of": "S7",
}
OLD_PENDING = {"action": "grade", "args": {"unit": "椒江区", "n": 1}, "at": AT.isoformat()}
OLD_PAGE = {"ids": [3, 5, 8], "scope": "C3b", "offset": 10}
OLD_EVIDENCE = {"inspection": 4, "kind": "appeal", "at": AT.isoformat()}
OLD_SELFCHECK = {"line": "K3", "year": 2026, "at": AT.isoformat()}


async def _write_raw(db: Database, key: str, data: dict[str, Any]) -> None:
    async with db.session() as session:
        session.add(ConversationState(userid=key, state=data, updated_at=datetime.now(UTC)))
        await session.commit()


def test_old_rows_read_as_their_kind() -> None:
    draft = state_from_json(OLD_DRAFT)
    assert isinstance(draft, InfoDraft)
    assert (draft.title, draft.body, draft.source) == (
        "椒江区开展河道清理",
        "共清理12公里",
        "conv:k1",
    )
    assert draft.sent_at == AT and draft.touched == AT
    assert draft.ask is Ask.REPEAT and draft.repeat_of == "S7"
    assert draft.attachments == (
        {"type": "image", "media_id": "m1", "file": "a.jpg", "name": None},
    )
    assert state_from_json(OLD_PENDING) == PendingConfirmation(
        action="grade", args={"unit": "椒江区", "n": 1}, at=AT
    )
    assert state_from_json(OLD_PAGE) == ReviewPage(ids=(3, 5, 8), scope="C3b", offset=10)
    assert state_from_json(OLD_EVIDENCE) == EvidenceWindow(
        inspection=4, event=EventKind.APPEAL, at=AT
    )
    assert state_from_json(OLD_SELFCHECK) == SelfCheckWindow(line="K3", year=2026, at=AT)


def test_a_pending_action_reads_as_its_enum_and_is_stored_as_before() -> None:
    from handlers.pending import PendingAction as FromHandlers
    from storage.conversation import PendingAction, state_to_json

    state = state_from_json(OLD_PENDING)
    assert isinstance(state, PendingConfirmation) and state.action is PendingAction.GRADE
    assert FromHandlers is PendingAction  # one definition, where storage can read it
    assert state_to_json(state)["action"] == "grade"  # the value rows already hold
    assert state_from_json({**OLD_PENDING, "action": "teleport"}) is None  # no such action


def test_a_row_that_does_not_read_is_no_state() -> None:
    assert state_from_json(None) is None
    assert state_from_json({"step": "title"}) is None  # no kind of state has this shape
    assert state_from_json({"flow": "info", "sent_at": "not a time"}) is None
    assert state_from_json({"flow": "elsewhere"}) is None


async def test_each_kind_round_trips_as_json(database: Database) -> None:
    states = {
        "zhang": InfoDraft(title="标题", attachments=({"type": "link", "url": "u"},), sent_at=AT),
        "p:admin": PendingConfirmation(action="charter", args={"rows": [1, 2]}, at=AT),
        "rq:admin": ReviewPage(ids=(1, 2), scope="椒江区"),
        "j:admin": EvidenceWindow(inspection=9, event=EventKind.EVIDENCE, at=AT),
        "sc:zhang": SelfCheckWindow(line="C1a", year=2026, at=AT),
    }
    for key, state in states.items():
        await set_state(database, key, state)
    for key, state in states.items():
        assert await get_state(database, key) == state
    async with database.session() as session:
        row = await session.get(ConversationState, "p:admin")
        assert row is not None and row.state["flow"] == "pending"  # JSON, with its kind
    await _write_raw(database, "broken", {"step": "title"})
    listed = {key: state for key, state, _at in await list_states(database)}
    assert listed == states  # the row that does not read is left out


async def test_old_rows_load_through_the_storage_readers(database: Database) -> None:
    for key, data in [
        ("zhang", OLD_DRAFT),
        ("p:a", OLD_PENDING),
        ("rq:a", OLD_PAGE),
        ("j:a", OLD_EVIDENCE),
        ("sc:a", OLD_SELFCHECK),
    ]:
        await _write_raw(database, key, data)
    assert isinstance(await get_state(database, "zhang"), InfoDraft)
    assert isinstance(await get_state(database, "p:a"), PendingConfirmation)
    assert isinstance(await get_state(database, "rq:a"), ReviewPage)
    assert isinstance(await get_state(database, "j:a"), EvidenceWindow)
    assert isinstance(await get_state(database, "sc:a"), SelfCheckWindow)
    _member, state = await member_and_state(database, "zhang")  # the chat's per-message read
    assert isinstance(state, InfoDraft) and state.ask is Ask.REPEAT


async def test_a_draft_written_before_the_upgrade_is_confirmed_after_it(
    database: Database, tmp_path: Path
) -> None:
    """A liaison half-way through a 政务信息 draft when the server is upgraded: the old row is
    read as the draft it was, and 确认 logs it once, with the time its content was sent."""
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 10, 9, 5)
        old = {k: v for k, v in OLD_DRAFT.items() if k not in ("ask", "repeat_of")}
        await _write_raw(database, "zhangsan", old)
        assert "已登记11月第1篇" in await b.say("zhangsan", "确认")
        assert await get_state(database, "zhangsan") is None
        assert await b.say("zhangsan", "确认") == texts.NOTHING_TO_CONFIRM
        async with database.session() as s:
            unit = await get_unit_by_name(s, "椒江区")
            assert unit is not None and unit.id is not None
            (view,) = await list_submissions(s, unit.id, 2026)
        sub = view.submission
        assert (sub.title, sub.text) == ("椒江区开展河道清理", "共清理12公里")
        assert sub.submitted_at == AT
