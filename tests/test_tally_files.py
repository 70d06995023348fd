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


def _clones(spec: list[tuple[str, int, str | None]]):  # type: ignore[no-untyped-def]
    """A tally of copies of tally_helpers' units: (unit to copy, how many, C4.1 points given to
    the copies: a total just under a grade line), ranked as scored."""
    from dataclasses import replace

    from tally_helpers import AS_OF, unit_facts

    from scoring import AdminEntry, EntryKind

    files = unit_facts()
    units = []
    for source, n, c4 in spec:
        kind, scheme_id, facts = files[source]
        if c4 is not None:
            at = datetime(2026, 12, 30, 2, tzinfo=UTC)
            entry = AdminEntry("X1", EntryKind.POINTS, "C4.1", at, Decimal(c4), None, "cmb", "复核")
            facts = replace(facts, entries=(*facts.entries, entry))
        for i in range(n):
            name = f"{source}{i + 1}号"
            units.append(TallyUnit(name, kind, scheme_id, replace(facts, unit=name)))
    schemes = {sid: load_builtin(sid) for _, sid, _ in files.values()}
    return build_tally(units, schemes, AS_OF, year=YEAR)


@pytest.mark.parametrize(
    "spec",
    [
        [("临海市", 6, "10"), ("临海市", 6, None)],  # 87.88 six times, then 86.38: under 90
        [("临海市", 5, None), ("椒江区", 7, "10")],  # the last bar: 76.88, right under 80
        [("临海市", 5, None)],  # 86.38 between the lines
        [("椒江区", 2, None), ("临海市", 1, "10"), ("路桥区环保局", 2, None)],  # two panels
        [("临海市", 1, None)],
    ],
    ids=["12-under-excellent", "12-under-good", "5-between", "two-schemes", "one"],
)
def test_chart_labels_never_overlap(spec: list[tuple[str, int, str | None]]) -> None:
    """Every text on a panel — each bar's value, the 良好/优秀 lines' names — and the legend
    keep apart from each other, wherever the last bar's value falls."""
    fig = chart.chart_figure(_clones(spec))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    for ax in fig.axes:
        boxes = [(t.get_text().strip(), t.get_window_extent(renderer)) for t in ax.texts]
        names = {text for text, _ in boxes}
        assert {"良好线80", "优秀线90"} <= names
        legend = ax.get_legend()
        if legend is not None:
            boxes.append(("legend", legend.get_window_extent(renderer)))
        for i, (a, box_a) in enumerate(boxes):
            for b, box_b in boxes[i + 1 :]:
                assert not box_a.overlaps(box_b), f"{a} overlaps {b}"
