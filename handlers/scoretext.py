"""Score cards for chat: one message within WeCom's 2048-byte limit, losses first.

The full card is in `kaohe score` and the dashboard; chat shows what a liaison acts on: the totals,
the suggested grade, every indicator that lost points with the reason, and what is still open.
"""

from __future__ import annotations

from datetime import date

from handlers.channel import TEXT_LIMIT, fit_lines
from handlers.context import scheme_of
from handlers.texts import SCORE_FOOTER
from scoring import score
from scoring.numbers import fmt
from scoring.scorecard import ScoreCard
from storage.db import Database
from storage.facts import unit_year_facts


def fit(text: str, limit: int = TEXT_LIMIT) -> str:
    """Keep whole lines while they fit one message; say how many were left out."""
    return fit_lines((), text.split("\n"), limit=limit)


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


async def unit_card(
    db: Database, unit_id: int, scheme_id: str, year: int, as_of: date
) -> ScoreCard:
    """The unit's running score from the ledger: the same facts and engine as everywhere else."""
    facts = await unit_year_facts(db, unit_id, year)
    return score(scheme_of(scheme_id), facts, as_of)


async def past_unit_card(
    db: Database, unit_id: int, scheme_id: str, year: int, as_of: date
) -> ScoreCard | None:
    """`unit_card` of a past year, or None when the unit has no record that year (it was not
    assessed here then: a card of zeros would be made up)."""
    facts = await unit_year_facts(db, unit_id, year)
    if not (facts.submissions or facts.tasks or facts.entries):
        return None
    return score(scheme_of(scheme_id), facts, as_of)


def _as_of(card: ScoreCard) -> str:
    day = f"{card.as_of.month}月{card.as_of.day}日"
    return day if card.as_of.year == card.year else f"{card.as_of.year}年{day}"


def score_text(card: ScoreCard) -> str:
    lines = [
        f"{card.unit}{card.year}年度得分（截至{_as_of(card)}）",
        f"基本分{fmt(card.base_total)}/{fmt(card.base_max)}，加分{fmt(card.bonus)}，"
        f"合计{fmt(card.total)}",
    ]
    if card.grade is not None:
        mark = "（暂定）" if card.grade.provisional else ""
        lines.append(f"建议等次：{card.grade.level}{mark}")
        if card.grade.level == "不合格":
            lines.append(f"原因：{_short(card.grade.reason, 80)}")
    lost: list[str] = []
    waiting: list[str] = []
    for item in card.items:
        for target in item.targets:
            for rule in target.rules:
                label = f"{target.id} {target.name}"
                if rule.family == "lose" and rule.value > 0:
                    lost.append(f"· {label} −{fmt(rule.value)}：{_short(rule.explanation)}")
                elif (
                    rule.family == "earn"
                    and not rule.pending
                    and rule.max is not None
                    and rule.value < rule.max
                ):
                    gap = rule.max - rule.value
                    lost.append(f"· {label} −{fmt(gap)}：{_short(rule.explanation)}")
                elif (
                    rule.family == "earn"
                    and rule.pending
                    and rule.value < (rule.max or 0)
                    and label not in waiting
                ):
                    waiting.append(label)
    if lost:
        lines.append("失分指标：")
        lines.extend(lost)
    else:
        lines.append("目前没有失分指标。")
    if waiting:
        lines.append("待评定或待完成：" + "、".join(waiting))
    lines.append(SCORE_FOOTER)
    return fit("\n".join(lines))
