"""The chart's Chinese is drawn with a font that has every glyph it needs, on any machine: the
font comes with the install (noto-cjk-sans-otc from PyPI) when the OS has no Noto Sans CJK."""

from __future__ import annotations

import numpy as np
import pytest
from fontTools.ttLib import TTCollection, TTFont
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from tally_helpers import RUNNING, YEAR

from scoring import Facts, load_builtin
from tally import build_tally
from tally.build import TallyUnit
from tally.chart import CJK_FAMILY, bundled_cjk_file, chart_figure, cjk_font, cjk_font_file


def _face(path: str, family: str) -> TTFont:
    """The face of a font file (or collection) whose family name is `family`."""
    faces = TTCollection(path).fonts if path.lower().endswith(".ttc") else [TTFont(path)]
    for face in faces:
        if face["name"].getDebugName(1) == family:
            return face
    raise AssertionError(f"{path} has no face {family!r}")


def _cjk(text: str) -> set[str]:
    return {ch for ch in text if "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef"}


def _tally():  # type: ignore[no-untyped-def]
    scheme = load_builtin("chuangmo-taizhou")
    names = ["椒江区", "黄岩区", "路桥区", "市住房和城乡建设局", "临海市"]
    units = [TallyUnit(n, "district", scheme.id, Facts(n, YEAR)) for n in names]
    return build_tally(units, {scheme.id: scheme}, RUNNING, year=YEAR)


def test_the_font_comes_with_the_install() -> None:
    bundled = bundled_cjk_file()
    assert bundled is not None and bundled.stat().st_size > 10_000_000
    assert cjk_font() == CJK_FAMILY and cjk_font_file() is not None


def test_every_chinese_character_of_the_chart_has_a_glyph_in_its_font() -> None:
    fig = chart_figure(_tally())
    fig.canvas.draw()  # lays out ticks and legend, so every text exists
    checked: set[str] = set()
    for text in fig.findobj(lambda a: hasattr(a, "get_text") and hasattr(a, "get_fontproperties")):
        chars = _cjk(text.get_text())
        if not chars:
            continue
        props = text.get_fontproperties()
        path = font_manager.findfont(props, fallback_to_default=False)
        face = _face(path, props.get_family()[0])
        cmap = face.getBestCmap()
        missing = sorted(ch for ch in chars if ord(ch) not in cmap)
        assert not missing, f"{text.get_text()!r} in {path}: no glyph for {missing}"
        checked |= chars
    # the title, axis label, threshold lines, grade legend and unit names were all looked at
    assert {"年", "度", "得", "分", "良", "好", "线", "椒", "设"} <= checked
    assert len(checked) > 25


def _render(text: str, family: str) -> np.ndarray:
    fig = Figure(figsize=(3, 0.6), dpi=80)
    FigureCanvasAgg(fig)
    fig.text(0.02, 0.3, text, fontfamily=family, fontsize=20)
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., 0].copy()


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
def test_chinese_is_drawn_as_characters_not_boxes() -> None:
    """Different characters give different pictures in the CJK font; in a font without them
    (DejaVu Sans) every one is the same 'missing glyph' box."""
    assert cjk_font() is not None
    a, b = _render("考核汇总", CJK_FAMILY), _render("良好优秀", CJK_FAMILY)
    assert (a != b).sum() > 100
    tofu_a, tofu_b = _render("考核汇总", "DejaVu Sans"), _render("良好优秀", "DejaVu Sans")
    assert (tofu_a == tofu_b).all()  # boxes look alike whatever the text
    assert (a != tofu_a).sum() > 100


def test_the_png_is_the_picture_at_the_default_compression(monkeypatch: pytest.MonkeyPatch) -> None:
    """The chart's PNG is written with a faster zlib level: the same pixels as at PIL's default
    level (the picture unchanged), a crowded chart (> 60 bars) as well."""
    import io

    from PIL import Image

    from tally import chart

    scheme = load_builtin("chuangmo-taizhou")
    names = [f"单位{n}" for n in range(70)]
    crowded = build_tally(
        [TallyUnit(n, "district", scheme.id, Facts(n, YEAR)) for n in names],
        {scheme.id: scheme},
        RUNNING,
        year=YEAR,
    )
    for tally in (_tally(), crowded):
        fast = chart._draw(tally, 60)
        monkeypatch.setattr(chart, "PNG_LEVEL", 6)  # PIL's default
        slow = chart._draw(tally, 60)
        monkeypatch.setattr(chart, "PNG_LEVEL", 1)
        assert fast != slow  # written differently
        pictures = [np.asarray(Image.open(io.BytesIO(data))) for data in (fast, slow)]
        assert pictures[0].shape == pictures[1].shape and (pictures[0] == pictures[1]).all()
