"""Exact arithmetic inside, two-decimal half-up presentation outside.

Scores are computed with `Fraction` so 4/12 per month never drifts; what users see is rounded once,
half up, to two decimals, so the breakdown they read always adds up to the total they read.
`shown()` is that one rounding rule: chat, the workbook, the chart and the dashboard all use it
(through `fmt()` for text), so a score reads the same everywhere (71.59 in chat and in Excel).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from math import gcd

CENT = Decimal("0.01")


# a Decimal's exact Fraction, kept by the Decimal (equal Decimals, 0.5 and 0.50, are one value):
# admins' entries repeat the same few values for every unit, and `Fraction(Decimal)` costs a few
# microseconds
_FRACTIONS: dict[Decimal, Fraction] = {}
KEPT = 65536  # values kept by each of these tables


def to_fraction(value: int | float | str | Decimal | Fraction) -> Fraction:
    """Exact fraction of a number as written (0.1 is one tenth, not the nearest binary float)."""
    kind = value.__class__
    if kind is Fraction:
        return value  # type: ignore[return-value]
    if kind is Decimal and value.is_finite():  # type: ignore[union-attr]
        found = _FRACTIONS.get(value)  # type: ignore[arg-type]
        if found is None:
            found = Fraction(value)
            if len(_FRACTIONS) < KEPT:
                _FRACTIONS[value] = found  # type: ignore[index]
        return found
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


def round2_of(numerator: int, denominator: int) -> Decimal:
    """`round2(Fraction(numerator, denominator))` without making the Fraction (denominator > 0):
    the pair in lowest terms is the Fraction's own, so the same key and the same rounding."""
    g = gcd(numerator, denominator)
    if g != 1:
        numerator, denominator = numerator // g, denominator // g
    key = (numerator, denominator)
    found = _ROUNDED.get(key)
    if found is None:
        found = (Decimal(numerator) / Decimal(denominator)).quantize(CENT, rounding=ROUND_HALF_UP)
        if len(_ROUNDED) < ROUNDED_KEPT:
            _ROUNDED[key] = found
    return found


def shown(value: Fraction | Decimal | int | float | str) -> Decimal:
    """THE rounding rule for every number people read: two decimals, half up (−0 is 0)."""
    dec = value if isinstance(value, Decimal) else round2(to_fraction(value))
    dec = dec.quantize(CENT, rounding=ROUND_HALF_UP)
    return dec if dec else Decimal("0.00")


# `fmt`'s texts, kept per type: a Fraction by its (numerator, denominator), a Decimal by itself
# (equal Decimals read the same: shown rounds them to the same two decimals). Floats are not
# kept: a float equals the Fraction of its binary value, but reads as its shortest decimal.
_FMT_FRACTIONS: dict[tuple[int, int], str] = {}
_FMT_DECIMALS: dict[Decimal, str] = {}


def fmt(value: Fraction | Decimal | int | float | None) -> str:
    """Short human form of `shown(value)`: 4, 6.5, 0.33 (no trailing zeros, never "-0")."""
    kind = value.__class__
    if kind is Fraction:
        key = (value.numerator, value.denominator)  # type: ignore[union-attr]
        found = _FMT_FRACTIONS.get(key)
        if found is None:
            found = _fmt(value)
            if len(_FMT_FRACTIONS) < KEPT:
                _FMT_FRACTIONS[key] = found
        return found
    if kind is Decimal and value.is_finite():  # type: ignore[union-attr]
        found = _FMT_DECIMALS.get(value)  # type: ignore[arg-type]
        if found is None:
            found = _fmt(value)
            if len(_FMT_DECIMALS) < KEPT:
                _FMT_DECIMALS[value] = found  # type: ignore[index]
        return found
    return _fmt(value)


def _fmt(value: Fraction | Decimal | int | float | None) -> str:
    if value is None:
        return "—"
    text = f"{shown(value):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def pct(rate: Fraction) -> str:
    """A rate 0..1 as a percentage: 0.72 -> "72%"."""
    return fmt(rate * 100) + "%"
