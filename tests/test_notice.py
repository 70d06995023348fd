"""The published result (seed 000 第十条, 第十二条): `kaohe report` writes the 通报 as a Word
document from the confirmed grades, and refuses, naming the units, while any is unconfirmed. The
document is opened with python-docx and checked as a government notice: content, structure, fonts,
page; where LibreOffice is installed it is also rendered to PDF and read back."""

from __future__ import annotations

import asyncio
import contextlib
import io
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from docx import Document
from docx.oxml import parse_xml
from docx.oxml.ns import qn
from tally_helpers import YEAR, seed_file

from bot.cli import main
from storage.db import Database
from storage.grades import set_final_grade
from storage.units import get_unit_by_name

GRADES = {
    "椒江区": "优秀",
    "黄岩区": "合格",
    "路桥区": "不合格",
    "市住建局": "合格",
}  # 临海市: 良好


@pytest.fixture
def db_file(sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from bot.settings import get_settings

    path = tmp_path / "kaohe.db"
    seed_file(path, sqlite_template)
    monkeypatch.setenv("KAOHE_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


async def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()

    def run() -> int:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return main(list(argv))

    return await asyncio.to_thread(run), out.getvalue(), err.getvalue()


async def _confirm(path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        async with db.session() as s:
            for name, grade in GRADES.items():
                unit = await get_unit_by_name(s, name)
                assert unit is not None and unit.id is not None
                await set_final_grade(
                    s,
                    unit_id=unit.id,
                    year=YEAR,
                    grade=grade,
                    actor="cmb-wang",
                    reason="考核小组审定",
                    at=datetime.fromisoformat("2027-01-18T09:00:00+08:00"),
                )
            await s.commit()
    finally:
        await db.dispose()


def _texts(doc) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.text for p in doc.paragraphs if p.text]


async def test_report_refuses_then_writes_the_notice(db_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "通报.docx"
    args = ("report", "--year", "2026", "--scheme", "chuangmo-taizhou", "--date", "2027-01-20")
    code, _, err = await _cli(*args, "--out", str(out))
    assert code == 1 and not out.exists()
    assert "4个单位的等次尚未确认" in err
    for name in GRADES:
        assert name in err
    assert "临海市" not in err  # its grade is confirmed

    await _confirm(db_file)
    code, said, err = await _cli(*args, "--out", str(out), "--number", "台创模〔2027〕1号")
    assert code == 0, err
    assert "优秀1个，良好1个，合格2个，不合格1个" in said

    doc = Document(str(out))
    section = doc.sections[0]
    mm = [round(x.mm) for x in (section.page_width, section.page_height)]
    assert mm == [210, 297]  # A4
    assert [round(x.mm) for x in (section.top_margin, section.left_margin)] == [37, 28]
    texts = _texts(doc)
    assert texts[0] == "台州市“创模”工作领导小组文件"
    assert texts[1] == "台创模〔2027〕1号"
    assert texts[2] == "关于2026年度“创模”工作目标责任考核结果的通报"
    body = "\n".join(texts)
    assert "根据《台州市创建国家环境保护模范城市工作目标责任考核办法》" in body  # the basis
    assert "（一）优秀（1个）：椒江区。" in body
    assert "（二）良好（1个）：临海市。" in body
    assert "（三）合格（2个）：黄岩区、市住建局。" in body
    assert "（四）不合格（1个）：路桥区。" in body
    assert "对考核结果为优秀的椒江区予以通报表彰" in body  # 第十二条
    assert "对考核结果为不合格的路桥区予以通报批评" in body
    assert texts.index("台州市“创模”工作领导小组") < texts.index("2027年1月20日")
    assert "附件：2026年度“创模”工作目标责任考核得分排名表" in body

    # every run names its East Asian font; the title is 方正小标宋, the body 仿宋
    title = next(p for p in doc.paragraphs if p.text == texts[2]).runs[0]
    assert title._element.rPr.rFonts.get(qn("w:eastAsia")) == "方正小标宋简体"
    body_fonts = {
        r._element.rPr.rFonts.get(qn("w:eastAsia"))
        for p in doc.paragraphs
        for r in p.runs
        if r.text.strip()
    }
    assert None not in body_fonts and "仿宋_GB2312" in body_fonts
    # the font table says what stands in for the 方正/GB2312 fonts
    table = next(r.target_part for r in doc.part.rels.values() if r.reltype.endswith("/fontTable"))
    alt = {
        f.get(qn("w:name")): f.find(qn("w:altName")).get(qn("w:val"))
        for f in parse_xml(table.blob).findall(qn("w:font"))
        if f.find(qn("w:altName")) is not None
    }
    assert alt["方正小标宋简体"] == "宋体" and alt["仿宋_GB2312"] == "仿宋"
    # page numbers: a PAGE field in the footer, "— N —"
    footer = section.footer.paragraphs[0]
    assert "PAGE" in "".join(t.text for t in footer._element.iter(qn("w:instrText")))
    assert footer.text.startswith("— ") and footer.text.endswith(" —")

    # the annex: one ranking table per kind of unit, ties share a rank
    districts, departments = doc.tables
    rows = [[c.text for c in row.cells] for row in districts.rows]
    assert rows[0] == ["名次", "单位", "得分", "等次"]
    by_unit = {r[1]: r for r in rows[1:]}
    assert set(by_unit) == {"椒江区", "黄岩区", "路桥区", "临海市"}
    assert by_unit["椒江区"][0] == by_unit["黄岩区"][0]  # the same facts: a tie
    assert by_unit["路桥区"][3] == "不合格"
    dept = [c.text for c in departments.rows[1].cells]
    assert (dept[0], dept[1], dept[3]) == ("1", "市住建局", "合格")


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
async def test_notice_renders_to_pdf(db_file: Path, tmp_path: Path) -> None:
    await _confirm(db_file)
    out = tmp_path / "通报.docx"
    code, _, err = await _cli(
        "report",
        "--year",
        "2026",
        "--scheme",
        "chuangmo-taizhou",
        "--date",
        "2027-01-20",
        "--out",
        str(out),
    )
    assert code == 0, err
    done = subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(out)],
        capture_output=True,
        timeout=180,
        check=False,
    )
    pdf = tmp_path / "通报.pdf"
    assert done.returncode == 0 and pdf.exists(), done.stderr
    if shutil.which("pdftotext") is None:
        return
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = ["".join(p.split()) for p in text.split("\f") if p.strip()]  # layout spaces out
    assert len(pages) >= 2  # the notice, then the annex on a page of its own
    assert "考核结果的通报" in pages[0] and pages[0].endswith("—1—")
    assert pages[-1].startswith("附件") and "得分排名表" in pages[-1] and "路桥区" in pages[-1]
