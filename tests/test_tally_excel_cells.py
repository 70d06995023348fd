"""The workbook's own cell writer (tally.excel._Sheet._write_cell, a shortcut for formatted texts
and numbers) writes the very bytes XlsxWriter's general path writes."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from tally_helpers import AS_OF, YEAR, unit_facts
from xlsxwriter.worksheet import Worksheet

from scoring import load_builtin
from tally import build_tally
from tally.build import TallyUnit
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
