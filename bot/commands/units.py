"""`kaohe units import FILE` and `kaohe units list`: the registry of units and their people.

The import file is CSV (UTF-8, with or without BOM) or XLSX with the header
`unit,kind,scheme,userid,name,role` (DESIGN.md). The whole file is checked first; any bad line is
reported with its line number and nothing is applied. Importing the same file twice changes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from bot.settings import get_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "units",
        help="单位与联络员：导入、列出 (units import FILE | units list)",
        description="单位（区、部门）与人员（联络员、领导、管理员）的登记。",
    )
    sub = parser.add_subparsers(dest="units_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args: _usage(parser))
    p_import = sub.add_parser(
        "import",
        help="从 CSV/XLSX 导入单位与人员（可重复导入）",
        description=(
            "导入单位与人员。文件为 CSV（UTF-8，可带 BOM）或 XLSX，表头 "
            "unit,kind,scheme,userid,name,role[,status]（或 单位,类型,方案,账号,姓名,角色[,状态]）；"
            "kind 为 district/department（区/部门），role 为 liaison/leader/admin，"
            "status 为空、在岗或停用。有任何错误行则逐行报告，且不导入任何内容。"
            "一个单位可有多名联络员；停用的人员保留其报送历史。"
        ),
    )
    p_import.add_argument("file", metavar="FILE", help="CSV 或 XLSX 文件")
    p_import.add_argument("--dry-run", action="store_true", help="只检查文件，不写入数据库")
    p_import.add_argument(
        "--force",
        action="store_true",
        help="允许已有本年度考核记录的单位更换考核方案（记入审计日志）",
    )
    p_import.add_argument("--actor", default="cli", help="记入审计日志的操作人（默认 cli）")
    p_import.add_argument(
        "--assessment",
        help="这些单位所属的考核（名称或编号，见 kaohe assessments list；默认为默认考核）",
    )
    p_import.set_defaults(func=cmd_import)
    p_sync = sub.add_parser(
        "sync",
        help="从企业微信通讯录补全人员姓名（可选）",
        description="读取企业微信部门成员（通讯录接口 user/simplelist），按账号补全或更正已登记人员的姓名，"
        "每处改动记入审计日志。应用没有通讯录权限或未配置企业微信时，说明原因并跳过，不作改动。",
    )
    p_sync.add_argument("--department", type=int, default=1, help="部门 ID（默认1，即根部门）")
    p_sync.add_argument("--dry-run", action="store_true", help="只显示将改动的姓名，不写入")
    p_sync.add_argument("--actor", default="cli", help="记入审计日志的操作人（默认 cli）")
    p_sync.set_defaults(func=cmd_sync)
    p_list = sub.add_parser(
        "list", help="列出单位及其人员", description="列出所有单位、考核方案及其人员。"
    )
    p_list.add_argument("--json", action="store_true", help="以 JSON 输出")
    p_list.set_defaults(func=cmd_list)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _error(message: str, lines: list[str] | None = None) -> int:
    print(f"错误：{message}", file=sys.stderr)
    for line in lines or []:
        print(f"  {line}", file=sys.stderr)
    return 1


NOT_MIGRATED = "数据库尚未迁移到最新版本，请先运行 kaohe db upgrade"


def cmd_import(args: argparse.Namespace) -> int:
    from scoring import builtin_scheme_ids
    from storage.assessments import get_assessment
    from storage.db import Database
    from storage.scope import scoped
    from storage.units_import import UnitsFileError, apply_units, parse_units_file

    try:
        rows = parse_units_file(args.file, builtin_scheme_ids())
    except UnitsFileError as exc:
        return _error(f"导入文件有误，未导入任何内容（{len(exc.errors)}处）", exc.errors)
    if args.dry_run:
        units = {r.unit for r in rows}
        print(f"文件无误：{len(units)}个单位，{len(rows)}人（未写入数据库）")
        return 0

    async def run() -> Any:
        db = Database(get_settings().database_url)
        try:
            if not await db.is_current():
                return None
            if not args.assessment:
                return await apply_units(db, rows, actor=args.actor, force=args.force)
            async with db.session() as session:
                found = await get_assessment(session, args.assessment)
            if found is None:
                return UnitsFileError([f"没有考核 {args.assessment!r}（kaohe assessments list）"])
            with scoped(found.id):
                return await apply_units(db, rows, actor=args.actor, force=args.force)
        except UnitsFileError as exc:
            return exc
        finally:
            await db.dispose()

    counts = asyncio.run(run())
    if counts is None:
        return _error(NOT_MIGRATED)
    if isinstance(counts, UnitsFileError):
        return _error("未导入任何内容", counts.errors)
    u, m = counts.units, counts.members
    print(
        f"导入完成：单位 新增{u['created']}、更新{u['updated']}、未变{u['unchanged']}；"
        f"人员 新增{m['created']}、更新{m['updated']}、未变{m['unchanged']}"
    )
    return 0


KIND_LABEL = {"district": "区", "department": "部门"}


def cmd_list(args: argparse.Namespace) -> int:
    from handlers.assessment_texts import ROLE_NAMES
    from storage.db import Database
    from storage.units import list_members, list_units

    async def run() -> list[dict[str, Any]] | None:
        db = Database(get_settings().database_url)
        try:
            if not await db.is_current():
                return None
            async with db.session() as s:
                units = await list_units(s, with_members=True)
                loose = [
                    m for m in await list_members(s, include_inactive=True) if m.unit_id is None
                ]
            out = [
                {
                    "unit": u.name,
                    "kind": u.kind,
                    "scheme": u.scheme_id,
                    "members": [
                        {"userid": m.userid, "name": m.name, "role": m.role, "active": m.active}
                        for m in sorted(u.members, key=lambda m: m.userid)
                    ],
                }
                for u in units
            ]
            if loose:
                out.append(
                    {
                        "unit": None,
                        "kind": None,
                        "scheme": None,
                        "members": [
                            {"userid": m.userid, "name": m.name, "role": m.role} for m in loose
                        ],
                    }
                )
            return out
        finally:
            await db.dispose()

    units = asyncio.run(run())
    if units is None:
        return _error(NOT_MIGRATED)
    if args.json:
        print(json.dumps(units, ensure_ascii=False, indent=2))
        return 0
    if not units:
        print("尚无单位（用 kaohe units import FILE 导入）")
        return 0
    for u in units:
        if u["unit"] is None:
            print("（未归属单位）")
        else:
            print(f"{u['unit']}  {KIND_LABEL.get(u['kind'], u['kind'])}  {u['scheme']}")
        for m in u["members"]:
            state = "" if m.get("active", True) else "  （已停用）"
            print(f"  {m['userid']}  {m['name']}  {ROLE_NAMES.get(m['role'], m['role'])}{state}")
    n_members = sum(len(u["members"]) for u in units)
    print(f"共{sum(1 for u in units if u['unit'])}个单位，{n_members}人")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    """Fill in names from WeCom's contacts; skip cleanly without WeCom or its permission."""
    from bot.wecom.client import WeComAPIError, WeComClient
    from bot.wecom.contacts import ContactsUnavailable, department_members
    from storage.db import Database
    from storage.units import fill_names

    settings = get_settings()
    secret = settings.secret("wecom_secret")
    if not (settings.wecom_corp_id and secret and settings.wecom_agent_id):
        print("未配置企业微信（需要 WECOM_CORP_ID、WECOM_SECRET、WECOM_AGENT_ID），跳过同步。")
        return 0

    async def run() -> int:
        client = WeComClient(
            corp_id=settings.wecom_corp_id,
            secret=secret,
            agent_id=settings.wecom_agent_id,
            api_base=settings.wecom_api_base,
        )
        db = Database(settings.database_url)
        try:
            if not await db.is_current():
                return _error(NOT_MIGRATED)
            try:
                names = await department_members(client, args.department)
            except ContactsUnavailable as exc:
                print(
                    f"应用没有读取通讯录的权限（{exc.errcode}：{exc.errmsg}），跳过同步，未作改动。"
                    "如需同步，请在企业微信管理后台为应用开通通讯录读取权限。"
                )
                return 0
            except WeComAPIError as exc:
                return _error(f"读取企业微信通讯录失败：{exc}")
            async with db.session() as s:
                changed = await fill_names(s, names, actor=args.actor)
                if not args.dry_run:
                    await s.commit()
        finally:
            await client.close()
            await db.dispose()
        for userid, old, new in changed:
            print(f"  {userid}：{old} → {new}")
        done = "将更新" if args.dry_run else "已更新"
        print(f"通讯录中{len(names)}人；{done}{len(changed)}人的姓名。")
        return 0

    return asyncio.run(run())
