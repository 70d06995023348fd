"""One evaluator per rule kind (docs/scheme.md, "Rule kinds").

Each takes the rule, the indexed facts and its budget's points, and returns a `RuleResult`: what it
earned (earn family) or lost (lose family), its maximum, a one-line Chinese explanation with the
inputs, whether it can still change (pending), and what is still open for the unit to do.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from scoring.context import Context
from scoring.facts import AdminEntry, Task
from scoring.model import (
    Award,
    Checklist,
    Deduction,
    Discretionary,
    Gate,
    OnTime,
    PerUnit,
    Quota,
    Ratio,
    Reports,
    Rule,
    SteppedRate,
    TaskList,
    Threshold,
)
from scoring.numbers import fmt, pct, to_fraction
from scoring.periods import (
    day_label,
    due_date,
    is_due,
    local_date,
    period_bounds,
    period_label,
    periods_of,
)

ZERO = Fraction(0)


@dataclass(frozen=True)
class RuleResult:
    """The outcome of one rule. `value` is earned (earn family) or lost (lose family), never < 0."""

    rule_id: str
    kind: str
    family: str  # "earn" | "lose"
    value: Fraction
    max: Fraction | None  # earn: most it can give; lose: its declared points or cap (None: none)
    explanation: str
    pending: bool = False
    open: tuple[str, ...] = ()
    forfeit: bool = False  # a `gate` that takes the whole budget
    switched_max: Fraction | None = None  # task_list `points_if_none` applied: the budget's points


def _result(
    rule: Rule, value: Fraction, max_: Fraction | None, text: str, **kw: object
) -> RuleResult:
    return RuleResult(rule.id, rule.kind, rule.family, value, max_, text, **kw)  # type: ignore[arg-type]


def _latest(ctx: Context, rule: Rule) -> AdminEntry | None:
    entries = ctx.entries.get(rule.id)
    return entries[-1] if entries else None


def _due_label(ctx: Context, due: date) -> str:
    return f"截止 {day_label(due, ctx.year)}"


def _rate(entry: AdminEntry) -> Fraction:
    return max(ZERO, to_fraction(entry.value))


# ---- earn -------------------------------------------------------------------------------------


def award(rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
    p = rule.params
    assert isinstance(p, Award)
    due = rule.final_due(ctx.year)
    entry = _latest(ctx, rule)
    if entry is not None and entry.value >= 1:
        return _result(rule, p.points, p.points, f"已确认完成（{entry.id}）：{fmt(p.points)} 分")
    if entry is not None:
        return _result(rule, ZERO, p.points, f"确认未完成（{entry.id}）：0 分")
    if is_due(due, ctx.as_of):
        return _result(rule, ZERO, p.points, f"截至 {day_label(due, ctx.year)} 未确认完成：0 分")
    what = rule.text or ctx.target_name(rule)
    return _result(
        rule,
        ZERO,
        p.points,
        "待确认",
        pending=True,
        open=(f"{what}：待确认，{_due_label(ctx, due)}",),
    )


def discretionary(rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
    p = rule.params
    assert isinstance(p, Discretionary)
    ignored = []
    for entry in reversed(ctx.entries.get(rule.id, [])):
        value = to_fraction(entry.value)
        if ZERO <= value <= p.max:
            note = f"（另有超出范围的录入 {'、'.join(ignored)} 未计入）" if ignored else ""
            return _result(
                rule, value, p.max, f"酌情给分 {fmt(value)}/{fmt(p.max)}（{entry.id}）{note}"
            )
        ignored.append(f"{entry.id}={fmt(value)}")
    note = f"（录入 {'、'.join(ignored)} 超出 0–{fmt(p.max)}，未计入）" if ignored else ""
    what = rule.text or ctx.target_name(rule)
    return _result(
        rule, ZERO, p.max, f"尚未评分{note}", pending=True, open=(f"{what}：待考核部门评分",)
    )


def ratio(rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
    p = rule.params
    assert isinstance(p, Ratio)
    entry = _latest(ctx, rule)
    if entry is None:
        return _result(rule, ZERO, p.points, "尚未录入完成率", pending=True)
    rate = _rate(entry)
    if p.cutoff is not None and rate < p.cutoff:
        return _result(rule, ZERO, p.points, f"完成率 {pct(rate)} 低于 {pct(p.cutoff)}，不得分")
    earned = p.points * min(rate, Fraction(1))
    return _result(rule, earned, p.points, f"完成率 {pct(rate)} × {fmt(p.points)} 分")


def threshold(rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
    p = rule.params
    assert isinstance(p, Threshold)
    entry = _latest(ctx, rule)
    if entry is None:
        return _result(rule, ZERO, p.points, "尚未录入比率", pending=True)
    rate = _rate(entry)
    if rate >= p.min:
        return _result(
            rule, p.points, p.points, f"比率 {pct(rate)} ≥ {pct(p.min)}：{fmt(p.points)} 分"
        )
    return _result(rule, ZERO, p.points, f"比率 {pct(rate)} 低于 {pct(p.min)}，不得分")


def checklist(rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
    p = rule.params
    assert isinstance(p, Checklist)
    latest: dict[str, AdminEntry] = {}
    for entry in ctx.entries.get(rule.id, []):
        if entry.key is not None:
            latest[entry.key] = entry
    missing = [i for i in p.items if i.key not in latest or latest[i.key].value < 1]
    earned = max(ZERO, p.points - p.per_missing * len(missing))
    done = len(p.items) - len(missing)
    text = f"已完成 {done}/{len(p.items)} 项"
    if missing:
        text += f"，缺 {len(missing)} 项 × {fmt(p.per_missing)} 分（{'、'.join(i.name for i in missing)}）"
    due = rule.final_due(ctx.year)
    if missing and not is_due(due, ctx.as_of):
        opens = tuple(f"{i.name}：待确认，{_due_label(ctx, due)}" for i in missing)
        return _result(rule, earned, p.points, text, pending=True, open=opens)
    return _result(rule, earned, p.points, text)


def task_list(rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
    p = rule.params
    assert isinstance(p, TaskList)
    points, switched = p.points, None
    if p.points_if_none is not None and not ctx.tasks_by_kind.get(p.points_if_none.task_kind):
        points = switched = p.points_if_none.points
    tasks = sorted(ctx.tasks_by_kind.get(p.task_kind, []), key=lambda t: (t.due, t.id))
    note = (
        f"（无「{p.points_if_none.task_kind}」任务，本项按 {fmt(points)} 分计）"
        if switched is not None
        else ""
    )
    if not tasks:
        return _result(
            rule,
            ZERO,
            ZERO,
            f"尚未下达任务{note}",
            pending=True,
            open=(f"{ctx.target_name(rule)}：任务尚未下达",),
            switched_max=switched,
        )
    weight = points / len(tasks)
    done = [t for t in tasks if ctx.done_by(t, t.due)]
    failed = [t for t in tasks if t not in done and is_due(t.due, ctx.as_of)]
    waiting = [t for t in tasks if t not in done and t not in failed]
    text = f"完成 {len(done)}/{len(tasks)} 项 × {fmt(weight)} 分{note}"
    if failed:
        text += f"；未按期完成：{'、'.join(t.id for t in failed)}"
    opens = tuple(f"{t.id} {t.title or t.kind}：{_due_label(ctx, t.due)}" for t in waiting)
    return _result(
        rule,
        weight * len(done),
        points,
        text,
        pending=bool(waiting),
        open=opens,
        switched_max=switched,
    )


def per_unit(rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
    p = rule.params
    assert isinstance(p, PerUnit)
    entries = ctx.entries.get(rule.id, [])
    total = sum((to_fraction(e.value) for e in entries), ZERO)
    units = max(0, math.floor((total - p.baseline) / p.unit_size))
    earned = p.points * units
    if p.max is not None:
        earned = min(earned, p.max)
    size = "" if p.unit_size == 1 else f"每 {fmt(p.unit_size)} "
    base = f"，基数 {fmt(p.baseline)}" if p.baseline else ""
    cap = f"，上限 {fmt(p.max)} 分" if p.max is not None else ""
    text = (
        f"累计 {fmt(total)}（{len(entries)} 条）{base}，{size}计 {fmt(p.points)} 分 × {units}{cap}"
    )
    return _result(rule, earned, p.max, text)


# ---- lose -------------------------------------------------------------------------------------


def quota(rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
    p = rule.params
    assert isinstance(p, Quota)
    periods = periods_of(ctx.year, rule.period)
    worth = p.points / len(periods)
    counts: dict[str, int] = {}
    for sub in ctx.subs_by_target.get(rule.target, []):
        if sub.period is not None:
            counts[sub.period] = counts.get(sub.period, 0) + 1
    lost, short, due_n, opens, pending = ZERO, [], 0, [], False
    name = ctx.target_name(rule)
    for period in periods:
        n = counts.get(period, 0)
        due = due_date(period, rule.deadline)
        if is_due(due, ctx.as_of):
            due_n += 1
            if n < p.per_period:
                lost += worth * (p.per_period - n) / p.per_period
                short.append(f"{period_label(period)}：{n}/{p.per_period} 篇")
            continue
        pending = True
        if period_bounds(period)[0] <= ctx.as_of and n < p.per_period:
            opens.append(
                f"{period_label(period)}{name}：还差 {p.per_period - n} 篇，{_due_label(ctx, due)}"
            )
    if due_n == 0:
        text = f"尚无到期的期次（每期 {p.per_period} 篇）"
    elif short:
        shown = "，".join(short[:4]) + (f" 等 {len(short)} 期" if len(short) > 4 else "")
        text = f"到期 {due_n} 期，未完成：{shown}；每期 {fmt(worth)} 分按比例扣"
    else:
        text = f"到期 {due_n} 期均已完成（每期 {p.per_period} 篇）"
    return _result(rule, lost, p.points, text, pending=pending, open=tuple(opens))


def on_time(rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
    p = rule.params
    assert isinstance(p, OnTime)
    tasks = sorted(ctx.tasks_by_kind.get(p.task_kind, []), key=lambda t: (t.due, t.id))

    def in_time(task: Task) -> bool:
        subs = ctx.subs_by_task.get(task.id, [])
        if any(local_date(s.submitted_at) <= task.due for s in subs):
            return True
        return ctx.done_by(task, task.due)

    due_tasks = [t for t in tasks if is_due(t.due, ctx.as_of)]
    late = [t for t in due_tasks if not in_time(t)]
    waiting = [t for t in tasks if t not in due_tasks and not ctx.subs_by_task.get(t.id)]
    lost = p.points * len(late) / len(due_tasks) if due_tasks else ZERO
    if not due_tasks:
        text = "尚无到期任务"
    else:
        text = f"到期 {len(due_tasks)} 项，按时 {len(due_tasks) - len(late)} 项"
        if late:
            text += f"，未按时 {len(late)} 项（{'、'.join(t.id for t in late)}）：扣 {fmt(p.points)} × {len(late)}/{len(due_tasks)}"
    opens = tuple(
        f"{t.id} {t.title or ctx.target_name(rule)}：{_due_label(ctx, t.due)}" for t in waiting
    )
    pending = len(due_tasks) < len(tasks)
    return _result(rule, lost, p.points, text, pending=pending, open=opens)


def deduction(rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
    p = rule.params
    assert isinstance(p, Deduction)
    counted: list[tuple[AdminEntry, Fraction]] = []
    ignored: list[str] = []
    for entry in ctx.entries.get(rule.id, []):
        value = to_fraction(entry.value)
        if p.amount is not None:
            counted.append((entry, p.amount))
        elif value <= 0 or (p.range is not None and not p.range[0] <= value <= p.range[1]):
            ignored.append(f"{entry.id}={fmt(value)}")
        else:
            counted.append((entry, value))
    lost = sum((v for _, v in counted), ZERO)
    capped = p.max is not None and lost > p.max
    if p.max is not None and lost > p.max:
        lost = p.max
    if not counted:
        text = "无扣分记录"
    elif p.amount is not None:
        text = f"扣分 {len(counted)} 次 × {fmt(p.amount)} 分"
    else:
        detail = "；".join(f"{e.reason or e.id} {fmt(v)}" for e, v in counted)
        text = f"扣分 {len(counted)} 次共 {fmt(sum((v for _, v in counted), ZERO))} 分：{detail}"
    if capped:
        text += f"（本项最多扣 {fmt(p.max)} 分）"
    if ignored:
        bounds = f"{fmt(p.range[0])}–{fmt(p.range[1])}" if p.range else "正数"
        text += f"；超出范围（{bounds}）未计入：{'、'.join(ignored)}"
    return _result(rule, lost, p.max, text)


def reports(rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
    p = rule.params
    assert isinstance(p, Reports)
    first: dict[str, date] = {}
    for sub in ctx.subs_by_target.get(rule.target, []):
        if sub.period is not None:
            day = local_date(sub.submitted_at)
            first[sub.period] = min(day, first.get(sub.period, day))
    late, missing, opens, pending, due_n = [], [], [], False, 0
    names = {"monthly": "月报", "quarterly": "季报", "yearly": "年报"}
    for kind in p.periods:
        for period in periods_of(ctx.year, kind):
            due = due_date(period, rule.deadline)
            got = first.get(period)
            if kind != "yearly":
                label = f"{period_label(period)}{names[kind]}"
            else:
                label = "年报" if len(p.periods) > 1 else ""
            if is_due(due, ctx.as_of):
                due_n += 1
                label = label or "年度"
                if got is None:
                    missing.append(label)
                elif got > due:
                    late.append(label)
            else:
                pending = True
                if got is None and period_bounds(period)[0] <= ctx.as_of:
                    what = " ".join(part for part in (ctx.target_name(rule), label) if part)
                    opens.append(f"{what}：{_due_label(ctx, due)}")
    events = len(late) + len(missing)
    lost = p.amount * events if p.amount is not None else ZERO
    parts = []
    if late:
        parts.append(f"迟报 {len(late)} 次（{'、'.join(late)}）")
    if missing:
        parts.append(f"漏报 {len(missing)} 次（{'、'.join(missing)}）")
    if not due_n:
        text = "尚无到期报表"
    elif not parts:
        text = "到期报表均按时上报"
    elif p.amount is not None:
        text = f"{'、'.join(parts)} × {fmt(p.amount)} 分"
    else:
        text = f"{'、'.join(parts)}，扣分以扣分记录为准"
    return _result(rule, lost, None, text, pending=pending, open=tuple(opens))


def stepped_rate(rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
    p = rule.params
    assert isinstance(p, SteppedRate)
    entry = _latest(ctx, rule)
    if entry is None:
        return _result(rule, ZERO, None, "尚未录入比率", pending=True)
    rate = _rate(entry)
    if rate >= p.min:
        return _result(rule, ZERO, None, f"比率 {pct(rate)} ≥ {pct(p.min)}，不扣分")
    steps = math.floor((p.min - rate) / p.step)
    lost = p.amount * steps
    return _result(
        rule,
        lost,
        None,
        f"比率 {pct(rate)} 低于 {pct(p.min)}，每低 {pct(p.step)} 扣 {fmt(p.amount)} 分 × {steps}",
    )


def gate(rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
    p = rule.params
    assert isinstance(p, Gate)
    whole = budget if budget is not None else ZERO
    entries = ctx.entries.get(rule.id, [])
    what = rule.text or ctx.target_name(rule)
    if p.when == "event":
        entry = entries[-1] if entries else None
        if entry is not None and entry.value >= 1:
            return _result(rule, whole, None, f"{what}（{entry.id}）：本项不得分", forfeit=True)
        return _result(rule, ZERO, None, "无")
    due = rule.final_due(ctx.year)
    in_time = [e for e in entries if local_date(e.at) <= due]
    latest = in_time[-1] if in_time else None
    if latest is not None and latest.value >= 1:
        return _result(rule, ZERO, None, f"已确认完成（{latest.id}）")
    if not is_due(due, ctx.as_of):
        return _result(
            rule,
            ZERO,
            None,
            "待确认",
            pending=True,
            open=(f"{what}：待确认，{_due_label(ctx, due)}",),
        )
    return _result(
        rule, whole, None, f"截至 {day_label(due, ctx.year)} 未确认完成：本项不得分", forfeit=True
    )


Evaluator = Callable[[Rule, Context, Fraction | None], RuleResult]

EVALUATORS: dict[str, Evaluator] = {
    "award": award,
    "discretionary": discretionary,
    "ratio": ratio,
    "threshold": threshold,
    "checklist": checklist,
    "task_list": task_list,
    "per_unit": per_unit,
    "quota": quota,
    "on_time": on_time,
    "deduction": deduction,
    "reports": reports,
    "stepped_rate": stepped_rate,
    "gate": gate,
}


def evaluate(rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
    """Evaluate one rule; `budget` is its budget's points (a gate forfeits all of them)."""
    return EVALUATORS[rule.kind](rule, ctx, budget)
