"""`kaohe score`: score one unit's facts file against a scheme, as of a date.

`score_facts_file()` is the facts-file path of the command, kept apart so that scoring from the
database (`--unit NAME --year YEAR`) can be added beside it and share the printing.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime
from pathlib import Path

from scoring import (
    FactsError,
    SchemeError,
    ScoreCard,
    load_facts_file,
    load_scheme,
    render_text,
    score,
    to_dict,
)
from scoring.periods import TZ, end_of_day


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "score",
        help="计算一个单位的得分 (score --scheme ID --facts FILE --as-of DATE)",
        description="按考核方案计算一个单位的得分：方案 + 事实文件（JSON/YAML）+ 截至日期 → 得分卡。",
    )
    parser.add_argument("--scheme", metavar="ID|FILE", help="内置方案编号或方案文件")
    parser.add_argument(
        "--facts", metavar="FILE", help="事实文件（JSON 或 YAML，见 docs/scheme.md）"
    )
    parser.add_argument(
        "--as-of",
        metavar="DATE",
        help="截至日期 YYYY-MM-DD（默认今天，Asia/Shanghai）；只有截止日已过的期次计为到期",
    )
    parser.add_argument("--json", action="store_true", help="以 JSON 输出得分卡")
    add_unit_arguments(parser)
    parser.set_defaults(func=cmd_score)


def parse_as_of(text: str | None) -> date:
    """`--as-of` value, or today in the assessment time zone. Raises ValueError with a message."""
    if text is None:
        return datetime.now(TZ).date()
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--as-of 应为日期 YYYY-MM-DD，实际为「{text}」") from None


def score_facts_file(scheme_ref: str, facts_path: str | Path, as_of: date) -> ScoreCard:
    """Load the scheme and the facts file and score them. Raises SchemeError / FactsError."""
    scheme = load_scheme(scheme_ref)
    facts = load_facts_file(facts_path)
    return score(scheme, facts, as_of)


def print_card(card: ScoreCard, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(to_dict(card), ensure_ascii=False, indent=2))
    else:
        print(render_text(card))


def _error(message: str, lines: list[str] | None = None) -> int:
    print(f"错误：{message}", file=sys.stderr)
    for line in lines or []:
        print(f"  {line}", file=sys.stderr)
    return 1


def cmd_score(args: argparse.Namespace) -> int:
    try:
        as_of = parse_as_of(args.as_of)
    except ValueError as exc:
        return _error(str(exc))
    if getattr(args, "unit", None) is not None or getattr(args, "year", None) is not None:
        return cmd_score_unit(args, as_of)
    if not args.scheme:
        return _error("请用 --scheme ID|FILE 指定考核方案（内置方案见 kaohe scheme list）")
    if not args.facts:
        return _error("请用 --facts FILE 指定事实文件（JSON 或 YAML，格式见 docs/scheme.md）")
    try:
        card = score_facts_file(args.scheme, args.facts, as_of)
    except FactsError as exc:
        return _error("事实文件无效", exc.errors)
    except SchemeError as exc:
        return _error("考核方案无效", exc.errors)
    print_card(card, as_json=args.json)
    return 0


# --- scoring from the database (`--unit NAME --year YEAR`) ----------------------------------------


def add_unit_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--unit", metavar="NAME", help="按数据库中的台账计分：单位名称（方案取自单位登记）"
    )
    parser.add_argument(
        "--year", type=int, metavar="YEAR", help="与 --unit 同用：考核年度（默认截至日期所在年）"
    )


def score_unit(
    url: str, unit: str, year: int, as_of: date, scheme_ref: str | None = None
) -> ScoreCard:
    """Score a unit's year from the ledger at `url`, with only what was known by the end of
    `as_of`. The scheme is the unit's own unless `scheme_ref` is given. Raises LookupError (no such
    unit) and SchemeError."""
    import asyncio

    from storage.db import Database
    from storage.facts import unit_facts

    known_at = end_of_day(as_of)

    async def load():  # type: ignore[no-untyped-def]
        db = Database(url)
        try:
            return await unit_facts(db, unit, year, known_at=known_at)
        finally:
            await db.dispose()

    found = asyncio.run(load())
    return score(load_scheme(scheme_ref or found.scheme_id), found.facts, as_of)


def cmd_score_unit(args: argparse.Namespace, as_of: date) -> int:
    from bot.settings import get_settings

    if args.facts:
        return _error("--facts 与 --unit 不能同时使用")
    if not args.unit:
        return _error("请用 --unit NAME 指定单位（单位列表见 kaohe units list）")
    try:
        card = score_unit(
            get_settings().database_url, args.unit, args.year or as_of.year, as_of, args.scheme
        )
    except LookupError:
        return _error(f"没有名为 {args.unit!r} 的单位（单位列表见 kaohe units list）")
    except SchemeError as exc:
        return _error("考核方案无效", exc.errors)
    print_card(card, as_json=args.json)
    return 0
