"""The score card: what `score()` returns. Presentation numbers are two-decimal `Decimal`s.

Per item, per target and per rule: points, maximum, how they were reached and what is still open;
then the base total, its maximum, the bonus (reported apart), the total and the suggested grade.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from scoring.frozen import quick_init


class Level(StrEnum):
    """The grades of seed 000 第七条, best first (suggested by the score, confirmed by the office)."""

    EXCELLENT = "优秀"
    GOOD = "良好"
    PASS = "合格"
    FAIL = "不合格"

    @property
    def rank(self) -> int:
        """How good the grade is: 不合格 0 … 优秀 3 (a higher rank is a better grade)."""
        return len(GRADES) - 1 - GRADES.index(self)


GRADES: tuple[Level, ...] = tuple(Level)  # best first, as the 通报 and the tally list them


@quick_init
@dataclass(frozen=True)
class RuleLine:
    id: str
    kind: str
    family: str  # "earn": `value` was earned; "lose": `value` was lost
    text: str  # the rule as the source words it
    value: Decimal
    max: Decimal | None
    explanation: str  # one line with the inputs: "11 月：3/4 篇", "迟报 2 次 × 0.1 分"
    pending: bool
    open: tuple[str, ...]
    # points it can still move (see `RuleResult.at_stake`): earn, still to be given; lose, held
    # now but not yet due
    stake: Decimal = Decimal("0.00")


def rule_code(target_id: str, rule_id: str, rules_in_target: int) -> str:
    """The code people see and type for a rule: its target's id when the target has this one
    rule (C4a for C4.1), else the rule's own id (T20.5). Chat, dashboard and workbook use it."""
    return target_id if rules_in_target == 1 else rule_id


@quick_init
@dataclass(frozen=True)
class TargetLine:
    id: str
    name: str
    points: Decimal | None  # the target's own budget; None when it shares its item's points
    score: Decimal | None  # its budget's score; None when it shares its item's points
    rules: tuple[RuleLine, ...]

    def code_of(self, rule_id: str) -> str:
        """The code people see and type for one of its rules (see `rule_code`)."""
        return rule_code(self.id, rule_id, len(self.rules))


@quick_init
@dataclass(frozen=True)
class BudgetLine:
    """One points cell of the source: a target with points, or an item (with its sharers)."""

    id: str  # target or item id
    item: str  # the item whose score includes it
    points: Decimal | None  # after the `points_if_none` switch; None: uncapped (bonus)
    score: Decimal
    rules: tuple[str, ...]
    bonus: bool
    open: Decimal = Decimal("0.00")  # points not yet assessed: still to be given, not in `score`
    credited: Decimal = Decimal("0.00")  # points in `score` for periods not yet due


@quick_init
@dataclass(frozen=True)
class ItemLine:
    id: str
    name: str
    office: str
    bonus: bool
    shares: str | None  # the item whose points cell this item shares
    score: Decimal | None  # sum of its budgets; None when it has none of its own (it shares)
    max: Decimal | None
    pending: bool
    targets: tuple[TargetLine, ...]


@quick_init
@dataclass(frozen=True)
class Grade:
    level: Level
    provisional: bool
    reason: str


@quick_init
@dataclass(frozen=True)
class ScoreCard:
    scheme_id: str
    scheme_name: str
    unit: str
    year: int
    as_of: date
    items: tuple[ItemLine, ...]
    budgets: tuple[BudgetLine, ...]
    base_total: Decimal
    base_max: Decimal
    bonus: Decimal
    total: Decimal
    grade: Grade | None  # None when the scheme has no `grading`
    pending: bool  # some rule can still change (a period or task not yet due, an entry not made)
    open: tuple[str, ...]  # everything still open, in scheme order
    notes: tuple[str, ...]  # facts that could not be used (e.g. an entry naming no rule)
    # of the base: points not yet assessed (base_total + open_points is the most it can reach),
    # and points counted in base_total for periods not yet due (it may still lose them)
    open_points: Decimal = Decimal("0.00")
    credited: Decimal = Decimal("0.00")

    @property
    def assessed_max(self) -> Decimal:
        """The maximum of the part of the base already assessed."""
        return self.base_max - self.open_points

    def item(self, item_id: str) -> ItemLine:
        return next(i for i in self.items if i.id == item_id)

    def target(self, target_id: str) -> TargetLine:
        return next(t for i in self.items for t in i.targets if t.id == target_id)

    def rule(self, rule_id: str) -> RuleLine:
        return next(r for i in self.items for t in i.targets for r in t.rules if r.id == rule_id)
