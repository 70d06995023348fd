"""`kaohe assessments add|list|admin`: 分级考核 (seed 000 第一条), several assessments in one
deployment. The default assessment (1) holds what existed before; a district that assesses its
towns gets an assessment of its own, its admins, and its units (`kaohe units import FILE
--assessment NAME`). Its admins then use the same chat commands and dashboard, and see only it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from bot.settings import get_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "assessments",
        help="分级考核：新增、列出考核及其管理员 (assessments add | list | admin)",
        description="分级考核（第一条）：一个部署中可有多个考核，各有组织单位、管理员、方案、单位和年度。",
    )
    sub = parser.add_subparsers(dest="assessments_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args: _usage(parser))
    p_add = sub.add_parser(
        "add",
        help="新增一个考核",
        description="新增一个考核，例如区对镇街的考核。其单位用 kaohe units import FILE --assessment 名称 导入。",
    )
    p_add.add_argument("name", metavar="NAME", help="考核名称，如 路桥区创模考核")
    p_add.add_argument("--organiser", help="组织单位（已登记的单位名称，如 路桥区）")
    p_add.add_argument("--scheme", help="其单位通常使用的考核方案")
    p_add.add_argument("--year", type=int, help="考核年度")
    p_add.add_argument("--admins", default="", help="管理员账号，逗号分隔")
    p_add.add_argument("--actor", default="cli", help="记入审计日志的操作人（默认 cli）")
    p_add.set_defaults(func=cmd_add)
    p_admin = sub.add_parser("admin", help="为考核增加管理员", description="为考核增加管理员。")
    p_admin.add_argument("assessment", metavar="ASSESSMENT", help="考核名称或编号")
    p_admin.add_argument("userids", metavar="USERID", nargs="+", help="管理员账号")
    p_admin.add_argument("--actor", default="cli", help="记入审计日志的操作人（默认 cli）")
    p_admin.set_defaults(func=cmd_admin)
    p_list = sub.add_parser(
        "list", help="列出考核", description="列出各考核、组织单位、单位数和管理员。"
    )
    p_list.set_defaults(func=cmd_list)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _run(work: Any) -> Any:
    async def run() -> Any:
        from storage.db import Database

        db = Database(get_settings().database_url)
        try:
            if not await db.is_current():
                print("错误：数据库尚未迁移到最新版本，请先运行 kaohe db upgrade", file=sys.stderr)
                return None
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(run())


def cmd_add(args: argparse.Namespace) -> int:
    from storage.assessments import AssessmentError, add_assessment

    admins = [a.strip() for a in args.admins.split(",") if a.strip()]

    async def work(db: Any) -> int:
        async with db.session() as session:
            try:
                row = await add_assessment(
                    session,
                    args.name,
                    actor=args.actor,
                    organiser=args.organiser,
                    scheme_id=args.scheme,
                    year=args.year,
                    admins=admins,
                )
            except AssessmentError as exc:
                print(f"错误：{exc}", file=sys.stderr)
                return 1
            await session.commit()
        print(f"已新增考核{row.id}：{row.name}，管理员 {'、'.join(admins) or '（无）'}")
        return 0

    result = _run(work)
    return 1 if result is None else int(result)


def cmd_admin(args: argparse.Namespace) -> int:
    from storage.assessments import add_admin, get_assessment

    async def work(db: Any) -> int:
        async with db.session() as session:
            found = await get_assessment(session, args.assessment)
            if found is None or found.id is None:
                print(f"错误：没有考核 {args.assessment!r}", file=sys.stderr)
                return 1
            added = [
                u for u in args.userids if await add_admin(session, found.id, u, actor=args.actor)
            ]
            await session.commit()
        print(f"{found.name}：新增管理员 {'、'.join(added) or '无（均已是管理员）'}")
        return 0

    result = _run(work)
    return 1 if result is None else int(result)


def cmd_list(args: argparse.Namespace) -> int:
    from sqlmodel import func, select

    from storage.assessments import list_assessments
    from storage.models import AssessmentAdmin, Unit

    async def work(db: Any) -> int:
        async with db.session() as session:
            rows = await list_assessments(session)
            counts = dict(
                (
                    await session.exec(
                        select(Unit.assessment_id, func.count()).group_by(Unit.assessment_id)
                    )
                ).all()  # type: ignore[arg-type]
            )
            admins = (await session.exec(select(AssessmentAdmin))).all()
            names = {u.id: u.name for u in (await session.exec(select(Unit))).all()}
        for row in rows:
            who = "、".join(a.userid for a in admins if a.assessment_id == row.id)
            organiser = names.get(row.organiser_unit_id, "—") if row.organiser_unit_id else "—"
            print(
                f"{row.id}\t{row.name}\t组织单位{organiser}\t单位{counts.get(row.id, 0)}个\t"
                f"管理员 {who or ('KAOHE_ADMINS 及角色为 admin 的人员' if row.id == 1 else '—')}"
            )
        return 0

    result = _run(work)
    return 1 if result is None else int(result)


class UnknownAssessment(LookupError):
    """`--assessment` names no assessment."""


async def assessment_scope(db: Any, ref: str | None) -> int | None:
    """The id of the assessment `--assessment` names (by name or number), for `scoped`; None
    without the option (every unit). UnknownAssessment when there is none such."""
    if not ref:
        return None
    from storage.assessments import get_assessment

    async with db.session() as session:
        found = await get_assessment(session, ref)
    if found is None or found.id is None:
        raise UnknownAssessment(f"没有考核「{ref}」（已有的考核见 kaohe assessments list）")
    return found.id


ASSESSMENT_HELP = (
    "只含此考核的单位（分级考核：名称或编号，见 kaohe assessments list；默认全部单位）"
)
