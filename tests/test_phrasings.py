"""Natural phrasings and typos → intents: the table the chat e2e test also sends through WeCom."""

from __future__ import annotations

import pytest

from handlers import phrasings
from handlers.app import _text_intent
from handlers.intents import IntentName, is_question, normalize, parse
from handlers.method_intents import MethodIntent
from handlers.review_intents import ReviewIntent

N = IntentName

# (what a liaison types, the intent it must reach). Typos: 的/得/滴 (homophones), 粉/分, 渡/度,
# 路/录, doubled characters, full-width punctuation, fillers ("请问", "一下", "吧").
PHRASINGS: list[tuple[str, IntentName]] = [
    ("我的得分", N.MY_SCORE),
    ("查分", N.MY_SCORE),
    ("我现在几分", N.MY_SCORE),
    ("我现在几分？", N.MY_SCORE),
    ("现在多少分了", N.MY_SCORE),
    ("扣分是怎么回事", N.SCORE_LOSSES),
    ("为什么扣分", N.SCORE_LOSSES),
    ("扣分原因", N.SCORE_LOSSES),
    ("为什么扣分？", N.SCORE_LOSSES),
    ("哪里扣分了", N.SCORE_LOSSES),
    ("我们单位考核得分多少", N.MY_SCORE),
    ("得分明细", N.SCORE_DETAIL),
    ("明细", N.SCORE_DETAIL),
    ("C3b", N.INDICATOR),
    ("c3b", N.INDICATOR),
    ("为什么扣分 C3b", N.INDICATOR),
    ("C3b扣分原因？", N.INDICATOR),
    ("我得得分", N.MY_SCORE),  # 的 → 得
    ("我滴得分", N.MY_SCORE),  # 的 → 滴
    ("我的的得分", N.MY_SCORE),  # doubled
    ("查粉", N.MY_SCORE),  # 分 → 粉
    ("我的得份", N.MY_SCORE),  # 分 → 份
    ("请问我的得分", N.MY_SCORE),
    ("进度", N.PROGRESS),
    ("进渡", N.PROGRESS),  # 度 → 渡
    ("进进度", N.PROGRESS),  # doubled
    ("本月进度", N.PROGRESS),
    ("本月还差多少", N.PROGRESS),
    ("还差几篇", N.PROGRESS),
    ("本月还缺几篇？", N.PROGRESS),
    ("政务信息报了几篇", N.PROGRESS),
    ("这个月政务信息报了几条？", N.PROGRESS),  # 条 as people say it, not only 篇
    ("信息报了多少条", N.PROGRESS),
    ("截止是哪天", N.PROGRESS),
    ("什么时候截止？", N.PROGRESS),
    ("我的任务有哪些", N.PROGRESS),
    ("还有什么没交", N.PROGRESS),
    ("年报什么时候交", N.PROGRESS),
    ("看一下进度吧", N.PROGRESS),
    ("记录", N.RECORDS),
    ("看一下我报过的", N.RECORDS),
    ("我报过哪些", N.RECORDS),
    ("报送记录", N.RECORDS),
    ("记路", N.RECORDS),  # 录 → 路
    ("ｊｉｎｄｕ", N.PROGRESS),  # the pinyin, typed when the input method failed
    ("wodedefen", N.MY_SCORE),
    ("历史记录", N.RECORDS),
    ("我想交一篇信息", N.START_INFO),
    ("报送政务信息", N.START_INFO),
    ("我要报信息", N.START_INFO),
    ("我要报送政务信息", N.START_INFO),
    ("上报信息", N.START_INFO),
    ("报送政务信心", N.START_INFO),  # 息 → 心
    ("信息怎么报", N.INFO_HOWTO),
    ("政务信息：", N.INFO_HOWTO),
    ("政务信息", N.INFO_HOWTO),
    ("政务信息怎么报？", N.INFO_HOWTO),
    ("报送要求", N.INFO_HOWTO),
    ("一个月报几篇", N.INFO_HOWTO),
    ("这个算不算一篇信息", N.INFO_HOWTO),  # what counts as an item: how to send one
    ("撤回", N.WITHDRAW_LIST),
    ("我要撤回", N.WITHDRAW_LIST),
    ("怎么撤回", N.WITHDRAW_LIST),
    ("好的", N.YES),
    ("好", N.YES),
    ("是的", N.YES),
    ("对", N.YES),
    ("收到", N.THANKS),
    ("收到！", N.THANKS),
    ("辛苦了", N.THANKS),
    ("谢谢", N.THANKS),
    ("谢谢！", N.THANKS),
    ("好的，谢谢", N.THANKS),
    ("知道了", N.THANKS),
    ("帮助", N.HELP),
    ("你好", N.HELP),
    ("您好！", N.HELP),
    ("？", N.HELP),
    ("你能做什么", N.HELP),
    ("确认", N.CONFIRM),
    ("确定。", N.CONFIRM),
    ("取消", N.CANCEL),
    ("算了", N.CANCEL),
    ("今天天气不错", N.UNKNOWN),
    ("明天开会吗", N.QUESTION),
]


def test_the_table_is_big_enough() -> None:
    assert len(PHRASINGS) >= 60


@pytest.mark.parametrize(("text", "intent"), PHRASINGS)
def test_phrasing_reaches_intent(text: str, intent: IntentName) -> None:
    assert parse(text).name == intent


@pytest.mark.parametrize(
    "text", ["试", "事", "十", "队", "取笑", "确人", "放起", "确任", "取小", "queren", "quxiao"]
)
def test_actions_are_never_guessed(text: str) -> None:
    """A typo never confirms or drops anything: 是/对/确认/放弃 are matched exactly only."""
    assert parse(text).name not in phrasings.EXACT_ONLY


def test_every_phrasing_of_the_table_reaches_its_own_intent() -> None:
    for intent, phrases in phrasings.PHRASINGS.items():
        for phrase in phrases:
            assert parse(phrase).name == intent, phrase


def test_keyword_matches_are_marked() -> None:
    """In a draft, "工程进度过半" is content: it only contains a keyword of 进度."""
    assert parse("工程进度过半").keyword
    assert not parse("进度").keyword and not parse("进渡").keyword


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("政务信息报了几篇", True),
        ("政务信息报了几条", True),
        ("年报什么时候交", True),
        ("明天开会吗", True),
        ("椒江区开展河道清理", False),
        ("椒江区开展河道清理\n为什么要清理？因为……（正文）", False),
        ("还差\n几篇？", True),
        ("这个算不算一篇信息", True),  # A不A
        ("标题要不要加单位名称", True),
        ("有没有格式要求", True),
        ("这样报可以不", True),
        ("这月信息够数了没", True),
        ("不得不说", False),
        ("各单位对照检查，是不是存在问题，整改到位后报送区创模办备案", False),  # an article's line
    ],
)
def test_questions(text: str, question: bool) -> None:
    assert is_question(normalize(text)) is question


def test_pinyin_reads_characters_without_loading_phrases() -> None:
    assert phrasings.pinyin("得分") == phrasings.pinyin("的粉") == "de fen"
    assert phrasings.pinyin("度") == phrasings.pinyin("渡") == "du"


# The office's read-only commands, as busy admins mistype them: a homophone or a near miss still
# finds the command (these only show or export; nothing is sent or changed by a guess).
OFFICE_TYPOS = [
    ("待审合", ReviewIntent.QUEUE),  # 核 → 合
    ("待申核", ReviewIntent.QUEUE),  # 审 → 申
    ("审核列表", ReviewIntent.QUEUE),
    ("有没有要审核的", ReviewIntent.QUEUE),
    ("汇宗", N.TALLY),  # 总 → 宗
    ("会总", N.TALLY),  # 汇 → 会
    ("年终汇总", N.TALLY),
    ("看版", N.DASHBOARD),  # 板 → 版
    ("通抱", MethodIntent.NOTICE),  # 报 → 抱
]


@pytest.mark.parametrize(("text", "intent"), OFFICE_TYPOS)
def test_office_commands_survive_typos(text: str, intent: object) -> None:
    assert _text_intent(text).name == intent


@pytest.mark.parametrize("text", ["审核", "我的信息审核了吗", "汇报", "总结", "通报表扬", "会议"])
def test_office_typos_take_nothing_else(text: str) -> None:
    """Words near the office's commands that say something else are not taken for them."""
    assert _text_intent(text).name not in {ReviewIntent.QUEUE, N.TALLY, N.DASHBOARD}
    assert _text_intent(text).name != MethodIntent.NOTICE
