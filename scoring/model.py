"""The scheme as immutable data: items -> targets -> rules (docs/scheme.md, "Scheme file").

Validation lives in `loader.py`; these types assume a valid scheme. Numbers are `Fraction` so that
the engine computes exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from functools import cached_property

from scoring.periods import due_date, periods_of

EARN_KINDS = ("award", "discretionary", "ratio", "threshold", "checklist", "task_list", "per_unit")
LOSE_KINDS = ("quota", "on_time", "deduction", "reports", "stepped_rate", "gate")
RULE_KINDS = EARN_KINDS + LOSE_KINDS


def family_of(kind: str) -> str:
    """ "earn" or "lose": decides how a rule enters its budget."""
    return "earn" if kind in EARN_KINDS else "lose"


# ---- kind parameters: one small frozen type per rule kind ------------------------------------


@dataclass(frozen=True)
class Award:
    points: Fraction


@dataclass(frozen=True)
class Discretionary:
    max: Fraction


@dataclass(frozen=True)
class Ratio:
    points: Fraction
    cutoff: Fraction | None = None


@dataclass(frozen=True)
class Threshold:
    points: Fraction
    min: Fraction


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    name: str


@dataclass(frozen=True)
class Checklist:
    points: Fraction
    items: tuple[ChecklistItem, ...]
    per_missing: Fraction


@dataclass(frozen=True)
class PointsIfNone:
    task_kind: str
    points: Fraction


@dataclass(frozen=True)
class TaskList:
    task_kind: str
    points: Fraction
    points_if_none: PointsIfNone | None = None


@dataclass(frozen=True)
class PerUnit:
    points: Fraction
    unit_size: Fraction = Fraction(1)
    baseline: Fraction = Fraction(0)
    max: Fraction | None = None


@dataclass(frozen=True)
class Quota:
    per_period: int
    points: Fraction


@dataclass(frozen=True)
class OnTime:
    task_kind: str
    points: Fraction


@dataclass(frozen=True)
class Deduction:
    amount: Fraction | None = None
    range: tuple[Fraction, Fraction] | None = None
    max: Fraction | None = None


@dataclass(frozen=True)
class Reports:
    periods: tuple[str, ...]
    amount: Fraction | None = None


@dataclass(frozen=True)
class SteppedRate:
    min: Fraction
    step: Fraction
    amount: Fraction


@dataclass(frozen=True)
class Gate:
    when: str  # "missing" | "event"


Params = (
    Award
    | Discretionary
    | Ratio
    | Threshold
    | Checklist
    | TaskList
    | PerUnit
    | Quota
    | OnTime
    | Deduction
    | Reports
    | SteppedRate
    | Gate
)

PARAM_TYPES: dict[str, type] = {
    "award": Award,
    "discretionary": Discretionary,
    "ratio": Ratio,
    "threshold": Threshold,
    "checklist": Checklist,
    "task_list": TaskList,
    "per_unit": PerUnit,
    "quota": Quota,
    "on_time": OnTime,
    "deduction": Deduction,
    "reports": Reports,
    "stepped_rate": SteppedRate,
    "gate": Gate,
}

# ---- the tree --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    params: Params
    target: str  # id of the target the rule belongs to
    item: str  # id of the item the target belongs to
    text: str = ""
    period: str = "yearly"
    deadline: str | None = None
    office: str = ""

    @property
    def family(self) -> str:
        return family_of(self.kind)

    def max_points(self) -> Fraction | None:
        """The rule's own maximum (earn: what it can give; lose: what it declares), if it has one.

        Without the `points_if_none` switch; `None` when the rule has no bound of its own.
        """
        p = self.params
        if isinstance(p, Discretionary):
            return p.max
        if isinstance(p, PerUnit | Deduction):
            return p.max
        if isinstance(p, Award | Ratio | Threshold | Checklist | TaskList | Quota | OnTime):
            return p.points
        return None

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
