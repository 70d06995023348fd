"""`on_time`: tasks of one kind answered on time, the late ones deducted in proportion
(seed 000 C3a "按时反馈任务落实情况")."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar, Literal

from scoring.facts import Task, task_kind_words
from scoring.kinds import register
from scoring.kinds.base import (
    ANY_DUE,
    ZERO,
    Delivered,
    Delivery,
    Family,
    OpenCategory,
    Owed,
    RuleKind,
    RuleResult,
    due_label,
)
from scoring.kinds.fields import Ident, Num, choice, reading
from scoring.numbers import fmt
from scoring.periods import is_due, known_by

if TYPE_CHECKING:
    from scoring.context import Context
    from scoring.model import Rule, Scheme

Count = choice("proportional", "all_or_nothing")
TASK_TITLE_MAX = 24  # a task's title as reminders quote it


@register
class OnTime(RuleKind):
    """Over due tasks, loss = `points × (tasks not done on time) / (due tasks)`; a task is on
    time when a counting submission for it came in by its due date, or it was completed by then."""

    kind: Literal["on_time"] = "on_time"
    task_kind: Ident
    points: Num
    count: Count = reading(  # type: ignore[valid-type]
        "proportional",
        "「按时……得N分」的计分方式",
        {
            "proportional": "按未按时任务的比例扣分",
            "all_or_nothing": "有一项未按时即不得分",
        },
    )

    family: ClassVar[Family] = Family.LOSE
    title: ClassVar[str] = "任务按时反馈，未按时按比例扣"
    delivery: ClassVar[Delivery | None] = Delivery.TASK
    open_category: ClassVar[OpenCategory] = OpenCategory.SUBMIT
    has_deadline: ClassVar[bool] = False

    def max_points(self) -> Fraction:
        return self.points

    def describe(self, rule: Rule) -> str:
        how = "未按时按比例扣" if self.count == "proportional" else "有一项未按时即不得分"
        return f"{task_kind_words(self.task_kind)}任务按时完成，共{fmt(self.points)}分，{how}"

    def evaluate(self, rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
        tasks = sorted(ctx.tasks_by_kind.get(self.task_kind, []), key=lambda t: (t.due, t.id))

        def in_time(task: Task) -> bool:
            subs = ctx.subs_by_task.get(task.id, [])
            if any(known_by(s.submitted_at, task.due) for s in subs):
                return True
            return ctx.done_by(task, task.due)

        due_tasks = [t for t in tasks if is_due(t.due, ctx.as_of)]
        late = [t for t in due_tasks if not in_time(t)]
        waiting = [
            t for t in tasks if not is_due(t.due, ctx.as_of) and not ctx.subs_by_task.get(t.id)
        ]  # not due (what `t not in due_tasks` asked, without comparing every pair of tasks)
        lost = self.points * len(late) / len(due_tasks) if due_tasks else ZERO
        if late and self.count == "all_or_nothing":
            lost = self.points
        if not due_tasks:
            text = "尚无到期任务"
        else:
            text = f"到期{len(due_tasks)}项，按时{len(due_tasks) - len(late)}项"
            if late:
                how = (  # in words, not a formula ("扣6 × 1/5")
                    f"按比例扣{fmt(lost)}分"
                    if self.count == "proportional"
                    else f"扣全部{fmt(self.points)}分"
                )
                text += f"，未按时{len(late)}项（{'、'.join(t.id for t in late)}），{how}"
        opens = tuple(
            f"{t.id} {t.title or ctx.target_name(rule)}：{due_label(ctx, t.due)}" for t in waiting
        )
        pending = len(due_tasks) < len(tasks)
        return self.result(rule, lost, self.points, text, pending=pending, open=opens)

    def owed(
        self,
        rule: Rule,
        scheme: Scheme,
        year: int,
        tasks: tuple,
        got: Delivered,
        due_between: tuple[date, date] = ANY_DUE,
    ) -> list[Owed]:
        name = scheme.target(rule.target).name
        lo, hi = due_between
        out = []
        for task in tasks:
            if task.kind != self.task_kind or not lo <= task.due <= hi:
                continue
            title = task.title or task.id
            if len(title) > TASK_TITLE_MAX:
                title = title[: TASK_TITLE_MAX - 1] + "…"
            done = task.id in got.answered or task.id in got.completed
            out.append(
                Owed(
                    key=f"{rule.id}@{task.id}",
                    period=task.due.isoformat(),
                    delivery=Delivery.TASK,
                    label=f"{name}「{title}」",
                    due=task.due,
                    need=1,
                    have=1 if done else 0,
                )
            )
        return out
