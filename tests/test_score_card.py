"""The score card as liaisons read it (issue 20), for both built-in schemes at several dates:
what is assessed and what is not, the grade with its basis, names before codes, whole sentences
within one 2,048-byte message; 扣分原因, 得分明细 and one indicator; scheme-aware help; the admin's
replies naming what changed."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from handlers.channel import Section, cut_sentences, fit_sections, utf8_len
from handlers.intents import IntentName, parse
from handlers.lookup import find_indicator, rule_label, rule_ref
from handlers.scoretext import detail_text, indicator_text, losses_text, rows_of, score_text
from scoring import load_builtin, score
from scoring.facts import AdminEntry, EntryKind, Facts, Submission, Task
from scoring.model import Scheme
from scoring.numbers import fmt
from scoring.scorecard import ScoreCard
from tests.chat_env import bench

YEAR = 2026
LIMIT = 2048
SCHEMES = ("chuangmo-taizhou", "epb-district-2007")
DATES = {
    "january": date(YEAR, 1, 20),
    "june": date(YEAR, 6, 15),
    "30 november": date(YEAR, 11, 30),
    "after the year": date(YEAR + 1, 1, 20),
}


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 2, tzinfo=UTC)


def facts_of(scheme: Scheme, as_of: date, *, diligent: bool = True) -> Facts:
    """A unit's year up to `as_of`: 政务信息 each month (some short), tasks of every kind the
    scheme scores (some late, some done), and a few entries of every verb's kind."""
    subs: list[Submission] = []
    quota = next(r for r in scheme.rules() if r.kind == "quota")
    n = 0
    for month in range(1, 13):
        for i in range(4 if diligent and month % 3 else 2 + month % 2):
            day = date(YEAR, month, 3 + i)
            if day <= as_of:
                n += 1
                subs.append(Submission(f"S{n}", quota.target, _at(day), f"{YEAR}-{month:02d}"))
    tasks: list[Task] = []
    for kind in ("feedback", "annual_target", "key_project", "assigned"):
        for i in range(3):
            due = date(YEAR, 3 + 4 * i, 20) if kind == "feedback" else date(YEAR, 12, 31)
            done = _at(due - timedelta(days=1)) if i == 0 and due <= as_of + timedelta(99) else None
            tasks.append(
                Task(f"{kind[0].upper()}{i + 1}", kind, due, f"任务{i + 1}", completed_at=done)
            )
            if kind == "feedback" and i == 0 and due <= as_of:
                subs.append(Submission(f"S{n + 100}", "C3a", _at(due), kind="feedback", task="F1"))
    entries: list[AdminEntry] = []
    at = _at(min(as_of, date(YEAR, 12, 31)))
    for rule in scheme.rules()[::3]:
        value = {
            "discretionary": Decimal(1),
            "award": Decimal(1),
            "deduction": Decimal("0.1"),
            "ratio": Decimal("0.7"),
            "threshold": Decimal("0.9"),
            "stepped_rate": Decimal("0.6"),
        }.get(rule.kind)
        if value is not None and as_of >= date(YEAR, 6, 1):
            kind = {
                "discretionary": EntryKind.POINTS,
                "deduction": EntryKind.DEDUCTION,
                "award": EntryKind.CONFIRMATION,
            }.get(rule.kind, EntryKind.RATE)
            entries.append(AdminEntry(f"E{len(entries) + 1}", kind, rule.id, at, value))
    return Facts("椒江区", YEAR, tuple(subs), tuple(tasks), tuple(entries))


_CODE = re.compile(r"(?<![A-Za-z0-9])[A-Z]+\d+[a-z]?(?:\.\d+)?(?![A-Za-z0-9.])")


def codes_with_names(scheme: Scheme, text: str) -> list[str]:
    """Indicator codes in `text` not shown as "名称（code）" or "「名称」「code」" (entry numbers
    E1… are not shown at all)."""
    names = {t.id: t.name for t in scheme.targets_by_id.values()}
    names |= {r.id: scheme.target(r.target).name for r in scheme.rules()}
    names |= {i.id: i.name for i in scheme.items}
    bad = []
    for match in _CODE.finditer(text):
        code = match.group()
        before = text[: match.start()]
        if code in names:
            name = names[code]
            if not (before.endswith(f"{name}（") or before.endswith(f"「{name}」「")):
                bad.append(code)
        elif re.fullmatch(r"E\d+", code):
            bad.append(code)
    return bad


def whole(text: str) -> None:
    """Within one message, and no sentence cut: "…" only as the "……" of a left-out note."""
    assert utf8_len(text) <= LIMIT, utf8_len(text)
    assert not re.search(r"(?<!…)…(?!…)", text), text
    assert not re.search(r"−0(?![.\d])", text), text


def card_at(scheme_id: str, as_of: date, **kw: bool) -> tuple[Scheme, ScoreCard]:
    scheme = load_builtin(scheme_id)
    return scheme, score(scheme, facts_of(scheme, as_of, **kw), as_of)


@pytest.mark.parametrize("when", list(DATES))
@pytest.mark.parametrize("scheme_id", SCHEMES)
def test_score_card_states_what_is_pending_in_whole_sentences(scheme_id: str, when: str) -> None:
    scheme, card = card_at(scheme_id, DATES[when])
    text = score_text(card)
    whole(text)
    assert codes_with_names(scheme, text) == []
    assert f"基本分{fmt(card.base_total)}/{fmt(card.base_max)}" in text
    # assessed and pending add up to the maximum; what is pending is said, with who decides it
    assert card.assessed_max + card.open_points == card.base_max
    assert card.base_total <= card.assessed_max
    if card.open_points > 0:
        assert f"尚待评定{fmt(card.open_points)}分" in text
        assert f"已评部分满分{fmt(card.assessed_max)}" in text
        assert re.search(r"尚待评定[\d.]+分（[^）]*(评定|计分)）", text)
    if "失分（共" in text:  # the total lost adds up with the headline, but for rounding
        lost = card.base_max - card.open_points - card.base_total
        said = Decimal(re.findall(r"失分（共([\d.]+)分）", text)[0])
        assert abs(said - lost) <= Decimal("0.01") * len(rows_of(card, scheme)), text
    if card.credited > 0:
        assert f"其中{fmt(card.credited)}分所属期次尚未到期，暂按满分计入" in text
    # every loss shown is whole: the rule's explanation as the engine wrote it
    for row in rows_of(card, scheme):
        if row.lost > 0 and f"{row.label}−" in text:
            line = next(x for x in text.split("\n") if x.startswith(f"· {row.label}−"))
            assert line.endswith(re.sub(r"（E\d+）", "", row.line.explanation))
    if scheme.grading is not None:
        assert card.grade is not None
        grade = next(x for x in text.split("\n") if x.startswith("建议等次"))
        assert f"建议等次：{card.grade.level}" in grade and "依据：" in grade
        assert grade.endswith("。")
    assert "「扣分原因」" in text and "「得分明细」" in text


def test_january_card_says_almost_everything_is_still_to_be_assessed() -> None:
    _, card = card_at("chuangmo-taizhou", DATES["january"])
    text = score_text(card)
    assert card.open_points >= 80  # awards, discretionary points, annual targets, projects
    assert "尚待评定" in text and "年底前由市创模办评定或按任务完成情况计分" in text
    # the grade says what it rests on and what would change it
    assert "依据：基本分" in text and "全部得到，基本分可达" in text
    assert "各项任务须在截止日前完成，逾期未完成即为不合格" in text


def test_30_november_card_of_the_issue() -> None:
    """On 30 November: the losses with whole explanations, November's 政务信息 credited until due."""
    _, card = card_at("chuangmo-taizhou", DATES["30 november"], diligent=False)
    text = score_text(card)
    whole(text)
    assert "工作信息（C3b）−" in text and "等 " not in text.split("工作信息（C3b）−")[1][:5]
    info = next(x for x in text.split("\n") if x.startswith("· 工作信息（C3b）−"))
    assert info.endswith("按比例扣")  # "…等 7 期；每…" no more
    assert "工作信息（C3b）1分尚未到期，暂按满分计" in text


def test_after_the_year_the_grade_is_no_longer_provisional() -> None:
    scheme = load_builtin("chuangmo-taizhou")
    facts = facts_of(scheme, date(YEAR, 12, 31))
    done = tuple(
        Task(t.id, t.kind, t.due, t.title, completed_at=_at(date(YEAR, 12, 1))) for t in facts.tasks
    )
    entries = [
        AdminEntry(f"E{n}", kind, rule, _at(date(YEAR, 12, 20)), value)
        for n, (kind, rule, value) in enumerate(
            [
                (EntryKind.CONFIRMATION, "C1a.1", Decimal(1)),
                (EntryKind.CONFIRMATION, "C1b.1", Decimal(1)),
                (EntryKind.CONFIRMATION, "C1c.1", Decimal(1)),
                (EntryKind.POINTS, "C2.1", Decimal(8)),
                (EntryKind.POINTS, "C4.1", Decimal(9)),
            ],
            start=1,
        )
    ]
    reports = tuple(
        Submission(f"R{n}", target, _at(date(YEAR, 12, 10)), str(YEAR), kind="report")
        for n, target in enumerate(("C4b", "C4c"))
    )
    full = Facts("椒江区", YEAR, facts.submissions + reports, done, tuple(entries))
    card = score(scheme, full, DATES["after the year"])
    text = score_text(card)
    whole(text)
    assert card.open_points == 0 and not card.pending
    assert "各项指标均已评定" in text and "尚待评定" not in text
    assert "（考核年度已结束，由考核组确认）" in text
    assert "档案资料（C4a）−1" in text  # 9 of 10


def test_a_long_card_drops_the_least_important_lines_and_says_so() -> None:
    """epb after the year with nothing confirmed: dozens of losses; the largest are kept whole, the
    rest counted, and the message still fits."""
    scheme = load_builtin("epb-district-2007")
    card = score(scheme, Facts("黄岩区环保局", YEAR), DATES["after the year"])
    text = score_text(card)
    whole(text)
    assert re.search(r"……另有\d+项失分较少，发送「扣分原因」查看", text)
    shown = [x for x in text.split("\n") if x.startswith("· ") and "−" in x]
    values = [Decimal(x.split("−")[1].split("：")[0]) for x in shown]
    assert values == sorted(values, reverse=True) and len(values) >= 5
    assert text.endswith("对得分有疑问请联系市创模办）")  # the tail is never dropped
    assert codes_with_names(scheme, text) == []


@pytest.mark.parametrize("scheme_id", SCHEMES)
def test_losses_detail_and_one_indicator_fit_and_name_first(scheme_id: str) -> None:
    scheme, card = card_at(scheme_id, DATES["30 november"], diligent=False)
    for text in (losses_text(card), detail_text(card)):
        whole(text)
    quota = next(r for r in scheme.rules() if r.kind == "quota")
    text = indicator_text(card, find_indicator(scheme, rule_ref(scheme, quota.id)))
    whole(text)
    assert text.startswith(f"{rule_label(scheme, quota.id)}（截至11月30日）")
    assert f"规则：{quota.text}" in text and "情况：到期" in text and "可做：" in text


def test_fit_sections_keeps_head_and_tail_and_drops_from_the_last_section() -> None:
    head, tail = ["头"], ["尾。"]
    first = Section([f"甲{i}" * 10 for i in range(10)], "甲：", "……甲另有{n}项")
    second = Section([f"乙{i}" * 50 for i in range(10)], "乙：", "……乙另有{n}项")
    text = fit_sections(head, [first, second], tail, limit=1200)
    assert utf8_len(text) <= 1200 and text.startswith("头\n甲：") and text.endswith("尾。")
    assert "……乙另有" in text and "……甲另有" not in text  # the last section gives way first
    assert cut_sentences("第一句。第二句很长" * 50, 100).endswith("。……")


def test_indicator_by_code_or_name_is_parsed() -> None:
    for text in ("C3b", "c3b", "为什么扣分 C3b", "C3b扣分原因？", "T20.5"):
        intent = parse(text)
        assert intent.name == IntentName.INDICATOR and intent.args["ref"].upper() in {
            "C3B",
            "T20.5",
        }
    chuangmo, epb = load_builtin(SCHEMES[0]), load_builtin(SCHEMES[1])
    assert find_indicator(chuangmo, "工作信息") == find_indicator(chuangmo, "c3b") == ("C3b.1",)
    assert find_indicator(chuangmo, "C4a") == ("C4.1",) and rule_ref(chuangmo, "C4.1") == "C4a"
    assert find_indicator(epb, "T20.5") == ("T20.5",) and rule_ref(epb, "T20.5") == "T20.5"
    assert find_indicator(epb, "12") == ()  # an item's bare number is not an indicator
    assert find_indicator(chuangmo, "T16") == ()


# ---- through the chat ----------------------------------------------------------------------------


async def test_why_points_were_lost_and_one_indicator_in_chat(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 3, 2)
        for month in (1, 2):
            b.clock.set(2026, month, 10)
            await b.say("zhangsan", f"政务信息：{month}月信息\n正文{month}")
        b.clock.set(2026, 3, 2)
        card = await b.say("zhangsan", "我的得分")
        assert "工作信息（C3b）−" in card and "尚待评定" in card and "「扣分原因」" in card
        losses = await b.say("zhangsan", "扣分原因")
        assert losses.startswith("椒江区2026年度失分原因（截至3月2日）")
        assert "【工作信息（C3b）−" in losses
        assert "规则：及时报送工作信息6分（每月政务信息4篇，没有完成任务按比例扣分）" in losses
        assert "情况：到期2期，未完成：1月：1/4篇，2月：1/4篇" in losses
        assert "可做：每月报满4篇即不扣分" in losses
        assert await b.say("zhangsan", "为什么扣分") == losses
        one = await b.say("zhangsan", "C3b")
        assert one.startswith("工作信息（C3b）（截至3月2日）：得") and "未到期：" in one
        assert await b.say("zhangsan", "工作信息") == one == await b.say("zhangsan", "c3b扣分原因")
        assert "本单位的考核方案中没有指标「T16」" in await b.say("zhangsan", "T16")
        # names of targets and items, including names that end in a question word ("指标")
        assert (await b.say("zhangsan", "年度工作指标")).startswith("年度工作指标（W1a）（截至")
        both = await b.say("zhangsan", "组织领导")
        assert "领导机制（C1a）" in both and "固定联络员（C1c）" in both
        assert "可做：本单位没有此类任务，本项不计分。" not in await b.say("zhangsan", "W1a")
        # a question about an indicator by its name
        for question in ("档案资料怎么还没分", "档案资料为什么是0分？"):
            assert (await b.say("zhangsan", question)).startswith("档案资料（C4a）（截至")
        assert (await b.say("zhangsan", "工作信息扣分了吗")).startswith("工作信息（C3b）（截至")
        detail = await b.say("zhangsan", "得分明细")
        assert "组织领导（C1）" in detail and "· 档案资料（C4a）0/10（待定）" in detail
        # the epb liaison: the same words, its own indicators
        b.clock.set(2026, 3, 2)
        one = await b.say("qianba", "T16")
        assert one.startswith("每月完成政务信息4篇（T16）（截至3月2日）")
        for reply in b.replies:
            whole(reply[1])


async def test_help_and_hints_follow_the_units_scheme(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 10)
        chuangmo = await b.say("zhangsan", "帮助")
        assert "「自查报告 内容」「年度总结 内容」" in chuangmo
        for word in ("月报", "季报", "年报 内容"):
            assert word not in chuangmo
        assert "「扣分原因」「得分明细」" in chuangmo and "「工作信息」「C3b」" in chuangmo
        assert "测评（各区分管领导）" in chuangmo
        epb = await b.say("qianba", "帮助")
        assert "「月报 10月 内容」「季报 三季度 内容」「年报 内容」" in epb
        assert "「每月完成政务信息4篇」「T16」" in epb and "测评" not in epb
        assert [line[:2] for line in epb.split("\n")[1:]] == [f"{n}." for n in range(1, 9)]
        no = await b.say("zhangsan", "月报 10月 本月工作情况")
        assert "本单位的考核方案中没有「月报」这一项，未登记" in no
        assert "本单位需报送的是：自查报告、年度总结。" in no


async def test_admin_entries_say_what_changed_and_which_entry_fits(
    database, tmp_path: Path
) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 10)
        await b.say("zhangsan", "政务信息：一篇\n正文")
        # the code the liaison sees is the one the admin types back, and the reply uses it
        reply = await b.say("admin1", "打分 椒江区 C4a 8 档案基本齐全")
        assert re.fullmatch(
            r"已为椒江区记录（E\d+）：打分 档案资料（C4a）8，理由：档案基本齐全。"
            r"椒江区基本分[\d.]+→[\d.]+（档案资料（C4a）0→8）。",
            reply,
        ), reply
        again = await b.say("admin1", "打分 椒江区 C4a 8 档案基本齐全")
        assert "档案资料（C4a）" in again and "确定要再记一次吗" in again
        await b.say("admin1", "取消")
        same = await b.say("admin1", "打分 椒江区 C4a 8 复核后不变")
        assert "基本分不变" in same and "档案资料（C4a）" in same
        # a deduction on what is not a deduction says which entry the indicator takes
        quota = await b.say("admin1", "扣分 椒江区 C3b 0.5 迟报")
        assert quota.startswith("工作信息（C3b）不能「扣分」：该指标是「每期定量报送")
        assert "按本单位的报送自动计分" in quota
        points = await b.say("admin1", "扣分 椒江区 C4a 1 不全")
        assert "档案资料（C4a）不能「扣分」" in points and "请用「打分」或「评分」" in points
        assert "「打分 椒江区 C4a 分值 理由」" in points
        tasks = await b.say("admin1", "扣分 椒江区 W1a 1 未完成")
        assert "「任务完成 椒江区 任务编号 理由」" in tasks
        several = await b.say("admin1", "扣分 黄岩区环保局 T20 0.1 未及时查处")
        assert several.startswith("群众投诉受理查处和12369热线（T20.1）有7条可「扣分」的规则")
        assert "T20.5" in several
        assert "没有指标或规则「X9」" in await b.say("admin1", "扣分 椒江区 X9 1 无")
        # several units at once: each unit's change, and how many did not change
        assert "确定仍要布置吗" in await b.say("admin1", "布置任务 全部 3月10日 报送进展")
        assert "已向3个单位布置任务K1" in await b.say("admin1", "确认")
        cancelled = await b.say("admin1", "取消任务 K1 误发")
        assert re.search(r"得分已重新计算：椒江区基本分([\d.]+)→(?!\1)[\d.]+", cancelled), cancelled
        assert "其余1个单位得分不变。" in cancelled  # epb scores no feedback tasks
        assert "取消记录已存档" in cancelled
        deducted = await b.say("admin1", "扣分 黄岩区环保局 T20.5 0.1 未及时查处")
        assert "群众投诉受理查处和12369热线（T20.5）0.1" in deducted
        assert re.search(r"黄岩区环保局基本分[\d.]+→[\d.]+", deducted)


async def test_tally_lists_every_unit_when_few_and_not_assessed_as_pending(
    database, tmp_path: Path
) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 10)
        await b.say("zhangsan", "政务信息：一篇\n正文")
        await b.say("qianba", "政务信息：一篇\n正文")
        summary = await b.say("admin1", "汇总")
        assert "1. 椒江区" in summary and "\n  路桥区：待评（尚无考核记录）" in summary
        assert "末位" not in summary and "黄岩区环保局" in summary
        assert await b.say("admin1", "得分 路桥区") == (
            "路桥区2026年度尚无考核记录，待评（没有报送、任务和评分）。"
        )


def test_tally_summary_hides_the_middle_only_when_there_are_many() -> None:
    from tally import build_tally, summary_text
    from tally.build import TallyUnit

    scheme = load_builtin("chuangmo-taizhou")
    task = (Task("A1", "annual_target", date(YEAR, 12, 31)),)
    units = [
        TallyUnit(f"单位{n}", "department", scheme.id, Facts(f"单位{n}", YEAR, tasks=task))
        for n in range(12)
    ]
    few = summary_text(build_tally(units[:10], {scheme.id: scheme}, date(YEAR, 11, 30), year=YEAR))
    assert all(f"单位{n}：" in few for n in range(10)) and "见附件" in few
    many = summary_text(build_tally(units, {scheme.id: scheme}, date(YEAR, 11, 30), year=YEAR))
    assert "……（第4至11名共8个单位见附件 Excel）" in many


async def test_the_card_in_docs_is_the_demos(database) -> None:  # type: ignore[no-untyped-def]
    """docs/chat.md shows the demo city's card of 30 November as the bot writes it."""
    from bot.demo import seed_demo
    from handlers.scoretext import unit_card
    from storage.units import get_unit_by_name

    await seed_demo(database, datetime(YEAR, 11, 30, 14, tzinfo=UTC))
    async with database.session() as s:
        unit = await get_unit_by_name(s, "椒江区")
    assert unit is not None and unit.id is not None
    card = await unit_card(database, unit.id, unit.scheme_id, YEAR, date(YEAR, 11, 30))
    docs = (Path(__file__).parent.parent / "docs" / "chat.md").read_text(encoding="utf-8")
    assert f"```\n{score_text(card)}\n```" in docs
    quota = find_indicator(load_builtin("chuangmo-taizhou"), "工作信息")
    assert f"```\n{indicator_text(card, quota)}\n```" in docs


def test_the_terminal_card_has_no_minus_zero() -> None:
    """`kaohe score` prints a rule that lost nothing as 0, never "−0"."""
    from scoring import render_text

    _, card = card_at("chuangmo-taizhou", DATES["30 november"])
    text = render_text(card)
    assert "C2b.1 0：" in text and not re.search(r"[−+]0(?![.\d])", text)


def test_the_dashboard_shows_the_codes_the_office_types_and_no_minus_zero() -> None:
    from bot.dashboard.views import card_blocks

    _, card = card_at("chuangmo-taizhou", DATES["30 november"])
    rows = [r for block in card_blocks(card) for t in block.targets for r in t.rules]
    ids = {r.id for r in rows}
    assert {"C4a", "C2a", "C3b", "W1a"} <= ids and not ids & {"C4.1", "C2.1", "W1.1"}
    assert all(r.value != "−0" and r.value != "+0" for r in rows)


def test_explanations_name_task_kinds_in_words() -> None:
    scheme = load_builtin("chuangmo-taizhou")
    tasks = (Task("A1", "annual_target", date(YEAR, 12, 31)),)
    card = score(scheme, Facts("住建局", YEAR, tasks=tasks), DATES["30 november"])
    text = score_text(card)
    assert "（无重点工程任务，本项按60分计）" in text
    assert "key_project" not in text and "annual_target" not in text


async def test_the_demo_dates_nothing_after_now(database) -> None:  # type: ignore[no-untyped-def]
    """Seeded at 01:28 on 1 December (Beijing), the demo's items of that day are not dated
    10:00, later than "now" (进度 and 未报 disagreed about them)."""
    from sqlmodel import select

    from bot.demo import seed_demo
    from storage.models import Submission

    now = datetime(YEAR, 11, 30, 17, 28, tzinfo=UTC)  # 12月1日 01:28 in Asia/Shanghai
    await seed_demo(database, now)
    async with database.session() as s:
        times = [sub.submitted_at for sub in (await s.exec(select(Submission))).all()]
    assert times and max(times) <= now


@pytest.mark.parametrize(
    "facts_file, scheme_id",
    [
        ("facts-chuangmo-jiaojiang-2026.yaml", "chuangmo-taizhou"),
        ("facts-epb-luqiao-2007.yaml", "epb-district-2007"),
    ],
)
def test_explanations_are_words_not_formulas(facts_file: str, scheme_id: str) -> None:
    """「完成2/3项 × 13.33分」 read as a formula: every rule's explanation in the replies says it in
    words (共3项，已完成2项，每项13.33分; 按比例扣1.2分; 扣分3次，每次0.1分)."""
    from scoring import load_facts_file

    facts = load_facts_file(Path(__file__).parent / "data" / facts_file)
    scheme = load_builtin(scheme_id)
    card = score(scheme, facts, date(facts.year + 1, 1, 20))
    explained = [r.explanation for i in card.items for t in i.targets for r in t.rules]
    assert [e for e in explained if "×" in e] == []
    for text in (score_text(card), losses_text(card), detail_text(card)):
        assert "×" not in text
    if scheme_id == "chuangmo-taizhou":
        assert card.rule("W1.1").explanation.startswith("共4项，已完成3项，每项10分")
        assert card.rule("C3a.1").explanation.endswith("按比例扣1.5分")


def _lines_add_up(text: str, head: str, line: str) -> bool:
    """Whether the total in `head` is the sum of the loss lines `line` matches in `text`."""
    found = re.search(head, text)
    if found is None:
        return True  # nothing lost
    values = [Decimal(v) for v in re.findall(line, text)]
    assert values, text
    return Decimal(found.group(1)) == sum(values, Decimal(0))


def _losses_add_up(card: ScoreCard) -> None:
    card_text, losses = score_text(card), losses_text(card)
    if "项失分较少" not in card_text:
        assert _lines_add_up(card_text, r"失分（共([\d.]+)分）", r"\n· [^\n]*?−([\d.]+)："), (
            card_text
        )
    if "项失分较少" not in losses:
        assert _lines_add_up(losses, r"共失分([\d.]+)分", r"【[^】]*?−([\d.]+)】"), losses


async def test_lost_points_add_up_to_their_total(database) -> None:  # type: ignore[no-untyped-def]
    """「失分（共N分）」 and 「共失分N分」 are the sum of the loss lines below them, each rounded half
    up from its exact value (the demo's 市生态环境局 on 1 December: −2, −1.2 and −0.13 for a
    loss of 0.125, in all 3.33, where the total had been 90 − 86.68 = 3.32)."""
    from bot.demo import seed_demo
    from handlers.scoretext import unit_card
    from storage.units import list_units

    for scheme_id in SCHEMES:
        for day in DATES.values():
            for diligent in (True, False):
                _losses_add_up(card_at(scheme_id, day, diligent=diligent)[1])
    await seed_demo(database, datetime(YEAR, 12, 1, 2, tzinfo=UTC))
    async with database.session() as s:
        units = await list_units(s)
    for unit in units:
        assert unit.id is not None
        card = await unit_card(database, unit.id, unit.scheme_id, YEAR, date(YEAR, 12, 1))
        _losses_add_up(card)
        if unit.name == "市生态环境局":
            assert "失分（共3.33分）" in score_text(card)
            assert card.base_total == Decimal("86.68")  # the score itself is unchanged
