"""The tally from the database: load (read_facts + final grades), build, write, summarise.

`year_tally(db, year, as_of=..., out_dir=...)` is what the chat layer calls for "汇总 2026": it
returns a short Chinese summary and the paths of the workbook and the chart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from handlers.channel import TEXT_LIMIT, fit_lines
from scoring import Scheme, SchemeError, load_builtin
from scoring.numbers import fmt
from scoring.periods import end_of_day
from storage import scope
from storage.db import Database
from storage.facts import collector_paused, read_facts
from storage.grades import final_grades
from tally.build import FinalGradeInfo, Tally, TallyRow, TallyUnit, build_tally

NOTHING_TO_TALLY = (
    "{year}年度没有任何考核记录（报送、任务、评分、等次均无），没有可汇总的内容，"
    "未生成汇总表。汇总本年度请发送「汇总」。"
)


async def load_tally(
    db: Database, year: int, *, as_of: date, scheme_ids: Iterable[str] | None = None
) -> Tally:
    """The tally of `year` from the ledger, with only what was known by the end of `as_of`
    (the same facts `kaohe score --unit` uses), and the final grades confirmed by then."""
    known_at = end_of_day(as_of)
    async with db.session() as session:
        unit_ids = await scope.unit_ids_in_scope(session)
        grades = await final_grades(session, year, known_at=known_at)
    # the facts in a unit of work of their own: on SQLite a synchronous one on a database
    # thread, where the year's rows are read with the collector paused (storage.facts.facts_of)
    found = await read_facts(db, year, unit_ids=unit_ids, known_at=known_at)
    schemes: dict[str, Scheme] = {}
    for scheme_id in sorted({uf.scheme_id for uf in found}):
        try:
            schemes[scheme_id] = load_builtin(scheme_id)
        except SchemeError:
            continue  # the unit is listed in Tally.skipped
    with collector_paused():  # every unit's card at once; no await inside
        # (the units made inside the pause too: the facts were read with the collector paused,
        # and the first objects made after it would have it walk the whole year's facts)
        units = [
            TallyUnit(uf.unit.name, uf.unit.kind, uf.scheme_id, uf.facts, uf.unit.id)
            for uf in found
        ]
        names = {uf.unit.id: uf.unit.name for uf in found}
        final = {
            names[unit_id]: FinalGradeInfo(g.grade, g.actor, g.reason, g.at, g.exception)
            for unit_id, g in grades.items()
            if unit_id in names
        }
        return build_tally(
            units, schemes, as_of, year=year, final_grades=final, scheme_ids=scheme_ids
        )


@dataclass(frozen=True)
class TallyResult:
    tally: Tally
    summary_text: str  # fits one WeCom text message
    xlsx_path: Path
    png_path: Path


ALL_UNITS_UP_TO = 10  # a scheme with this many units or fewer lists every one of them


def _row_line(row: TallyRow) -> str:
    if not row.recorded:  # nothing recorded this year: not assessed yet, no rank
        return f"  {row.unit}：待评（尚无考核记录）"
    shown = row.final_text or row.grade  # 良好（例外）, as in the workbook
    grade = "" if shown is None else f"，{shown}"
    mark = "" if row.confirmed or row.grade is None else "（建议）"
    return f"  {row.rank}. {row.unit}：{fmt(row.total)}分{grade}{mark}"


def summary_text(tally: Tally, *, top: int = 3, limit: int = TEXT_LIMIT) -> str:
    """A short Chinese summary for chat: per scheme the units (all of them when there are at most
    `ALL_UNITS_UP_TO`, else the leaders and the last), grades, and the open items."""
    if tally.empty:
        return NOTHING_TO_TALLY.format(year=tally.year)
    state = "（部分指标待定，为阶段得分）" if tally.pending else ""
    lines = [f"{tally.year}年度考核汇总，截至{tally.as_of_text}{state}"]
    if not tally.schemes:
        lines.append("没有可汇总的单位。")
    for st in tally.schemes:
        counts = st.grade_counts()
        confirmed = sum(1 for row in st.rows if row.confirmed)
        grades = "、".join(f"{level}{n}个" for level, n in counts.items()) or "无等次"
        lines.append(f"【{st.name}】{len(st.rows)}个单位：{grades}；已确认等次{confirmed}个")
        if len(st.rows) <= ALL_UNITS_UP_TO:
            ranked = sorted(st.rows, key=lambda row: not row.recorded)  # 待评 last
            lines.extend(_row_line(row) for row in ranked)
            continue
        lines.extend(_row_line(row) for row in st.rows[:top])
        hidden = len(st.rows) - top - 1
        lines.append(f"  ……（第{top + 1}至{len(st.rows) - 1}名共{hidden}个单位见附件 Excel）")
        lines.append(_row_line(st.rows[-1]))
    by_category: dict[str, int] = {}
    for item in tally.open_items:
        by_category[item.category] = by_category.get(item.category, 0) + 1
    if by_category:
        lines.append("待办：" + "，".join(f"{k}{v}项" for k, v in by_category.items()))
    if tally.skipped:
        lines.append("未汇总：" + "、".join(tally.skipped))
    tail = "明细见附件 Excel（各单位得分、计分明细、待办事项）和得分图。"
    return fit_lines(lines[:1], lines[1:], [tail], limit=limit, more="……")


def write_files(tally: Tally, out_dir: Path) -> tuple[Path, Path]:
    """The workbook (with the chart in it) and the chart PNG, written to `out_dir`."""
    from tally.chart import draw_chart
    from tally.excel import write_workbook

    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"kaohe-tally-{tally.year}-{tally.as_of:%Y%m%d}"
    png = draw_chart(tally, out_dir / f"{stem}.png")
    xlsx = write_workbook(tally, out_dir / f"{stem}.xlsx", chart_png=png)
    return xlsx, png


async def year_tally(
    db: Database,
    year: int,
    *,
    as_of: date,
    out_dir: str | Path,
    scheme_ids: Iterable[str] | None = None,
) -> TallyResult:
    """The year-end tally: the workbook and the chart written to `out_dir`, and a short summary.
    The files are written in a worker thread (the event loop keeps serving)."""
    tally = await load_tally(db, year, as_of=as_of, scheme_ids=scheme_ids)
    xlsx, png = await asyncio.to_thread(write_files, tally, Path(out_dir))
    return TallyResult(tally, summary_text(tally), xlsx, png)
