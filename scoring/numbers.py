"""Exact arithmetic inside, two-decimal half-up presentation outside.

Scores are computed with `Fraction` so 4/12 per month never drifts; what users see is rounded once,
half up, to two decimals, so the breakdown they read always adds up to the total they read.
`shown()` is that one rounding rule: chat, the workbook, the chart and the dashboard all use it
(through `fmt()` for text), so a score reads the same everywhere (71.59 in chat and in Excel).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

CENT = Decimal("0.01")


def to_fraction(value: int | float | str | Decimal | Fraction) -> Fraction:
    """Exact fraction of a number as written (0.1 is one tenth, not the nearest binary float)."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float):
        return Fraction(str(value))
    return Fraction(value)


# kept by (numerator, denominator): a pair of ints hashes and compares several times faster than
# the Fraction itself (Fraction.__hash__ works out a modular inverse)
_ROUNDED: dict[tuple[int, int], Decimal] = {}
ROUNDED_KEPT = 65536  # the same few hundred values come back for every unit of a tally


def round2(value: Fraction) -> Decimal:
    """Round half up to two decimals."""
    key = (value.numerator, value.denominator)
    found = _ROUNDED.get(key)
    if found is None:
        found = (Decimal(key[0]) / Decimal(key[1])).quantize(CENT, rounding=ROUND_HALF_UP)
        if len(_ROUNDED) < ROUNDED_KEPT:
            _ROUNDED[key] = found
    return found


def shown(value: Fraction | Decimal | int | float | str) -> Decimal:
    """THE rounding rule for every number people read: two decimals, half up (−0 is 0)."""
    dec = value if isinstance(value, Decimal) else round2(to_fraction(value))
    dec = dec.quantize(CENT, rounding=ROUND_HALF_UP)
    return dec if dec else Decimal("0.00")


def fmt(value: Fraction | Decimal | int | float | None) -> str:
    """Short human form of `shown(value)`: 4, 6.5, 0.33 (no trailing zeros, never "-0")."""
    if value is None:
        return "—"
    text = f"{shown(value):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def pct(rate: Fraction) -> str:
    """A rate 0..1 as a percentage: 0.72 -> "72%"."""
    return fmt(rate * 100) + "%"
