"""`kaohe report`: the published result (seed 000 第十条, 第十二条) as a Word document.

kaohe report --year 2026 --out 通报.docx [--date 2027-01-15] [--number 台创模〔2027〕1号]
    [--assessment 路桥区创模考核]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.commands.assessments import ASSESSMENT_HELP, UnknownAssessment, assessment_scope
from bot.commands.score import parse_as_of
from bot.settings import get_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="考核结果通报：按已确认的等次生成通报（Word）(report --year Y --out 通报.docx)",
        description=(
            "按已确认的最终等次生成年度考核结果通报（.docx）：标题、依据（考核办法）、按等次列出"
            "各单位（优秀予以表彰，不合格予以批评，第十二条）、附件得分排名表。"
            "有单位等次尚未确认时不生成，并列出这些单位。"
        ),
    )
    parser.add_argument("--year", type=int, required=True, metavar="YEAR", help="考核年度")
    parser.add_argument("--out", required=True, metavar="FILE.docx", help="输出文件（.docx）")
    parser.add_argument(
        "--date", metavar="DATE", help="成文日期 YYYY-MM-DD（默认今天）；只计入当日已知的台账"
    )
    parser.add_argument(
        "--number", default="", metavar="文号", help="发文字号，如 台创模〔2027〕1号"
    )
    parser.add_argument("--issuer", metavar="NAME", help="发文机关（默认按考核办法名称）")
    parser.add_argument("--scheme", action="append", metavar="ID", help="只通报此方案的单位")
    parser.add_argument("--assessment", metavar="NAME", help=ASSESSMENT_HELP)
    parser.set_defaults(func=cmd_report)


async def _report(url: str, args: argparse.Namespace, issued_on):  # type: ignore[no-untyped-def]
    from storage.db import Database
    from storage.scope import scoped
    from tally.notice import year_notice

    db = Database(url)
    try:
        with scoped(await assessment_scope(db, args.assessment)):
            return await year_notice(
                db,
                args.year,
                args.out,
                issued_on=issued_on,
                issuer=args.issuer,
                number=args.number,
                scheme_ids=args.scheme,
            )
    finally:
        await db.dispose()


def cmd_report(args: argparse.Namespace) -> int:
    from tally.notice import NoticeError

    if Path(args.out).suffix.lower() != ".docx":
        print(f"错误：--out 应以 .docx 结尾，实际为「{args.out}」", file=sys.stderr)
        return 1
    try:
        issued_on = parse_as_of(args.date)
    except ValueError as exc:
        print(f"错误：{str(exc).replace('--as-of', '--date')}", file=sys.stderr)
        return 1
    try:
        notice, path = asyncio.run(_report(get_settings().database_url, args, issued_on))
    except (NoticeError, UnknownAssessment) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    print(f"已写入{path}：{notice.title}（{notice.grade_counts()}）")
    return 0
