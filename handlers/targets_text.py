"""What the office reads about a 责任书: the import preview, the result, a unit's list.

Used by the chat (handlers/targets.py) and by `kaohe targets` alike, so both say the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence

from handlers.channel import clip
from handlers.texts import fmt_date
from scoring.facts import TASK_KIND_WORDS
from storage.charter import Applied, ChangeKind, CharterPlan
from storage.charter_file import CharterKind
from storage.ledger import TaskView
from storage.models import TaskStatus

CHANGE_LABELS = {
    ChangeKind.ADDED: "新增",
    ChangeKind.CHANGED: "修改",
    ChangeKind.RESTORED: "恢复",
    ChangeKind.WITHDRAWN: "删除",
    ChangeKind.KEPT_DONE: "保留",
}
STATUS_LABELS = {
    TaskStatus.ACTIVE: "",
    TaskStatus.NOT_APPLICABLE: "不适用",
    TaskStatus.CANCELLED: "已取消",
}

FILE_RECEIVED = "收到责任书文件「{name}」，按{year}年度核对如下："
NOTHING_CHANGES = "与系统中已有的{year}年度责任书完全一致，无需导入，未作任何改动。"
CONFIRM_HINT = (
    "核对无误请回复「确认」导入；回复「取消」放弃。（导入后每项改动都记入台账，可查可追溯）"
)
FILE_BAD = "责任书文件「{name}」有{count}处问题，未导入任何内容。请修改后重新发送：\n{errors}"
FILE_UNREAD = "没能读取这个文件（{why}）。请发送 .xlsx 或 .csv 格式的责任书；模板可由管理员运行 kaohe targets template 生成。"
FILE_NOT_CHARTER = (
    "收到文件「{name}」。目前只接受责任书（.xlsx 或 .csv）；其他材料请说明用途后再发送。"
)
APPLIED = "已导入{year}年度责任书：新增{added}项，修改{changed}项，删除{withdrawn}项。各单位的年度工作指标（W1）和重点工程（W2）即按此计分。"
PLAN_MOVED = "在您确认之前，系统中的责任书已有变动（可能其他管理员刚导入过），以下是按最新情况重新核对的结果："
NOTICE_LIAISON = "【责任书】创模办已下达（更新）本单位{year}年度责任书：年度工作指标{targets}项，重点工程{projects}项。回复「我的任务」查看明细和截止日期。"
KEPT_DONE_NOTE = "（已确认完成，导入不会删除；如确需取消，请发送「取消任务 {unit} {ref} 原因」）"


def preview_text(plan: CharterPlan, *, limit: int = 30) -> str:
    """Per unit how many targets and projects, then every difference (at most `limit` lines)."""
    lines: list[str] = []
    for u in plan.units:
        extra = f"，不适用{u.not_applicable}项" if u.not_applicable else ""
        switch = "（无重点工程：年度工作指标按60分计）" if u.projects == 0 else ""
        lines.append(
            f"· {u.unit}：年度工作指标{u.targets}项，重点工程{u.projects}项{extra}{switch}"
        )
    counts = plan.counts
    if plan.to_apply or counts[ChangeKind.KEPT_DONE]:
        summary = "，".join(f"{CHANGE_LABELS[k]}{counts[k]}项" for k in CHANGE_LABELS if counts[k])
        lines.append(f"与系统中已有的对比：{summary}")
        for change in plan.changes[:limit]:
            label = CHANGE_LABELS[change.kind]
            detail = f"（{'、'.join(change.fields)}）" if change.fields else ""
            tail = (
                KEPT_DONE_NOTE.format(unit=change.unit, ref=change.ref)
                if change.kind == ChangeKind.KEPT_DONE
                else ""
            )
            lines.append(
                f"  {label} {change.unit} {change.ref} {clip(change.title, 30)}{detail}{tail}"
            )
        if len(plan.changes) > limit:
            lines.append(f"  ……另有{len(plan.changes) - limit}项")
    return "\n".join(lines)


def applied_text(year: int, applied: Applied) -> str:
    return APPLIED.format(
        year=year, added=applied.added, changed=applied.changed, withdrawn=applied.withdrawn
    )


def kind_label(kind: str) -> str:
    return TASK_KIND_WORDS.get(kind, kind)


def is_charter(view: TaskView) -> bool:
    return view.task.kind in {k.value for k in CharterKind}


def task_line(view: TaskView, answered: bool = False) -> str:
    """One task with its state; `answered`: a counting submission answers it (feedback sent)."""
    task = view.task
    kind = kind_label(task.kind)
    status = STATUS_LABELS.get(TaskStatus(task.status), "")
    if status:  # 不适用 / 已取消: not scored, whatever was confirmed before
        state = status
    elif view.completed_at is not None:
        state = "已完成"
    elif answered:
        state = "已反馈"
    else:
        state = f"截止{fmt_date(task.due)}"
    note = f"；{task.note}" if task.note else ""
    return f"· {view.ref} [{kind}] {task.title}（{state}{note}）"


def charter_text(unit: str, year: int, views: Sequence[TaskView]) -> str:
    """A unit's 责任书 for the year: targets first, then projects, with their state."""
    rows = [v for v in views if is_charter(v)]
    if not rows:
        return f"{unit}{year}年度尚无责任书任务。"
    order = {CharterKind.ANNUAL_TARGET.value: 0, CharterKind.KEY_PROJECT.value: 1}
    rows.sort(key=lambda v: (order[v.task.kind], v.task.code or "", v.task.id or 0))
    targets = sum(v.task.kind == CharterKind.ANNUAL_TARGET and v.scored for v in rows)
    projects = sum(v.task.kind == CharterKind.KEY_PROJECT and v.scored for v in rows)
    done = sum(v.completed_at is not None and v.scored for v in rows)
    head = f"{unit}{year}年度责任书：年度工作指标{targets}项，重点工程{projects}项，已完成{done}项"
    return "\n".join([head, *map(task_line, rows)])
