"""The `rating` rule kind and the satisfaction index behind it (seed 000 第八条), pure."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from scoring import SchemeError, facts_from_data, lint, load_scheme_text, score
from scoring.satisfaction import index_of, recorded, summary

SCHEME = """
id: rated
name: 测评试算
total: 10
items:
  - id: A
    name: 工作态度
    points: 10
    targets:
      - id: A1
        name: 网络
        rules:
          - {{id: A1.1, kind: discretionary, max: 10}}
      - id: A2
        name: 测评意见
        rules:
          - {{id: A2.1, kind: rating, points: 4{extra}}}
"""


def _scheme(extra: str = ""):  # type: ignore[no-untyped-def]
    return load_scheme_text(SCHEME.format(extra=extra))


def _facts(*entries: dict):  # type: ignore[no-untyped-def]
    base = {"id": "E1", "kind": "points", "rule": "A1.1", "value": 9, "at": "2026-06-01T10:00:00"}
    return facts_from_data({"unit": "市住建局", "year": 2026, "entries": [base, *entries]})


def test_the_index_of_choices_and_scores() -> None:
    answers = ["满意", "满意", "基本满意", "不满意"]
    assert index_of(answers, "choice") == Fraction(1 + 1 + Fraction(3, 5) + 0, 4)
    weights = {"满意": Fraction(1), "基本满意": Fraction(1), "不满意": Fraction(0)}
    assert index_of(answers, "choice", weights) == Fraction(3, 4)  # the share not 不满意
    assert index_of(["8", "9", "10"], "score") == Fraction(27, 30)
    assert index_of([], "choice") is None
    assert recorded(Fraction(2, 3)) == Decimal("0.6667")
    assert summary(answers, "choice") == "满意2、基本满意1、不满意1（4份）"
    assert summary(["8", "9"], "score") == "平均8.50分（2份）"


def test_a_rating_takes_points_from_its_budget() -> None:
    scheme = _scheme()
    assert lint(scheme) == []  # it claims no share of its own
    entry = {
        "id": "E2",
        "kind": "rating",
        "rule": "A2.1",
        "value": "0.75",
        "at": "2026-12-20T10:00:00",
    }
    entry["reason"] = "测评 R1：满意 2、基本满意 0、不满意 1（3 份）"
    card = score(scheme, _facts(entry), date(2026, 12, 31))
    line = card.rule("A2.1")
    assert line.value == Decimal("1.00")  # 4 × (1 − 0.75)
    assert "满意 2" in line.explanation and "E2" in line.explanation
    assert card.base_total == Decimal("8.00")  # 9 earned, 1 lost

    # a later round wins; a voided entry counts no more; nobody rated: nothing lost
    later = {"id": "E3", "kind": "rating", "rule": "A2.1", "value": 1, "at": "2026-12-28T10:00:00"}
    assert score(scheme, _facts(entry, later), date(2026, 12, 31)).rule("A2.1").value == 0
    void = {"id": "E4", "kind": "void", "rule": "A2.1", "voids": "E3", "at": "2026-12-29T10:00:00"}
    assert score(scheme, _facts(entry, later, void), date(2026, 12, 31)).rule(
        "A2.1"
    ).value == Decimal("1.00")
    unrated = score(scheme, _facts(), date(2026, 12, 31)).rule("A2.1")
    assert unrated.value == 0 and not unrated.pending


def test_scales_and_weights_are_checked() -> None:
    scheme = _scheme(", scale: choice, weights: {基本满意: 1}")
    weights = scheme.rule("A2.1").params.choice_weights()
    assert weights == {"满意": 1, "基本满意": 1, "不满意": 0}
    assert _scheme(", scale: score").rule("A2.1").params.scale == "score"
    with pytest.raises(SchemeError, match="weights"):
        _scheme(", scale: score, weights: {满意: 1}")
    with pytest.raises(SchemeError):
        _scheme(", weights: {很好: 1}")
    with pytest.raises(SchemeError):
        _scheme(", weights: {满意: 2}")
    with pytest.raises(SchemeError):
        _scheme(", scale: stars")
