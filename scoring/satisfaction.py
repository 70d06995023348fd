"""The 测评 satisfaction index (seed 000 第八条): the answers of a round about one department → a
number from 0 to 1 that a `rating` rule turns into points.

Pure. Two scales, which the scheme's `rating` rule names: `choice` (满意 / 基本满意 / 不满意, each
weighted; by default 1, 0.6 and 0 — with 基本满意 weighted 1 the index is the share of answers
that are not 不满意) and `score` (0 to 10, the index is the mean / 10).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction


class Scale(StrEnum):
    CHOICE = "choice"  # 满意 / 基本满意 / 不满意
    SCORE = "score"  # 0 to 10


CHOICES = ("满意", "基本满意", "不满意")
SCORES = tuple(str(n) for n in range(11))
DEFAULT_WEIGHTS: Mapping[str, Fraction] = {
    "满意": Fraction(1),
    "基本满意": Fraction(3, 5),
    "不满意": Fraction(0),
}
INDEX_PLACES = Decimal("0.0001")  # how the index is recorded in the ledger


def answers_of(scale: Scale | str) -> tuple[str, ...]:
    """The answers a rater can give on `scale`."""
    return CHOICES if Scale(scale) == Scale.CHOICE else SCORES


def index_of(
    answers: Iterable[str], scale: Scale | str, weights: Mapping[str, Fraction] | None = None
) -> Fraction | None:
    """The satisfaction index of `answers` (None when there are none)."""
    given = list(answers)
    if not given:
        return None
    if Scale(scale) == Scale.SCORE:
        return Fraction(sum(int(a) for a in given), 10 * len(given))
    table = weights or DEFAULT_WEIGHTS
    return sum((table[a] for a in given), Fraction(0)) / len(given)


def recorded(index: Fraction) -> Decimal:
    """The index as written in the ledger: four decimals, half up."""
    value = Decimal(index.numerator) / Decimal(index.denominator)
    return value.quantize(INDEX_PLACES, rounding=ROUND_HALF_UP)


def summary(answers: Iterable[str], scale: Scale | str) -> str:
    """ "满意 12、基本满意 3、不满意 1（16 份）" or "平均 8.25 分（16 份）"."""
    given = list(answers)
    if Scale(scale) == Scale.SCORE:
        if not given:
            return "无测评"
        mean = Fraction(sum(int(a) for a in given), len(given))
        return f"平均{recorded(mean / 10) * 10:.2f}分（{len(given)}份）"
    parts = [f"{c}{given.count(c)}" for c in CHOICES]
    return f"{'、'.join(parts)}（{len(given)}份）"
