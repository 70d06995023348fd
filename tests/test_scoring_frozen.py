"""`scoring.frozen.quick_init`: the faster `__init__` of the engine's frozen dataclasses builds
the same objects as the one dataclasses generates, and they stay frozen."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from scoring.facts import AdminEntry, EntryKind, Facts, Status, Submission, Task
from scoring.frozen import quick_init
from scoring.kinds.base import Family, RuleResult
from scoring.scorecard import BudgetLine, Grade, ItemLine, Level, RuleLine, ScoreCard, TargetLine
from tally.build import OpenItem

AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
LINE = RuleLine(
    "C3.1", "quota", "earn", "每月4篇", Decimal("3.50"), Decimal("4.00"), "x", False, ()
)
TARGET = TargetLine("C3b", "工作信息", Decimal("4.00"), Decimal("3.50"), (LINE,))
ITEM = ItemLine(
    "C3", "信息", "办公室", False, None, Decimal("3.50"), Decimal("4.00"), False, (TARGET,)
)
BUDGET = BudgetLine("C3b", "C3", Decimal("4.00"), Decimal("3.50"), ("C3.1",), False)
GRADE = Grade(Level.GOOD, True, "r")

CASES: list[tuple[type, tuple[Any, ...], dict[str, Any]]] = [
    (Submission, ("S1", "C3b", AT), {}),
    (Submission, ("S1", "C3b", AT, "2026-03", Status.SUBMITTED, "report", "K1", "t"), {}),
    (Submission, (), {"id": "S2", "target": "T16", "submitted_at": AT, "title": "x"}),
    (Task, ("K1", "feedback", date(2026, 3, 31)), {"completed_at": AT}),
    (AdminEntry, ("E1", EntryKind.POINTS, "T20.3", AT), {"value": Decimal("2.5")}),
    (Facts, ("椒江区", 2026), {}),
    (Facts, ("椒江区", 2026), {"tasks": (Task("K1", "feedback", date(2026, 3, 31)),)}),
    (RuleResult, ("C3.1", "quota", Family.EARN, 3, 4, "x"), {"pending": True, "open": ("a",)}),
    (RuleLine, ("C3.1", "quota", "earn", "t", Decimal(1), None, "x", False, ()), {}),
    (TargetLine, ("C3b", "工作信息", None, None, (LINE,)), {}),
    (BudgetLine, ("C3b", "C3", None, Decimal(1), ("C3.1",), True), {"open": Decimal(2)}),
    (ItemLine, ("C3", "信息", "办公室", False, None, None, None, True, (TARGET,)), {}),
    (Grade, (Level.PASS, False, "r"), {}),
    (OpenItem, ("椒江区", "s", "待审核", "C3b", "t"), {}),
]


@pytest.mark.parametrize(("cls", "args", "kwargs"), CASES)
def test_same_objects_as_the_dataclass_init(
    cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    ours = cls(*args, **kwargs)
    theirs = object.__new__(cls)
    cls.__dataclass_init__(theirs, *args, **kwargs)  # type: ignore[attr-defined]
    assert cls.__init__ is not cls.__dataclass_init__  # type: ignore[attr-defined,misc]
    assert ours == theirs and repr(ours) == repr(theirs) and hash(ours) == hash(theirs)
    assert vars(ours) == vars(theirs)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ours.id = "changed"


def test_a_card_is_built_and_replaced() -> None:
    card = ScoreCard(
        "s", "方案", "椒江区", 2026, date(2026, 12, 31), (ITEM,), (BUDGET,),
        Decimal("3.50"), Decimal("4.00"), Decimal(0), Decimal("3.50"), GRADE, False, (), (),
    )  # fmt: skip
    assert card.open_points == Decimal("0.00") and card.item("C3") is ITEM
    assert dataclasses.replace(card, unit="黄岩区").unit == "黄岩区"
    with pytest.raises(TypeError):
        ScoreCard("s")  # type: ignore[call-arg]


def test_only_for_plain_frozen_dataclasses() -> None:
    @dataclasses.dataclass
    class Thawed:
        x: int

    @dataclasses.dataclass(frozen=True)
    class Later:
        x: int

        def __post_init__(self) -> None:
            pass

    @dataclasses.dataclass(frozen=True)
    class Hidden:
        x: int
        y: int = dataclasses.field(init=False, default=0)

    for cls in (Thawed, Later, Hidden):
        with pytest.raises(TypeError):
            quick_init(cls)
