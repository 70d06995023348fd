"""Score cards for chat, each one message within WeCom's 2,048-byte limit.

`score_text` ("我的得分") says what is assessed and what is not, the suggested grade with what it
rests on and what would change it, the losses (largest first) and what is still to be assessed;
`losses_text` ("扣分原因") explains every loss; `detail_text` ("得分明细") lists every indicator;
`indicator_text` ("C3b", "工作信息") explains one. Indicators are named first, their code in
brackets, and the code is the one admins type back (handlers/lookup.py, `rule_ref`). Long texts
are shortened by `fit_sections`, dropping the least important lines, never cutting a sentence.
The full card is in `kaohe score` and the dashboard.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from handlers import score_texts as st
from handlers.channel import Section, fit_sections
from handlers.context import office_name, scheme_of
from handlers.lookup import NAMED_REPORTS, REPORT_PERIODS, info_quota, rule_label, rule_ref
from handlers.texts import SCORE_FOOTER
from scoring import score
from scoring.grade import confirmed_text, level_by_score
from scoring.kinds import Delivery, Family, OpenCategory
from scoring.kinds.rating import Rating
from scoring.model import Rule, Scheme
from scoring.numbers import fmt
from scoring.periods import TZ
from scoring.scorecard import BudgetLine, Level, RuleLine, ScoreCard
from storage.db import Database
from storage.facts import LedgerMark, unit_year_facts_unless
from storage.grades import confirmed_grade
from storage.models import Unit

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


CARDS_KEPT = 256  # score cards kept per database (~11 KB each): the units asked about lately


@dataclass(frozen=True)
class _Kept:
    mark: LedgerMark
    scheme: Scheme
    as_of: date
    card: ScoreCard | None  # None: not scored (asked `if_any`, and there was no record)
    empty: bool  # the unit had no record that year


async def _card(
    db: Database, unit_id: int, scheme_id: str, year: int, as_of: date, *, if_any: bool = False
) -> ScoreCard | None:
    """The unit's card; with `if_any`, None when the unit had no record that year. A card is
    computed from the ledger and kept by the ledger's mark of the unit's year (the count and ids
    of its rows): asked again the same day with nothing new, the mark (one small statement)
    says the kept card is the one the ledger gives, without reading the facts and scoring them
    again."""
    scheme = scheme_of(scheme_id)
    kept: OrderedDict[tuple[int, int], _Kept] | None = None
    memo = getattr(db, "memo", None)
    if memo is not None:
        kept = memo.setdefault("score_cards", OrderedDict())
    old = kept.get((unit_id, year)) if kept is not None else None
    usable = old if old is not None and old.scheme is scheme and old.as_of == as_of else None
    if usable is not None and usable.card is None and not if_any:
        usable = None  # kept unscored: score it now
    mark, facts = await unit_year_facts_unless(db, unit_id, year, usable.mark if usable else None)
    if facts is None:
        assert usable is not None and kept is not None
        kept.move_to_end((unit_id, year))
        return None if usable.empty and if_any else usable.card
    empty = not (facts.submissions or facts.tasks or facts.entries)
    card = None if empty and if_any else score(scheme, facts, as_of)
    if kept is not None:
        kept[(unit_id, year)] = _Kept(mark, scheme, as_of, card, empty)
        kept.move_to_end((unit_id, year))
        while len(kept) > CARDS_KEPT:
            kept.popitem(last=False)
    return card


async def unit_card(
    db: Database, unit_id: int, scheme_id: str, year: int, as_of: date
) -> ScoreCard:
    """The unit's running score from the ledger: the same facts and engine as everywhere else."""
    card = await _card(db, unit_id, scheme_id, year, as_of)
    assert card is not None
    return card


async def past_unit_card(
    db: Database, unit_id: int, scheme_id: str, year: int, as_of: date
) -> ScoreCard | None:
    """`unit_card`, or None when the unit has no record that year (not assessed, 待评: a card of
    zeros would be made up)."""
    return await _card(db, unit_id, scheme_id, year, as_of, if_any=True)


async def confirmed_grade_line(db: Database, unit_id: int, year: int) -> str | None:
    """The grade the office confirmed for the unit's year (定级, latest wins), as the line that
    goes above its score card; None while none is confirmed."""
    found = await confirmed_grade(db, unit_id, year)
    if found is None:
        return None
    grade, reason, at, exception = found
    day = at.astimezone(TZ)
    return st.CONFIRMED_GRADE.format(
        year=year,
        grade=confirmed_text(grade, exception),  # as 汇总 and the workbook write it
        day=f"{day.month}月{day.day}日",
        reason=reason,
    )


# ---- the card as people read it ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    """One rule of the card: its label, and what it lost, what is still open, what is credited."""

    rule: Rule
    line: RuleLine
    label: str  # "工作信息（C3b）"
    ref: str  # "C3b"
    lost: Decimal  # points lost for good
    open: Decimal  # points still to be given (not in the score)
    credited: Decimal  # points in the score for periods not yet due


_LABELS: dict[int, tuple[Scheme, dict[str, tuple[str, str]]]] = {}


def _labels(scheme: Scheme) -> dict[str, tuple[str, str]]:
    """Per rule of a scheme: (the code people type, the label "名称（code）"), made once per
    scheme object (schemes are immutable; the entry keeps its scheme, so its id is not reused)."""
    found = _LABELS.get(id(scheme))
    if found is None or found[0] is not scheme:
        if len(_LABELS) > 64:
            _LABELS.clear()
        labels = {r.id: (rule_ref(scheme, r.id), rule_label(scheme, r.id)) for r in scheme.rules()}
        found = _LABELS[id(scheme)] = (scheme, labels)
    return found[1]


def rows_of(card: ScoreCard, scheme: Scheme, *, moved: bool = False) -> list[Row]:
    """The card's rules as people read them (`moved`: only those that lost points, are still
    open or are credited before they are due)."""
    labels = _labels(scheme)
    rows = []
    for item in card.items:
        if item.bonus:
            continue
        for target in item.targets:
            for line in target.rules:
                rule = scheme.rule(line.id)
                earn = line.family == Family.EARN
                lost = line.value if not earn else ZERO
                if earn and line.max is not None:  # what it can no longer give
                    lost = max(ZERO, line.max - line.value - line.stake)
                if moved and not lost and not line.stake:
                    continue
                ref, label = labels[line.id]
                rows.append(
                    Row(
                        rule=rule,
                        line=line,
                        label=label,
                        ref=ref,
                        lost=lost,
                        open=line.stake if earn else ZERO,
                        credited=ZERO if earn else line.stake,
                    )
                )
    return rows


def _day(card: ScoreCard) -> str:
    day = f"{card.as_of.month}月{card.as_of.day}日"
    return day if card.as_of.year == card.year else f"{card.as_of.year}年{day}"


def _sentence(text: str) -> str:
    return text if text.endswith(("。", "！", "？")) else text + "。"


def _who(card: ScoreCard, rows: list[Row]) -> str:
    categories = {r.rule.params.open_category for r in rows if r.open > 0}
    words = [
        word
        for category, word in (
            (OpenCategory.SCORE, st.WHO_SCORE.format(office=office_name())),
            (OpenCategory.COMPLETE, st.WHO_COMPLETE),
            (OpenCategory.SUBMIT, st.WHO_SUBMIT),
        )
        if category in categories
    ]
    when = st.WHO_BEFORE_YEAR_END if card.as_of <= date(card.year, 12, 31) else ""
    return when + "或".join(words or [st.WHO_SCORE.format(office=office_name())])


def _assessed(card: ScoreCard, rows: list[Row]) -> list[str]:
    lines = []
    if card.open_points > 0:
        lines.append(
            st.CARD_ASSESSED.format(
                base=fmt(card.base_total),
                assessed_max=fmt(card.assessed_max),
                open=fmt(card.open_points),
                who=_who(card, rows),
            )
        )
    elif not card.pending:
        lines.append(st.CARD_ALL_ASSESSED)
    if card.credited > 0:
        lines.append(st.CARD_CREDITED.format(credited=fmt(card.credited)))
    return ["；".join(lines) + "。"] if lines else []


def grade_text(card: ScoreCard, scheme: Scheme, rows: list[Row]) -> str | None:
    """The suggested grade, what it rests on and what would change it."""
    grading, grade = scheme.grading, card.grade
    if grading is None or grade is None:
        return None
    numbers = {
        "base": fmt(card.base_total),
        "good": fmt(grading.good),
        "excellent": fmt(grading.excellent),
    }
    basis = {
        Level.EXCELLENT: st.BASIS_EXCELLENT.format(**numbers),
        Level.GOOD: st.BASIS_GOOD.format(**numbers),
        Level.PASS: st.BASIS_PASS.format(**numbers),
        Level.FAIL: st.BASIS_FAIL.format(reason=grade.reason.split("；")[0]),
    }[grade.level]
    changes = []
    if grade.level == Level.FAIL:
        changes.append(st.CHANGE_FAIL.format(office=office_name()))
    else:
        if card.open_points > 0:
            best = card.base_total + card.open_points
            best_level = level_by_score(grading, best)
            template = st.CHANGE_OPEN if best_level != grade.level else st.CHANGE_OPEN_SAME
            changes.append(
                template.format(open=fmt(card.open_points), best=fmt(best), best_level=best_level)
            )
        required = set(grading.required_task_kinds)
        names = [
            scheme.target(r.rule.target).name
            for r in rows
            if r.line.pending and required & set(r.rule.params.completed_task_kinds())
        ]
        if names:
            changes.append(st.CHANGE_REQUIRED.format(names="、".join(dict.fromkeys(names))))
    mark = st.GRADE_PROVISIONAL if grade.provisional else st.GRADE_FINAL
    text = st.GRADE_LINE.format(level=grade.level, mark=mark, basis=basis)
    return "；".join([text, *changes]) + "。"


_ENTRY_REF = re.compile(r"（E\d+）")


def _why(line: RuleLine) -> str:
    """The rule's explanation for a liaison: whole, without the office's entry numbers (task
    kinds are in words already: scoring.facts.task_kind_words)."""
    return _ENTRY_REF.sub("", line.explanation)


def example(scheme: Scheme, rows: list[Row] | None = None) -> str:
    """An indicator to show how to ask about one: "「工作信息」「C3b」" (the largest loss, else
    the 政务信息 quota, else the first rule)."""
    lost = [r for r in rows or [] if r.lost > 0]
    if lost:
        rule_id = max(lost, key=lambda r: r.lost).rule.id
    else:
        quota = info_quota(scheme)
        rule_id = quota.rule.id if quota else scheme.rules()[0].id
    name = scheme.target(scheme.rule(rule_id).target).name
    return f"「{name}」「{rule_ref(scheme, rule_id)}」"


CENT = Decimal("0.01")


def _cells(card: ScoreCard, rows: list[Row]) -> list[tuple[BudgetLine, Decimal, Decimal]]:
    """Per points cell of the base: (cell, what its loss lines say, what the cell lost)."""
    lost = {r.line.id: r.lost for r in rows}
    cells = []
    for budget in card.budgets:
        if budget.bonus:
            continue
        lines = [lost[rid] for rid in budget.rules if lost.get(rid, ZERO) > 0]
        said = sum(lines, ZERO)
        held = said
        if budget.points is not None:
            held = max(ZERO, budget.points - budget.open - budget.score)
            if abs(said - held) <= CENT * max(1, len(lines)):
                held = said  # rounding only: the lines as they read
        cells.append((budget, said, held))
    return cells


def lost_total(card: ScoreCard, rows: list[Row]) -> Decimal:
    """Points lost for good, as the loss lines read. Per points cell: the sum of its loss lines
    (each rounded half up from its exact value, as everywhere), so that the total is what the
    lines add up to — not the cell's maximum less its score, each rounded on its own (6 − 5.88 =
    0.12 beside a line of −0.13 for a loss of 0.125). Where the two differ by more than rounding,
    the cell's own loss: its rules lose more than it holds (扣完为止, not lost twice), or they
    cannot give all its points (`gaps`: said on a line of its own)."""
    return sum((held for _, _, held in _cells(card, rows)), ZERO)


def gaps(card: ScoreCard, rows: list[Row], scheme: Scheme) -> list[tuple[str, Decimal, Decimal]]:
    """Cells whose rules cannot give all their points (a scheme whose numbers do not add up, as
    `kaohe scheme check` reports): (label, points, the points no rule can give)."""
    out = []
    for budget, said, held in _cells(card, rows):
        if held > said and budget.points is not None:
            if budget.id in scheme.targets_by_id:
                name = scheme.target(budget.id).name
            else:
                name = scheme.item(budget.id).name
            out.append((f"{name}（{budget.id}）", budget.points, held - said))
    return out


_TEXTS: OrderedDict[tuple[int, tuple[str, ...], str | None, str, bool], tuple[ScoreCard, str]] = (
    OrderedDict()
)


def score_text(
    card: ScoreCard,
    *,
    hints: tuple[str, ...] = (),
    confirmed: str | None = None,
    admin: bool = False,
) -> str:
    """ "我的得分": totals, assessed and pending, the grade, losses, what is still open.

    Kept per card object (cards are immutable; the entry holds its card, so its id is not
    reused): a kept card asked about again (`_card`) gets the same text without building it."""
    key = (id(card), hints, confirmed, office_name(), admin)  # the text names the office
    found = _TEXTS.get(key)
    if found is not None and found[0] is card:
        _TEXTS.move_to_end(key)
        return found[1]
    text = _score_text(card, hints, confirmed, admin=admin)
    _TEXTS[key] = (card, text)
    while len(_TEXTS) > CARDS_KEPT:
        _TEXTS.popitem(last=False)
    return text


def _score_text(
    card: ScoreCard,
    hints: tuple[str, ...] = (),
    confirmed: str | None = None,
    *,
    admin: bool = False,
) -> str:
    scheme = scheme_of(card.scheme_id)
    rows = rows_of(card, scheme)
    totals = st.CARD_TOTALS.format(base=fmt(card.base_total), base_max=fmt(card.base_max))
    if any(item.bonus for item in card.items):
        totals += st.CARD_BONUS.format(bonus=fmt(card.bonus), total=fmt(card.total))
    head = [st.CARD_HEAD.format(unit=card.unit, year=card.year, as_of=_day(card)), totals]
    if confirmed:
        head.insert(1, confirmed)
    head += _assessed(card, rows)
    grade = grade_text(card, scheme, rows)
    if grade:
        head.append(grade)
    lost = sorted((r for r in rows if r.lost > 0), key=lambda r: -r.lost)
    said = [
        (r.lost, st.LOST_LINE.format(label=r.label, value=fmt(r.lost), why=_why(r.line)))
        for r in lost
    ]
    office = office_name()
    said += [
        (
            value,
            st.LOST_GAP_LINE.format(
                label=label, points=fmt(points), value=fmt(value), office=office
            ),
        )
        for label, points, value in gaps(card, rows, scheme)
    ]
    losses = [line for _, line in sorted(said, key=lambda x: -x[0])]
    if not losses:
        head.append(st.LOST_NONE)
    waiting = sorted((r for r in rows if r.open > 0), key=lambda r: -r.open)
    opens = [
        st.OPEN_LINE.format(label=r.label, value=fmt(r.open), why=_why(r.line)) for r in waiting
    ]
    opens += [
        st.CREDITED_LINE.format(label=r.label, value=fmt(r.credited))
        for r in rows
        if r.credited > 0
    ]
    sections = [
        Section(losses, st.LOST_TITLE.format(total=fmt(lost_total(card, rows))), st.LOST_MORE),
        Section(opens, st.OPEN_TITLE, st.OPEN_MORE),
    ]
    if admin:  # the office reads another unit's card: its own commands, with the unit
        tail = [st.ADMIN_CARD_FOOTER.format(unit=card.unit), *hints]
    else:
        footer = SCORE_FOOTER.format(office=office_name())
        tail = [st.CARD_FOOTER.format(example=example(scheme, rows)), footer, *hints]
    return fit_sections(head, sections, tail)


# ---- 扣分原因, 得分明细, one indicator ---------------------------------------------------------------


def _report_word(scheme: Scheme, rule: Rule) -> str:
    name = scheme.target(rule.target).name
    for word, parts in NAMED_REPORTS.items():
        if any(p in name for p in parts):
            return word
    kinds = rule.params.period_kinds(rule)
    return next((w for w, k in REPORT_PERIODS.items() if k in kinds), "年报")


def can_do(scheme: Scheme, row: Row) -> str:
    """What the unit can still do about a rule (or who decides it)."""
    params, pending = row.rule.params, row.line.pending
    if params.delivery == Delivery.QUOTA:
        n = params.per_period  # type: ignore[attr-defined]
        return (st.DO_QUOTA_OPEN if pending else st.DO_QUOTA_CLOSED).format(n=n)
    if params.delivery == Delivery.REPORT:
        word = _report_word(scheme, row.rule)
        return (st.DO_REPORT_OPEN if pending else st.DO_REPORT_CLOSED).format(word=word)
    if params.delivery == Delivery.TASK:
        return st.DO_TASK
    if params.completed_task_kinds():
        if not pending and row.line.max == 0:
            return st.DO_NO_TASKS
        if pending:
            return st.DO_COMPLETE.format(office=office_name())
        if row.lost > 0:
            return st.DO_COMPLETE_LATE.format(office=office_name())
        return st.DO_COMPLETE_DONE
    if isinstance(params, Rating):
        return st.DO_RATING.format(office=office_name())
    if params.family == Family.LOSE:
        return st.DO_DEDUCTION.format(office=office_name())
    done = st.DO_SCORE_OPEN if pending else st.DO_SCORE_DONE
    return done.format(ref=row.ref, office=office_name())


def _state(card: ScoreCard, row: Row) -> str:
    line, target = row.line, card.target(row.rule.target)
    if target.score is not None and len(target.rules) == 1:
        return st.IND_STATE_BUDGET.format(score=fmt(target.score), points=fmt(target.points))
    if line.family == Family.EARN and line.max is not None:
        return st.IND_STATE_EARN.format(value=fmt(line.value), max=fmt(line.max))
    if line.value > 0:
        return st.IND_STATE_LOSE.format(value=fmt(line.value))
    return st.IND_STATE_NOT_LOST


def _explained(scheme: Scheme, row: Row, *, head: str, lost: bool = True) -> list[str]:
    """Lines explaining one rule: the rule as the scheme words it, the counts, what was lost,
    what is still open and what the unit can do."""
    rule, line = row.rule, row.line
    text = rule.text or scheme.target(rule.target).text or scheme.target(rule.target).name
    lines = [
        head,
        st.IND_RULE.format(text=text),
        st.IND_NOW.format(text=_sentence(_why(line))),
    ]
    if row.lost > 0 and lost:
        lines.append(st.IND_LOST.format(value=fmt(row.lost)))
    if row.open > 0:
        lines.append(st.IND_STAKE_EARN.format(value=fmt(row.open)))
    if row.credited > 0:
        lines.append(st.IND_STAKE_LOSE.format(value=fmt(row.credited)))
    if line.open:
        lines.append(st.IND_OPEN.format(items="；".join(line.open)))
    lines.append(st.IND_DO.format(text=can_do(scheme, row)))
    return lines


def losses_text(card: ScoreCard, *, admin: bool = False) -> str:
    """ "扣分原因": every loss, largest first, each with its rule, counts and remedies."""
    scheme = scheme_of(card.scheme_id)
    rows = rows_of(card, scheme)
    lost = sorted((r for r in rows if r.lost > 0), key=lambda r: -r.lost)
    names = {"unit": card.unit, "year": card.year, "as_of": _day(card)}
    said = [
        (r.lost, "\n".join(_explained(scheme, r, head=f"【{r.label}−{fmt(r.lost)}】", lost=False)))
        for r in lost
    ]
    office = office_name()
    said += [
        (
            value,
            st.LOSSES_GAP.format(label=label, points=fmt(points), value=fmt(value), office=office),
        )
        for label, points, value in gaps(card, rows, scheme)
    ]
    if not said:
        head = [st.LOSSES_NONE.format(**names)]
    else:
        head = [st.LOSSES_HEAD.format(total=fmt(lost_total(card, rows)), **names)]
    blocks = [block for _, block in sorted(said, key=lambda x: -x[0])]
    tail = [st.LOSSES_OPEN.format(open=fmt(card.open_points))] if card.open_points > 0 else []
    if admin:  # 「得分明细」 alone would be the admin's own unit, which there is none of
        tail = [st.ADMIN_FOOTER.format(unit=card.unit)]
        if card.open_points > 0:
            tail.insert(0, st.LOSSES_OPEN_ADMIN.format(open=fmt(card.open_points)))
    return fit_sections(head, [Section(blocks, more=st.LOSSES_MORE)], tail)


def detail_text(card: ScoreCard, *, admin: bool = False) -> str:
    """ "得分明细": every item and indicator with its points, in scheme order."""
    scheme = scheme_of(card.scheme_id)
    rows = {r.line.id: r for r in rows_of(card, scheme)}
    lines = []
    for item in card.items:
        title = f"{item.name}（{item.id}）"
        if item.score is not None:
            title += f"{fmt(item.score)}/{fmt(item.max)}"
        if item.pending:
            title += st.DETAIL_PENDING
        lines.append(title)
        for target in item.targets:
            for line in target.rules:
                row = rows.get(line.id)
                if row is None:  # a bonus item's rule
                    lines.append(f"· {rule_label(scheme, line.id)} +{fmt(line.value)}")
                    continue
                if target.score is not None and len(target.rules) == 1:
                    state = f"{fmt(target.score)}/{fmt(target.points)}"
                elif line.family == Family.EARN:
                    state = f"{fmt(line.value)}/{fmt(line.max)}"
                else:
                    lost = line.value > 0
                    state = (
                        st.DETAIL_LOST.format(value=fmt(line.value)) if lost else st.DETAIL_NOT_LOST
                    )
                mark = st.DETAIL_PENDING if line.pending else ""
                lines.append(f"· {row.label}{state}{mark}")
    head = [
        st.DETAIL_HEAD.format(
            unit=card.unit,
            year=card.year,
            as_of=_day(card),
            base=fmt(card.base_total),
            base_max=fmt(card.base_max),
        )
    ]
    head += _assessed(card, list(rows.values()))
    return fit_sections(head, [Section(lines, more=st.DETAIL_MORE)], [_footer(card, admin)])


def _footer(card: ScoreCard, admin: bool) -> str:
    """The last line of 扣分原因 and 得分明细: the liaison's, or the office's about the unit."""
    if admin:
        return st.ADMIN_FOOTER.format(unit=card.unit)
    return SCORE_FOOTER.format(office=office_name())


def indicator_text(card: ScoreCard, rule_ids: tuple[str, ...]) -> str:
    """One indicator (a target, a rule, or an item's rules): each rule explained."""
    scheme = scheme_of(card.scheme_id)
    rows = {r.line.id: r for r in rows_of(card, scheme)}
    blocks = []
    for rule_id in rule_ids:
        row = rows.get(rule_id)
        if row is None:
            continue
        head = st.IND_HEAD.format(label=row.label, as_of=_day(card), state=_state(card, row))
        blocks.append("\n".join(_explained(scheme, row, head=head)))
    footer = SCORE_FOOTER.format(office=office_name())
    return fit_sections([], [Section(blocks, more=st.IND_MORE)], [footer])


# ---- admin replies ---------------------------------------------------------------------------------


def _indicator_state(card: ScoreCard, scheme: Scheme, rule_id: str) -> Decimal:
    """An indicator's points as the card shows them: its target's budget, else its rule's value."""
    rule = scheme.rule(rule_id)
    target = card.target(rule.target)
    if target.score is not None:
        return target.score
    return card.rule(rule_id).value


def score_change(before: ScoreCard, after: ScoreCard, rule_id: str) -> str:
    """What an admin's change did to the unit's score: "椒江区基本分39.06→47.06（档案资料（C4a）0→8）",
    or that it did not change and why (a later entry wins, a cap, a budget spent)."""
    scheme = scheme_of(after.scheme_id)
    label = rule_label(scheme, rule_id)
    rule = scheme.rule(rule_id)
    names = {"unit": after.unit, "label": label}
    if scheme.item(rule.item).bonus:
        if before.bonus == after.bonus:
            why = after.rule(rule_id).explanation
            return st.CHANGE_NONE.format(base=fmt(after.base_total), why=why, **names)
        return st.CHANGE_BONUS.format(before=fmt(before.bonus), after=fmt(after.bonus), **names)
    was = _indicator_state(before, scheme, rule_id)
    now = _indicator_state(after, scheme, rule_id)
    if before.base_total == after.base_total and was == now:
        why = _sentence(after.rule(rule_id).explanation).rstrip("。")
        return st.CHANGE_NONE.format(base=fmt(after.base_total), why=why, **names)
    return st.CHANGE_BASE.format(
        before=fmt(before.base_total),
        after=fmt(after.base_total),
        was=fmt(was),
        now=fmt(now),
        **names,
    )


async def base_scores(
    db: Database, units: list[tuple[int, int]], as_of: date
) -> dict[tuple[int, int], tuple[str, Decimal]]:
    """The name and base score of each (unit id, year)."""
    out = {}
    for unit_id, year in units:
        async with db.session() as session:
            unit = await session.get(Unit, unit_id)
        if unit is not None:
            card = await unit_card(db, unit_id, unit.scheme_id, year, as_of)
            out[(unit_id, year)] = (unit.name, card.base_total)
    return out


def base_changes(
    before: dict[tuple[int, int], tuple[str, Decimal]],
    after: dict[tuple[int, int], tuple[str, Decimal]],
    *,
    most: int = 10,
) -> str:
    """ "椒江区基本分39.06→40.26、黄岩区50.7→51.9；其余3个单位不变" for an action on several units."""
    changed = [
        st.UNIT_BASE_CHANGE.format(unit=name, before=fmt(before[key][1]), after=fmt(base))
        for key, (name, base) in after.items()
        if key in before and before[key][1] != base
    ]
    same = len(after) - len(changed)
    parts = (
        [
            "、".join(changed[:most])
            + (st.MORE_UNITS.format(n=len(changed) - most) if len(changed) > most else "")
        ]
        if changed
        else []
    )
    if same:
        parts.append(st.UNITS_SAME.format(n=same) if changed else st.ALL_SAME)
    return "；".join(parts)
