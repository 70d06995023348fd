"""The tally as a bar chart (PNG): per scheme the units' totals (base total + bonus stacked), coloured
by grade, with the 良好 and 优秀 lines (80 and 90 in seed 000), Chinese labels in a CJK font.

Uses matplotlib's object API with the Agg canvas (no pyplot, no display, safe in a worker thread).
"""

from __future__ import annotations

import io
import logging
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Any

from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import offset_copy

from scoring.numbers import fmt
from scoring.scorecard import Level
from tally.build import SchemeTally, Tally

log = logging.getLogger(__name__)

GRADE_COLORS = {
    Level.EXCELLENT: "#2e7d32",
    Level.GOOD: "#1565c0",
    Level.PASS: "#f9a825",
    Level.FAIL: "#c62828",
    None: "#78909c",
}
BONUS_COLOR = "#90caf9"
VALUE_GROUND = {"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.0}

# Noto Sans CJK, Simplified Chinese face. The OS copy (Debian: fonts-noto-cjk) is preferred when
# present; otherwise the copy installed from PyPI with kaohe (noto-cjk-sans-otc, SIL OFL 1.1), so
# the chart looks the same on every machine and never draws Chinese as boxes.
CJK_FAMILY = "Noto Sans CJK SC"
CJK_FILE = "NotoSansCJK-Regular.ttc"


def bundled_cjk_file() -> Path | None:
    """The Noto Sans CJK collection installed from PyPI, or None if that package is missing."""
    try:
        import noto_cjk_sans_otc
    except ImportError:
        return None
    path = Path(str(noto_cjk_sans_otc.FONT_PATH))
    return path if path.is_file() else None


@lru_cache(maxsize=1)
def cjk_font_file() -> Path | None:
    """The file of the chart's CJK font, registered with matplotlib: the OS's Noto Sans CJK if
    installed, else the bundled one; None (logged) when neither exists."""
    for found in font_manager.findSystemFonts():
        if Path(found).name == CJK_FILE:
            font_manager.fontManager.addfont(found)
            return Path(found)
    bundled = bundled_cjk_file()
    if bundled is not None:
        font_manager.fontManager.addfont(str(bundled))
        return bundled
    log.warning("no CJK font (pip install noto-cjk-sans-otc): chart labels will not be readable")
    return None


def cjk_font() -> str | None:
    """The family name to draw Chinese with, or None when no CJK font is available."""
    return CJK_FAMILY if cjk_font_file() is not None else None


def _draw_scheme(fig: Figure, ax, st: SchemeTally, tally: Tally, font: dict) -> None:  # type: ignore[no-untyped-def]
    names = [row.unit for row in st.rows]
    base = [float(row.base_total) for row in st.rows]
    bonus = [float(row.bonus) for row in st.rows]
    colors = [GRADE_COLORS.get(row.grade, GRADE_COLORS[None]) for row in st.rows]
    xs = range(len(names))
    _bars(ax, base, [0.0] * len(base), colors)
    if any(bonus):
        _bars(ax, bonus, base, [BONUS_COLOR] * len(bonus))
    top = max([b + x for b, x in zip(base, bonus, strict=True)] + [100.0])
    crowded = len(names) > 60  # no value labels, small names: still one readable picture
    for x, row in zip(xs, st.rows, strict=True):
        if crowded:
            break
        ax.text(  # over the grade lines, on a white ground: a line never strikes through it
            x,
            float(row.total) + top * 0.01,
            fmt(row.total),
            ha="center",
            va="bottom",
            fontsize=8,
            zorder=5,
            bbox=VALUE_GROUND,
            **font,
        )
    good, excellent = st.thresholds
    for value, label in ((good, Level.GOOD), (excellent, Level.EXCELLENT)):
        color = GRADE_COLORS[label]
        ax.axhline(float(value), color=color, linestyle="--", linewidth=1.2, zorder=3)
        # the line's name right of the plot, at its height (as a tick of a right-hand axis):
        # inside the plot it lay over the last bar's value label whenever the two met
        ax.text(
            1.0,
            float(value),
            f"{label}线{float(value):g}",
            # x in axes fractions and 4 points further right, y in data
            transform=offset_copy(ax.get_yaxis_transform(), ax.figure, x=4, units="points"),
            color=color,
            va="center",
            ha="left",
            fontsize=9,
            clip_on=False,
            **font,
        )
    if crowded:
        _crowded_names(ax, names, font)
    else:
        ax.set_xticks(list(xs))
        longest = max((len(n) for n in names), default=0)
        rotate = 45 if len(names) > 8 or (longest > 6 and len(names) > 4) else 0
        ax.set_xticklabels(
            names, rotation=rotate, ha="right" if rotate else "center", fontsize=10, **font
        )
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_ylim(0, top * 1.1)
    ax.set_ylabel("得分", **font)
    ax.grid(axis="y", color="#e0e0e0", zorder=0)
    ax.set_axisbelow(True)
    state = "（阶段得分）" if any(row.pending for row in st.rows) else ""
    ax.set_title(
        f"{st.name}\n{tally.year}年度各单位总分{state}（截至{tally.as_of_text}）",
        fontsize=12,
        **font,
    )
    from matplotlib.patches import Patch

    seen = [g.value for g in Level if any(r.grade == g for r in st.rows)]
    handles = [Patch(color=GRADE_COLORS[g], label=g) for g in seen]
    if any(bonus):
        handles.append(Patch(color=BONUS_COLOR, label="加分"))
    if handles:
        # right of the plot too, at the end away from the grade lines' names
        low = min(float(good), float(excellent)) / (top * 1.1)
        at_bottom = low >= 0.4
        legend = ax.legend(
            handles=handles,
            loc="lower left" if at_bottom else "upper left",
            bbox_to_anchor=(1.0, 0.0 if at_bottom else 1.0),
            fontsize=9,
        )
        if font:
            for text in legend.get_texts():
                text.set_fontfamily(font["fontfamily"])
    for tick in ax.get_yticklabels():
        tick.set_fontsize(9)


def _bars(ax, heights: list[float], bottoms: list[float], colors: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Bars 0.7 wide at x = 0, 1, 2, … as one collection (a thousand separate rectangles cost
    seconds to add and to draw)."""
    from matplotlib.collections import PolyCollection

    half = 0.35
    boxes = [
        ((x - half, b), (x - half, b + h), (x + half, b + h), (x + half, b))
        for x, (h, b) in enumerate(zip(heights, bottoms, strict=True))
    ]
    ax.add_collection(PolyCollection(boxes, facecolors=colors, edgecolors="none", zorder=2))


CROWDED_FONT = 6  # points: the unit names under a chart of more than 60 bars


def _crowded_names(ax, names: list[str], font: dict) -> None:  # type: ignore[no-untyped-def]
    """Many bars: the names written vertically under the axis, bottom to top and ending at it,
    as one collection of glyph outlines (each distinct character's outline made once) instead
    of a text artist per name: a thousand names as texts cost seconds to lay out and draw
    (FreeType loads every glyph of every name twice), as outlines a few tenths of a second."""
    from matplotlib import rcParams
    from matplotlib.collections import PathCollection
    from matplotlib.transforms import Affine2D

    ax.set_xticks([])
    glyphs = _Glyphs(font.get("fontfamily"), CROWDED_FONT)
    paths = [glyphs.vertical(name) for name in names]
    inches = Affine2D().scale(1 / 72) + ax.figure.dpi_scale_trans  # outlines are in points
    names_ = PathCollection(
        paths,
        offsets=[(x, -0.01) for x in range(len(names))],
        offset_transform=ax.get_xaxis_transform(),  # x in data, y in axes fractions
        transform=inches,
        facecolors=rcParams["text.color"],
        edgecolors="none",
        clip_on=False,
    )
    ax.add_artist(names_)


class _Glyphs:
    """Outlines of characters in one font at one size (points), each made once."""

    def __init__(self, family: str | None, size: float) -> None:
        from matplotlib.font_manager import FontProperties, findfont, get_font

        self.prop = (
            FontProperties(family=family, size=size) if family else FontProperties(size=size)
        )
        self.size = size
        self.font = get_font(findfont(self.prop))  # shared: set its size before each use
        self.made: dict[str, tuple[Any, Any, float]] = {}
        ascent, descent = self.font.ascender, self.font.descender  # font units; descent < 0
        self.middle = (ascent + descent) / 2 / self.font.units_per_EM * size

    def _glyph(self, ch: str) -> tuple[Any, Any, float]:
        found = self.made.get(ch)
        if found is None:
            from matplotlib.ft2font import LoadFlags
            from matplotlib.textpath import TextPath

            outline = TextPath((0, 0), ch, size=self.size, prop=self.prop)
            self.font.set_size(self.size, 72)  # points
            advance = self.font.load_char(ord(ch), flags=LoadFlags.NO_HINTING).linearHoriAdvance
            found = (outline.vertices, outline.codes, advance / 65536)
            self.made[ch] = found
        return found

    def vertical(self, text: str) -> Any:
        """`text` read bottom to top, ending at (0, 0), centred on x = 0."""
        import numpy as np
        from matplotlib.path import Path as MplPath

        parts, codes, x = [], [], 0.0
        for ch in text:
            vertices, kinds, advance = self._glyph(ch)
            if len(vertices):
                parts.append(vertices + np.array((x, 0.0)))
                codes.append(kinds)
            x += advance
        if not parts:
            return MplPath(np.zeros((1, 2)), [MplPath.MOVETO])
        flat = np.concatenate(parts)
        # turned a quarter left: along the text is up, the text's "up" is left
        turned = np.column_stack((self.middle - flat[:, 1], flat[:, 0] - x))
        return MplPath(turned, np.concatenate(codes))


def _name_inches(names: list[str]) -> float:
    """Height of the longest name written vertically at `CROWDED_FONT` (CJK counts double)."""
    from tally.excel import display_width

    return max((display_width(n) for n in names), default=0) * CROWDED_FONT * 0.55 / 72


def draw_chart(tally: Tally, path: str | Path, *, dpi: int = 110) -> Path:
    """Draw the chart to `path` (PNG); one panel per scheme (an empty note without units)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(chart_png(tally, dpi=dpi))
    return path


_DRAWN: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
_DRAWN_LOCK = threading.Lock()
DRAWN_KEPT = 4  # charts kept: the year's tally as of a few days


def _drawn_key(tally: Tally, dpi: int) -> tuple[Any, ...]:
    """Everything the chart shows: the same key is the same picture."""
    schemes = []
    for st in tally.schemes:
        bars = tuple((r.unit, r.base_total, r.bonus, r.total, r.grade, r.pending) for r in st.rows)
        schemes.append((st.name, st.thresholds, bars))
    return (dpi, tally.year, tally.as_of, tuple(schemes))


def chart_png(tally: Tally, *, dpi: int = 110) -> bytes:
    """The chart as PNG bytes, drawn once per tally: the workbook's chart, the file sent in chat
    and the dashboard's chart.png of the same figures are one drawing (a 1,000-unit chart takes
    seconds to draw)."""
    key = _drawn_key(tally, dpi)
    with _DRAWN_LOCK:
        if key in _DRAWN:
            _DRAWN.move_to_end(key)
            return _DRAWN[key]
    data = _draw(tally, dpi)
    with _DRAWN_LOCK:
        _DRAWN[key] = data
        while len(_DRAWN) > DRAWN_KEPT:
            _DRAWN.popitem(last=False)
    return data


# zlib's level for the PNG: the same pixels; at 1 the encoding (a third of a 1,000-unit chart's
# drawing at PIL's default, 6) costs about half, and that chart's file came out no larger
# (332 KB against 383 KB)
PNG_LEVEL = 1


def _draw(tally: Tally, dpi: int) -> bytes:
    out = io.BytesIO()
    chart_figure(tally, dpi=dpi).savefig(
        out, format="png", dpi=dpi, facecolor="white", pil_kwargs={"compress_level": PNG_LEVEL}
    )
    return out.getvalue()


def chart_figure(tally: Tally, *, dpi: int = 110) -> Figure:
    """The chart as a matplotlib figure (tests read its texts and the fonts they resolve to)."""
    family = cjk_font()
    font = {"fontfamily": family} if family else {}
    panels = list(tally.schemes)
    n_units = max((len(s.rows) for s in panels), default=0)
    width = min(40.0, max(10.0, 0.55 * n_units + 4))
    height = 5.2 * max(1, len(panels))
    crowded = n_units > 60
    # a crowded chart is laid out by hand: the constrained layout measures every name again
    fig = Figure(figsize=(width, height), dpi=dpi, layout=None if crowded else "constrained")
    FigureCanvasAgg(fig)
    if crowded:
        names = [row.unit for st in panels for row in st.rows]
        panel = height / len(panels)
        fig.subplots_adjust(
            left=0.8 / width,
            right=1 - 1.0 / width,  # the legend, right of the plot
            top=1 - 0.7 / height,
            bottom=(_name_inches(names) + 0.2) / height,
            hspace=(_name_inches(names) + 0.9) / (panel - _name_inches(names) - 0.9),
        )
    if not panels:
        ax = fig.add_subplot(1, 1, 1)
        ax.axis("off")
        ax.text(0.5, 0.5, f"{tally.year}年度没有可汇总的单位", ha="center", va="center", **font)
    for n, st in enumerate(panels, start=1):
        _draw_scheme(fig, fig.add_subplot(len(panels), 1, n), st, tally, font)
    return fig
