"""`kaohe scheme list|show|check|schema`: look at the built-in schemes, validate scheme files, and
print the JSON Schema of a scheme file for editors."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from scoring import SchemeError, builtin_scheme_ids, lint, load_builtin, load_scheme
from scoring.describe import base_max, render_scheme, scheme_to_dict
from scoring.document import json_schema
from scoring.model import Scheme
from scoring.numbers import fmt
from scoring.readings import readings, totals_line


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
        help="检查方案文件（错误退出码1，分值不符只警告）",
        description="校验方案：格式错误逐条列出并以退出码1结束；分值加总不符的地方作为警告列出（退出码0）。",
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

    p_export = sub.add_parser(
        "export",
        help="把方案导出为考核细则表（Excel）",
        description="把考核方案写成考核细则表：每条规则一行，前几列与原表相同（序号、项目、环保目标、"
        "考核细则、分值、负责指导部门），其后是规则的类型和参数；共用的分值写成合并单元格。",
    )
    p_export.add_argument("scheme", metavar="ID|FILE", help="内置方案编号或方案 YAML 文件")
    p_export.add_argument("--out", required=True, metavar="FILE.xlsx", help="写入的 Excel 文件")
    p_export.set_defaults(func=cmd_export)

    p_import = sub.add_parser(
        "import",
        help="从考核细则表（Excel）生成方案 YAML",
        description="读取考核细则表（格式见 kaohe scheme template），校验后写成方案 YAML；"
        "有错误时逐条指出所在行、列，不写文件。",
    )
    p_import.add_argument("table", metavar="FILE.xlsx", help="考核细则表")
    p_import.add_argument("--id", required=True, help="方案编号（小写字母、数字和连字符）")
    p_import.add_argument("--out", required=True, metavar="FILE.yaml", help="写入的方案文件")
    p_import.set_defaults(func=cmd_import)

    p_template = sub.add_parser(
        "template",
        help="生成考核细则表模板（Excel）",
        description="生成一份填好示例的考核细则表，附各规则类型及其参数的说明。",
    )
    p_template.add_argument("--out", required=True, metavar="FILE.xlsx", help="写入的 Excel 文件")
    p_template.set_defaults(func=cmd_template)


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
                f"{scheme_id}（无效：{len(exc.errors)}处错误，请运行 kaohe scheme check {scheme_id}）"
            )
            continue
        print(f"{scheme.id}  {scheme.name}满分{fmt(base_max(scheme))}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    try:
        scheme = load_scheme(args.scheme)
    except SchemeError as exc:
        return _fail(exc)
    if args.json:
        print(json.dumps(scheme_to_dict(scheme), ensure_ascii=False, indent=2))
        return 0
    print(render_scheme(scheme))
    _print_readings(scheme)
    return 0


def _print_readings(scheme: Scheme) -> None:
    found = readings(scheme)
    if not found:
        return
    print()
    print(f"口径{len(found)}处（原文未定或可有不同理解之处，当前取法；方案文件可改写）：")
    for r in found:
        print(f"  {r}")


def cmd_check(args: argparse.Namespace) -> int:
    try:
        scheme = load_scheme(args.scheme)
    except SchemeError as exc:
        return _fail(exc)
    warnings = lint(scheme)
    print(f"{scheme.id}：格式正确，{len(scheme.rules())}条规则，满分{fmt(base_max(scheme))}。")
    print(f"分值：{totals_line(scheme)}。")
    if warnings:
        print(f"分值警告{len(warnings)}处（方案未作改动）：")
        for w in warnings:
            print(f"  警告 {w}")
    else:
        print("分值加总无误。")
    _print_readings(scheme)
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(json_schema(), ensure_ascii=False, indent=2))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from bot.scheme_workbook import write_table
    from scoring.table import scheme_table

    try:
        scheme = load_scheme(args.scheme)
    except SchemeError as exc:
        return _fail(exc)
    path = write_table(scheme_table(scheme), args.out)
    print(f"已写入{path}：{scheme.id}，{len(scheme.rules())}条规则。")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    import yaml

    from bot.scheme_workbook import read_table
    from scoring.loader import scheme_from_data
    from scoring.table import scheme_data

    try:
        data, where = scheme_data(read_table(args.table), args.id, str(args.table))
        scheme = scheme_from_data(data, str(args.table), where)
    except SchemeError as exc:
        return _fail(exc)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    Path(args.out).write_text(
        f"# 由 kaohe scheme import 从{Path(args.table).name}生成\n{text}", encoding="utf-8"
    )
    print(
        f"已写入{args.out}：{scheme.id}，{len(scheme.rules())}条规则，满分{fmt(base_max(scheme))}。"
    )
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    from bot.scheme_workbook import template_table, write_table

    path = write_table(template_table(), args.out)
    print(
        f"已写入模板{path}：填好「考核细则」和「方案」两张表后，用 kaohe scheme import 生成方案。"
    )
    return 0
