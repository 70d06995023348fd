"""Render a score card: compact Chinese text (chat, terminal) and a JSON-able dict (exports, --json)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from scoring.numbers import fmt
from scoring.scorecard import ItemLine, RuleLine, ScoreCard


def _of(score: Decimal | None, max_: Decimal | None) -> str:
    if score is None:
        return ""
    return f"{fmt(score)}/{fmt(max_)}" if max_ is not None else fmt(score)


def _rule_text(rule: RuleLine) -> str:
    sign = "+" if rule.family == "earn" else "−"
    value = f"{sign}{fmt(rule.value)}" if rule.value else "0"  # never "−0"
    mark = "（待定）" if rule.pending else ""
    return f"{rule.id} {value}：{rule.explanation}{mark}"


def _item_text(item: ItemLine, lines: list[str], *, detail: bool) -> None:
    head = f"{item.id}{item.name}"
    if item.score is not None:
        head += f"  {_of(item.score, item.max)}"
    if item.shares:
        head += f"（与{item.shares}共用分值）"
    if item.bonus:
        head += "（加分）"
    lines.append(head)
    for target in item.targets:
        if target.score is not None:
            lines.append(f"  {target.id}{target.name}  {_of(target.score, target.points)}")
            indent = "    "
        else:
            indent = "  "
            if len(item.targets) > 1:
                lines.append(f"  {target.id}{target.name}")
                indent = "    "
        if detail:
            lines.extend(indent + _rule_text(rule) for rule in target.rules)


def render_text(card: ScoreCard, *, detail: bool = True, max_open: int = 20) -> str:
    """Plain Chinese text: header, totals, grade, per item (and rule), open items, notes."""
    lines = [
        f"{card.unit}{card.year}年度 · {card.scheme_name}",
        f"截至{card.as_of.isoformat()}" + ("（部分指标待定，为阶段得分）" if card.pending else ""),
        f"基本分{fmt(card.base_total)}/{fmt(card.base_max)}，加分{fmt(card.bonus)}，合计{fmt(card.total)}",
    ]
    if card.grade is not None:
        mark = "（暂定）" if card.grade.provisional else ""
        lines.append(f"建议等次：{card.grade.level}{mark}：{card.grade.reason}")
    lines.append("")
    for item in card.items:
        _item_text(item, lines, detail=detail)
    if card.open:
        lines.append("")
        lines.append(f"待办（{len(card.open)}）：")
        lines.extend(f"· {o}" for o in card.open[:max_open])
        if len(card.open) > max_open:
            lines.append(f"· …… 另有{len(card.open) - max_open}项")
    if card.notes:
        lines.append("")
        lines.append("说明：")
        lines.extend(f"· {n}" for n in card.notes)
    return "\n".join(lines)


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def to_dict(card: ScoreCard) -> dict[str, Any]:
    """JSON-able dict; numbers are floats of the two-decimal values shown to users."""
    return {
        "scheme": {"id": card.scheme_id, "name": card.scheme_name},
        "unit": card.unit,
        "year": card.year,
        "as_of": card.as_of.isoformat(),
        "base_total": _num(card.base_total),
        "base_max": _num(card.base_max),
        "bonus": _num(card.bonus),
        "total": _num(card.total),
        "grade": None
        if card.grade is None
        else {
            "level": card.grade.level,
            "provisional": card.grade.provisional,
            "reason": card.grade.reason,
        },
        "pending": card.pending,
        "open": list(card.open),
        "notes": list(card.notes),
        "items": [
            {
                "id": item.id,
                "name": item.name,
                "office": item.office,
                "bonus": item.bonus,
                "shares": item.shares,
                "score": _num(item.score),
                "max": _num(item.max),
                "pending": item.pending,
                "targets": [
                    {
                        "id": t.id,
                        "name": t.name,
                        "points": _num(t.points),
                        "score": _num(t.score),
                        "rules": [
                            {
                                "id": r.id,
                                "kind": r.kind,
                                "family": r.family,
                                "text": r.text,
                                "value": _num(r.value),
                                "max": _num(r.max),
                                "explanation": r.explanation,
                                "pending": r.pending,
                                "open": list(r.open),
                            }
                            for r in t.rules
                        ],
                    }
                    for t in item.targets
                ],
            }
            for item in card.items
        ],
        "budgets": [
            {
                "id": b.id,
                "item": b.item,
                "points": _num(b.points),
                "score": _num(b.score),
                "rules": list(b.rules),
                "bonus": b.bonus,
            }
            for b in card.budgets
        ],
    }
