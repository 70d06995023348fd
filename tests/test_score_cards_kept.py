"""Score cards kept by the ledger's mark of a unit's year (handlers/scoretext.py): asked again with
nothing new, the kept card is the one the ledger gives; every kind of ledger row that changes the
facts — a submission, a review or withdrawal, a task, a task revision, a completion, an entry, a
void — and a rename of the unit gives a new card, equal to scoring the facts afresh."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime

from sqlalchemy import update
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.scoretext import CARDS_KEPT, past_unit_card, unit_card
from scoring import load_builtin, score
from storage.db import Database
from storage.facts import build_facts
from storage.ledger import (
    add_entry,
    add_submission,
    add_task,
    complete_task,
    review_submission,
    void_entry,
    withdraw_submission,
)
from storage.models import Unit
from storage.tasks import revise_task

SCHEME = "chuangmo-taizhou"
T = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
TODAY = date(2026, 12, 31)


async def _fresh(db: Database, unit_id: int, as_of: date = TODAY):  # type: ignore[no-untyped-def]
    async with db.session() as s:
        facts = await build_facts(s, unit_id, 2026)
    return score(load_builtin(SCHEME), facts, as_of)


async def test_a_kept_card_is_the_ledgers_until_a_row_changes_it(database: Database) -> None:
    async with database.session() as s:
        unit = Unit(name="路桥区", kind="district", scheme_id=SCHEME)
        s.add(unit)
        await s.commit()
    assert unit.id is not None
    uid = unit.id
    first = await unit_card(database, uid, SCHEME, 2026, TODAY)
    assert first == await _fresh(database, uid)
    assert await unit_card(database, uid, SCHEME, 2026, TODAY) is first  # nothing new: kept
    assert await past_unit_card(database, uid, SCHEME, 2026, TODAY) is None  # no record yet

    ids: dict[str, int] = {}

    async def submit(s: AsyncSession) -> None:
        for name in ("a", "b"):
            row = await add_submission(
                s, unit_id=uid, target="C3b", period="2026-03", submitted_at=T
            )
            assert row.id is not None
            ids[name] = row.id

    async def reject(s: AsyncSession) -> None:
        await review_submission(s, ids["a"], accepted=False, actor="cmb", at=T.replace(day=5))

    async def withdraw(s: AsyncSession) -> None:
        await withdraw_submission(s, ids["b"], actor="li", at=T.replace(day=6))

    async def task(s: AsyncSession) -> None:
        row = await add_task(s, unit_id=uid, kind="annual_target", due=date(2026, 6, 30), actor="c")
        assert row.id is not None
        ids["task"] = row.id

    async def redate(s: AsyncSession) -> None:
        await revise_task(s, ids["task"], actor="cmb", reason="延期", due=date(2026, 9, 30))

    async def complete(s: AsyncSession) -> None:
        await complete_task(s, ids["task"], actor="cmb", at=T.replace(month=8))

    async def points(s: AsyncSession) -> None:
        row = await add_entry(
            s, unit_id=uid, year=2026, kind="points", rule="C2.1", value="6.5", actor="c", at=T
        )
        assert row.id is not None
        ids["entry"] = row.id

    async def void(s: AsyncSession) -> None:
        await void_entry(s, ids["entry"], actor="cmb", reason="录错", at=T.replace(day=9))

    async def rename(s: AsyncSession) -> None:
        await s.exec(update(Unit).where(Unit.id == uid).values(name="路桥区（新）"))  # type: ignore[call-overload, arg-type]

    changes: list[Callable[[AsyncSession], Awaitable[None]]] = [
        submit, reject, withdraw, task, redate, complete, points, void, rename,
    ]  # fmt: skip
    card = first
    for change in changes:
        async with database.session() as s:
            await change(s)
            await s.commit()
        again = await unit_card(database, uid, SCHEME, 2026, TODAY)
        assert again is not card, change.__name__  # a new row: scored again
        assert again == await _fresh(database, uid), change.__name__
        assert await unit_card(database, uid, SCHEME, 2026, TODAY) is again
        card = again
    assert card.unit == "路桥区（新）"
    assert await past_unit_card(database, uid, SCHEME, 2026, TODAY) is card
    # another day: scored as of that day, not the kept card of the day before
    later = await unit_card(database, uid, SCHEME, 2026, date(2026, 4, 1))
    assert later is not card and later == await _fresh(database, uid, date(2026, 4, 1))


async def test_cards_kept_are_bounded(database: Database) -> None:
    async with database.session() as s:
        units = [Unit(name=f"单位{n}", kind="district", scheme_id=SCHEME) for n in range(3)]
        s.add_all(units)
        await s.commit()
    for unit in units:
        assert unit.id is not None
        await unit_card(database, unit.id, SCHEME, 2026, TODAY)
    kept = database.memo["score_cards"]
    assert len(kept) == 3 and CARDS_KEPT >= 3
    assert list(kept) == [(u.id, 2026) for u in units]  # least recently asked first


def test_a_cards_text_is_kept_with_the_card() -> None:
    """「我的得分」's text is kept per card object: the same card (and hints) gives the same text,
    built once; an equal card that is another object, or other hints, gets its own."""
    from dataclasses import replace

    from handlers import scoretext
    from scoring import Facts

    card = score(load_builtin(SCHEME), Facts("椒江区", 2026), TODAY)
    text = scoretext.score_text(card)
    assert text == scoretext._score_text(card, ())
    assert scoretext.score_text(card) is text  # kept, not built again
    hinted = scoretext.score_text(card, hints=("去年的得分请发送「2025年得分」",))
    assert hinted != text and hinted.endswith("去年的得分请发送「2025年得分」")
    other = replace(card, unit="黄岩区")
    assert "黄岩区" in scoretext.score_text(other) and "黄岩区" not in text
