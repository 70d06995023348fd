"""Schemes as the office's own table (kaohe scheme export | import | template): both built-in schemes
go through the spreadsheet and come back the same; merged 项目分值 cells are shared points; errors
name the row and the column."""

from __future__ import annotations

import json

import pytest
from openpyxl import load_workbook

from bot.cli import main
from bot.scheme_workbook import read_table, write_table
from scoring import SchemeError, builtin_scheme_ids, load_builtin, load_scheme
from scoring.loader import scheme_from_data
from scoring.table import scheme_data, scheme_table


@pytest.mark.parametrize("scheme_id", ["chuangmo-taizhou", "epb-district-2007"])
def test_round_trip_through_the_spreadsheet(scheme_id, tmp_path, capsys):
    assert scheme_id in builtin_scheme_ids()
    xlsx, out = tmp_path / "t.xlsx", tmp_path / "back.yaml"
    assert main(["scheme", "export", scheme_id, "--out", str(xlsx)]) == 0
    assert main(["scheme", "import", str(xlsx), "--id", "back", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["scheme", "show", scheme_id, "--json"]) == 0
    original = json.loads(capsys.readouterr().out)
    assert main(["scheme", "show", str(out), "--json"]) == 0
    back = json.loads(capsys.readouterr().out)
    assert back.pop("id") == "back"
    original.pop("id")
    assert back == original


def test_a_shared_points_cell_is_a_merged_cell(tmp_path):
    epb = load_builtin("epb-district-2007")  # items 7 and 8 share one 10, 9 and 10 one 6
    path = write_table(scheme_table(epb), tmp_path / "epb.xlsx")
    ws = load_workbook(path)["考核细则"]
    col = [c.value for c in ws[1]].index("项目分值") + 1
    merged = [r for r in ws.merged_cells.ranges if r.min_col == col == r.max_col]
    starts = {ws.cell(r.min_row, 1).value: (ws.cell(r.min_row, col).value, r) for r in merged}
    value, rng = starts["7"]
    assert value == 10
    covered = {ws.cell(n, 1).value for n in range(rng.min_row, rng.max_row + 1)} - {None}
    assert covered == {"7", "8"}
    scheme = scheme_from_data(*_data(path))
    assert scheme.item("8").shares == "7" and scheme.item("10").shares == "9"


def _data(path):
    data, where = scheme_data(read_table(path), "t", str(path))
    return data, str(path), where


def test_the_template_imports_and_lists_every_kind(tmp_path, capsys):
    path = tmp_path / "tpl.xlsx"
    assert main(["scheme", "template", "--out", str(path)]) == 0
    kinds_sheet = load_workbook(path)["规则类型"]
    names = {row[0] for row in kinds_sheet.iter_rows(min_row=2, values_only=True)}
    assert {"award", "quota", "reports", "gate", "deduction"} <= names
    out = tmp_path / "tpl.yaml"
    assert main(["scheme", "import", str(path), "--id", "tpl", "--out", str(out)]) == 0
    scheme = load_scheme(str(out))
    assert scheme.item("3").shares == "2"  # the merged 项目分值 cell of items 2 and 3
    assert [r.id for r in scheme.rules()] == ["T1.1", "T1.2", "T2.1", "T3.1"]
    assert scheme.rule("T3.1").reading.startswith("原文未给截止日期")
    alternatives = scheme.rule("T3.1").alternatives  # the 口径 cell written as a choice
    assert alternatives is not None and alternatives.about == "deadline"
    assert [key for key, _ in alternatives.choices] == ["+10d", "+15d"]


def test_import_errors_name_the_row_and_column(tmp_path, capsys):
    path = tmp_path / "bad.xlsx"
    table = scheme_table(load_builtin("chuangmo-taizhou"))
    table.rows[0]["参数"] = "{points: -4}"  # C1a.1, sheet row 2
    table.rows[3]["类型"] = "teleport"  # C2.1, sheet row 5
    table.rows[5]["参数"] = "points six"  # not a mapping, row 7
    write_table(table, path)
    out = tmp_path / "bad.yaml"
    assert main(["scheme", "import", str(path), "--id", "bad", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{path}: 第7行「参数」：应为{{points: 4}}形式" in err
    assert not out.exists()  # nothing written
    table.rows[5]["参数"] = "{task_kind: feedback, points: 6}"
    write_table(table, path)
    with pytest.raises(SchemeError) as exc:
        scheme_from_data(*_data(path))
    text = "\n".join(exc.value.errors)
    assert f"{path}: 第2行「参数」 points: 不能为负数，实际为-4" in text
    assert f"{path}: 第5行「类型」: 未知的规则类型 'teleport'" in text


def test_a_sheet_that_is_not_a_scheme_table(tmp_path, capsys):
    from openpyxl import Workbook

    path = tmp_path / "other.xlsx"
    wb = Workbook()
    wb.active.title = "考核细则"
    wb.active.append(["序号", "项目"])
    wb.save(path)
    assert (
        main(["scheme", "import", str(path), "--id", "x", "--out", str(tmp_path / "x.yaml")]) == 1
    )
    assert "表头缺少列：项目分值" in capsys.readouterr().err
