"""The kind registry: a new rule kind is one class, and the loader, the JSON Schema, the engine,
lint, the tally's open items and the admin chat verbs all know it; without it, it is unknown."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import ClassVar, Literal

import pytest

from bot.cli import main
from scoring import SchemeError, facts_from_data, lint, load_scheme_text, score
from scoring import kinds as registry
from scoring.describe import render_scheme
from scoring.document import json_schema
from scoring.facts import EntryKind
from scoring.kinds import Family, OpenCategory, RuleKind, Verb
from scoring.kinds.fields import Num, PosNum
from scoring.numbers import fmt
from tally.build import open_items_of


class PerItem(RuleKind):
    """A kind no seed has: `each` point per counting submission to the target, at most `max`."""

    kind: Literal["per_item"] = "per_item"
    each: PosNum
    max: Num

    family: ClassVar[Family] = Family.EARN
    title: ClassVar[str] = "每篇得分"
    open_category: ClassVar[OpenCategory] = OpenCategory.SUBMIT

    def max_points(self) -> Fraction:
        return self.max

    def describe(self, rule) -> str:
        return f"每篇 {fmt(self.each)} 分，最多 {fmt(self.max)} 分"

    def evaluate(self, rule, ctx, budget):
        n = len(ctx.subs_by_target.get(rule.target, []))
        earned = min(self.each * n, self.max)
        pending = earned < self.max and ctx.as_of <= date(ctx.year, 12, 31)
        opens = (f"{ctx.target_name(rule)}：已报 {n} 篇",) if pending else ()
        text = f"{n} 篇 × {fmt(self.each)} 分"
        return self.result(rule, earned, self.max, text, pending=pending, open=opens)


class Commendation(RuleKind):
    """A kind with its own admin chat verb: the office records a commendation's points."""

    kind: Literal["commendation"] = "commendation"
    max: Num

    family: ClassVar[Family] = Family.EARN
    title: ClassVar[str] = "表彰加分"
    accepts: ClassVar[EntryKind | None] = EntryKind.BONUS
    verbs: ClassVar[tuple[Verb, ...]] = (Verb("表彰"),)

    def max_points(self) -> Fraction:
        return self.max

    def describe(self, rule) -> str:
        return f"表彰加分，最多 {fmt(self.max)} 分"

    def evaluate(self, rule, ctx, budget):
        total = sum((Fraction(e.value) for e in ctx.entries.get(rule.id, [])), Fraction(0))
        return self.result(rule, min(total, self.max), self.max, f"表彰 {fmt(total)} 分")


SCHEME = """
id: new-kind
name: 新规则类型
total: 10
items:
  - id: A
    name: 信息
    points: 10
    targets:
      - id: A1
        name: 工作信息
        points: 6
        rules: [{kind: per_item, each: 0.5, max: 5}]
      - id: A2
        name: 表彰
        points: 4
        rules: [{kind: commendation, max: 4}]
"""


@pytest.fixture
def new_kinds():
    with registry.registered(PerItem), registry.registered(Commendation):
        yield


def _facts(n_subs: int, entries=()):
    subs = [
        {"id": f"S{n}", "target": "A1", "submitted_at": f"2026-03-{n + 1:02d}T09:00:00"}
        for n in range(n_subs)
    ]
    return facts_from_data(
        {"unit": "椒江区", "year": 2026, "submissions": subs, "entries": list(entries)}
    )


def test_a_new_kind_is_unknown_until_registered():
    with pytest.raises(SchemeError) as err:
        load_scheme_text(SCHEME, "new.yaml")
    assert any(
        "items[0].targets[0].rules[0].kind:" in line and "'per_item'" in line
        for line in err.value.errors
    ), err.value.errors


def test_a_registered_kind_loads_scores_and_is_described(new_kinds):
    scheme = load_scheme_text(SCHEME, "new.yaml")
    rule = scheme.rule("A1.1")
    assert rule.params == PerItem(each=Fraction(1, 2), max=Fraction(5))
    assert rule.family == Family.EARN
    # 7 submissions × 0.5 = 3.5 of 5; one bonus entry of 3 for the commendation
    card = score(
        scheme,
        _facts(
            7,
            [{"id": "E1", "kind": "bonus", "rule": "A2", "value": 3, "at": "2026-05-01T10:00:00"}],
        ),
        date(2026, 6, 30),
    )
    assert card.target("A1").score == Decimal("3.50")
    assert card.target("A2").score == Decimal("3.00")
    assert card.base_total == Decimal("6.50")
    assert card.rule("A1.1").explanation == "7 篇 × 0.5 分"
    assert "A1.1 [per_item] 每篇 0.5 分，最多 5 分" in render_scheme(scheme)
    # lint adds its share: 5 of the target's 6 points
    assert [str(w) for w in lint(scheme)] == [
        "A1: 规则分值合计5（A1.1(5)）少于目标A1的6分，最多只能得5分"
    ]
    # the tally files an open rule under the kind's category
    items = open_items_of(card, _facts(7), date(2026, 6, 30))
    assert [(i.category, i.indicator) for i in items] == [("待报送", "A1.1")]


def test_a_registered_kind_gets_its_field_errors_in_chinese(new_kinds):
    bad = SCHEME.replace("each: 0.5", "each: -1, colour: red")
    with pytest.raises(SchemeError) as err:
        load_scheme_text(bad, "new.yaml")
    text = "\n".join(err.value.errors)
    assert "new.yaml: items[0].targets[0].rules[0].each: 应大于0，实际为-1" in text
    assert "items[0].targets[0].rules[0].colour: 未知字段" in text
    assert "each" in text.split("colour: 未知字段")[1]  # the allowed fields are listed


def test_a_kinds_verb_reaches_the_admin_verbs(new_kinds):
    entry, kinds, verb = registry.verbs()["表彰"]
    assert entry == EntryKind.BONUS and kinds == ("commendation",) and verb.value is None
    # a verb shared by several kinds lists them all
    assert set(registry.verbs()["比率"][1]) == {"ratio", "threshold", "stepped_rate"}
    assert registry.verbs()["确认未完成"][2].value == Decimal(0)


def test_the_registry_is_restored_after_the_block(new_kinds):
    assert "per_item" in registry.all_kinds()


def test_registry_without_the_test_kinds():
    assert "per_item" not in registry.all_kinds()
    assert "表彰" not in registry.verbs()


def test_json_schema_knows_every_kind_and_requires_kind(new_kinds):
    schema = json_schema()
    rules = schema["$defs"]["TargetDoc"]["properties"]["rules"]["items"]
    assert set(rules["discriminator"]["mapping"]) == set(registry.all_kinds())
    per_item = schema["$defs"]["PerItemRule"]
    assert per_item["required"] == ["kind", "each", "max"]
    assert per_item["additionalProperties"] is False
    assert per_item["properties"]["each"]["exclusiveMinimum"] == 0


def test_scheme_schema_command_prints_the_schema(capsys):
    assert main(["scheme", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    mapping = schema["properties"]["items"]["items"]["$ref"]
    assert mapping == "#/$defs/ItemDoc"
    kinds_in_schema = set(
        schema["$defs"]["TargetDoc"]["properties"]["rules"]["items"]["discriminator"]["mapping"]
    )
    assert {"award", "quota", "gate", "reports"} <= kinds_in_schema


def test_registering_two_kinds_under_one_name_is_refused():
    class Other(RuleKind):
        kind: Literal["award"] = "award"
        family: ClassVar[Family] = Family.EARN
        title: ClassVar[str] = "冒名"

    with pytest.raises(ValueError, match="registered twice"):
        registry.register(Other)
