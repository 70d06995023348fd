"""The workbook's own cell writer (tally.excel._Sheet._write_cell, a shortcut for formatted texts
and numbers) writes the very bytes XlsxWriter's general path writes."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tally_helpers import AS_OF, YEAR, unit_facts
from xlsxwriter.worksheet import Worksheet

from scoring import load_builtin
from tally import build_tally
from tally.build import FinalGradeInfo, TallyUnit
from tally.excel import _Sheet, write_workbook


def _sheets(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n.startswith("xl/")}


def test_cells_are_written_as_xlsxwriter_writes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = unit_facts()
    units = [TallyUnit(n, k, sid, f) for n, (k, sid, f) in files.items()]
    schemes = {sid: load_builtin(sid) for _, sid, _ in files.values()}
    tally = build_tally(units, schemes, AS_OF, year=YEAR)
    ours = _sheets(write_workbook(tally, tmp_path / "ours.xlsx"))
    monkeypatch.setattr(_Sheet, "_write_cell", Worksheet._write_cell)
    theirs = _sheets(write_workbook(tally, tmp_path / "theirs.xlsx"))
    assert b"<v>" in ours["xl/worksheets/sheet1.xml"]  # cells were written
    assert ours == theirs


def test_cells_stored_at_once_make_the_workbook_xlsxwriters_methods_make(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The body's cells stored in the sheet's table directly (tally.excel._store_body) give the
    workbook the cells written one by one through XlsxWriter's methods give: the same sheets and
    shared strings byte for byte, so the same cell values; a confirmed row's highlight, blanks
    and a text longer than the fast path takes included."""
    from dataclasses import replace

    from openpyxl import load_workbook

    from tally import excel

    files = unit_facts()
    units = [TallyUnit(n, k, sid, f) for n, (k, sid, f) in files.items()]
    schemes = {sid: load_builtin(sid) for _, sid, _ in files.values()}
    tally = build_tally(units, schemes, AS_OF, year=YEAR)
    long = replace(tally.open_items[0], text="长" * 20000)  # past the fast path's length
    tally = replace(tally, open_items=(long, *tally.open_items[1:]))
    monkeypatch.setattr(excel, "_STORE_CELLS", True)
    stored = write_workbook(tally, tmp_path / "stored.xlsx")
    monkeypatch.setattr(excel, "_STORE_CELLS", False)
    written = write_workbook(tally, tmp_path / "written.xlsx")
    assert _sheets(stored) == _sheets(written)

    def cells(path: Path) -> list[list[tuple[object, ...]]]:
        return [list(ws.iter_rows(values_only=True)) for ws in load_workbook(path).worksheets]

    values = cells(stored)
    assert values == cells(written)
    found = [c for sheet in values for row in sheet for c in row]
    assert any(isinstance(c, float) for c in found) and "长" * 20000 in found


def test_rows_are_written_as_xlsxwriter_writes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workbook's own row writer (tally.excel._Sheet._write_rows and _calculate_spans: a
    row's formatted cells in one piece) writes the very bytes XlsxWriter's rows and cells
    write: titles and headers with their heights, merged cells, blanks, highlights, a long text
    and an empty sheet's rows included."""
    from dataclasses import replace

    from tally import excel

    files = unit_facts()
    units = [TallyUnit(n, k, sid, f) for n, (k, sid, f) in files.items()]
    schemes = {sid: load_builtin(sid) for _, sid, _ in files.values()}
    first = units[0].name
    confirmed = {first: FinalGradeInfo("良好", "admin", "核定", datetime(2027, 1, 5, tzinfo=UTC))}
    tally = build_tally(units, schemes, AS_OF, year=YEAR, final_grades=confirmed)
    long = replace(tally.open_items[0], text="长" * 20000)
    tally = replace(tally, open_items=(long, *tally.open_items[1:]))
    assert tally.row(first).confirmed  # a highlighted row
    for store in (True, False):
        monkeypatch.setattr(excel, "_STORE_CELLS", store)
        ours = _sheets(write_workbook(tally, tmp_path / f"ours-{store}.xlsx"))
        with monkeypatch.context() as m:
            m.setattr(_Sheet, "_write_rows", Worksheet._write_rows)
            m.setattr(_Sheet, "_calculate_spans", Worksheet._calculate_spans)
            m.setattr(_Sheet, "_write_cell", Worksheet._write_cell)
            theirs = _sheets(write_workbook(tally, tmp_path / f"theirs-{store}.xlsx"))
        assert b'spans="' in ours["xl/worksheets/sheet1.xml"]
        assert ours == theirs
