"""What the dashboard's templates show, prepared in Python: readable labels, cells, cards.

Templates only lay these out (and Jinja2 escapes every value). Labels never show a raw code or a
raw kind alone: "C3b工作信息", "政务信息", "待审核".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from handlers.context import scheme_of
from handlers.lookup import rule_ref
from handlers.review_texts import KIND_NAMES
from handlers.texts import STATUS_NAMES
from reminders.board import UnitLight, workdays_late
from reminders.calendar import WorkCalendar
from reminders.deadlines import Deadline
from scoring.facts import TASK_KIND_WORDS, Status
from scoring.kinds import Delivery
from scoring.model import Scheme
from scoring.numbers import fmt
from scoring.periods import TZ, period_label
from scoring.scorecard import ItemLine, ScoreCard
from storage.inspection import InspectionView
from storage.ledger import SubmissionView, TaskView
from storage.models import SubmissionEvent, TaskStatus
from storage.review import attachment_name
from storage.selfcheck import Checklist
from tally.build import OpenItem, SchemeTally, TallyRow

PENDING_MARK = "待评"


def label(scheme: Scheme | None, code: str) -> str:
    """ "C3b工作信息" for a target, rule or item id; the code alone when the scheme has no name
    for it; never the code twice."""
    if not code or scheme is None:
        return code
    name = ""
    if code in scheme.targets_by_id:
        name = scheme.target(code).name
    elif code in scheme.rules_by_id:
        name = scheme.target(scheme.rule(code).target).name
    elif code in scheme.items_by_id:
        name = scheme.item(code).name
    return f"{code}{name}" if name and name != code else code


def without_code(text: str, code: str) -> str:
    """The text without a leading repeat of its code ("T16 2026-12「…」" under T16 → "2026-12「…」")."""
    if code and text.startswith(code):
        return text[len(code) :].lstrip(" ：:")
    return text


def points(value: Decimal | None) -> str:
    return "—" if value is None else fmt(value)


def when(moment: datetime) -> str:
    return f"{moment.astimezone(TZ):%Y-%m-%d %H:%M}"


# --- tally ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    text: str
    css: str = ""


@dataclass(frozen=True)
class Head:
    label: str
    max: str  # "10 分", or "" when the column has no maximum


@dataclass(frozen=True)
class TallyTable:
    id: str
    name: str
    heads: list[Head]
    rows: list[TallyLine]
    counts: str


@dataclass(frozen=True)
class TallyLine:
    rank: int
    unit_id: int | None
    unit: str
    cells: list[Cell]
    base: Cell
    bonus: str
    total: Cell
    suggested: str
    suggested_css: str
    final: str
    confirmed: bool


def item_cell(item: ItemLine | None, value: Decimal | None) -> Cell:
    """An item's points; 待评 when nothing of it is assessed yet (pending, no points)."""
    if item is None:
        return Cell("—")
    if item.pending and not value:
        return Cell(PENDING_MARK, "pending")
    return Cell(points(value), "pending-some" if item.pending else "")


def _assessed(card: ScoreCard) -> bool:
    """False for a unit nothing has been assessed for yet (every item pending at 0)."""
    return any(not i.pending or (i.score or 0) for i in card.items)


def tally_table(st: SchemeTally) -> TallyTable:
    heads = [Head(c.label, c.points_text) for c in st.columns]
    rows = []
    for row in st.rows:
        card = row.card
        cells = [
            item_cell(next((i for i in card.items if i.id == c.id), None), v)
            for c, v in zip(st.columns, row.items, strict=True)
        ]
        assessed = _assessed(card)
        rows.append(
            TallyLine(
                rank=row.rank,
                unit_id=row.unit_id,
                unit=row.unit,
                cells=cells,
                base=Cell(points(card.base_total)) if assessed else Cell(PENDING_MARK, "pending"),
                bonus=points(card.bonus),
                total=Cell(points(card.total)) if assessed else Cell(PENDING_MARK, "pending"),
                suggested=row.suggested_text if assessed else PENDING_MARK,
                suggested_css=f"g-{card.grade.level}" if card.grade and assessed else "",
                final=row.final.grade if row.final else "",
                confirmed=row.final is not None,
            )
        )
    counts = "、".join(f"{k} {v}" for k, v in st.grade_counts().items()) or "无等次"
    base_max = sum((c.points or Decimal(0)) for c in st.columns)
    heads_base = Head("基本分", f"{fmt(base_max)}分")
    return TallyTable(st.id, st.name, [*heads, heads_base], rows, counts)


# --- unit ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleRow:
    id: str
    text: str
    value: str
    explanation: str
    pending: bool
    open: tuple[str, ...]


@dataclass(frozen=True)
class TargetBlock:
    label: str
    score: str
    rules: list[RuleRow]


@dataclass(frozen=True)
class ItemBlock:
    label: str
    score: str
    pending: bool
    bonus: bool
    targets: list[TargetBlock]
    open: bool  # shown unfolded: it lost points or is still pending


def card_blocks(card: ScoreCard) -> list[ItemBlock]:
    scheme = scheme_of(card.scheme_id)
    blocks = []
    for item in card.items:
        if item.shares:
            score = f"与{item.shares}共用分值"
        elif item.pending and not item.score:
            score = PENDING_MARK
        elif item.max is not None:
            score = f"{points(item.score)} / {points(item.max)}"
        else:
            score = points(item.score)
        targets = []
        for target in item.targets:
            t_score = (
                f"{points(target.score)} / {points(target.points)}"
                if target.score is not None
                else ""
            )
            rules = [
                RuleRow(
                    rule_ref(scheme, r.id),  # the code the office types back (C4a, T20.5)
                    r.text,
                    (("+" if r.family == "earn" else "−") if r.value else "") + points(r.value),
                    r.explanation,
                    r.pending,
                    r.open,
                )
                for r in target.rules
            ]
            name = target.name if target.name != target.id else ""
            targets.append(TargetBlock(f"{target.id}{name}", t_score, rules))
        name = f"{item.id}{item.name}" + ("（加分）" if item.bonus else "")
        lost = item.max is not None and item.score is not None and item.score < item.max
        blocks.append(
            ItemBlock(name, score, item.pending, item.bonus, targets, lost or item.pending)
        )
    return blocks


@dataclass(frozen=True)
class TaskLine:
    ref: str
    kind: str
    title: str
    due: str
    state: str
    css: str


def task_lines(tasks: list[TaskView], today: date) -> list[TaskLine]:
    out = []
    for t in tasks:
        status = TaskStatus(t.task.status)
        if status == TaskStatus.CANCELLED:
            state, css = "已取消", "muted"
        elif status == TaskStatus.NOT_APPLICABLE:
            state, css = "不适用", "muted"
        elif t.completed_at is not None:
            state, css = f"已完成（{t.completed_at.astimezone(TZ):%Y-%m-%d}）", "ok"
        elif t.task.due < today:
            state, css = "已逾期，未完成", "bad"
        else:
            state, css = "进行中", "todo"
        out.append(
            TaskLine(
                t.ref,
                TASK_KIND_WORDS.get(t.task.kind, "任务"),
                t.task.title,
                f"{t.task.due:%Y-%m-%d}",
                state,
                css,
            )
        )
    return out


@dataclass(frozen=True)
class Attachment:
    name: str
    index: int
    stored: bool


@dataclass(frozen=True)
class SubmissionCard:
    id: int
    ref: str
    unit: str
    target: str
    kind: str
    period: str
    title: str
    text: str
    sender: str
    sent: str
    status: str
    status_css: str
    attachments: list[Attachment]
    history: list[str] = field(default_factory=list)
    corrects: str = ""


STATUS_CSS = {
    Status.SUBMITTED: "todo",
    Status.ACCEPTED: "ok",
    Status.REJECTED: "bad",
    Status.WITHDRAWN: "muted",
}


def submission_card(
    view: SubmissionView,
    scheme: Scheme | None,
    unit: str = "",
    events: list[SubmissionEvent] | None = None,
) -> SubmissionCard:
    sub = view.submission
    assert sub.id is not None
    history = [
        f"{when(e.at)} {e.actor} {STATUS_NAMES.get(e.status, e.status)}"
        + (f"：{e.reason}" if e.reason else "")
        for e in events or []
    ]
    return SubmissionCard(
        id=sub.id,
        ref=view.ref,
        unit=unit,
        target=label(scheme, sub.target),
        kind=KIND_NAMES.get(sub.kind, "报送"),
        period=period_label(sub.period) if sub.period else "",
        title=sub.title,
        text=sub.text,
        sender=sub.sender,
        sent=when(sub.submitted_at),
        status=STATUS_NAMES.get(view.status, ""),
        status_css=STATUS_CSS.get(view.status, ""),
        attachments=[
            Attachment(attachment_name(a), n, bool(a.get("file")))
            for n, a in enumerate(sub.attachments)
        ],
        history=history,
        corrects=f"S{sub.corrects_id}" if sub.corrects_id else "",
    )


@dataclass(frozen=True)
class OpenLine:
    unit: str
    unit_id: int | None
    category: str
    indicator: str
    text: str


def open_lines(
    items: tuple[OpenItem, ...] | list[OpenItem],
    schemes: dict[str, Scheme],
    unit_ids: dict[str, int | None],
) -> list[OpenLine]:
    out = []
    for o in items:
        scheme = schemes.get(o.scheme_id)
        out.append(
            OpenLine(
                o.unit,
                unit_ids.get(o.unit),
                o.category,
                label(scheme, o.indicator),
                without_code(o.text, o.indicator),
            )
        )
    return out


# --- board ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardLine:
    unit_id: int
    unit: str
    light: str
    css: str
    overdue: list[str]
    soon: list[str]


LIGHT_CSS = {"红": "red", "黄": "yellow", "绿": "green"}
_SPACES = re.compile(r"\s+")


def owed_line(d: Deadline, today: date, calendar: WorkCalendar, late: bool) -> str:
    what = f"{d.label}（已报{d.have}/{d.need}篇）" if d.kind == Delivery.QUOTA else d.label
    if late:
        return f"{what}，截止{d.due.month}月{d.due.day}日，已逾期{workdays_late(d, today, calendar)}个工作日"
    return f"{what}，截止{d.due.month}月{d.due.day}日"


def board_lines(lights: list[UnitLight], today: date, calendar: WorkCalendar) -> list[BoardLine]:
    order = {"红": 0, "黄": 1, "绿": 2}
    out = [
        BoardLine(
            u.unit_id,
            u.unit,
            u.light.value,
            LIGHT_CSS[u.light.value],
            [owed_line(d, today, calendar, True) for d in u.overdue],
            [owed_line(d, today, calendar, False) for d in u.soon],
        )
        for u in lights
    ]
    out.sort(key=lambda b: (order[b.light], -len(b.overdue), b.unit))
    return out


def row_of(rows: list[TallyRow], unit_id: int) -> TallyRow | None:
    return next((r for r in rows if r.unit_id == unit_id), None)


# --- 自查 and 检查考评 on the unit page ---------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """A file of a 自查 line or an inspection: `path` is its download link under /dashboard."""

    name: str
    path: str
    stored: bool


@dataclass(frozen=True)
class CheckLine:
    key: str
    title: str
    source: str
    label: str
    css: str
    evidence: str
    who: str
    files: list[Evidence]


MARK_CSS = {"完成": "ok", "部分完成": "todo", "未完成": "bad", "未填": "muted"}


def _evidence(rows: list[Any], prefix: str) -> list[Evidence]:
    return [
        Evidence(attachment_name(r.attachment), f"{prefix}/{r.id}", bool(r.attachment.get("file")))
        for r in rows
    ]


def check_lines(sheet: Checklist) -> list[CheckLine]:
    out = []
    for state in sheet.lines:
        mark = state.mark
        out.append(
            CheckLine(
                key=state.line.key,
                title=state.line.title,
                source=state.line.source,
                label=state.label,
                css=MARK_CSS.get(state.label, ""),
                evidence=mark.evidence if mark else "",
                who=f"{mark.actor} {when(mark.at)}" if mark else "",
                files=_evidence(state.files, "/evidence/selfcheck"),
            )
        )
    return out


@dataclass(frozen=True)
class InspectionCard:
    ref: str
    target: str
    state: str
    css: str
    found_on: str
    finding: str
    deduction: str
    respond_by: str
    actor: str
    office_files: list[Evidence]
    appeals: list[str]
    unit_files: list[Evidence]
    decision: str


INSPECTION_CSS = {"待处理": "todo", "已确认": "bad", "已撤销": "muted"}


def inspection_cards(found: list[InspectionView], scheme: Scheme | None) -> list[InspectionCard]:
    out = []
    for view in found:
        row = view.row
        decision = view.decision
        files = view.evidence
        amount = f"拟扣{fmt(row.amount)}分（{row.rule}）" if row.amount is not None else "不扣分"
        out.append(
            InspectionCard(
                ref=view.ref,
                target=label(scheme, row.target),
                state=view.state.value,
                css=INSPECTION_CSS.get(view.state.value, ""),
                found_on=row.found_on.isoformat(),
                finding=row.finding,
                deduction=amount,
                respond_by=row.respond_by.isoformat(),
                actor=row.actor,
                office_files=_evidence(
                    [e for e in files if e.text != "appeal"], "/evidence/inspection"
                ),
                appeals=[f"{when(e.at)} {e.actor}：{e.text}" for e in view.appeals],
                unit_files=_evidence(
                    [e for e in files if e.text == "appeal"], "/evidence/inspection"
                ),
                decision=(
                    f"{when(decision.at)} {decision.actor} {view.state.value}"
                    + (f"：{decision.text}" if decision.text else "")
                    + (f"（记录 E{decision.entry_id}）" if decision.entry_id else "")
                )
                if decision
                else "",
            )
        )
    return out
