"""The tally's files at scale: a crowded chart (hundreds of units) is still one readable PNG
with every name, drawn once per tally and then served from the cache; the workbook writes what
users wrote as text, never as a formula or a link."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image
from tally_helpers import RUNNING, YEAR

import tally.chart as chart
from scoring import Facts, Submission, load_builtin
from tally import build_tally
from tally.build import TallyUnit
from tally.excel import FIRST_ROW, write_workbook


def _tally(n: int, names: list[str] | None = None):  # type: ignore[no-untyped-def]
    scheme = load_builtin("chuangmo-taizhou")
    units = []
    for i in range(n):
        subs = tuple(
            Submission(
                f"S{i}-{k}", "C3b", datetime(2026, 3, 2, 9, tzinfo=UTC), "2026-03", title="x"
            )
            for k in range(i % 5)
        )
        name = names[i] if names else f"单位{i:04d}"
        units.append(TallyUnit(name, "district", scheme.id, Facts(name, YEAR, submissions=subs)))
    return build_tally(units, {scheme.id: scheme}, RUNNING, year=YEAR)


def test_crowded_chart_is_one_png_drawn_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tally = _tally(300)
    drawn: list[int] = []
    real = chart._draw

    def counting(t, dpi):  # type: ignore[no-untyped-def]
        drawn.append(dpi)
        return real(t, dpi)

    monkeypatch.setattr(chart, "_draw", counting)
    chart._DRAWN.clear()
    first = chart.draw_chart(tally, tmp_path / "a.png")
    again = chart.chart_png(tally)  # the dashboard's chart.png of the same tally
    assert drawn == [110] and first.read_bytes() == again
    with Image.open(io.BytesIO(again)) as image:
        width, height = image.size
        assert 800 <= width <= 5000 and 400 <= height <= 5000
        assert len(image.convert("RGB").getcolors(maxcolors=1_000_000) or []) > 50
    other = _tally(301)  # other figures: drawn anew
    assert chart.chart_png(other) != again and len(drawn) == 2
    chart._DRAWN.clear()


def test_texts_are_never_formulas_or_links(tmp_path: Path) -> None:
    names = ["=1+1", "http://example.invalid/x", "@SUM(A1)", "普通单位"]
    tally = _tally(4, names)
    path = write_workbook(tally, tmp_path / "t.xlsx")
    ws = load_workbook(path)["汇总-chuangmo-taizhou"]
    units = {ws.cell(r, 2).value for r in range(FIRST_ROW, FIRST_ROW + 4)}
    assert units == set(names)
    for r in range(FIRST_ROW, FIRST_ROW + 4):
        cell = ws.cell(r, 2)
        assert cell.data_type == "s" and cell.hyperlink is None
    totals = [ws.cell(r, 3 + 1).value for r in range(FIRST_ROW, FIRST_ROW + 4)]
    assert all(isinstance(v, float | int) for v in totals)
    assert Decimal(str(totals[0])) >= 0
