"""Every argument-less way of saying something, in one table, with typo and homophone tolerance.

People write "我现在几分", "查粉" (分 mistyped as its homophone 粉), "进进度" (a doubled character) or
"谢谢！" instead of the commands in the help. Matching, most certain first:

1. exact: the message, without punctuation, blanks and polite fillers ("请", "一下", "吧"), is a
   phrasing of the table (doubled characters folded);
2. homophone: the same by pinyin (得/的, 度/渡, 分/粉), from pypinyin's character readings;
3. fuzzy: a short message within a small edit distance of a phrasing (rapidfuzz), by pinyin;
4. keywords: a short message containing a keyword of an intent ("还差" → 进度).

Actions with consequences (confirm, cancel, yes, no) are matched exactly only: a typo never
confirms or drops anything. Questions only read, so they may be matched loosely.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from enum import StrEnum
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import NamedTuple

from handlers.intents import IntentName
from handlers.method_intents import MethodIntent
from handlers.office_intents import OfficeIntent
from handlers.review_intents import ReviewIntent

N = IntentName
OI = OfficeIntent

# fmt: off
PHRASINGS: dict[StrEnum, tuple[str, ...]] = {
    N.HELP: (
        "帮助", "help", "菜单", "使用说明", "说明", "怎么用", "如何使用", "你好", "您好", "在吗",
        "在不在", "你能做什么", "能做什么", "有什么功能", "功能", "?", "hi", "hello", "有人吗",
    ),
    N.CANCEL: ("取消", "算了", "不报了", "退出", "放弃", "不要了", "取消报送", "作废", "重来"),
    N.CONFIRM: (
        "确认", "确定", "提交", "确认提交", "确定提交", "仍然登记", "照样登记", "确认登记",
        "就这样", "就这样提交", "提交吧", "登记",
    ),
    N.YES: ("好", "好的", "好滴", "是", "是的", "对", "对的", "嗯", "嗯嗯", "可以", "行", "ok", "yes"),
    N.NO: ("不", "不用", "不是", "否", "继续", "继续编辑", "不用了", "no"),
    N.THANKS: (
        "谢谢", "谢谢你", "多谢", "感谢", "收到", "收到了", "辛苦了", "辛苦", "知道了", "明白",
        "明白了", "了解", "好的谢谢", "好的收到", "麻烦了", "thanks", "👍", "🙏",
    ),
    N.MY_SCORE: (
        "我的得分", "得分", "查分", "分数", "成绩", "积分", "查询得分", "得分查询", "查成绩",
        "我现在几分", "现在几分", "我几分", "多少分", "现在多少分", "我们单位多少分", "考核得分",
        "我的分数", "得分情况", "分数情况", "看看得分", "本单位得分", "我的考核分", "我的分",
    ),
    N.SCORE_LOSSES: (
        "扣分原因", "为什么扣分", "为啥扣分", "为何扣分", "扣分是怎么回事", "哪里扣分了", "扣在哪里",
        "扣了多少分", "失分", "失分原因", "为什么失分", "扣分明细", "扣分情况", "怎么扣的分",
    ),
    N.SCORE_DETAIL: (
        "得分明细", "明细", "得分详情", "各项得分", "指标得分", "全部指标", "指标明细", "分项得分",
        "详细得分", "得分细节",
    ),
    N.PROGRESS: (
        "进度", "本月进度", "我的进度", "还差什么", "还欠什么", "待办", "欠交", "本月还差多少",
        "还差多少", "还差几篇", "还缺几篇", "本月还缺几篇", "政务信息报了几篇", "报了几篇",
        "我的任务有哪些", "我的任务", "有什么任务", "任务有哪些", "截止是哪天", "什么时候截止",
        "截止日期", "截止时间", "还有什么没交", "还有什么没报", "待办事项", "本月任务",
    ),
    N.RECORDS: (
        "记录", "报送记录", "提交记录", "我的记录", "最近记录", "看一下我报过的", "我报过的",
        "我交过的", "历史记录", "我提交了什么", "报过哪些", "我报了哪些", "报送情况",
    ),
    N.START_INFO: (
        "报送政务信息", "报政务信息", "报送信息", "提交政务信息", "报信息", "我要报送政务信息",
        "我想交一篇信息", "我要报信息", "交信息", "上报信息", "我要交信息", "交一篇信息",
        "交一篇政务信息", "我想报一篇信息", "我要报一篇政务信息", "写一篇信息", "报一篇信息",
    ),
    N.INFO_HOWTO: (
        "政务信息", "信息怎么报", "怎么报信息", "政务信息怎么报", "怎么报送",
        "报送要求", "政务信息要求", "信息有什么要求", "一个月报几篇", "每月要报几篇",
        "每个月报几篇", "信息要报几篇", "怎么报政务信息", "如何报送政务信息",
    ),
    N.WITHDRAW_LIST: ("撤回", "撤销", "我要撤回", "撤回报送", "撤回信息", "怎么撤回"),
    N.MISSING: (
        "未报", "谁没报", "谁还没报", "哪些单位没报", "哪些单位还没报", "未报单位", "未报情况",
        "缺报情况", "谁没交", "谁还没交", "哪些单位没交", "逾期未报", "逾期单位",
    ),
    # the office's read-only commands without arguments: a typo ("待审合", "汇宗") still finds them
    ReviewIntent.QUEUE: (
        "待审核", "待审", "审核队列", "待审核列表", "审核列表", "待审列表", "待审核的",
        "要审核的", "需要审核的", "哪些要审核", "有没有要审核的", "有没有待审核的",
    ),
    N.TALLY: ("汇总", "统计", "总表", "汇总表", "年终汇总", "年度汇总", "得分汇总", "考核汇总"),
    N.DASHBOARD: ("看板", "仪表盘", "考核看板", "dashboard", "数据看板", "打开看板"),
    MethodIntent.NOTICE: ("通报", "生成通报", "考核通报", "起草通报", "导出通报"),
    OI.CHASE: ("一键催报", "催报", "一键催办", "全部催报", "马上催报"),
    OI.ACK: ("签收", "我签收", "确认签收", "已签收", "签收了", "我已签收", "已阅签收"),
    OI.ACK_STATUS: (
        "签收情况", "谁没签收", "谁还没签收", "哪些人没签收", "哪些人还没签收", "未签收名单",
        "签收名单", "签收统计", "查看签收",
    ),
    OI.ACK_CHASE: ("催签收", "提醒签收", "催促签收", "催一下签收"),
}

# Contained in a short message: the intent it asks about. First match wins, so the narrower
# questions come first.
KEYWORDS: tuple[tuple[StrEnum, tuple[str, ...]], ...] = (
    (N.WITHDRAW_LIST, ("撤回", "撤销", "撤消")),
    (N.INFO_HOWTO, ("算不算", "算一篇", "能不能算", "怎么报", "如何报", "怎样报", "报送要求", "什么要求", "格式", "每月要报", "每个月报")),
    (N.SCORE_LOSSES, ("扣分", "失分", "扣了")),
    (N.SCORE_DETAIL, ("明细", "详情", "各项")),
    (N.MY_SCORE, ("几分", "多少分", "得分", "分数", "成绩", "排名")),
    (N.PROGRESS, ("够数", "报满", "还差", "还缺", "几篇", "多少篇", "几条", "多少条", "进度", "截止", "哪天", "什么时候", "任务", "待办", "没交", "没报")),
    (N.RECORDS, ("报过", "交过", "记录", "提交过", "发过", "报了哪些")),
    (N.START_INFO, ("交一篇", "报一篇", "想交", "想报", "要报", "要交")),
    (N.THANKS, ("谢谢", "辛苦", "感谢", "收到")),
    (N.HELP, ("帮助", "怎么用", "能做什么")),
)
# fmt: on
# a typo never sends anything to anyone (催报, 签收 and 催签收 act)
EXACT_ONLY = frozenset({N.CONFIRM, N.CANCEL, N.YES, N.NO, OI.CHASE, OI.ACK, OI.ACK_CHASE})
SENDS = frozenset({OI.CHASE, OI.ACK, OI.ACK_CHASE})  # phrasings that act on others' behalf
_ASKS = re.compile(r"[吗嘛呢?？]\s*$|没有\s*$")
SHORT = 24  # keywords and fuzzy matching only for messages up to this many characters
FUZZY_CUTOFF = 86.0

_FILLERS_HEAD = ("请问", "请帮我", "帮我", "麻烦", "请", "我想", "想")
_FILLERS_TAIL = (
    "一下",
    "一下子",
    "吧",
    "呢",
    "啊",
    "呀",
    "哈",
    "啦",
    "哦",
    "喔",
    "嘛",
    "了吗",
    "吗",
)
_DROP = re.compile(r"[\s\W_]+", re.U)  # punctuation, blanks, symbols (not emoji: kept below)


def canon(norm: str) -> str:
    """The comparable core of a short message: lower case, no punctuation or blanks."""
    text = unicodedata.normalize("NFKC", norm).lower().strip()
    if text in ("?", "？"):
        return "?"
    core = _DROP.sub("", text)
    if core:
        return core
    return "".join(ch for ch in text if unicodedata.category(ch) == "So")  # emoji only


def _trim(core: str) -> str:
    """Without polite fillers at the ends ("请问我几分呢" → "我几分")."""
    changed = True
    while changed and core:
        changed = False
        for head in _FILLERS_HEAD:
            if core.startswith(head) and len(core) > len(head) + 1:
                core, changed = core[len(head) :], True
        for tail in _FILLERS_TAIL:
            if core.endswith(tail) and len(core) > len(tail) + 1:
                core, changed = core[: -len(tail)], True
    return core


_DOUBLED = re.compile(r"([\u4e00-\u9fff])\1+")


def undouble(text: str) -> str:
    """Doubled characters folded: '进进度' → '进度', '得得分' → '得分' (not 'ok', 'hello')."""
    return _DOUBLED.sub(r"\1", text)


_CJK_FIRST, _CJK_LAST = 0x4E00, 0x9FFF
_READING = re.compile(r'"(\d+)"\s*:\s*"([^",]*)')  # "20013": "zhōng,zhòng" → 20013, zhōng


@cache
def _readings() -> list[str]:
    """The first reading without tone of each CJK character (U+4E00..U+9FFF, by code point;
    "" when none), from pypinyin's character table. Read directly: importing pypinyin loads its
    phrase dictionary too (~55 MB), which this does not need. A list of shared strings (a few
    hundred distinct syllables), not a dict of 21,000 characters (~3 MB resident); the file is
    scanned, not parsed into a dict of its 41,000 entries."""
    spec = find_spec("pypinyin")
    assert spec is not None and spec.origin is not None
    text = (Path(spec.origin).parent / "pinyin_dict.json").read_text("utf-8")
    table = [""] * (_CJK_LAST - _CJK_FIRST + 1)
    syllables: dict[str, str] = {}
    for found in _READING.finditer(text):
        point = int(found[1])
        if _CJK_FIRST <= point <= _CJK_LAST:
            plain = unicodedata.normalize("NFKD", found[2])
            syllable = "".join(c for c in plain if c.isascii() and c.isalpha())
            table[point - _CJK_FIRST] = syllables.setdefault(syllable, syllable)
    return table


def _reading(table: list[str], ch: str) -> str:
    point = ord(ch) - _CJK_FIRST
    return (table[point] or ch) if 0 <= point < len(table) else ch


def pinyin(text: str) -> str:
    """'我的得分' → 'wo de de fen' (characters without a reading are kept)."""
    table = _readings()
    return " ".join(_reading(table, ch) for ch in text)


@cache
def _by_text() -> dict[str, StrEnum]:
    """Phrasing → intent over the whole table (with doubled characters folded)."""
    by_text: dict[str, StrEnum] = {}
    for intent, phrases in PHRASINGS.items():
        for phrase in phrases:
            key = canon(phrase)
            for variant in (key, undouble(key)):
                if by_text.setdefault(variant, intent) != intent:
                    raise ValueError(f"phrasing {phrase!r} is listed for two intents")
    return by_text


@cache
def _by_sound() -> dict[str, StrEnum]:
    """Pinyin of phrasing → intent: only loose matching (`match`) reads the readings table."""
    return _sounds(intent for intent in PHRASINGS if intent not in EXACT_ONLY)


def _sounds(intents: Iterable[StrEnum]) -> dict[str, StrEnum]:
    """Pinyin of the phrasings (of two characters or more) of `intents` → intent."""
    by_sound: dict[str, StrEnum] = {}
    for intent in intents:
        for phrase in PHRASINGS[intent]:
            key = canon(phrase)
            if len(key) >= 2:
                by_sound.setdefault(pinyin(undouble(key)), intent)
    return by_sound


@cache
def _by_spelling() -> dict[str, StrEnum]:
    """Pinyin of a phrasing without blanks ("jindu", "wodedefen") → intent: only what may be
    matched loosely (never 确认, 取消 and the other actions)."""
    by_spelling: dict[str, StrEnum] = {}
    for sound, intent in _by_sound().items():
        by_spelling.setdefault(sound.replace(" ", ""), intent)
    return by_spelling


def exact(norm: str) -> StrEnum | None:
    """The intent the message says in one of the table's phrasings (fillers and doubles aside)."""
    by_text = _by_text()
    core = canon(norm)
    for candidate in (core, undouble(core), _trim(core), undouble(_trim(core))):
        if candidate in by_text:
            found = by_text[candidate]
            if found in SENDS and _ASKS.search(norm):
                return None  # "签收了吗", "催报了吗?": a question, not the action
            return found
    return None


def match(norm: str) -> tuple[StrEnum, bool] | None:
    """Loose matching for what `exact` missed (short messages): (intent, whole) where `whole` says
    the message sounds like a whole phrasing (a homophone or a near miss), not only contains one
    of its keywords ("工程进度过半" contains 进度 but is not asking for it)."""
    if "\n" in norm or len(norm) > SHORT:
        return None
    core = undouble(_trim(canon(norm)))
    if not core:
        return None
    by_sound = _by_sound()
    sound = pinyin(core)
    if len(core) >= 2 and sound in by_sound:
        return by_sound[sound], True
    if core.isascii() and core.isalpha() and core in _by_spelling():
        return _by_spelling()[core], True  # 「jindu」: the pinyin typed when the IME failed
    if len(core) >= 3:
        # imported here: its native libraries add ~7 MB resident, and most messages never get here
        from rapidfuzz import fuzz, process

        found = process.extractOne(sound, by_sound.keys(), scorer=fuzz.ratio)
        if found is not None and found[1] >= FUZZY_CUTOFF:
            return by_sound[found[0]], True
    for intent, words in KEYWORDS:
        if any(word in core for word in words):
            return intent, False
    return None


def sounds_like_answer(norm: str) -> StrEnum | None:
    """「确任」, 「取小」: a short message that sounds like 确认 or 取消 without being it. Never
    taken for the answer (EXACT_ONLY): the user is asked to send it as written."""
    core = undouble(_trim(canon(norm)))
    if not 2 <= len(core) <= 4 or core in _by_text():
        return None
    return _answers_by_sound().get(pinyin(core))


@cache
def _answers_by_sound() -> dict[str, StrEnum]:
    return _sounds((N.CONFIRM, N.CANCEL))


# The first words of the commands that take arguments. A message that begins with one of them
# mistyped as a homophone (「同过 S259」, 「得份 黄岩区」, 「待审和 黄岩区」) is read again with the
# word corrected; the rest is kept exactly as typed. Longest first: 布置任务 before 任务.
COMMAND_WORDS = tuple(
    sorted(
        (
            "布置任务", "取消任务", "政务信息", "待审核", "通过", "退回", "补正", "撤回", "定级",
            "得分", "查看", "未报", "汇总", "反馈", "佐证", "改期", "停用", "催报",
        ),
        key=len,
        reverse=True,
    )
)  # fmt: skip


class Corrected(NamedTuple):
    typed: str  # the first word as typed (「同过」)
    word: str  # the command's word it sounds like (「通过」)
    text: str  # the message with that word corrected, the rest as typed


def corrected_head(text: str) -> Corrected | None:
    """`text` with its first word corrected to the command it sounds like; None when it begins
    with no such homophone."""
    stripped = text.lstrip()
    for word in COMMAND_WORDS:
        head = stripped[: len(word)]
        if head != word and len(head) == len(word) and pinyin(head) == pinyin(word):
            return Corrected(head, word, word + stripped[len(word) :])
    return None
