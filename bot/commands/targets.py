"""`kaohe targets template|import|list`: each unit's 责任书 (年度工作指标 and 重点工程) for a year.

    kaohe targets template --year 2027 --out 责任书.xlsx
    kaohe targets import 责任书.xlsx --year 2027 [--dry-run] [--actor NAME]
    kaohe targets list --year 2027 [--unit 椒江区]

The import is all or nothing: every bad row is named with its row number and nothing is applied.
Importing the same file again changes nothing; a changed file shows its differences and applies
them as ledger rows (storage/charter.py).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bot.commands.units import NOT_MIGRATED, _error, _usage
from bot.settings import get_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "targets",
        help="责任书：生成模板、导入、列出 (targets template|import|list)",
        description="各单位年度“创模”工作目标责任书（年度工作指标、重点工程）的模板、导入和查看。",
    )
    sub = parser.add_subparsers(dest="targets_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args: _usage(parser))

    p_tpl = sub.add_parser(
        "template",
        help="生成待填写的责任书模板（XLSX）",
        description="生成责任书模板：一张表（单位、类别、编号、名称、截止日期、说明、状态），"
        "含示例行、单位和类别的下拉列表，以及填写说明。",
    )
    p_tpl.add_argument("--year", type=int, required=True, metavar="YEAR", help="责任书年度")
    p_tpl.add_argument("--out", required=True, metavar="FILE.xlsx", help="输出文件")
    p_tpl.set_defaults(func=cmd_template)

    p_imp = sub.add_parser(
        "import",
        help="导入填好的责任书（XLSX 或 CSV），显示并写入差异",
        description="导入责任书。表头为 单位,类别,编号,名称,截止日期,说明,状态（或 "
        "unit,kind,ref,title,due,note,status）。有任何错误行则逐行报告，且不导入任何内容；"
        "与已有责任书的差异（新增、修改、删除）逐项列出，并作为台账记录写入。",
    )
    p_imp.add_argument("file", metavar="FILE", help="XLSX 或 CSV 文件")
    p_imp.add_argument("--year", type=int, required=True, metavar="YEAR", help="责任书年度")
    p_imp.add_argument("--dry-run", action="store_true", help="只检查并显示差异，不写入")
    p_imp.add_argument("--actor", default="cli", help="记入台账的操作人（默认 cli）")
    p_imp.set_defaults(func=cmd_import)

    p_list = sub.add_parser(
        "list", help="列出各单位的责任书", description="列出各单位某年度的责任书任务及完成情况。"
    )
    p_list.add_argument("--year", type=int, required=True, metavar="YEAR", help="年度")
    p_list.add_argument("--unit", metavar="NAME", help="只列出这个单位")
    p_list.set_defaults(func=cmd_list)


def cmd_template(args: argparse.Namespace) -> int:
    from storage.charter_file import write_template
    from storage.db import Database
    from storage.units import list_units

    async def names() -> list[str] | None:
        db = Database(get_settings().database_url)
        try:
            if not await db.is_current():
                return None
            async with db.session() as s:
                return [u.name for u in await list_units(s)]
        finally:
            await db.dispose()

    units = asyncio.run(names())
    if units is None:
        return _error(NOT_MIGRATED)
    path = write_template(Path(args.out), args.year, units)
    print(f"已生成{args.year}年度责任书模板：{path}（单位下拉列表{len(units)}个单位）")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from handlers.targets import import_charter
    from handlers.targets_text import applied_text, preview_text
    from storage.charter_file import CharterFileError
    from storage.db import Database

    async def run() -> int:
        db = Database(get_settings().database_url)
        try:
            if not await db.is_current():
                return _error(NOT_MIGRATED)
            try:
                plan, applied = await import_charter(
                    db,
                    Path(args.file),
                    args.year,
                    actor=args.actor,
                    reason=f"导入责任书{Path(args.file).name}",
                    apply=not args.dry_run,
                )
            except CharterFileError as exc:
                return _error(f"责任书文件有误，未导入任何内容（{len(exc.errors)}处）", exc.errors)
        finally:
            await db.dispose()
        print(f"{args.year}年度责任书（{Path(args.file).name}）：")
        print(preview_text(plan, limit=500))
        if not plan.to_apply:
            print("与系统中已有的完全一致，未作任何改动。")
        elif applied is None:
            print("（--dry-run：未写入）")
        else:
            print(applied_text(args.year, applied))
        return 0

    return asyncio.run(run())


def cmd_list(args: argparse.Namespace) -> int:
    from handlers.targets_text import charter_text
    from storage.db import Database
    from storage.ledger import list_tasks
    from storage.units import get_unit_by_name, list_units

    async def run() -> int:
        db = Database(get_settings().database_url)
        try:
            if not await db.is_current():
                return _error(NOT_MIGRATED)
            async with db.session() as s:
                if args.unit:
                    unit = await get_unit_by_name(s, args.unit)
                    if unit is None:
                        return _error(f"没有名为「{args.unit}」的单位")
                    units = [unit]
                else:
                    units = await list_units(s)
                blocks = []
                for unit in units:
                    assert unit.id is not None
                    views = await list_tasks(s, unit.id, args.year, include_inactive=True)
                    blocks.append(charter_text(unit.name, args.year, views))
        finally:
            await db.dispose()
        print("\n\n".join(blocks) if blocks else "尚无单位（用 kaohe units import FILE 导入）")
        return 0

    return asyncio.run(run())
