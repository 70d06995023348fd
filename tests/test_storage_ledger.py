"""The ledger is append-only: reviews, withdrawals, completions and corrections are new rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError, InvalidRequestError
from sqlmodel import select

import storage.ledger as ledger
from scoring.facts import Status
from storage.audit import list_audit
from storage.db import Database
from storage.ledger import (
    LedgerError,
    add_entry,
    add_submission,
    add_task,
    complete_task,
    count_submissions,
    get_submission,
    list_entries,
    list_submissions,
    list_tasks,
    review_submission,
    void_entry,
    withdraw_submission,
)
from storage.models import AdminEntry, Submission, SubmissionEvent, Unit
from storage.units import get_unit_by_name, list_units, upsert_member, upsert_unit

CST = timezone(timedelta(hours=8))
AT = datetime(2026, 11, 3, 9, 12, tzinfo=CST)


async def _unit(db: Database) -> int:
    async with db.session() as s:
        unit, outcome = await upsert_unit(s, "椒江区", "district", "chuangmo-taizhou", actor="cmb")
        await s.commit()
        assert outcome == "created" and unit.id is not None
        return unit.id


def test_ledger_api_offers_no_update_or_delete() -> None:
    names = [n for n in dir(ledger) if not n.startswith("_")]
    assert not [n for n in names if any(w in n for w in ("update", "delete", "edit", "remove"))]


async def test_submission_lifecycle_is_rows(database: Database) -> None:
    unit_id = await _unit(database)
    async with database.session() as s:
        sub = await add_submission(
            s,
            unit_id=unit_id,
            target="C3b",
            period="2026-11",
            submitted_at=AT,
            sender="zhangsan",
            title="椒江区开展河道清理",
            attachments=[{"media_id": "MEDIA1", "file": "media/2026/11/a.jpg", "name": "a.jpg"}],
            source_key="msg-1",
        )
        await s.commit()
    assert sub.id is not None and sub.year == 2026
    async with database.session() as s:
        view = await get_submission(s, sub.id)
        assert view is not None and view.status == Status.SUBMITTED and view.ref == f"S{sub.id}"
        assert view.submission.submitted_at == AT and view.submission.submitted_at.tzinfo == UTC
        assert view.submission.attachments[0]["media_id"] == "MEDIA1"
        await review_submission(s, sub.id, accepted=False, actor="cmb", reason="与上月重复")
        await review_submission(s, sub.id, accepted=True, actor="cmb", reason="复核通过")
        await withdraw_submission(s, sub.id, actor="zhangsan", reason="发错了")
        await s.commit()
    async with database.session() as s:
        views = await list_submissions(s, unit_id, 2026, target="C3b")
        assert [v.status for v in views] == [Status.WITHDRAWN]
        events = (await s.exec(select(SubmissionEvent))).all()
        assert [e.status for e in events] == ["rejected", "accepted", "withdrawn"]
        rows = (await s.exec(select(Submission))).all()
        assert len(rows) == 1 and rows[0].title == "椒江区开展河道清理"  # never edited
        audit = await list_audit(s)
        assert [a.action for a in audit][:4] == [
            "submission.withdrawn",
            "submission.accepted",
            "submission.rejected",
            "submission.add",
        ]
        assert audit[0].actor == "zhangsan" and audit[0].at.tzinfo is not None
    async with database.session() as s:
        with pytest.raises(LedgerError):
            await review_submission(s, 9999, accepted=True, actor="cmb")


async def test_one_submission_per_inbound_message(database: Database) -> None:
    """A message processed again (recovery after a crash) finds its submission; the database
    refuses a second row with the same source key even past the ledger function."""
    unit_id = await _unit(database)
    fields = {"unit_id": unit_id, "target": "C3b", "period": "2026-11", "submitted_at": AT}
    async with database.session() as s:
        first = await add_submission(s, **fields, title="第一次", source_key="msg-7")
        await s.commit()
    async with database.session() as s:
        again = await add_submission(s, **fields, title="重放", source_key="msg-7")
        await s.commit()
        assert again.id == first.id and again.title == "第一次"
        other = await add_submission(s, **fields, title="另一条", source_key="msg-8")
        none1 = await add_submission(s, **fields, title="无来源")
        none2 = await add_submission(s, **fields, title="无来源")
        await s.commit()
        assert len({first.id, other.id, none1.id, none2.id}) == 4
    async with database.session() as s:
        s.add(Submission(**fields, year=2026, source_key="msg-7"))
        with pytest.raises(IntegrityError):
            await s.commit()
    async with database.session() as s:
        rows = (await s.exec(select(Submission).where(Submission.source_key == "msg-7"))).all()
        assert len(rows) == 1
        with pytest.raises(LedgerError):
            other_unit, _ = await upsert_unit(
                s, "黄岩区", "district", "chuangmo-taizhou", actor="cmb"
            )
            await add_submission(s, **{**fields, "unit_id": other_unit.id}, source_key="msg-7")


async def test_quota_count_follows_the_latest_event(database: Database) -> None:
    """count_submissions (one outer-join query) agrees with list_submissions' statuses: a
    submission counts while submitted or accepted; events at the same moment go by id."""
    unit_id = await _unit(database)
    async with database.session() as s:
        subs = [
            await add_submission(
                s, unit_id=unit_id, target="C3b", period=period, submitted_at=AT, title=title
            )
            for period, title in [
                ("2026-11", "未审"),
                ("2026-11", "采用"),
                ("2026-11", "退回后采用"),
                ("2026-11", "撤回"),
                ("2026-11", "采用后退回"),
                ("2026-10", "上月"),
            ]
        ]
        ids = [sub.id for sub in subs]
        assert None not in ids
        same = AT + timedelta(days=1)
        await review_submission(s, ids[1], accepted=True, actor="cmb")
        await review_submission(s, ids[2], accepted=False, actor="cmb", reason="重复", at=same)
        await review_submission(s, ids[2], accepted=True, actor="cmb", at=same)
        await withdraw_submission(s, ids[3], actor="zhangsan")
        await review_submission(s, ids[4], accepted=True, actor="cmb", at=same)
        await review_submission(s, ids[4], accepted=False, actor="cmb", reason="不实", at=same)
        await s.commit()
    async with database.session() as s:
        views = await list_submissions(s, unit_id, 2026, target="C3b", period="2026-11")
        counted = [v for v in views if v.status in (Status.SUBMITTED, Status.ACCEPTED)]
        assert [v.submission.title for v in counted] == ["未审", "采用", "退回后采用"]
        n = await count_submissions(s, unit_id, 2026, target="C3b", period="2026-11")
        assert n == 3
        rejected = await count_submissions(
            s, unit_id, 2026, target="C3b", period="2026-11", statuses=frozenset({Status.REJECTED})
        )
        assert rejected == 1
        assert await count_submissions(s, unit_id, 2026, target="C3b", period="2026-12") == 0


async def test_entries_voids_and_exact_values(database: Database) -> None:
    unit_id = await _unit(database)
    async with database.session() as s:
        bonus = await add_entry(
            s,
            unit_id=unit_id,
            year=2007,
            kind="bonus",
            rule="T38.1",
            value="300000",
            actor="cmb",
            at=AT,
        )
        rate = await add_entry(
            s,
            unit_id=unit_id,
            year=2007,
            kind="rate",
            rule="T22.1",
            value=Decimal("0.72"),
            actor="cmb",
        )
        ded = await add_entry(
            s, unit_id=unit_id, year=2007, kind="deduction", rule="T20.5", value=0.1, actor="cmb"
        )
        assert ded.id is not None
        void = await void_entry(s, ded.id, actor="cmb", reason="误记")
        await s.commit()
    async with database.session() as s:
        rows = await list_entries(s, unit_id, 2007)
        values = {r.id: r.value for r in rows}
        assert values[bonus.id] == Decimal("300000") and str(values[bonus.id]) == "300000"
        assert values[rate.id] == Decimal("0.72") and values[ded.id] == Decimal("0.1")
        assert [r.voids_id for r in rows if r.kind == "void"] == [ded.id]
        assert void.rule == "T20.5"
        assert len((await s.exec(select(AdminEntry))).all()) == 4
    async with database.session() as s:
        with pytest.raises(LedgerError):
            await add_entry(s, unit_id=unit_id, year=2007, kind="void", rule="x", actor="cmb")
        with pytest.raises(ValueError):
            await add_entry(s, unit_id=unit_id, year=2007, kind="grade", rule="x", actor="cmb")
        with pytest.raises(LedgerError):
            await add_entry(
                s, unit_id=unit_id, year=2007, kind="rate", rule="x", value="NaN", actor="c"
            )
        with pytest.raises(LedgerError):
            await void_entry(s, 9999, actor="cmb", reason="?")


async def test_tasks_complete_by_entries(database: Database) -> None:
    unit_id = await _unit(database)
    async with database.session() as s:
        task = await add_task(
            s, unit_id=unit_id, kind="key_project", due=date(2026, 12, 31), code="P1", actor="cmb"
        )
        assert task.id is not None
        first = await complete_task(s, task.id, actor="cmb", at=AT)
        await complete_task(s, task.id, actor="cmb", done=False, at=AT + timedelta(days=1))
        await s.commit()
    async with database.session() as s:
        (view,) = await list_tasks(s, unit_id, 2026)
        assert view.ref == "P1" and view.completed_at is None
        (early,) = await list_tasks(s, unit_id, 2026, known_at=AT + timedelta(hours=1))
        assert early.completed_at == AT
        second = await complete_task(s, task.id, actor="cmb", at=AT + timedelta(days=2))
        await s.commit()
    async with database.session() as s:
        (view,) = await list_tasks(s, unit_id, 2026)
        assert view.completed_at == second.at and first.task_id == task.id
        with pytest.raises(IntegrityError):  # the code is unique per unit
            await add_task(s, unit_id=unit_id, kind="x", due=date(2026, 1, 1), code="P1", actor="c")
    async with database.session() as s:
        with pytest.raises(LedgerError):
            await add_submission(s, unit_id=unit_id, target="W2", submitted_at=AT, task_id=9999)


async def test_units_and_members_relationships_are_explicit(database: Database) -> None:
    unit_id = await _unit(database)
    async with database.session() as s:
        _, outcome = await upsert_unit(s, "椒江区", "district", "chuangmo-taizhou", actor="cmb")
        assert outcome == "unchanged"
        _, outcome = await upsert_member(s, "zhangsan", "张三", "liaison", unit_id, actor="cmb")
        assert outcome == "created"
        with pytest.raises(ValueError):
            await upsert_member(s, "x", "x", "boss", unit_id, actor="cmb")
        await s.commit()
    async with database.session() as s:
        unit = await get_unit_by_name(s, "椒江区")
        assert isinstance(unit, Unit)
        with pytest.raises(InvalidRequestError):  # lazy="raise": no implicit I/O under async
            _ = unit.members
        (loaded,) = await list_units(s, with_members=True)
        assert [m.userid for m in loaded.members] == ["zhangsan"]


async def test_foreign_keys_are_enforced(database: Database) -> None:
    async with database.session() as s:
        s.add(Submission(unit_id=424242, year=2026, target="C3b", submitted_at=AT))
        with pytest.raises(IntegrityError):
            await s.commit()


async def test_kinds_are_enums_stored_as_the_words_rows_already_hold(database: Database) -> None:
    """Submission and task kinds are enums in the code and the same plain words in the database
    (no migration: rows written before read as the enum members)."""
    from scoring.facts import SubmissionKind, TaskKind

    assert [k.value for k in SubmissionKind][:4] == ["info", "feedback", "report", "evidence"]
    assert [k.value for k in TaskKind] == ["feedback", "annual_target", "key_project", "assigned"]
    unit_id = await _unit(database)
    async with database.session() as s:
        sub = await add_submission(
            s,
            unit_id=unit_id,
            target="T17",
            period="2026-Q1",
            submitted_at=AT,
            kind=SubmissionKind.REPORT,
            title="排污费季报",
        )
        await s.commit()
        raw = (await s.exec(select(Submission.kind).where(Submission.id == sub.id))).one()
        assert raw == "report" and type(raw) is str
        view = await get_submission(s, sub.id or 0)
        assert view is not None and SubmissionKind(view.submission.kind) is SubmissionKind.REPORT
