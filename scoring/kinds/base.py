"""What a rule kind is: one parameter model that also knows how to score, describe and be fed.

Each kind lives in its own module of `scoring/kinds/` as one subclass of `RuleKind`: its parameters
are pydantic fields (exact numbers, unknown fields refused), and its class attributes say what the
rest of kaohe needs to know about it — its family (earn or lose), which admin entries it takes and
with which chat verbs, which submissions it counts, what an open rule of its kind waits for. The
loader, the engine, lint, the tally, reminders and the chat handlers read these instead of comparing
kind names, so a new kind is one new module.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from scoring.facts import AdminEntry, EntryKind
from scoring.frozen import quick_init
from scoring.numbers import to_fraction
from scoring.periods import day_label

if TYPE_CHECKING:
    from scoring.context import Context
    from scoring.model import Rule, Scheme

ZERO = Fraction(0)


class Family(StrEnum):
    """How a rule enters its budget (docs/scheme.md, "Budgets")."""

    EARN = "earn"  # gives points from 0 up to its own maximum
    LOSE = "lose"  # takes points away from the budget


class OpenCategory(StrEnum):
    """What an open rule of the kind waits for (the tally's open-items sheet)."""

    SCORE = "待评分"  # an entry by the office
    SUBMIT = "待报送"  # submissions by the unit
    COMPLETE = "待完成"  # tasks to be completed


class Delivery(StrEnum):
    """What a unit sends for a rule of the kind, when it sends anything. The chat handlers find
    a submission's rule by it: a QUOTA kind has `per_period`, a TASK kind has `task_kind`."""

    QUOTA = "quota"  # several items per period (政务信息: 4 a month)
    REPORT = "report"  # one report per period (月报, 季报, 年报)
    TASK = "task"  # one answer per task of a task kind (任务反馈)
    TARGET = "target"  # a 责任书 target or project, owed until confirmed complete (never a rule's)


@dataclass(frozen=True)
class Verb:
    """An admin chat verb ("扣分 黄岩区 T20 0.1 理由") and the value it records, if fixed."""

    word: str
    value: Decimal | None = None


@quick_init
@dataclass(frozen=True)
class RuleResult:
    """The outcome of one rule. `value` is earned (earn family) or lost (lose family), never < 0."""

    rule_id: str
    kind: str
    family: Family
    value: Fraction
    max: Fraction | None  # earn: most it can give; lose: its declared points or cap (None: none)
    explanation: str
    pending: bool = False
    open: tuple[str, ...] = ()
    forfeit: bool = False  # a `gate` that takes the whole budget
    switched_max: Fraction | None = None  # task_list `points_if_none` applied: the budget's points
    # points the rule can still move before the year is settled: earn, what it can still give
    # (None: `max − value`); lose, what it holds now but can still take (periods not yet due)
    at_stake: Fraction | None = None


@dataclass(frozen=True)
class Option:
    """One 口径 of a rule: a parameter where the source leaves the reading open."""

    name: str  # the parameter, e.g. "forfeit"
    label: str  # what it decides, in Chinese
    value: str  # the choice in force
    choices: dict[str, str]  # every choice and what it means
    written: bool  # chosen in the scheme file (else the default)

    @property
    def meaning(self) -> str:
        return self.choices.get(self.value, self.value)


ANY_DUE = (date.min, date.max)  # `RuleKind.owed`'s default window: the whole year


@dataclass(frozen=True)
class Owed:
    """One thing a unit must send by `due` for a rule, and how much of it came in (reminders)."""

    key: str  # the rule id, or "<rule id>@<task id>" for a task
    period: str  # "2026-11", "2026-Q3", "2026", or the task's due date
    delivery: Delivery
    label: str  # "11 月政务信息", "任务反馈“报送大气污染防治进展”"
    due: date
    need: int
    have: int


@dataclass(frozen=True)
class Delivered:
    """What a unit has sent so far: counting submissions per (target, period), answered tasks and
    tasks confirmed complete."""

    by_period: Counter[tuple[str, str]] = field(default_factory=Counter)
    answered: frozenset[str] = frozenset()
    completed: frozenset[str] = frozenset()


class RuleKind(BaseModel):
    """The parameters of one rule kind, and how rules of the kind behave.

    Subclasses declare `kind: Literal["name"] = "name"`, their parameter fields, the class
    attributes below, `evaluate()` and `describe()`, and are registered with `@register`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    family: ClassVar[Family]
    title: ClassVar[str]  # a few Chinese words for the kind, for `scheme schema` and the template
    accepts: ClassVar[EntryKind | None] = None  # the admin entries it reads
    verbs: ClassVar[tuple[Verb, ...]] = ()  # the admin chat verbs that record those entries
    delivery: ClassVar[Delivery | None] = None  # the submissions it counts
    open_category: ClassVar[OpenCategory] = OpenCategory.SCORE
    has_deadline: ClassVar[bool] = True  # its `deadline` means something (shown by `scheme show`)
    whole_budget: ClassVar[bool] = False  # scored after its budget's other rules, on all its points

    def __init__(self, *args: Any, **fields: Any) -> None:
        """Parameters by keyword, or in the order they are declared (`Award(Fraction(4))`)."""
        names = [name for name in type(self).model_fields if name != "kind"]
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__} takes at most {len(names)} parameters")
        super().__init__(**dict(zip(names, args, strict=False)), **fields)

    # ---- scoring ------------------------------------------------------------------------------
    def evaluate(self, rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
        """Score the rule against the facts; `budget` is its budget's points."""
        raise NotImplementedError

    def max_points(self) -> Fraction | None:
        """The rule's own bound (earn: what it can give; lose: what it declares), if any."""
        return None

    def share(self) -> Fraction | None:
        """The points of its budget the rule claims for itself (lint adds these up)."""
        return self.max_points()

    # ---- words --------------------------------------------------------------------------------
    def describe(self, rule: Rule) -> str:
        """How the rule scores, in a few Chinese words (`scheme show`)."""
        raise NotImplementedError

    def completed_task_kinds(self) -> tuple[str, ...]:
        """The task kinds whose completion the rule scores (a 责任书 lists such tasks)."""
        return ()

    def options(self) -> list[Option]:
        """The rule's 口径: its parameters declared with `fields.reading`."""
        return options_of(self)

    def period_kinds(self, rule: Rule) -> tuple[str, ...]:
        """The period kinds the rule is due in (a `reports` rule names several)."""
        return (rule.period,)

    # ---- admin entries ------------------------------------------------------------------------
    def default_entry(self) -> Decimal | None:
        """The value an entry takes when the admin writes none (a fixed deduction)."""
        return None

    def entry_problem(self, value: Decimal) -> str | None:
        """Why an admin entry of `value` cannot be taken for this rule (None: it can)."""
        return None

    # ---- what the unit owes -------------------------------------------------------------------
    def owed(
        self,
        rule: Rule,
        scheme: Scheme,
        year: int,
        tasks: tuple,
        got: Delivered,
        due_between: tuple[date, date] = ANY_DUE,
    ) -> list[Owed]:
        """Everything the unit must send for the rule in `year` (only what is due between the two
        days of `due_between`, inclusive), with what came in (reminders)."""
        return []

    # ---- helpers for the kinds ----------------------------------------------------------------
    def result(
        self, rule: Rule, value: Fraction, max_: Fraction | None, text: str, **kw
    ) -> RuleResult:
        return RuleResult(rule.id, rule.kind, self.family, value, max_, text, **kw)


def options_of(model: BaseModel) -> list[Option]:
    """The 口径 of a model (a rule kind, the grading): its fields declared with `fields.reading`."""
    out = []
    for name, info in type(model).model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and "口径" in extra:
            out.append(
                Option(
                    name=name,
                    label=str(extra["口径"]),
                    value=str(getattr(model, name)),
                    choices=dict(extra["choices"]),  # type: ignore[arg-type]
                    written=name in model.model_fields_set,
                )
            )
    return out


def latest(ctx: Context, rule: Rule) -> AdminEntry | None:
    """The rule's latest effective entry (latest wins)."""
    entries = ctx.entries.get(rule.id)
    return entries[-1] if entries else None


def due_label(ctx: Context, due: date) -> str:
    return f"截止{day_label(due, ctx.year)}"


def rate_of(entry: AdminEntry) -> Fraction:
    return max(ZERO, to_fraction(entry.value))


class RateKind(RuleKind):
    """Kinds scored from a measured rate the office enters (比率 黄岩区 T22 85%)."""

    accepts: ClassVar[EntryKind | None] = EntryKind.RATE
    verbs: ClassVar[tuple[Verb, ...]] = (Verb("比率"), Verb("达标率"))

    def entry_problem(self, value: Decimal) -> str | None:
        return "比率请写成0.85或85%" if value > 10 else None


class ConfirmedKind(RuleKind):
    """Kinds scored from the office's confirmation that something was done (or not)."""

    accepts: ClassVar[EntryKind | None] = EntryKind.CONFIRMATION
    verbs: ClassVar[tuple[Verb, ...]] = (
        Verb("确认完成", Decimal(1)),
        Verb("确认未完成", Decimal(0)),
    )
