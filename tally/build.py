"""The year-end tally, computed purely: units + their facts + schemes + a date in, a `Tally` out.

Every number comes from `scoring.score(scheme, facts, as_of)` with the unit's own scheme; this module
only arranges the score cards: per scheme one row per unit with every item's points, the base total,
the bonus, the total, the suggested grade, the final grade when the office has confirmed one, and the
rank (ties share a rank: 1, 2, 2, 4). Open items are gathered from the cards (open lists, pending
rules, notes) and from the facts (submissions still waiting for review).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from scoring import Facts, Scheme, ScoreCard, Status, score
from scoring.budgets import Budget, scheme_budgets
from scoring.facts import task_kind_words
from scoring.frozen import quick_init
from scoring.grade import confirmed_text
from scoring.kinds import kind_class
from scoring.numbers import fmt
from scoring.periods import TZ
from scoring.scorecard import GRADES, BudgetLine, Grade, RuleLine


@dataclass(frozen=True)
class TallyUnit:
    """One unit to tally: its name, kind (district/department), scheme id and facts of the year."""

    name: str
    kind: str
    scheme_id: str
    facts: Facts
    unit_id: int | None = None


@dataclass(frozen=True)
class FinalGradeInfo:
    """A grade the office confirmed (or changed), with who, why and when."""

    grade: str
    actor: str
    reason: str
    at: datetime
    exception: bool = False  # outside seed 000 第七条, stated as a deliberate exception


@dataclass(frozen=True)
class Column:
    """One item column of a scheme's sheet. `covers`: item ids whose points it holds (an item
    with `shares` has no points cell of its own and is shown in the column of the item it shares)."""

    id: str
    name: str
    covers: tuple[str, ...]
    points: Decimal | None
    # the item's points when a unit has no tasks of a kind (seed 000: W1 40, "如无重点工程则总分60分"):
    # (task kind in words, points), from the scheme's `points_if_none`
    switched: tuple[tuple[str, Decimal], ...] = ()

    @property
    def label(self) -> str:
        return f"{self.id}{self.name}"

    @property
    def points_text(self) -> str:
        """The points as a header states them: "40分", or "40分，无重点工程时60分"; "" without."""
        if self.points is None:
            return ""
        alt = "".join(f"，无{word}时{fmt(points)}分" for word, points in self.switched)
        return f"{fmt(self.points)}分{alt}"


@dataclass(frozen=True)
class CellPlan:
    """Where a target's points come from, worked out once per scheme: the points cell (budget)
    its rules draw on — its own, or its item's shared one — and the targets sharing that cell."""

    budget: str  # the budget id: the target's own id, or the item's
    label: str  # the cell's name when shared: the item's column label ("C2工作网络建设")
    shared_with: tuple[str, ...]  # the other targets drawing on the same cell
    declared: Decimal | None  # the cell's points as the scheme writes them (before any switch)
    carved: bool  # an item cell that gives what its pointed targets leave over
    switch: str  # the task kind (in words) whose absence switches the cell's points, or ""


@dataclass(frozen=True)
class TargetCell:
    """A target's line in the detail sheet: the points and score of the cell it draws on (after
    the `points_if_none` switch), and a note when that cell is shared, switched or uncapped."""

    points: Decimal | None
    score: Decimal
    note: str


def cell_plans(scheme: Scheme, columns: tuple[Column, ...]) -> dict[str, CellPlan]:
    """target id → its `CellPlan`, for every target of the scheme."""
    budgets = scheme_budgets(scheme)
    of_rule = {rule.id: b for b in budgets for rule in b.rules}
    labels = {item_id: c.label for c in columns for item_id in c.covers}
    drawing: dict[str, list[str]] = {}
    plan_of: dict[str, Budget] = {}
    for item in scheme.items:
        for target in item.targets:
            if not target.rules:
                continue
            budget = of_rule[target.rules[0].id]
            plan_of[target.id] = budget
            drawing.setdefault(budget.id, []).append(target.id)
    plans = {}
    for target_id, b in plan_of.items():
        pins = [
            pin
            for rule in b.rules
            if (pin := getattr(rule.params, "points_if_none", None)) is not None
        ]
        plans[target_id] = CellPlan(
            budget=b.id,
            label=labels.get(b.item, b.item),
            shared_with=tuple(t for t in drawing[b.id] if t != target_id),
            declared=_dec(b.points) if b.points is not None else None,
            carved=b.declared is not None and b.declared != b.points,
            switch=task_kind_words(pins[0].task_kind) if pins else "",
        )
    return plans


def target_cell(plan: CellPlan, line: BudgetLine) -> TargetCell:
    """The cell of one target of one unit's card (`line`: the card's line of `plan.budget`)."""
    notes = []
    if plan.shared_with:
        rest = "其余" if plan.carved else ""
        notes.append(
            f"与{'、'.join(plan.shared_with)}共用{plan.label}的{rest}{fmt(line.points)}分"
            if line.points is not None
            else f"与{'、'.join(plan.shared_with)}共用{plan.label}"
        )
    if plan.switch and line.points != plan.declared and line.points is not None:
        notes.append(f"无{plan.switch}，按{fmt(line.points)}分计（方案{fmt(plan.declared)}分）")
    if line.points is None:
        notes.append("加分项目，不设分值上限")
    return TargetCell(line.points, line.score, "；".join(notes))


@quick_init
@dataclass(frozen=True)
class TallyRow:
    unit: str
    kind: str
    unit_id: int | None
    card: ScoreCard
    items: tuple[Decimal | None, ...]  # aligned with SchemeTally.columns
    rank: int
    final: FinalGradeInfo | None
    recorded: bool = True  # the unit has a record this year; False: not yet assessed (待评)

    @property
    def base_total(self) -> Decimal:
        return self.card.base_total

    @property
    def bonus(self) -> Decimal:
        return self.card.bonus

    @property
    def total(self) -> Decimal:
        return self.card.total

    @property
    def suggested(self) -> Grade | None:
        return self.card.grade

    @property
    def suggested_text(self) -> str:
        grade = self.card.grade
        if grade is None:
            return "—"
        return grade.level + ("（暂定）" if grade.provisional else "")

    @property
    def final_text(self) -> str:
        """The confirmed grade as the workbook and chat write it: "良好（例外）" for one seed 000
        第七条 does not allow, confirmed as an exception; "" when not confirmed."""
        if self.final is None:
            return ""
        return confirmed_text(self.final.grade, self.final.exception)

    @property
    def grade(self) -> str | None:
        """The grade in force: the confirmed one, else the suggested one (None without grading)."""
        if self.final is not None:
            return self.final.grade
        return self.card.grade.level if self.card.grade is not None else None

    @property
    def confirmed(self) -> bool:
        return self.final is not None

    @property
    def pending(self) -> bool:
        return self.card.pending


@dataclass(frozen=True)
class SchemeTally:
    scheme: Scheme
    columns: tuple[Column, ...]
    rows: tuple[TallyRow, ...]  # by rank, then unit name
    cells: Mapping[str, CellPlan] = field(default_factory=dict)  # target id → its points cell

    def target_cells(self, row: TallyRow) -> dict[str, TargetCell]:
        """target id → the points and score of the cell it draws on, for one unit's row."""
        lines = {b.id: b for b in row.card.budgets}
        return {t: target_cell(plan, lines[plan.budget]) for t, plan in self.cells.items()}

    @property
    def id(self) -> str:
        return self.scheme.id

    @property
    def name(self) -> str:
        return self.scheme.name

    def grade_counts(self) -> dict[str, int]:
        counts = Counter(row.grade for row in self.rows if row.grade is not None)
        return {level: counts[level] for level in GRADES if counts[level]}

    @property
    def thresholds(self) -> tuple[Decimal, Decimal]:
        """(good, excellent) base totals of the scheme's grading (80, 90 without grading)."""
        grading = self.scheme.grading
        if grading is None:
            return Decimal(80), Decimal(90)
        return (
            Decimal(grading.good.numerator) / Decimal(grading.good.denominator),
            Decimal(grading.excellent.numerator) / Decimal(grading.excellent.denominator),
        )


@quick_init
@dataclass(frozen=True)
class OpenItem:
    unit: str
    scheme_id: str
    category: str  # 待审核 | 待评分 | 待报送 | 待完成 | 待定 | 说明
    indicator: str  # rule / target id, or "" for notes
    text: str


def cn_date(day: date) -> str:
    """A day as the tally's titles and the dashboard's headings write it: 2026年12月1日."""
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass(frozen=True)
class Tally:
    year: int
    as_of: date
    schemes: tuple[SchemeTally, ...]
    open_items: tuple[OpenItem, ...]
    skipped: tuple[str, ...] = field(default_factory=tuple)  # units whose scheme is unknown
    # submissions, tasks, admin entries and final grades of the year in the ledger: none means
    # there is nothing to tally (every unit would rank "6 分 合格" on defaults alone)
    records: int = 0

    @property
    def empty(self) -> bool:
        return self.records == 0

    @property
    def year_over(self) -> bool:
        return self.as_of > date(self.year, 12, 31)

    @property
    def as_of_text(self) -> str:
        """The day the tally counts up to, as titles write it: 2026年12月1日."""
        return cn_date(self.as_of)

    @property
    def pending(self) -> bool:
        return any(row.pending for s in self.schemes for row in s.rows)

    @property
    def rows(self) -> list[TallyRow]:
        return [row for s in self.schemes for row in s.rows]

    def scheme(self, scheme_id: str) -> SchemeTally:
        return next(s for s in self.schemes if s.id == scheme_id)

    def row(self, unit: str) -> TallyRow:
        return next(r for r in self.rows if r.unit == unit)


def columns_of(scheme: Scheme) -> tuple[Column, ...]:
    """The item columns of a scheme: its non-bonus items, sharers folded into their owner."""
    sharers: dict[str, list[str]] = {}
    for item in scheme.items:
        if item.shares:
            sharers.setdefault(item.shares, []).append(item.id)
    names = {item.id: item.name for item in scheme.items}
    columns = []
    for item in scheme.items:
        if item.bonus or item.shares:
            continue
        covers = (item.id, *sharers.get(item.id, ()))
        name = "、".join(names[i] for i in covers)
        points = _dec(item.points) if item.points is not None else None
        columns.append(Column(item.id, name, covers, points, _switched(scheme, covers, points)))
    return tuple(columns)


def _switched(
    scheme: Scheme, covers: tuple[str, ...], points: Decimal | None
) -> tuple[tuple[str, Decimal], ...]:
    """What the column's points become when a `points_if_none` switch applies to one of its
    budgets: the item's points less the budget's, plus the switched points."""
    if points is None:
        return ()
    out = []
    for budget in scheme_budgets(scheme):
        if budget.item not in covers or budget.points is None:
            continue
        for rule in budget.rules:
            pin = getattr(rule.params, "points_if_none", None)
            if pin is not None:
                alt = points - _dec(budget.points) + _dec(pin.points)
                out.append((task_kind_words(pin.task_kind), alt))
    return tuple(dict.fromkeys(out))


def _dec(value: object) -> Decimal:
    from fractions import Fraction

    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    return Decimal(str(value))


def rank_of(totals: list[Decimal]) -> list[int]:
    """Competition ranking, highest first: ties share a rank and the next rank skips (1, 2, 2, 4).
    A total's rank is 1 + how many totals are higher: its first place in the sorted list."""
    first: dict[Decimal, int] = {}
    for place, total in enumerate(sorted(totals, reverse=True), start=1):
        first.setdefault(total, place)
    return [first[total] for total in totals]


def _category(rule: RuleLine) -> str:
    """What the office (or the unit) has to do about an open rule: its kind says."""
    return kind_class(rule.kind).open_category.value


def open_items_of(card: ScoreCard, facts: Facts, as_of: date) -> list[OpenItem]:
    """What is still open for one unit: unreviewed submissions, then per rule (scheme order) its
    open lines, or a pending rule with no open line whose kind does not count deliveries (an
    office's score to come, points a unit may still earn); then the card's notes."""
    out: list[OpenItem] = []
    for sub in facts.submissions:
        if sub.status != Status.SUBMITTED:
            continue
        local = sub.submitted_at.astimezone(TZ)  # once for the test and the text
        if local.date() > as_of:
            continue
        when = local.strftime("%Y-%m-%d")
        period = f" {sub.period}" if sub.period else ""
        title = f"「{sub.title}」" if sub.title else ""
        out.append(
            OpenItem(
                card.unit,
                card.scheme_id,
                "待审核",
                sub.target,
                f"{sub.target}{period}{title}（{when}报送，尚未审核）",
            )
        )
    for item in card.items:
        for target in item.targets:
            for rule in target.rules:
                if rule.open:
                    out.extend(
                        OpenItem(card.unit, card.scheme_id, _category(rule), rule.id, line)
                        for line in rule.open
                    )
                elif rule.pending and kind_class(rule.kind).delivery is None:
                    # (a kind that counts deliveries — 政务信息, reports, task feedback — lists
                    # in its open lines all a unit still owes: none, nothing to send now)
                    out.append(
                        OpenItem(
                            card.unit,
                            card.scheme_id,
                            _category(rule),
                            rule.id,
                            f"{target.name}：{rule.explanation}",
                        )
                    )
    out.extend(OpenItem(card.unit, card.scheme_id, "说明", "", note) for note in card.notes)
    return out


def build_tally(
    units: Iterable[TallyUnit],
    schemes: Mapping[str, Scheme],
    as_of: date,
    *,
    year: int,
    final_grades: Mapping[str, FinalGradeInfo] | None = None,
    scheme_ids: Iterable[str] | None = None,
) -> Tally:
    """The tally of `year` as of `as_of`. `schemes`: scheme id → scheme (units whose scheme is not
    there are listed in `skipped`); `final_grades`: unit name → confirmed grade; `scheme_ids`:
    only these schemes (default: every scheme a unit uses, in the order of `schemes`)."""
    final_grades = final_grades or {}
    wanted = set(scheme_ids) if scheme_ids is not None else None
    by_scheme: dict[str, list[TallyUnit]] = {}
    skipped: list[str] = []
    units = list(units)
    records = len(final_grades) + sum(
        len(u.facts.submissions) + len(u.facts.tasks) + len(u.facts.entries) for u in units
    )
    for unit in units:
        if wanted is not None and unit.scheme_id not in wanted:
            continue
        if unit.scheme_id not in schemes:
            skipped.append(f"{unit.name}（方案 {unit.scheme_id} 不存在）")
            continue
        by_scheme.setdefault(unit.scheme_id, []).append(unit)

    tallies: list[SchemeTally] = []
    open_items: list[OpenItem] = []
    for scheme_id, scheme in schemes.items():
        members = by_scheme.get(scheme_id)
        if not members:
            continue
        columns = columns_of(scheme)
        cards = [(unit, score(scheme, unit.facts, as_of)) for unit in members]
        ranks = rank_of([card.total for _, card in cards])
        rows = []
        for (unit, card), rank in zip(cards, ranks, strict=True):
            items = tuple(card.item(column.id).score for column in columns)
            rows.append(
                TallyRow(
                    unit.name,
                    unit.kind,
                    unit.unit_id,
                    card,
                    items,
                    rank,
                    final_grades.get(unit.name),
                    recorded=bool(unit.facts.submissions or unit.facts.tasks or unit.facts.entries),
                )
            )
            open_items.extend(open_items_of(card, unit.facts, as_of))
        rows.sort(key=lambda r: (r.rank, r.unit))
        tallies.append(SchemeTally(scheme, columns, tuple(rows), cell_plans(scheme, columns)))
    return Tally(year, as_of, tuple(tallies), tuple(open_items), tuple(skipped), records)
