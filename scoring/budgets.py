"""Budgets: the points cells of the source and which rules draw on each (docs/scheme.md, "Budgets").

A target with `points` is its own budget; the other targets draw on their item's cell, together
with the targets of items that `shares` it (a merged cell). When an item mixes targets with and
without points, the item's cell holds what the pointed targets leave over.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from scoring.model import Item, Rule, Scheme


@dataclass(frozen=True)
class Budget:
    id: str  # target id or item id
    item: str  # owning item (the shared-with item for a merged cell)
    points: Fraction | None  # None: uncapped (a bonus item without points)
    rules: tuple[Rule, ...]
    bonus: bool
    declared: Fraction | None = None  # the cell as written (item points before carving out)


def scheme_budgets(scheme: Scheme) -> list[Budget]:
    """Every budget of the scheme, in scheme order (worked out once per scheme: a scheme never
    changes, and a tally asks for every unit)."""
    made: tuple[Budget, ...] | None = scheme.__dict__.get("_budgets")
    if made is None:
        made = tuple(_budgets(scheme))
        scheme.__dict__["_budgets"] = made  # as functools.cached_property keeps its values
    return list(made)


def _budgets(scheme: Scheme) -> list[Budget]:
    sharers: dict[str, list[Item]] = {}
    for item in scheme.items:
        if item.shares is not None:
            sharers.setdefault(item.shares, []).append(item)
    result: list[Budget] = []
    for item in scheme.items:
        for target in item.targets:
            if target.points is not None:
                result.append(Budget(target.id, item.id, target.points, target.rules, item.bonus))
        if item.shares is not None:
            continue
        group = [item, *sharers.get(item.id, [])]
        loose = [r for i in group for t in i.targets if t.points is None for r in t.rules]
        if not loose:
            continue
        if item.points is None:
            result.append(Budget(item.id, item.id, None, tuple(loose), item.bonus))
            continue
        carved = sum(
            (t.points for i in group for t in i.targets if t.points is not None), Fraction(0)
        )
        points = max(Fraction(0), item.points - carved)
        result.append(Budget(item.id, item.id, points, tuple(loose), item.bonus, item.points))
    return result
