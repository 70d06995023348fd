"""`kaohe scheme list|show|check|schema`: look at the built-in schemes, validate scheme files, and
print the JSON Schema of a scheme file for editors."""

from __future__ import annotations

import argparse
import json
import sys

from scoring import SchemeError, builtin_scheme_ids, lint, load_builtin, load_scheme
from scoring.describe import base_max, render_scheme, scheme_to_dict
from scoring.document import json_schema
from scoring.numbers import fmt


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "scheme",
        help="考核方案：列出、查看、检查 (scheme list|show|check|schema)",
        description="考核方案（scheme）：列出内置方案、查看指标树、检查方案文件。",
    )
    sub = parser.add_subparsers(dest="scheme_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args: _usage(parser))

    p_list = sub.add_parser(
        "list", help="列出内置考核方案", description="列出内置考核方案及其满分。"
    )
    p_list.set_defaults(func=cmd_list)

    p_show = sub.add_parser(
        "show",
        help="查看方案的指标树和分值",
        description="查看考核方案的指标树（项目 → 目标 → 规则）、分值和满分。",
    )
    p_show.add_argument("scheme", metavar="ID|FILE", help="内置方案编号或方案 YAML 文件")
    p_show.add_argument("--json", action="store_true", help="以 JSON 输出")
    p_show.set_defaults(func=cmd_show)

    p_check = sub.add_parser(
        "check",
        help="检查方案文件（错误退出码 1，分值不符只警告）",
        description="校验方案：格式错误逐条列出并以退出码 1 结束；分值加总不符的地方作为警告列出（退出码 0）。",
    )
    p_check.add_argument("scheme", metavar="ID|FILE", help="内置方案编号或方案 YAML 文件")
    p_check.set_defaults(func=cmd_check)

    p_schema = sub.add_parser(
        "schema",
        help="输出方案文件的 JSON Schema（供编辑器补全、校验 YAML）",
        description="输出考核方案 YAML 的 JSON Schema：每种规则类型及其参数。"
        "可保存为文件，在编辑器（如 VS Code 的 YAML 插件）中用于补全和校验。",
    )
    p_schema.set_defaults(func=cmd_schema)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _fail(exc: SchemeError) -> int:
    print("错误：考核方案无效", file=sys.stderr)
    for line in exc.errors:
        print(f"  {line}", file=sys.stderr)
    return 1


def cmd_list(args: argparse.Namespace) -> int:
    ids = builtin_scheme_ids()
    if not ids:
        print("没有内置考核方案。")
        return 0
    for scheme_id in ids:
        try:
            scheme = load_builtin(scheme_id)
        except SchemeError as exc:
            print(
                f"{scheme_id}  （无效：{len(exc.errors)} 处错误，请运行 kaohe scheme check {scheme_id}）"
            )
            continue
        print(f"{scheme.id}  {scheme.name}  满分 {fmt(base_max(scheme))}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    try:
        scheme = load_scheme(args.scheme)
    except SchemeError as exc:
        return _fail(exc)
    if args.json:
        print(json.dumps(scheme_to_dict(scheme), ensure_ascii=False, indent=2))
    else:
        print(render_scheme(scheme))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    try:
        scheme = load_scheme(args.scheme)
    except SchemeError as exc:
        return _fail(exc)
    warnings = lint(scheme)
    print(f"{scheme.id}：格式正确，{len(scheme.rules())} 条规则，满分 {fmt(base_max(scheme))}。")
    if warnings:
        print(f"分值警告 {len(warnings)} 处（方案未作改动）：")
        for w in warnings:
            print(f"  警告 {w}")
    else:
        print("分值加总无误。")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(json_schema(), ensure_ascii=False, indent=2))
    return 0
