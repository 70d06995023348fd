"""`kaohe tally` (Excel and CSV) and `kaohe grade confirm|show` against a seeded ledger."""

from __future__ import annotations

import asyncio
import contextlib
import io
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image
from tally_helpers import AS_OF, YEAR, seed_file

from bot.cli import main


@pytest.fixture(scope="module")
def seeded(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "seeded.db"
    seed_file(path, sqlite_template)
    return path


@pytest.fixture
def url(seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from bot.settings import get_settings

    copy = tmp_path / "kaohe.db"
    shutil.copyfile(seeded, copy)
    monkeypatch.setenv("KAOHE_DATABASE_URL", f"sqlite+aiosqlite:///{copy}")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()

    def run() -> int:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return main(list(argv))

    code = await asyncio.to_thread(run)
    return code, out.getvalue(), err.getvalue()


async def test_tally_xlsx_and_chart(url, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "汇总.xlsx"
    png = tmp_path / "chart.png"
    code, stdout, err = await _cli(
        "tally",
        "--year",
        str(YEAR),
        "--as-of",
        AS_OF.isoformat(),
        "--out",
        str(out),
        "--chart",
        str(png),
    )
    assert code == 0, err
    assert "2026年度考核汇总" in stdout and f"已写入{out}" in stdout
    wb = load_workbook(out)
    assert "汇总-chuangmo-taizhou" in wb.sheetnames and "图表" in wb.sheetnames
    with Image.open(png) as image:
        assert image.format == "PNG"


async def test_tally_one_scheme_as_csv(url, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "epb.csv"
    code, _, err = await _cli(
        "tally",
        "--year",
        str(YEAR),
        "--scheme",
        "epb-district-2007",
        "--as-of",
        AS_OF.isoformat(),
        "--out",
        str(out),
    )
    assert code == 0, err
    text = out.read_bytes()
    assert text.startswith(b"\xef\xbb\xbf")
    lines = text.decode("utf-8-sig").splitlines()
    assert len(lines) == 4  # header + three EPB units
    assert all(line.startswith("epb-district-2007,") for line in lines[1:])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--out", "x.pdf"], ".xlsx 或 .csv"),
        (["--out", "x.xlsx", "--scheme", "nope"], "没有方案 nope"),
        (["--out", "x.xlsx", "--as-of", "2026-13-01"], "--as-of"),
    ],
)
async def test_tally_bad_arguments(url, tmp_path: Path, argv: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    code, _, err = await _cli("tally", "--year", str(YEAR), *argv)
    assert code == 1 and message in err


async def test_grade_confirm_then_tally_marks_it(url, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, stdout, err = await _cli(
        "grade",
        "confirm",
        "--unit",
        "椒江区",
        "--year",
        str(YEAR),
        "--grade",
        "合格",
        "--reason",
        "重点工程未完成，按第七条降为合格",
        "--actor",
        "cmb-wang",
    )
    assert code == 0, err
    assert "椒江区 2026年度最终等次合格" in stdout
    code, stdout, _ = await _cli("grade", "show", "--unit", "椒江区", "--year", str(YEAR))
    assert code == 0 and "合格（现行） cmb-wang：重点工程未完成" in stdout
    out = tmp_path / "t.xlsx"
    # as of today (the confirmation is dated now), so that the tally knows it
    code, _, err = await _cli("tally", "--year", str(YEAR), "--out", str(out))
    assert code == 0, err
    ws = load_workbook(out)["汇总-chuangmo-taizhou"]
    headers = [c.value for c in ws[2]]
    row = next(r for r in ws.iter_rows(min_row=3, values_only=True) if r[1] == "椒江区")
    record = dict(zip(headers, row, strict=True))
    assert record["最终等次"] == "合格" and record["等次确认"] == "已确认"


async def test_grade_confirm_refusals(url) -> None:  # type: ignore[no-untyped-def]
    base = ["grade", "confirm", "--year", str(YEAR), "--actor", "cmb"]
    code, _, err = await _cli(*base, "--unit", "无此单位", "--grade", "良好", "--reason", "x")
    assert code == 1 and "没有名为" in err
    code, _, err = await _cli(*base, "--unit", "椒江区", "--grade", "良好", "--reason", "  ")
    assert code == 1 and "理由" in err
    with contextlib.redirect_stderr(io.StringIO()), pytest.raises(SystemExit):
        main([*base, "--unit", "椒江区", "--grade", "很好", "--reason", "x"])


async def test_grade_confirm_above_the_rules_needs_exception(url) -> None:  # type: ignore[no-untyped-def]
    base = ["grade", "confirm", "--year", str(YEAR), "--actor", "cmb", "--unit", "椒江区"]
    code, _, err = await _cli(*base, "--grade", "优秀", "--reason", "表现突出")
    assert code == 1 and "按第七条最高可评" in err and "--exception" in err
    code, stdout, err = await _cli(*base, "--grade", "优秀", "--reason", "经研究", "--exception")
    assert code == 0, err
    code, stdout, _ = await _cli("grade", "show", "--unit", "椒江区", "--year", str(YEAR))
    assert "优秀（现行） 【例外】cmb：经研究" in stdout


async def test_tally_and_report_of_one_assessment(url, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """分级考核 on the command line: `--assessment` takes an assessment's units only (by name or
    number); an assessment with nothing recorded has no tally; an unknown name is an error."""
    from bot.settings import get_settings
    from storage.assessments import add_assessment
    from storage.db import Database

    db = Database(get_settings().database_url)
    try:
        async with db.session() as s:
            await add_assessment(s, "路桥区创模考核", actor="test", year=YEAR)
            await s.commit()
    finally:
        await db.dispose()
    common = ("--year", str(YEAR), "--as-of", AS_OF.isoformat())
    _, everyone, _ = await _cli("tally", *common, "--out", str(tmp_path / "all.csv"))
    code, default, err = await _cli(
        "tally", *common, "--assessment", "1", "--out", str(tmp_path / "one.csv")
    )
    assert code == 0, err
    assert default.replace("one.csv", "all.csv") == everyone  # the seeded units are all in 1
    code, _, err = await _cli(
        "tally", *common, "--assessment", "路桥区创模考核", "--out", str(tmp_path / "town.csv")
    )
    assert code == 1 and "没有任何考核记录" in err
    assert not (tmp_path / "town.csv").exists()
    code, _, err = await _cli(
        "tally", *common, "--assessment", "黄岩区考核", "--out", str(tmp_path / "x.csv")
    )
    assert code == 1 and "没有考核「黄岩区考核」" in err and "kaohe assessments list" in err
    code, _, err = await _cli(
        "report",
        "--year",
        str(YEAR),
        "--assessment",
        "黄岩区考核",
        "--out",
        str(tmp_path / "r.docx"),
    )
    assert code == 1 and "没有考核「黄岩区考核」" in err


async def test_a_database_without_tables_is_named_not_traced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command against a database that was never migrated (or another file) says so and what
    to do, instead of a Python traceback."""
    from bot.settings import get_settings

    monkeypatch.setenv("KAOHE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    try:
        for argv in (
            ("tally", "--year", str(YEAR), "--out", str(tmp_path / "t.xlsx")),
            ("tally", "--year", str(YEAR), "--assessment", "x", "--out", str(tmp_path / "t.csv")),
        ):
            code, _, err = await _cli(*argv)
            assert code == 1 and "数据库尚未初始化" in err and "kaohe db upgrade" in err
            assert "Traceback" not in err
    finally:
        get_settings.cache_clear()
