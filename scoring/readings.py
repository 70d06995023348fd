"""口径: the readings a scheme takes where its source leaves one open, named so the office decides
knowingly (seed 000 第十三条 gives it the right to interpret).

Three sources: the options of the rule kinds and of the grading (named parameters whose default is
the reading kaohe has always taken: what a gate forfeits, whether "按时…得N分" is proportional,
whether 80 and 90 count inclusive, how many unfinished annual tasks still pass), the `reading`
a scheme writes on a rule or target (a deadline the source does not give, a quota borrowed from
another document, a points cell that does not add up: with the values the office may write there,
or as a note), and the points a budget leaves to no rule. `kaohe scheme check` lists them under
"口径"; `kaohe scheme show` ends with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from scoring.budgets import scheme_budgets
from scoring.describe import base_max
from scoring.kinds import Family, Option
from scoring.kinds.fields import choice_key
from scoring.lint import column_total, reachable
from scoring.model import Rule, Scheme, Target
from scoring.numbers import fmt

ZERO = Fraction(0)


@dataclass(frozen=True)
class Reading:
    where: str  # "T17.1", "T30", "等次", "13"
    what: str  # what is decided, in Chinese
    choice: str  # the reading in force, in words
    others: tuple[str, ...] = ()  # the other choices the scheme may write
    written: bool = True  # chosen in the scheme file (False: kaohe's default)

    def __str__(self) -> str:
        source = "" if self.written else "（默认）"
        text = f"{self.where}：{self.what}——{self.choice}{source}"
        if self.others:
            text += f"；可改为{'；'.join(self.others)}"
        return text


def _option(where: str, option: Option) -> Reading:
    others = tuple(
        f"{name}（{meaning}）" for name, meaning in option.choices.items() if name != option.value
    )
    return Reading(
        where,
        f"{option.label} [{option.name}]",
        f"{option.value}（{option.meaning}）",
        others,
        option.written,
    )


def _written(where: str, node: Rule | Target) -> list[Reading]:
    """The `reading` of a rule or target: its choices, with the one in force, or a note."""
    alt = node.alternatives
    if alt is None:
        return [Reading(where, "说明", node.reading)] if node.reading else []
    key = choice_key(node.value_of(alt.about))
    what = f"{alt.label} [{alt.about}]" + (f"（{alt.note}）" if alt.note else "")
    others = tuple(f"{k}（{m}）" for k, m in alt.choices if k != key)
    meaning = alt.meaning(key) or "不在所列口径之中"  # the loader refuses it in a file
    return [Reading(where, what, f"{key}（{meaning}）", others)]


def readings(scheme: Scheme) -> list[Reading]:
    """Every 口径 of the scheme, in scheme order (the grading first)."""
    out: list[Reading] = []
    if scheme.grading is not None:
        out += [_option("等次", o) for o in scheme.grading.options]
    for item in scheme.items:
        for target in item.targets:
            out += _written(target.id, target)
            for rule in target.rules:
                out += [_option(rule.id, o) for o in rule.params.options()]
                out += _written(rule.id, rule)
    out += _unassigned(scheme)
    return out


def _unassigned(scheme: Scheme) -> list[Reading]:
    """Budgets with deductions whose rules claim only part of the cell: the rest is given unless
    deducted (seed 003 items 6, 11, 13)."""
    out = []
    for budget in scheme_budgets(scheme):
        if budget.points is None or budget.bonus:
            continue
        if not any(r.family == Family.LOSE for r in budget.rules):
            continue
        claimed = sum((r.params.share() or ZERO for r in budget.rules), ZERO)
        if claimed < budget.points:
            free = budget.points - claimed
            out.append(
                Reading(
                    budget.id,
                    "未分配的分值",
                    f"{fmt(budget.points)}分中{fmt(free)}分不对应任何得分规则，未被扣分即得",
                )
            )
    return out


def totals_line(scheme: Scheme) -> str:
    """Declared total, the points column added up, the maximum (points cells) and what the rules
    can reach, side by side."""
    column, _ = column_total(scheme)
    parts = [f"声明总分{fmt(scheme.total)}"] if scheme.total is not None else ["未声明总分"]
    parts += [
        f"分值列合计{fmt(column)}",
        f"满分（各分值格合计）{fmt(base_max(scheme))}",
        f"规则可得{fmt(reachable(scheme))}",
    ]
    return "，".join(parts)
