"""`task_list`: equal-weight tasks of one kind, points for those completed on time (seed 000's
annual targets and key projects, with the 40/60 switch when a unit has no key projects)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from scoring.facts import task_kind_words as kind_words
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
from scoring.kinds.fields import Ident, Num
from scoring.kinds.on_time import TASK_TITLE_MAX
from scoring.numbers import fmt
from scoring.periods import is_due

if TYPE_CHECKING:
    from scoring.context import Context
    from scoring.facts import Task
    from scoring.model import Rule, Scheme


class PointsIfNone(BaseModel):
    """The switch: without tasks of `task_kind`, the budget holding the rule is worth `points`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task_kind: Ident
    points: Num


@register
class TaskList(RuleKind):
    """`points × done / total`, a task done when completed by its due date (by `as_of` if not
    yet due); unfinished → 0 for that task."""

    kind: Literal["task_list"] = "task_list"
    task_kind: Ident
    points: Num
    points_if_none: PointsIfNone | None = None

    family: ClassVar[Family] = Family.EARN
    title: ClassVar[str] = "任务等权，按完成数得分"
    open_category: ClassVar[OpenCategory] = OpenCategory.COMPLETE
    has_deadline: ClassVar[bool] = False

    def max_points(self) -> Fraction:
        return self.points

    def completed_task_kinds(self) -> tuple[str, ...]:
        return (self.task_kind,)

    def describe(self, rule: Rule) -> str:
        alt = ""
        if self.points_if_none is not None:
            pin = self.points_if_none
            alt = f"（无{kind_words(pin.task_kind)}任务时{fmt(pin.points)}分）"
        return f"{kind_words(self.task_kind)}任务等权，按完成数计，共{fmt(self.points)}分{alt}"

    def evaluate(self, rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
        points, switched = self.points, None
        pin = self.points_if_none
        if pin is not None and not ctx.tasks_by_kind.get(pin.task_kind):
            points = switched = pin.points
        tasks = sorted(ctx.tasks_by_kind.get(self.task_kind, []), key=lambda t: (t.due, t.id))
        note = ""
        if switched is not None:
            assert pin is not None
            note = f"（无{kind_words(pin.task_kind)}任务，本项按{fmt(points)}分计）"
        if not tasks and switched == 0:  # e.g. W2 of a unit without key projects: nothing to do
            text = f"无{kind_words(self.task_kind)}任务，本项按0分计"
            return self.result(rule, ZERO, ZERO, text, switched_max=switched)
        if not tasks:
            opens: tuple[str, ...] = (f"{ctx.target_name(rule)}：任务尚未下达",)
            text = f"尚未下达任务{note}"
            return self.result(
                rule,
                ZERO,
                ZERO,
                text,
                pending=True,
                open=opens,
                switched_max=switched,
                at_stake=points,
            )
        weight = points / len(tasks)
        done: list[Task] = []
        failed: list[Task] = []
        waiting: list[Task] = []
        for t in tasks:  # one pass (equal tasks land together, as membership by equality did)
            if ctx.done_by(t, t.due):
                done.append(t)
            elif is_due(t.due, ctx.as_of):
                failed.append(t)
            else:
                waiting.append(t)
        # in words, not a formula: "共3项，已完成2项，每项13.33分"
        text = f"共{len(tasks)}项，已完成{len(done)}项，每项{fmt(weight)}分{note}"
        if failed:
            text += f"；未按期完成：{'、'.join(t.id for t in failed)}"
        opens = tuple(f"{t.id} {t.title or t.kind}：{due_label(ctx, t.due)}" for t in waiting)
        return self.result(
            rule,
            weight * len(done),
            points,
            text,
            pending=bool(waiting),
            open=opens,
            switched_max=switched,
            at_stake=weight * len(waiting),
        )

    def owed(
        self,
        rule: Rule,
        scheme: Scheme,
        year: int,
        tasks: tuple,
        got: Delivered,
        due_between: tuple[date, date] = ANY_DUE,
    ) -> list[Owed]:
        """One deadline per task (a 责任书 target or project), owed until confirmed complete."""
        name = scheme.target(rule.target).name
        lo, hi = due_between
        out = []
        for task in tasks:
            if task.kind != self.task_kind or not lo <= task.due <= hi:
                continue
            title = task.title or task.id
            if len(title) > TASK_TITLE_MAX:
                title = title[: TASK_TITLE_MAX - 1] + "…"
            out.append(
                Owed(
                    key=f"{rule.id}@{task.id}",
                    period=task.due.isoformat(),
                    delivery=Delivery.TARGET,
                    label=f"{name}「{title}」",
                    due=task.due,
                    need=1,
                    have=1 if task.id in got.completed else 0,
                )
            )
        return out
