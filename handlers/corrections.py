"""Admin corrections, each a new ledger row with who, when and why: cancel a task (取消任务), change
its due date (改期), void an admin entry (撤销 E36 原因) or a submission logged by mistake
(作废 S12 原因). The score is always recomputed from the ledger; the liaisons concerned are told.

A command that would change nothing (a task already cancelled, an entry already voided) says so
and writes nothing, so the same command sent twice is recorded once.
"""

from __future__ import annotations

from typing import Any

from handlers import corrections_text as t
from handlers import pending
from handlers.context import Ctx, office_name, scheme_of
from handlers.intents import Intent, parse_date
from handlers.lookup import find_indicator, rule_label
from handlers.office_intents import OfficeIntent
from handlers.pending import PendingAction
from handlers.router import ADMIN, Router
from handlers.scoretext import base_changes, base_scores, score_change, unit_card
from handlers.texts import REASON_NEEDED, STATUS_NAMES, fmt_date, fmt_points, sentence
from scoring.facts import COUNTING
from scoring.periods import day_label
from storage import ledger, scope
from storage.models import AdminEntry, Member, Role, Task, TaskStatus, Unit
from storage.tasks import current_task, revise_task, tasks_by_code
from storage.units import find_unit, list_members

router = Router()

KIND_WORDS = {
    "points": "评分",
    "deduction": "扣分",
    "bonus": "加分",
    "confirmation": "确认",
    "rate": "比率",
}


async def _liaisons(ctx: Ctx, unit_id: int) -> list[Member]:
    async with ctx.db.session() as session:
        members = await list_members(session, unit_id)
    return [m for m in members if m.role == Role.LIAISON and m.active]


async def _tell_unit(ctx: Ctx, unit_id: int, text: str) -> None:
    for member in await _liaisons(ctx, unit_id):
        await ctx.tell(member.userid, text)


async def _find(ctx: Ctx, intent: Intent, verb: str) -> tuple[list[Task], dict[int, str]] | str:
    """The tasks a correction names (one per unit for a K number given to several units), with
    their units' names; or the reply saying why none can be chosen."""
    code = intent.args["task"].upper()
    code = f"K{code}" if code.isdigit() else code
    name = intent.args.get("unit")
    async with ctx.db.session() as session:
        unit_id = None
        if name:
            unit = await find_unit(session, name)
            if unit is None:
                return f"没有找到单位「{name}」，请核对名称。"
            unit_id = unit.id
        # this year's first, then next year's (a 责任书 set up in December), then last year's
        years = (ctx.year, ctx.year + 1, ctx.year - 1)
        tasks = await tasks_by_code(session, code, years, unit_id)
        names = {u.id: u.name for u in [await session.get(Unit, x.unit_id) for x in tasks] if u}
    if not tasks:
        return t.TASK_NOT_FOUND.format(task=code)
    if not code.startswith("K") and len(tasks) > 1:
        units = "、".join(names[x.unit_id] for x in tasks)
        example = f"{verb} {names[tasks[0].unit_id]} {code}原因"
        return t.TASK_AMBIGUOUS.format(task=code, units=units, example=example)
    return tasks, {k: v for k, v in names.items() if k is not None}


def _units(tasks: list[Task], names: dict[int, str]) -> str:
    shown = [names.get(x.unit_id, "") for x in tasks]
    return "、".join(shown[:5]) + (f"等{len(shown)}个单位" if len(shown) > 5 else "")


@router.intent(OfficeIntent.CANCEL_TASK, roles=ADMIN)
async def cancel_task(ctx: Ctx, intent: Intent) -> str:
    reason = intent.args.get("reason", "")
    if not reason:
        return REASON_NEEDED.format(example=f"取消任务{intent.args['task']}任务已撤回")
    found = await _find(ctx, intent, "取消任务")
    if isinstance(found, str):
        return found
    tasks, names = found
    live = [x for x in tasks if x.status != TaskStatus.CANCELLED.value]
    if not live:
        return t.TASK_ALREADY_CANCELLED.format(task=tasks[0].code)
    keys = [(x.unit_id, x.year) for x in live]
    before = await base_scores(ctx.db, keys, ctx.today)
    async with ctx.db.session() as session:
        for task in live:
            assert task.id is not None
            await revise_task(
                session,
                task.id,
                actor=ctx.sender.userid,
                reason=reason,
                at=ctx.now,
                status=TaskStatus.CANCELLED,
            )
        await session.commit()
    code, title = live[0].code or "", live[0].title
    for task in live:
        notice = t.NOTICE_CANCELLED.format(
            task=code, title=task.title, reason=sentence(reason), office=office_name()
        )
        await _tell_unit(ctx, task.unit_id, notice)
    change = base_changes(before, await base_scores(ctx.db, keys, ctx.today))
    return t.TASK_CANCELLED.format(
        units=_units(live, names), task=code, title=title, reason=reason, change=change
    )


@router.intent(OfficeIntent.REDATE_TASK, roles=ADMIN)
async def redate_task(ctx: Ctx, intent: Intent) -> str:
    reason = intent.args.get("reason", "")
    due = parse_date(intent.args["due"], ctx.today)
    if due is None:
        return f"日期「{intent.args['due']}」无法识别，请写成「12月20日」或「2026-12-20」。"
    if not reason:
        return REASON_NEEDED.format(example=f"改期{intent.args['task']} {intent.args['due']}原因")
    found = await _find(ctx, intent, f"改期{intent.args['due']}")
    if isinstance(found, str):
        return found
    tasks, names = found
    if all(x.status == TaskStatus.CANCELLED.value for x in tasks):
        return t.TASK_IS_CANCELLED.format(task=tasks[0].code)
    live = [x for x in tasks if x.status != TaskStatus.CANCELLED.value and x.due != due]
    if not live:
        return t.TASK_SAME_DUE.format(task=tasks[0].code, due=fmt_date(due))
    args = {"ids": [x.id for x in live], "due": due.isoformat(), "reason": reason}
    if due < ctx.today:
        prompt = t.REDATE_PAST.format(
            due=day_label(due, ctx.today.year), today=day_label(ctx.today)
        )
        return await pending.ask(ctx, PendingAction.REDATE, args, prompt)
    return await _redate(ctx, args, names)


@pending.runner(PendingAction.REDATE)
async def _redate(ctx: Ctx, args: dict[str, Any], names: dict[int, str] | None = None) -> str:
    from datetime import date

    due, reason = date.fromisoformat(args["due"]), args["reason"]
    done: list[Task] = []
    async with ctx.db.session() as session:
        found = [await current_task(session, task_id) for task_id in args["ids"]]
    keys = [(x.unit_id, x.year) for x in found if x is not None]
    before = await base_scores(ctx.db, keys, ctx.today)
    async with ctx.db.session() as session:
        for task_id in args["ids"]:
            rev = await revise_task(
                session, task_id, actor=ctx.sender.userid, reason=reason, at=ctx.now, due=due
            )
            task = await current_task(session, task_id)
            if rev is not None and task is not None:
                done.append(task)
        if names is None:
            names = {u.id: u.name for u in [await session.get(Unit, x.unit_id) for x in done] if u}  # type: ignore[misc]
        await session.commit()
    if not done:
        return "截止日期已是这一天，未重复记录。"
    code, title = done[0].code or "", done[0].title
    for task in done:
        notice = t.NOTICE_REDATED.format(
            task=code, title=task.title, due=fmt_date(due), reason=sentence(reason)
        )
        await _tell_unit(ctx, task.unit_id, notice)
    change = base_changes(before, await base_scores(ctx.db, keys, ctx.today))
    return t.TASK_REDATED.format(
        units=_units(done, names or {}),
        task=code,
        title=title,
        due=fmt_date(due),
        reason=reason,
        change=change,
    )


@router.intent(OfficeIntent.VOID, roles=ADMIN)
async def void(ctx: Ctx, intent: Intent) -> str:
    ref = intent.args["ref"].upper()
    reason = intent.args.get("reason", "")
    if not reason:
        return REASON_NEEDED.format(example=f"撤销{ref}录入有误")
    number = int(ref[1:])
    if ref.startswith("S"):
        return await _void_submission(ctx, number, ref, reason)
    async with ctx.db.session() as session:
        entry = await session.get(AdminEntry, number)
        if entry is None or not await scope.visible(session, entry.unit_id):
            return t.VOID_UNKNOWN.format(ref=ref)
        if entry.actor != ctx.sender.userid:
            return t.VOID_NOT_YOURS.format(ref=ref, actor=entry.actor)
        entries = await ledger.list_entries(session, entry.unit_id, entry.year)
        if number in ledger._cancelled(entries):
            return t.VOID_ALREADY.format(ref=ref)
        unit = await session.get(Unit, entry.unit_id)
    assert unit is not None and unit.id is not None
    before = await unit_card(ctx.db, unit.id, unit.scheme_id, entry.year, ctx.today)
    async with ctx.db.session() as session:
        await ledger.void_entry(session, number, actor=ctx.sender.userid, reason=reason, at=ctx.now)
        unit = await session.get(Unit, entry.unit_id)
        await session.commit()
    assert unit is not None and unit.id is not None
    scheme = scheme_of(unit.scheme_id)
    rules = find_indicator(scheme, entry.rule or "")
    rule_id = rules[0] if len(rules) == 1 else None
    label = rule_label(scheme, rule_id) if rule_id else entry.rule or ""
    what = f"{KIND_WORDS.get(entry.kind, entry.kind)} {label}{fmt_points(entry.value)}"
    if entry.task_id is not None:
        what = f"任务完成确认（{entry.reason}）"
    card = await unit_card(ctx.db, unit.id, unit.scheme_id, entry.year, ctx.today)
    base = fmt_points(card.base_total)
    notice = t.NOTICE_ENTRY_VOIDED.format(
        ref=ref, what=what, reason=sentence(reason), base=base, office=office_name()
    )
    await _tell_unit(ctx, unit.id, notice)
    change = (
        score_change(before, card, rule_id)
        if rule_id
        else t.BASE_CHANGE.format(unit=unit.name, before=fmt_points(before.base_total), after=base)
    )
    return t.VOIDED_ENTRY.format(unit=unit.name, ref=ref, what=what, reason=reason, change=change)


async def _void_submission(ctx: Ctx, number: int, ref: str, reason: str) -> str:
    async with ctx.db.session() as session:
        view = await ledger.get_submission(session, number)
        if view is None:
            return t.VOID_UNKNOWN.format(ref=ref)
        if view.status not in COUNTING:
            return t.SUBMISSION_ALREADY.format(ref=ref, status=STATUS_NAMES[view.status])
        await ledger.withdraw_submission(
            session, number, actor=ctx.sender.userid, reason=reason, at=ctx.now
        )
        unit = await session.get(Unit, view.submission.unit_id)
        await session.commit()
    sub = view.submission
    await ctx.tell(
        sub.sender,
        t.NOTICE_VOIDED.format(
            title=sub.title, ref=ref, reason=sentence(reason), office=office_name()
        ),
    )
    return t.VOIDED_SUBMISSION.format(
        unit=unit.name if unit else "", ref=ref, title=sub.title, reason=reason
    )
