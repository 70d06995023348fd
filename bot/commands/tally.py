"""`kaohe tally`: the year-end tally as Excel (.xlsx) or CSV; `kaohe grade confirm`: an admin
confirms or changes a unit's suggested grade, with a reason (a new final_grade row; latest wins).

    kaohe tally --year 2026 [--scheme ID] [--as-of DATE] [--assessment NAME] --out 汇总.xlsx   (or .csv)
    kaohe grade confirm --unit 椒江区 --year 2026 --grade 良好 --reason "..." --actor cmb-wang
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date, datetime
from pathlib import Path

from bot.commands.assessments import ASSESSMENT_HELP, UnknownAssessment, assessment_scope
from bot.commands.score import parse_as_of
from bot.settings import get_settings
from scoring.periods import TZ
from scoring.scorecard import Level


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "tally",
        help="年度汇总：各单位得分、等次、排名导出为 Excel/CSV (tally --year Y --out FILE)",
        description=(
            "按各单位登记的考核方案，从台账计算年度汇总：每个方案一张汇总表（每单位一行：各项得分、"
            "基本分、加分、总分、建议等次、最终等次、排名），计分明细表、待办事项表和得分图。"
            "--out 以 .xlsx 结尾写 Excel，以 .csv 结尾写 CSV（UTF-8 带 BOM，只含汇总表）。"
        ),
    )
    parser.add_argument("--year", type=int, required=True, metavar="YEAR", help="考核年度")
    parser.add_argument(
        "--scheme", action="append", metavar="ID", help="只汇总此方案的单位（可重复）"
    )
    parser.add_argument(
        "--as-of",
        metavar="DATE",
        help="截至日期 YYYY-MM-DD（默认今天，Asia/Shanghai）；只计入当日已知的台账",
    )
    parser.add_argument(
        "--out", required=True, metavar="FILE", help="输出文件：.xlsx（Excel）或 .csv"
    )
    parser.add_argument(
        "--chart", metavar="FILE.png", help="另存得分图（PNG）；Excel 中总是包含得分图"
    )
    parser.add_argument("--assessment", metavar="NAME", help=ASSESSMENT_HELP)
    parser.set_defaults(func=cmd_tally)

    grade = subparsers.add_parser(
        "grade",
        help="最终等次：确认或调整建议等次 (grade confirm|show)",
        description="考核办确认或调整单位的建议等次（须写明理由）；每次确认为新的一条记录，以最新为准。",
    )
    gsub = grade.add_subparsers(dest="grade_command", metavar="ACTION")
    confirm = gsub.add_parser(
        "confirm",
        help="确认或调整一个单位的等次",
        description="记录一个单位某年度的最终等次（优秀、良好、合格、不合格），须写明理由和操作人。",
    )
    confirm.add_argument("--unit", required=True, metavar="NAME", help="单位名称")
    confirm.add_argument("--year", type=int, required=True, metavar="YEAR", help="考核年度")
    confirm.add_argument(
        "--grade", required=True, choices=[level.value for level in Level], help="最终等次"
    )
    confirm.add_argument("--reason", required=True, help="理由（确认建议等次也须写明）")
    confirm.add_argument("--actor", required=True, metavar="USERID", help="操作人（企业微信账号）")
    confirm.add_argument(
        "--exception",
        action="store_true",
        help="高于第七条所允许等次的，作为经研究的例外记录（汇总表中标注）",
    )
    confirm.set_defaults(func=cmd_grade_confirm)
    show = gsub.add_parser("show", help="显示一个单位的等次确认记录")
    show.add_argument("--unit", required=True, metavar="NAME", help="单位名称")
    show.add_argument("--year", type=int, required=True, metavar="YEAR", help="考核年度")
    show.set_defaults(func=cmd_grade_show)
    grade.set_defaults(func=lambda args: (grade.print_help(), 2)[1])


def _error(message: str) -> int:
    print(f"错误：{message}", file=sys.stderr)
    return 1


async def _tally(  # type: ignore[no-untyped-def]
    url: str, year: int, as_of: date, schemes: list[str] | None, assessment: str | None
):
    from storage.db import Database
    from storage.scope import scoped
    from tally.service import load_tally

    db = Database(url)
    try:
        with scoped(await assessment_scope(db, assessment)):
            return await load_tally(db, year, as_of=as_of, scheme_ids=schemes)
    finally:
        await db.dispose()


def cmd_tally(args: argparse.Namespace) -> int:
    from scoring import builtin_scheme_ids
    from tally.service import summary_text

    try:
        as_of = parse_as_of(args.as_of)
    except ValueError as exc:
        return _error(str(exc))
    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        return _error(f"--out 应以 .xlsx 或 .csv 结尾，实际为「{args.out}」")
    unknown = [s for s in args.scheme or [] if s not in builtin_scheme_ids()]
    if unknown:
        return _error(f"没有方案 {'、'.join(unknown)}（内置方案见 kaohe scheme list）")
    chart = Path(args.chart) if args.chart else None
    url = get_settings().database_url
    try:
        tally = asyncio.run(_tally(url, args.year, as_of, args.scheme, args.assessment))
    except UnknownAssessment as exc:
        return _error(str(exc))
    if tally.empty:  # no empty workbook
        return _error(summary_text(tally))
    if suffix == ".csv":
        from tally.excel import write_csv

        write_csv(tally, out)
        if chart is not None:
            from tally.chart import draw_chart

            draw_chart(tally, chart)
    else:
        import tempfile

        from tally.chart import draw_chart
        from tally.excel import write_workbook

        with tempfile.TemporaryDirectory() as tmp:
            png = draw_chart(tally, chart or Path(tmp) / "chart.png")
            write_workbook(tally, out, chart_png=png)
    print(summary_text(tally))
    print(f"已写入{out}" + (f"，得分图{chart}" if chart else ""))
    return 0


async def _grade(
    url: str, unit_name: str, year: int, grade: str, reason: str, actor: str, exception: bool
) -> str:
    """Record the grade; a grade above the one seed 000 第七条 allows only as a stated exception
    (the same check as 定级 in chat, handlers/grading.py)."""
    from handlers.grading import check_grade
    from storage.db import Database
    from storage.grades import GradeError, check_level, set_final_grade
    from storage.units import get_unit_by_name

    db = Database(url)
    try:
        async with db.session() as s:
            unit = await get_unit_by_name(s, unit_name)
        if unit is None or unit.id is None:
            raise LookupError(unit_name)
        check_level(grade.strip())
        check = await check_grade(db, unit, year, grade.strip(), datetime.now(TZ).date())
        if check.suggested and not check.allowed and not exception:
            raise GradeError(
                f"{check.why}。按第七条最高可评「{check.suggested}」；"
                "如确属经研究的例外，请加 --exception 并写明理由"
            )
        async with db.session() as s:
            await set_final_grade(
                s, unit_id=unit.id, year=year, grade=grade, actor=actor, reason=reason,
                exception=exception and not check.allowed,
            )  # fmt: skip
            await s.commit()
        return unit.name
    finally:
        await db.dispose()


def cmd_grade_confirm(args: argparse.Namespace) -> int:
    from storage.grades import GradeError

    try:
        name = asyncio.run(
            _grade(
                get_settings().database_url,
                args.unit,
                args.year,
                args.grade,
                args.reason,
                args.actor,
                args.exception,
            )
        )
    except LookupError:
        return _error(f"没有名为 {args.unit!r} 的单位（单位列表见 kaohe units list）")
    except GradeError as exc:
        return _error(str(exc))
    print(f"已记录：{name} {args.year}年度最终等次{args.grade}（{args.actor}：{args.reason}）")
    return 0


async def _history(url: str, unit_name: str, year: int):  # type: ignore[no-untyped-def]
    from storage.db import Database
    from storage.grades import grade_history
    from storage.units import get_unit_by_name

    db = Database(url)
    try:
        async with db.session() as s:
            unit = await get_unit_by_name(s, unit_name)
            if unit is None or unit.id is None:
                raise LookupError(unit_name)
            return await grade_history(s, unit.id, year)
    finally:
        await db.dispose()


def cmd_grade_show(args: argparse.Namespace) -> int:
    try:
        rows = asyncio.run(_history(get_settings().database_url, args.unit, args.year))
    except LookupError:
        return _error(f"没有名为 {args.unit!r} 的单位（单位列表见 kaohe units list）")
    if not rows:
        print(f"{args.unit} {args.year}年度尚未确认等次")
        return 0
    for n, row in enumerate(rows, start=1):
        when = datetime.fromtimestamp(row.at.timestamp(), TZ).strftime("%Y-%m-%d %H:%M")
        mark = "（现行）" if n == len(rows) else ""
        exception = "【例外】" if row.exception else ""
        print(f"{when} {row.grade}{mark} {exception}{row.actor}：{row.reason}")
    return 0
