"""The 责任书 in chat: an admin sends the filled workbook, reads the preview, answers 确认; anyone
asks for a unit's 责任书 (「责任书 椒江区」, a liaison's 「我的任务」 for their own unit).

`import_charter` is the one way a 责任书 file gets into the ledger (the chat and
`kaohe targets import` both use it): read and check the file, plan the differences against the
units' tasks, and — when asked to — apply them in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from handlers import pending, targets_text
from handlers.channel import fit_text
from handlers.context import Ctx, office_name, scheme_of
from handlers.intents import Intent
from handlers.office_intents import OfficeIntent
from handlers.pending import PendingAction
from handlers.router import LIAISON, MEMBERS, Router
from handlers.texts import NO_UNIT
from scoring.facts import COUNTING
from storage.charter import Applied, CharterPlan, apply_charter, plan_charter
from storage.charter_file import CharterFileError, guess_year, read_charter
from storage.db import Database
from storage.ledger import list_submissions, list_tasks
from storage.models import Role
from storage.units import find_unit, get_unit_by_name, list_members

router = Router()


CHARTER_SUFFIXES = (".xlsx", ".xlsm", ".csv")


@cache
def task_kinds_of(scheme_id: str) -> frozenset[str]:
    """The task kinds a scheme scores as task lists (chuangmo: annual_target, key_project)."""
    return frozenset(
        k for r in scheme_of(scheme_id).rules() for k in r.params.completed_task_kinds()
    )


async def import_charter(
    db: Database,
    path: Path,
    year: int,
    *,
    actor: str,
    reason: str,
    apply: bool,
    expected: str | None = None,
    at: datetime | None = None,
) -> tuple[CharterPlan, Applied | None]:
    """Plan (and with `apply`, write) a 责任书 file. With `expected` (a preview's digest), nothing
    is written unless the plan is still the one previewed. Raises CharterFileError."""
    charter = read_charter(path, year)
    async with db.session() as session:
        plan = await plan_charter(session, charter, year, task_kinds_of)
        if not apply or not plan.to_apply or (expected and plan.digest != expected):
            return plan, None
        applied = await apply_charter(session, plan, actor=actor, reason=reason, at=at)
        await session.commit()
    return plan, applied


def _file_of(ctx: Ctx) -> Path | None:
    ref = ctx.msg.attachment
    if not ref:
        return None
    return Path(ctx.deps.media_dir) / ref


async def receive_file(ctx: Ctx) -> str:
    """An admin sent a file: a 责任书 gets its preview and waits for 确认."""
    name = ctx.msg.file_name or (ctx.msg.attachment or "")
    if ctx.msg.msg_type != "file" or not name.lower().endswith(CHARTER_SUFFIXES):
        return targets_text.FILE_NOT_CHARTER.format(name=name or "附件")
    path = _file_of(ctx)
    if path is None or not path.is_file():
        why = ctx.msg.attachment_error or "文件未能下载"
        return targets_text.FILE_UNREAD.format(why=why)
    year = guess_year(path, ctx.year)
    return await _preview(ctx, path, name, year)


async def _preview(ctx: Ctx, path: Path, name: str, year: int, head: str = "") -> str:
    try:
        plan, _ = await import_charter(
            ctx.db, path, year, actor=ctx.sender.userid, reason="", apply=False
        )
    except CharterFileError as exc:
        errors = "\n".join(exc.errors[:15])
        if len(exc.errors) > 15:
            errors += f"\n……另有{len(exc.errors) - 15}处"
        return fit_text(
            targets_text.FILE_BAD.format(name=name, count=len(exc.errors), errors=errors)
        )
    lines = [head] if head else []
    lines.append(targets_text.FILE_RECEIVED.format(name=name, year=year))
    lines.append(targets_text.preview_text(plan, limit=20))
    if not plan.to_apply:
        lines.append(targets_text.NOTHING_CHANGES.format(year=year))
        return fit_text("\n".join(lines))
    args = {"file": str(path), "name": name, "year": year, "digest": plan.digest}
    return fit_text(await pending.ask(ctx, PendingAction.CHARTER, args, "\n".join(lines)))


@pending.runner(PendingAction.CHARTER)
async def _apply(ctx: Ctx, args: dict[str, Any]) -> str:
    path, name, year = Path(args["file"]), args["name"], int(args["year"])
    try:
        plan, applied = await import_charter(
            ctx.db,
            path,
            year,
            actor=ctx.sender.userid,
            reason=f"导入责任书{name}",
            apply=True,
            expected=args["digest"],
            at=ctx.now,
        )
    except CharterFileError:
        return await _preview(ctx, path, name, year)
    if applied is None:
        if not plan.to_apply:
            return targets_text.NOTHING_CHANGES.format(year=year)
        return await _preview(ctx, path, name, year, head=targets_text.PLAN_MOVED)
    await _tell_units(ctx, plan)
    return targets_text.applied_text(year, applied)


async def _tell_units(ctx: Ctx, plan: CharterPlan) -> None:
    changed = {c.unit for c in plan.to_apply}
    async with ctx.db.session() as session:
        for u in plan.units:
            if u.unit not in changed:
                continue
            unit = await get_unit_by_name(session, u.unit)
            if unit is None:
                continue
            text = targets_text.NOTICE_LIAISON.format(
                year=plan.year, targets=u.targets, projects=u.projects
            )
            for member in await list_members(session, unit.id):
                if member.role == Role.LIAISON and getattr(member, "active", True):
                    await ctx.tell(member.userid, text)


@router.intent(OfficeIntent.CHARTER, roles=MEMBERS)
async def charter(ctx: Ctx, intent: Intent) -> str:
    """「责任书 椒江区 2027」 for admins; a liaison or leader sees their own unit's."""
    year = int(intent.args.get("year") or ctx.year)
    name = intent.args.get("unit")
    async with ctx.db.session() as session:
        if ctx.sender.is_admin:
            if not name:
                return "请写明单位，例如「责任书 椒江区」或「责任书 椒江区 2027」。"
            unit = await find_unit(session, name)
            if unit is None:
                return f"没有找到单位「{name}」，请核对名称。"
        else:
            if ctx.sender.unit_id is None:
                return NO_UNIT.format(office=office_name())
            if name and name != ctx.sender.unit_name:
                return f"抱歉，您只能查看本单位（{ctx.sender.unit_name}）的责任书。"
            unit = await get_unit_by_name(session, ctx.sender.unit_name or "")
            if unit is None:
                return NO_UNIT.format(office=office_name())
        assert unit.id is not None
        views = await list_tasks(session, unit.id, year, include_inactive=True)
    return fit_text(targets_text.charter_text(unit.name, year, views))


@router.intent(OfficeIntent.MY_TASKS, roles=LIAISON)
async def my_tasks(ctx: Ctx, intent: Intent) -> str:
    """The unit's tasks of the year: its 责任书 and the tasks assigned to it, with deadlines."""
    assert ctx.sender.unit_id is not None
    async with ctx.db.session() as session:
        views = await list_tasks(session, ctx.sender.unit_id, ctx.year, include_inactive=True)
        answered = {
            v.submission.task_id
            for v in await list_submissions(session, ctx.sender.unit_id, ctx.year)
            if v.submission.task_id is not None and v.status in COUNTING
        }
    unit = ctx.sender.unit_name or ""
    charter_part = targets_text.charter_text(unit, ctx.year, views)
    others = [v for v in views if not targets_text.is_charter(v) and v.scored]
    lines = [charter_part]
    if others:
        lines.append("布置的任务：")
        lines.extend(targets_text.task_line(v, v.task.id in answered) for v in others)
    return fit_text("\n".join(lines))
