"""Where a chat submission counts in a unit's scheme, and when it is due. Pure: scheme in, answer out.

Liaisons say "政务信息" or "月报"; schemes say `C3b` or `T17`. These functions find the rule a
submission counts for by its kind (the quota rule, the reports rules, the on-time rule of a task
kind), so the chat layer never hard-codes one scheme's ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from scoring.facts import SubmissionKind
from scoring.kinds import Delivery
from scoring.model import Rule, Scheme
from scoring.periods import PeriodKind, due_date
from scoring.scorecard import rule_code

REPORT_PERIODS = {
    "月报": PeriodKind.MONTHLY,
    "季报": PeriodKind.QUARTERLY,
    "年报": PeriodKind.YEARLY,
}
# Named yearly reports: the words a liaison uses → words in the scheme target's name.
NAMED_REPORTS = {
    "自查报告": ("自查",),
    "年度总结": ("总结",),
    "年度工作总结": ("总结",),
    "工作总结": ("总结",),
}


@dataclass(frozen=True)
class InfoQuota:
    rule: Rule
    per_period: int

    def deadline(self, period: str) -> date:
        return due_date(period, self.rule.deadline)


def info_quota(scheme: Scheme) -> InfoQuota | None:
    """The monthly 政务信息 quota rule (C3b in chuangmo-taizhou, T16 in epb-district-2007)."""
    for rule in scheme.rules():
        if rule.params.delivery == Delivery.QUOTA:
            return InfoQuota(rule, rule.params.per_period)  # type: ignore[attr-defined]
    return None


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def previous_period(kind: str, today: date) -> str:
    """The period a report sent today is most likely for: the one just ended."""
    if kind == PeriodKind.MONTHLY:
        first = date(today.year, today.month, 1)
        prev = (
            date(first.year - 1, 12, 1)
            if first.month == 1
            else date(first.year, first.month - 1, 1)
        )
        return month_of(prev)
    if kind == PeriodKind.QUARTERLY:
        q = (today.month - 1) // 3  # quarter just ended, 0 = last year's Q4
        return f"{today.year - 1}-Q4" if q == 0 else f"{today.year}-Q{q}"
    return str(today.year - 1 if today.month == 1 else today.year)


def report_rules(scheme: Scheme, report: str) -> list[Rule]:
    """Rules a report counts for: '月报' → reports rules with monthly periods; '自查报告' → the
    yearly reports rule whose target is named so."""
    rules = [r for r in scheme.rules() if r.params.delivery == Delivery.REPORT]
    if report in NAMED_REPORTS:
        words = NAMED_REPORTS[report]
        return [
            r for r in rules if any(w in scheme.target(r.target).name or w in r.text for w in words)
        ]
    kind = REPORT_PERIODS.get(report)
    named = {r.target for r in report_rules_named(scheme)}
    return [r for r in rules if kind in r.params.period_kinds(r) and r.target not in named]


def report_rules_named(scheme: Scheme) -> list[Rule]:
    words = {w for ws in NAMED_REPORTS.values() for w in ws}
    return [
        r
        for r in scheme.rules()
        if r.params.delivery == Delivery.REPORT
        and any(w in scheme.target(r.target).name for w in words)
    ]


def report_deadline(rule: Rule, period: str) -> date:
    return due_date(period, rule.deadline)


def on_time_target(scheme: Scheme, task_kind: str) -> str | None:
    """The target whose on-time rule covers tasks of `task_kind` (C3a for feedback)."""
    for rule in scheme.rules():
        if rule.params.delivery == Delivery.TASK and rule.params.task_kind == task_kind:  # type: ignore[attr-defined]
            return rule.target
    return None


def resolve_rule(scheme: Scheme, ref: str, accepts: tuple[str, ...]) -> Rule | None:
    """A rule by its id, or by its target's id when exactly one of the target's rules is of one of
    the kinds in `accepts` (the same leniency the engine gives entries)."""
    if ref in scheme.rules_by_id:
        rule = scheme.rule(ref)
        return rule if rule.kind in accepts else None
    ref_upper = ref.upper()
    for key in (ref, ref_upper):
        if key in scheme.targets_by_id:
            fitting = [r for r in scheme.target(key).rules if r.kind in accepts]
            return fitting[0] if len(fitting) == 1 else None
        if key in scheme.items_by_id:
            fitting = [r for t in scheme.item(key).targets for r in t.rules if r.kind in accepts]
            return fitting[0] if len(fitting) == 1 else None
    return None


def submission_deadline(
    scheme: Scheme, kind: str, target: str, period: str | None, task_due: date | None
) -> date | None:
    """The deadline a submission counted for, if it had one: its task's due date, the quota's
    deadline for a 政务信息 item, or the report rule's deadline for a report."""
    if task_due is not None:
        return task_due
    quota = info_quota(scheme)
    if kind == SubmissionKind.INFO and period and quota is not None:
        return quota.deadline(period)
    if kind == SubmissionKind.REPORT and period:
        for rule in scheme.rules():
            if rule.target == target and rule.params.delivery == Delivery.REPORT:
                return report_deadline(rule, period)
    return None


# ---- one numbering: what users see is what admins type back ------------------------------------


def rule_ref(scheme: Scheme, rule_id: str) -> str:
    """The id people see and type for a rule: its target's id when the target has this one rule
    (C4a for C4.1, C3b for C3b.1), else the rule's own id (T20.5). `resolve_rule` reads both."""
    target = scheme.target(scheme.rule(rule_id).target)
    return rule_code(target.id, rule_id, len(target.rules))


def rule_label(scheme: Scheme, rule_id: str) -> str:
    """A rule as people read it, name first: "工作信息（C3b）"."""
    return f"{scheme.target(scheme.rule(rule_id).target).name}（{rule_ref(scheme, rule_id)}）"


def _folded(text: str) -> str:
    return "".join(text.split()).upper()


def find_indicator(scheme: Scheme, text: str) -> tuple[str, ...]:
    """The rules an indicator named by code or name stands for, in scheme order: "C3b" or
    "工作信息" (a target), "T20.5" (a rule), "C3" or "任务反馈和信息报送" (an item: all its
    rules); () when the scheme has none of that code or name. Codes are matched without case."""
    key = _folded(text)
    if not key:
        return ()
    for rule in scheme.rules():
        if _folded(rule.id) == key:
            return (rule.id,)
    for by_code in (True, False):
        for target in scheme.targets_by_id.values():
            if _folded(target.id if by_code else target.name) == key:
                return tuple(r.id for r in target.rules)
        for item in scheme.items:
            if _folded(item.id if by_code else item.name) == key and (
                not by_code or not item.id.isdigit()
            ):
                return tuple(r.id for t in item.targets for r in t.rules)
    return ()


REPORT_WORDS = ("月报", "季报", "年报", "自查报告", "年度总结")


def report_words(scheme: Scheme) -> list[str]:
    """The reports a unit of `scheme` sends, in the words liaisons use (none for a scheme
    without `reports` rules; only 自查报告 and 年度总结 in chuangmo-taizhou)."""
    return [word for word in REPORT_WORDS if report_rules(scheme, word)]


def evidence_example(scheme: Scheme | None) -> str:
    """What a 佐证 names in the unit's scheme: a 责任书 task (A1) where the scheme scores tasks
    confirmed complete, else the first target confirmed by the office (T1)."""
    if scheme is None or any(rule.params.completed_task_kinds() for rule in scheme.rules()):
        return "A1"
    confirmed = (r for r in scheme.rules() if r.params.family == "earn" and r.params.accepts)
    return next((r.target for r in confirmed), "A1")


def indicator_named_in(scheme: Scheme, text: str, *, shortest: int = 3) -> str | None:
    """The longest indicator name (a target's or an item's, of `shortest` characters or more)
    that `text` mentions: "档案资料怎么还没分" → "档案资料"."""
    key = _folded(text)
    names = [t.name for t in scheme.targets_by_id.values()] + [i.name for i in scheme.items]
    found = [n for n in names if len(n) >= shortest and _folded(n) in key]
    return max(found, key=len) if found else None
