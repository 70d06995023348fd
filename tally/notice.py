"""The published result (seed 000 第十条, 第十二条): the 通报 as a Word document.

`notice_of(tally, ...)` turns a year's tally into the notice's content — it refuses while any
unit's grade is not confirmed, naming the units — and `write_notice(notice, path)` lays it out
as a government document after GB/T 9704: A4, the usual margins, 方正小标宋 title, 仿宋 body,
黑体/楷体 headings (each with a 宋体/黑体 fallback recorded in the font table, so a machine without
the 方正 fonts still shows Chinese), page numbers "— 1 —" at the foot, and an annex with the
ranking table. The content and the layout are apart so that the content can be tested as data.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from scoring.scorecard import GRADES, Level
from storage.db import Database
from tally.build import Tally

KIND_LABELS = {"district": "各区", "department": "市级有关部门"}
NUMERALS = "一二三四五六七八九十"


class NoticeError(ValueError):
    """The notice cannot be written yet (unconfirmed grades, no units)."""


@dataclass(frozen=True)
class RankedUnit:
    rank: int
    unit: str
    total: Decimal
    grade: str


@dataclass(frozen=True)
class Group:
    label: str  # 各区 / 市级有关部门
    units: tuple[RankedUnit, ...]  # by rank


@dataclass(frozen=True)
class Notice:
    year: int
    basis: tuple[str, ...]  # the methods (scheme names) the assessment followed
    issuer: str
    issued_on: date
    groups: tuple[Group, ...]
    number: str = ""  # 文号, e.g. 台创模〔2027〕1号

    @property
    def title(self) -> str:
        return f"关于{self.year}年度“创模”工作目标责任考核结果的通报"

    @property
    def annex_title(self) -> str:
        return f"{self.year}年度“创模”工作目标责任考核得分排名表"

    def by_grade(self, grade: str) -> list[str]:
        return [u.unit for g in self.groups for u in g.units if u.grade == grade]

    def grade_counts(self) -> str:
        """How many units got each grade: "优秀 2 个，良好 3 个，合格 0 个，不合格 0 个"."""
        return "，".join(f"{g}{len(self.by_grade(g))}个" for g in GRADES)


def default_issuer(basis: tuple[str, ...]) -> str:
    """“台州市“创模”工作领导小组” from the method's name; the group that approves the result
    (第十条)."""
    city = next((m.group(1) for b in basis if (m := re.match(r"^(.+?市)", b))), "")
    return f"{city}“创模”工作领导小组"


def _ranked(rows: list[tuple[str, Decimal, str]]) -> tuple[RankedUnit, ...]:
    """Competition ranking (1, 2, 2, 4) by total, then by name for a stable order."""
    ordered = sorted(rows, key=lambda r: (-r[1], r[0]))
    out: list[RankedUnit] = []
    for n, (unit, total, grade) in enumerate(ordered, start=1):
        rank = out[-1].rank if out and out[-1].total == total else n
        out.append(RankedUnit(rank, unit, total, grade))
    return tuple(out)


def notice_of(
    tally: Tally, *, issued_on: date, issuer: str | None = None, number: str = ""
) -> Notice:
    """The notice's content from a tally whose grades are all confirmed."""
    rows = tally.rows
    if not rows:
        raise NoticeError(f"{tally.year}年度没有可通报的单位")
    unconfirmed = [row.unit for row in rows if not row.confirmed]
    if unconfirmed:
        raise NoticeError(
            f"以下{len(unconfirmed)}个单位的等次尚未确认：{'、'.join(unconfirmed)}。"
            "请先逐一确认等次（聊天中发送「定级 单位 等次 理由」，或用 kaohe grade confirm），再生成通报"
        )
    groups = []
    for kind, label in KIND_LABELS.items():
        mine = [(r.unit, r.total, r.grade or "") for r in rows if r.kind == kind]
        if mine:
            groups.append(Group(label, _ranked(mine)))
    others = [(r.unit, r.total, r.grade or "") for r in rows if r.kind not in KIND_LABELS]
    if others:
        groups.append(Group("其他单位", _ranked(others)))
    basis = tuple(s.name for s in tally.schemes)
    return Notice(
        year=tally.year,
        basis=basis,
        issuer=issuer or default_issuer(basis),
        issued_on=issued_on,
        groups=tuple(groups),
        number=number,
    )


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def points(value: Decimal) -> str:
    """Two decimals, rounded half up as scores are published."""
    return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}"


def paragraphs(notice: Notice) -> list[tuple[str, str]]:
    """The body as (style, text) pairs: style is heading1 | heading2 | body | plain."""
    basis = "、".join(f"《{b}》" for b in notice.basis)
    out: list[tuple[str, str]] = [
        ("plain", "各区党委、政府，市级有关部门："),
        (
            "body",
            f"根据{basis}（以下简称《办法》）第七条、第十条规定，经考核小组考核评估，"
            f"“创模”办会审，报“创模”工作领导小组审定，现将{notice.year}年度“创模”工作"
            "目标责任考核结果通报如下：",
        ),
        ("heading1", "一、考核结果"),
    ]
    n = 0
    for grade in GRADES:
        units = notice.by_grade(grade)
        if not units:
            continue
        out.append(("body", f"（{NUMERALS[n]}）{grade}（{len(units)}个）：{'、'.join(units)}。"))
        n += 1
    out.append(("body", "各单位得分及排名见附件。"))
    excellent, failed = notice.by_grade(Level.EXCELLENT), notice.by_grade(Level.FAIL)
    out.append(("heading1", "二、表彰和批评"))
    if excellent:
        out.append(
            (
                "body",
                f"根据《办法》第十二条，对考核结果为优秀的{'、'.join(excellent)}"
                f"{'等' + str(len(excellent)) + '个单位' if len(excellent) > 1 else ''}"
                "予以通报表彰。希望受到表彰的单位珍惜荣誉，再接再厉，继续发挥示范带头作用。",
            )
        )
    if failed:
        out.append(
            (
                "body",
                f"对考核结果为不合格的{'、'.join(failed)}予以通报批评。"
                "请被批评单位认真查找原因，制定整改措施，限期整改，并于一个月内将整改情况"
                "书面报送“创模”办；对产生明显后果或严重影响的，依照《办法》追究主要领导和"
                "分管领导的责任，并对主要负责人进行诫勉谈话。",
            )
        )
    if not excellent and not failed:
        out.append(("body", "本年度无考核结果为优秀或不合格的单位。"))
    out += [
        ("heading1", "三、工作要求"),
        (
            "body",
            "各单位要对照考核中发现的问题，认真总结经验，查漏补缺，进一步落实“创模”工作目标"
            "责任，确保各项年度工作指标和重点工程按期完成，为创建国家环境保护模范城市作出"
            "新的贡献。",
        ),
    ]
    return out


# ---- layout ---------------------------------------------------------------------------------

# (the font a document names, the font a machine without it shows instead)
TITLE_FONT = ("方正小标宋简体", "宋体")
BODY_FONT = ("仿宋_GB2312", "仿宋")
HEADING1_FONT = ("黑体", "SimHei")
HEADING2_FONT = ("楷体_GB2312", "楷体")
LATIN_FONT = "Times New Roman"


async def year_notice(
    db: Database,
    year: int,
    out: str | Path,
    *,
    issued_on: date,
    issuer: str | None = None,
    number: str = "",
    scheme_ids: Iterable[str] | None = None,
) -> tuple[Notice, Path]:
    """The notice of `year` from the ledger and the confirmed grades, written to `out` (in a
    worker thread); NoticeError while a grade is unconfirmed."""
    from tally.service import load_tally

    tally = await load_tally(db, year, as_of=issued_on, scheme_ids=scheme_ids)
    notice = notice_of(tally, issued_on=issued_on, issuer=issuer, number=number)
    return notice, await asyncio.to_thread(write_notice, notice, out)


def write_notice(notice: Notice, path: str | Path) -> Path:
    """Write the notice as .docx to `path`."""
    from tally.notice_docx import render

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    render(notice, paragraphs(notice)).save(str(out))
    return out
