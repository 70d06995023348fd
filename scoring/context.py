"""What the rule evaluators see: the facts as of a date, indexed once per scoring.

Everything after `as_of` is ignored (a running score is what was known that day); withdrawn and
rejected submissions never count; VOID entries cancel the entries they name; entries are matched to
rules by rule id, or by target id when exactly one rule of that target accepts the entry's kind.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date

from scoring.facts import (
    COUNTING,
    AdminEntry,
    EntryKind,
    Facts,
    Submission,
    Task,
    cancelled_by_voids,
)
from scoring.model import Rule, Scheme
from scoring.periods import end_of_day, known_by


@dataclass
class Context:
    scheme: Scheme
    facts: Facts
    as_of: date
    entries: dict[str, list[AdminEntry]] = field(default_factory=dict)
    subs_by_target: dict[str, list[Submission]] = field(default_factory=dict)
    subs_by_task: dict[str, list[Submission]] = field(default_factory=dict)
    tasks_by_kind: dict[str, list[Task]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # entries that match no rule, and the like

    @property
    def year(self) -> int:
        return self.facts.year

    def target_name(self, rule: Rule) -> str:
        return self.scheme.target(rule.target).name

    def done_by(self, task: Task, day: date) -> bool:
        """Completed (and known as of `as_of`) on or before `day`."""
        done = task.completed_at
        if done is None:
            return False
        return known_by(done, day if day <= self.as_of else self.as_of)


def build_context(scheme: Scheme, facts: Facts, as_of: date) -> Context:
    ctx = Context(scheme=scheme, facts=facts, as_of=as_of)
    subs_by_target: dict[str, list[Submission]] = defaultdict(list)
    subs_by_task: dict[str, list[Submission]] = defaultdict(list)
    # `sub.counts and local_date(sub.submitted_at) <= as_of`, asked of every submission: an
    # aware moment is compared with the last instant of `as_of` (the same answer without
    # converting each to the assessment time zone); a naive one is a local time already
    last = end_of_day(as_of).astimezone(UTC)  # UTC, as the ledger's moments: a plain comparison
    for sub in facts.submissions:
        if sub.status not in COUNTING:
            continue
        at = sub.submitted_at
        if at <= last if at.tzinfo is not None else at.date() <= as_of:
            subs_by_target[sub.target].append(sub)
            if sub.task:
                subs_by_task[sub.task].append(sub)
    tasks_by_kind: dict[str, list[Task]] = defaultdict(list)
    for task in facts.tasks:
        tasks_by_kind[task.kind].append(task)
    ctx.subs_by_target = dict(subs_by_target)
    ctx.subs_by_task = dict(subs_by_task)
    ctx.tasks_by_kind = dict(tasks_by_kind)
    ctx.entries = _match_entries(scheme, facts, as_of, ctx.notes)
    return ctx


def _effective(entries: list[AdminEntry]) -> list[AdminEntry]:
    """Entries not cancelled by an effective VOID (a VOID can itself be voided)."""
    dead = cancelled_by_voids(
        (e.id, e.voids) for e in entries if e.kind == EntryKind.VOID and e.voids
    )
    return [e for e in entries if e.kind != EntryKind.VOID and e.id not in dead]


def _match_entries(
    scheme: Scheme, facts: Facts, as_of: date, notes: list[str]
) -> dict[str, list[AdminEntry]]:
    known = [e for e in facts.entries if known_by(e.at, as_of)]
    order = {e.id: n for n, e in enumerate(known)}
    effective = sorted(_effective(known), key=lambda e: (e.at, order[e.id]))
    rules = scheme.rules_by_id
    result: dict[str, list[AdminEntry]] = defaultdict(list)
    for e in effective:
        rule = rules.get(e.rule)
        if rule is None and e.rule in scheme.targets_by_id:
            fitting = [r for r in scheme.target(e.rule).rules if r.params.accepts == e.kind]
            if len(fitting) == 1:
                rule = fitting[0]
            else:
                notes.append(
                    f"记录{e.id}：目标{e.rule}下有{len(fitting)}条可接收{e.kind.value}的规则，"
                    "请写明规则编号，未计入"
                )
                continue
        if rule is None:
            notes.append(f"记录{e.id}：方案中没有指标或规则 {e.rule!r}，未计入")
            continue
        if rule.params.accepts != e.kind:
            notes.append(
                f"记录{e.id}：规则{rule.id}（{rule.kind}）不接收{e.kind.value}记录，未计入"
            )
            continue
        result[rule.id].append(e)
    return dict(result)
