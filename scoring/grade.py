"""The suggested grade (seed 000 第七条): 不合格 if a required task is overdue and not done, else by score.

The assessment group confirms the final grade (it also weighs workload and qualitative judgement),
so this is a suggestion; before the year is over, or while something is still pending, it is
marked provisional.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from scoring.facts import Facts
from scoring.model import Grading
from scoring.numbers import fmt
from scoring.periods import day_label, is_due, known_by
from scoring.scorecard import Grade, Level


def confirmed_text(grade: str, exception: bool) -> str:
    """A confirmed grade as every reply and file writes it: "良好（例外）" for one seed 000 第七条
    does not allow, confirmed as an exception."""
    return f"{grade}（例外）" if exception else grade


def level_by_score(grading: Grading, base: Decimal | Fraction) -> Level:
    """The grade a base score reaches by the lines alone (优秀, 良好 or 合格; 不合格 comes from
    unfinished tasks, not from the score). The lines count inclusive or not as the scheme's
    口径 `lines` says."""

    def reached(line: Decimal | Fraction) -> bool:
        return base > line if grading.lines == "above" else base >= line

    if reached(grading.excellent):
        return Level.EXCELLENT
    return Level.GOOD if reached(grading.good) else Level.PASS


def suggest_grade(
    grading: Grading, facts: Facts, as_of: date, base_total: Decimal, *, pending: bool
) -> Grade:
    required = set(grading.required_task_kinds)
    failed = sorted(  # filtered, then sorted: the same list, without sorting every task
        (
            t
            for t in facts.tasks
            if t.kind in required
            and is_due(t.due, as_of)
            and (t.completed_at is None or not known_by(t.completed_at, as_of))
        ),
        key=lambda t: (t.due, t.id),
    )
    sign = ">" if grading.lines == "above" else "≥"
    tolerated = ""
    if failed and len(failed) <= grading.unfinished_allowed:
        tolerated = f"（逾期未完成{len(failed)}项，在容许的{grading.unfinished_allowed}项以内）"
    if failed and not tolerated:
        names = "、".join(
            f"{t.id}{' ' + t.title if t.title else ''}（截止{day_label(t.due, facts.year)}）"
            for t in failed[:5]
        )
        more = f" 等{len(failed)}项" if len(failed) > 5 else ""
        level, reason = Level.FAIL, f"年度任务逾期未完成：{names}{more}"
    elif (level := level_by_score(grading, base_total)) == Level.EXCELLENT:
        reason = f"基本分{fmt(base_total)} {sign} {fmt(grading.excellent)}"
    elif level == Level.GOOD:
        reason = f"基本分{fmt(base_total)} {sign} {fmt(grading.good)}，未达{fmt(grading.excellent)}"
    else:
        reason = f"基本分{fmt(base_total)}未达{fmt(grading.good)}"
    reason += tolerated
    year_over = as_of > date(facts.year, 12, 31)
    provisional = not year_over or pending
    if provisional:
        why = "考核年度尚未结束" if not year_over else "尚有未到期或未评定的指标"
        reason += f"；{why}，为暂定等次"
    return Grade(level=level, provisional=provisional, reason=reason)
