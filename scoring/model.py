"""The scheme as immutable data: items -> targets -> rules (docs/scheme.md, "Scheme file").

Validation lives in `document.py`; these types assume a valid scheme. Numbers are `Fraction` so
that the engine computes exactly. A rule's `params` is its kind's parameter model
(`scoring/kinds/`), which also knows how the rule scores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from functools import cached_property

from scoring.kinds import Family, Option, RuleKind
from scoring.kinds.award import Award
from scoring.kinds.checklist import Checklist, ChecklistItem
from scoring.kinds.deduction import Deduction
from scoring.kinds.discretionary import Discretionary
from scoring.kinds.fields import choice_meaning
from scoring.kinds.gate import Gate
from scoring.kinds.on_time import OnTime
from scoring.kinds.per_unit import PerUnit
from scoring.kinds.quota import Quota
from scoring.kinds.ratio import Ratio
from scoring.kinds.reports import Reports
from scoring.kinds.stepped_rate import SteppedRate
from scoring.kinds.task_list import PointsIfNone, TaskList
from scoring.kinds.threshold import Threshold
from scoring.periods import PeriodKind, due_date, periods_of

# The built-in kinds' parameter models, importable from here as before the kinds had modules.
__all__ = [
    "Alternatives",
    "Award",
    "Checklist",
    "ChecklistItem",
    "Deduction",
    "Discretionary",
    "Gate",
    "Grading",
    "Item",
    "OnTime",
    "PerUnit",
    "PointsIfNone",
    "Quota",
    "Ratio",
    "Reports",
    "Rule",
    "Scheme",
    "SteppedRate",
    "Target",
    "TaskList",
    "Threshold",
]

# ---- the tree --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alternatives:
    """A 口径 written in the scheme file as a switchable choice: the field of a rule or target it
    concerns (`about`), what that field decides (`label`), and each value the office may write
    there with its meaning (`choices`, in the file's order; "N" stands for any value). The value in
    force is the field's own value; `note` says why the source leaves it open."""

    about: str  # "deadline", "points", "per_period", ...
    label: str  # "月报截止"
    choices: tuple[tuple[str, str], ...]  # (value as written, what it means)
    note: str = ""

    def meaning(self, key: str) -> str | None:
        return choice_meaning(dict(self.choices), key)


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str  # the name of its kind (`params.kind`)
    params: RuleKind
    target: str  # id of the target the rule belongs to
    item: str  # id of the item the target belongs to
    text: str = ""
    period: str = PeriodKind.YEARLY
    deadline: str | None = None
    office: str = ""
    reading: str = ""  # 口径: what the source leaves open and how this rule reads it
    alternatives: Alternatives | None = None  # 口径 as a switchable choice (its note is `reading`)

    @property
    def family(self) -> Family:
        return self.params.family

    def value_of(self, name: str) -> object:
        """A field of the rule by name: `deadline`, `period` or a parameter of its kind."""
        if name in ("deadline", "period"):
            return getattr(self, name)
        return getattr(self.params, name)

    def max_points(self) -> Fraction | None:
        """The rule's own maximum (earn: what it can give; lose: what it declares), if it has one.

        Without the `points_if_none` switch; `None` when the rule has no bound of its own.
        """
        return self.params.max_points()

    def final_due(self, year: int) -> date:
        """Due date of the rule's last period in `year` (when a yearly-style rule is settled)."""
        return due_date(periods_of(year, self.period)[-1], self.deadline)


@dataclass(frozen=True)
class Target:
    id: str
    name: str
    rules: tuple[Rule, ...]
    item: str
    text: str = ""
    points: Fraction | None = None
    office: str = ""
    reading: str = ""  # 口径, as for rules
    alternatives: Alternatives | None = None  # `about: points` only

    def value_of(self, name: str) -> object:
        return getattr(self, name)


@dataclass(frozen=True)
class Item:
    id: str
    name: str
    targets: tuple[Target, ...]
    points: Fraction | None = None
    office: str = ""
    bonus: bool = False
    shares: str | None = None


@dataclass(frozen=True)
class Grading:
    excellent: Fraction = Fraction(90)
    good: Fraction = Fraction(80)
    required_task_kinds: tuple[str, ...] = ()
    lines: str = "inclusive"  # 口径: "inclusive" (≥ 90 is 优秀) or "above" (> 90)
    unfinished_allowed: int = 0  # 口径: overdue required tasks still "基本完成"
    options: tuple[Option, ...] = field(default=(), compare=False)  # its 口径, for scheme check


@dataclass(frozen=True)
class Scheme:
    id: str
    name: str
    items: tuple[Item, ...]
    source: str = ""
    total: Fraction | None = None
    grading: Grading | None = None
    path: str = field(default="", compare=False)  # where it was loaded from, for messages

    @cached_property
    def items_by_id(self) -> dict[str, Item]:
        return {i.id: i for i in self.items}

    @cached_property
    def targets_by_id(self) -> dict[str, Target]:
        return {t.id: t for i in self.items for t in i.targets}

    @cached_property
    def rules_by_id(self) -> dict[str, Rule]:
        return {r.id: r for i in self.items for t in i.targets for r in t.rules}

    def item(self, item_id: str) -> Item:
        return self.items_by_id[item_id]

    def target(self, target_id: str) -> Target:
        return self.targets_by_id[target_id]

    def rule(self, rule_id: str) -> Rule:
        return self.rules_by_id[rule_id]

    def rules(self) -> list[Rule]:
        return list(self.rules_by_id.values())
