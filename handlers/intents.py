"""From a chat text to an intent: commands by pattern, everything else by the phrasing table.

Users type on phones: full-width or half-width punctuation, with or without 冒号, synonyms, typos.
Recognition runs on a normalised copy of the text (NFKC, blanks collapsed), but every free-text
argument (a body, a reason, a title) is cut from the text exactly as it was typed: normalisation
is for recognising commands, never for what is stored or forwarded.

Order: a command with arguments (`撤回 12`, `政务信息：标题…`); a message that would log something
but asks a question is not a command; then the phrasing table (handlers/phrasings.py) for
natural phrasing and typos; an unmatched question is `QUESTION`, anything else `UNKNOWN`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache

from scoring import kinds

SEP_CLASS = r"[\s:：,，、;；]"  # what may stand between a keyword and its argument
SEP = SEP_CLASS + "*"
REFS_SEP = r"[\s,，、;；和及]+"  # between the numbers of a list (「撤回 S251、S244」)


class IntentName(StrEnum):
    """What a message asks for. Values are the menu keys and route names."""

    HELP = "help"
    CANCEL = "cancel"
    CONFIRM = "confirm"  # an explicit 确认 / 提交
    YES = "yes"  # 好 / 对 / 是: a confirmation only when something waits for one
    NO = "no"  # 不 / 继续: the answer "no" to a question the bot asked
    THANKS = "thanks"  # 谢谢 / 收到 / 辛苦了
    MY_SCORE = "my_score"
    SCORE_LOSSES = "score_losses"  # 扣分原因, 为什么扣分
    SCORE_DETAIL = "score_detail"  # 得分明细
    INDICATOR = "indicator"  # one indicator by its code ("C3b") or, in the unit's scheme, name
    PROGRESS = "progress"
    RECORDS = "records"
    INFO_HOWTO = "info_howto"  # how and how much 政务信息 to report
    WITHDRAW = "withdraw"
    WITHDRAW_LIST = "withdraw_list"  # 撤回 without a number
    START_INFO = "start_info"
    SUBMIT_INFO = "submit_info"
    FEEDBACK = "feedback"
    REPORT = "report"
    EVIDENCE = "evidence"
    QUESTION = "question"  # a question nothing else understood
    UNKNOWN = "unknown"
    # admin
    ASSIGN_TASK = "assign_task"
    MISSING = "missing"
    ACCEPT = "accept"
    REJECT = "reject"
    ADMIN_ENTRY = "admin_entry"
    COMPLETE_TASK = "complete_task"
    UNIT_SCORE = "unit_score"
    TALLY = "tally"
    DASHBOARD = "dashboard"
    BROADCAST = "broadcast"
    # not typed: what a non-text message or a message inside a draft becomes
    MEDIA = "_media"
    LINK = "_link"
    DRAFT_TEXT = "_draft_text"
    ANSWER_TYPO = "_answer_typo"  # 「确任」, 「取小」: asked back, never taken for the answer


N = IntentName

# Intents that write something a unit is scored on: never taken from a question.
LOGGING = frozenset({N.SUBMIT_INFO, N.FEEDBACK, N.REPORT, N.EVIDENCE})
# Arguments that are what the user wrote (kept exactly as typed); the others are identifiers.
FREE_TEXT = frozenset({"body", "reason", "title"})


@dataclass(frozen=True)
class Intent:
    name: StrEnum  # an IntentName, or a member of another command table (office, review)
    args: dict[str, str] = field(default_factory=dict)
    text: str = ""  # the normalised message (for recognising, not for storing)
    keyword: bool = False  # found by a keyword it contains, not by the whole message


# --- normalising, with a map back to what was typed ----------------------------------------------

_BLANK = frozenset(" \t\u3000\u00a0")


def normalize_mapped(text: str) -> tuple[str, list[int]]:
    """NFKC per character, blanks collapsed and trimmed per line, empty lines dropped; with, for
    every character of the result, the index of the typed character it came from."""
    norm, where = _normalized(text or "")
    return norm, list(where)


class _Folds(dict[str, str]):
    """Character → its NFKC form, computed once per character."""

    def __missing__(self, ch: str) -> str:
        folded = self[ch] = unicodedata.normalize("NFKC", ch)
        return folded


_FOLDS = _Folds()


# already normal once folded: words separated by single blanks, lines by single "\n", nothing to
# trim and no empty line (most messages, typed on a phone)
_TIDY = re.compile(r"[^\s]+(?: [^\s]+)*(?:\n[^\s]+(?: [^\s]+)*)*")


@lru_cache(maxsize=64)
def _normalized(text: str) -> tuple[str, tuple[int, ...]]:
    # cached: every command table recognises the same message (office, review, method, words)
    folded = "".join(map(_FOLDS.__getitem__, text))
    if len(folded) == len(text) and _TIDY.fullmatch(folded):
        # one character for one (NFKC never folds a character to nothing) and nothing to
        # collapse: the map is the identity, but that a line break maps to the line it starts
        where = list(range(len(text)))
        at = folded.find("\n")
        while at >= 0:
            where[at] = at + 1
            at = folded.find("\n", at + 1)
        return folded, tuple(where)
    return _normalized_slowly(text)


def _normalized_slowly(text: str) -> tuple[str, tuple[int, ...]]:
    """`_normalized` character by character: expansions (「①」 → 「1」, 「㈱」 → 「(株)」),
    blanks to collapse or trim, \r, empty lines."""
    out: list[str] = []
    where: list[int] = []
    line: list[tuple[str, int]] = []
    folds = _FOLDS

    def end_line() -> None:
        while line and line[-1][0] == " ":
            line.pop()
        if line:
            if out:
                out.append("\n")
                where.append(line[0][1])
            for ch, i in line:
                out.append(ch)
                where.append(i)
        line.clear()

    for i, typed in enumerate(text):
        for ch in folds[typed]:
            if ch in "\r\n":
                end_line()
            elif ch in _BLANK or ch.isspace():
                if line and line[-1][0] != " ":
                    line.append((" ", i))
            else:
                line.append((ch, i))
    end_line()
    return "".join(out), tuple(where)


def normalize(text: str) -> str:
    """NFKC (full-width → half-width, so '：' becomes ':'), trimmed, inner blanks collapsed per line."""
    return normalize_mapped(text)[0]


def typed_span(text: str, where: list[int], start: int, end: int) -> str:
    """The typed text behind normalised characters [start, end), without blanks at its edges."""
    if start >= end:
        return ""
    return text[where[start] : where[end - 1] + 1].strip()


def typed_args(match: re.Match[str], text: str, where: list[int]) -> dict[str, str]:
    """The named groups of a match on `normalize_mapped(text)`: free text (FREE_TEXT) as typed,
    identifiers normalised."""
    args: dict[str, str] = {}
    for key, value in match.groupdict().items():
        if value is None:
            continue
        args[key] = typed_span(text, where, *match.span(key)) if key in FREE_TEXT else value.strip()
    return args


def _words(*words: str) -> str:
    return "(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + ")"


# what may stand before or after an indicator's code: "为什么扣分 C3b", "C3b扣分原因"
_INDICATOR_ASK = _words(
    "为什么扣分",
    "为何扣分",
    "扣分原因",
    "失分原因",
    "怎么扣的分",
    "怎么扣分",
    "得分",
    "扣分",
    "情况",
    "明细",
    "指标",
    "查看",
    "查询",
    "看看",
)

# (intent, pattern): commands with arguments. Patterns run on normalised text with re.S (fullmatch);
# named groups become args. Argument-less phrasings live in handlers/phrasings.py.
_PATTERNS: list[tuple[IntentName, str]] = [
    (N.MY_SCORE, rf"(?:我的?|本单位)?(?:得分|分数|成绩){SEP}(?P<year>\d{{4}})\s*(?:年度?)?"),
    (
        N.INDICATOR,
        rf"(?:{_INDICATOR_ASK}{SEP})?(?P<ref>[A-Za-z]+\d+[A-Za-z]?(?:\.\d+)?)"
        rf"(?:{SEP}{_INDICATOR_ASK})?[?？]?",
    ),
    (N.WITHDRAW, rf"{_words('撤回', '撤销', '撤消')}{SEP}#?(?P<ref>[A-Za-z]?\d+)"),
    # several at once: one at a time (each withdrawal is told and counted on its own)
    (
        N.WITHDRAW,
        rf"{_words('撤回', '撤销', '撤消')}{SEP}"
        rf"(?P<refs>#?[A-Za-z]?\d+(?:{REFS_SEP}#?[A-Za-z]?\d+)+)",
    ),
    (
        N.SUBMIT_INFO,
        rf"(?:我要)?(?:报送|提交|上报)?{_words('政务信息', '工作信息', '信息')}{SEP}(?P<body>.+)",
    ),
    (
        N.FEEDBACK,
        rf"(?:任务)?{_words('反馈', '回复任务', '任务回复')}{SEP}#?(?P<task>[A-Za-z]*\d+)"
        rf"(?:{SEP}(?P<body>.+))?",
    ),
    (N.FEEDBACK, r"反馈"),  # alone: how to write it
    (
        N.REPORT,
        rf"(?P<report>{_words('月报', '季报', '年报', '自查报告', '年度总结', '年度工作总结', '工作总结')})"
        rf"(?:{SEP}(?P<body>.+))?",
    ),
    (
        N.EVIDENCE,
        rf"{_words('佐证', '证明材料', '完成佐证', '完成情况', '目标完成')}{SEP}"
        rf"(?P<ref>[A-Za-z]+[\w.-]*)(?:{SEP}(?P<body>.+))?",
    ),
    (N.EVIDENCE, r"佐证"),  # alone: how to write it
    # --- admin ---
    (
        N.ASSIGN_TASK,
        rf"{_words('布置任务', '下达任务', '派发任务', '新任务')}{SEP}(?P<units>\S+)\s+"
        r"(?P<due>\S+)\s+(?P<title>.+)",
    ),
    # alone or without its title: how to write it
    (N.ASSIGN_TASK, rf"{_words('布置任务', '下达任务', '派发任务', '新任务')}(?:{SEP}.*)?"),
    (N.MISSING, rf"{_words('未报', '谁没报', '谁没交', '未交', '缺报')}(?:{SEP}(?P<period>\S+))?"),
    (N.ACCEPT, rf"{_words('通过', '采纳', '审核通过')}{SEP}#?(?P<ref>[A-Za-z]?\d+)"),
    (
        N.REJECT,
        rf"{_words('退回', '驳回', '不通过', '不予采纳')}{SEP}#?(?P<ref>[A-Za-z]?\d+)"
        rf"(?:{SEP}(?P<reason>.+))?",
    ),
    (
        N.ADMIN_ENTRY,
        rf"(?P<verb>{_words(*kinds.verbs())})"  # the rule kinds' admin verbs (scoring/kinds/)
        rf"{SEP}(?P<unit>\S+)\s+(?P<rule>[A-Za-z0-9.]+)"
        rf"(?:\s+(?P<value>-?\d+(?:\.\d+)?%?))?(?:{SEP}(?P<reason>.+))?",
    ),
    (
        N.COMPLETE_TASK,
        rf"{_words('任务完成', '完成任务', '指标完成')}{SEP}(?P<unit>\S+)\s+#?(?P<task>[A-Za-z]*\d+)"
        rf"(?:{SEP}(?P<reason>.+))?",
    ),
    (N.UNIT_SCORE, rf"{_words('得分', '查分', '分数')}{SEP}(?P<unit>[^\s\d]\S*)"),
    (
        N.TALLY,
        rf"{_words('汇总', '统计', '总表')}"
        rf"(?:{SEP}(?P<year>\d{{4}}|今年|本年度?|去年|上一?年度?)\s*(?:年度?)?)?",
    ),
    (N.DASHBOARD, rf"{_words('看板', '仪表盘', '考核看板', 'dashboard')}"),
    (N.BROADCAST, rf"{_words('通知', '广播', '群发')}{SEP}(?P<body>.+)"),
]

_COMPILED: list[tuple[IntentName, re.Pattern[str]]] = [
    (name, re.compile(pattern, re.S | re.I)) for name, pattern in _PATTERNS
]

# --- questions ------------------------------------------------------------------------------------

# Words that make any short message a question. "几" / "什么" / "哪" alone are weak: a report or
# a feedback may say "几处问题已整改"; they only make a one-line 政务信息 a question.
_STRONG_QUESTION: tuple[str, ...] = (
    "?",
    "吗",
    "怎么",
    "如何",
    "是否",
    "怎样",
    "多少",
    "啥",
    "什么时候",
    "哪天",
)
_STRONG_QUESTION += ("几号", "几篇", "几条", "几分", "呢")
# "这个算不算一篇信息", "标题要不要加单位名称", "有没有要求", "这样报可以不", "够数了没": only in a
# short line
# (an article's sentence may say 是不是)
_A_NOT_A = re.compile(r"([^\s不没])[不没]\1|(?:可以|行|好|对|能)不\s*$|了没有?\s*$")
_A_NOT_A_MAX = 24
_WEAK_QUESTION = ("几", "什么", "哪")


_ASKING = re.compile(
    rf"^(?:{_INDICATOR_ASK}{SEP})?(?P<core>.+?)(?:{SEP}{_INDICATOR_ASK})?{SEP}[?？吗呢]*$"
)


def indicator_words(norm: str) -> str:
    """What names an indicator in a (normalised) question about it: "为什么扣分 工作信息" and
    "工作信息扣分原因？" → "工作信息"."""
    match = _ASKING.match(norm.strip())
    return match["core"].strip() if match else norm.strip()


def is_question(norm: str, *, weak: bool = True) -> bool:
    """Does the (normalised) message ask something? Multi-line messages carry an item unless they
    are short and end with a question mark. A short line asking "A不A" (算不算, 要不要, 有没有)
    or ending in 可以不 / 行不 asks too."""
    if "\n" in norm:
        return len(norm) <= 40 and norm.rstrip().endswith("?")
    words = _STRONG_QUESTION + (_WEAK_QUESTION if weak else ())
    if any(word in norm for word in words):
        return True
    return len(norm) <= _A_NOT_A_MAX and _A_NOT_A.search(norm) is not None


def _asks(name: IntentName, norm: str, args: dict[str, str]) -> bool:
    """A logging command that is really a question ("政务信息报了几篇", "年报什么时候交")."""
    if name not in LOGGING:
        return False
    if name == N.SUBMIT_INFO:
        return is_question(norm, weak=True)
    return is_question(norm, weak=False)


def parse(text: str) -> Intent:
    from handlers import phrasings  # the table imports IntentName from here

    norm, where = normalize_mapped(text)
    exact = phrasings.exact(norm)
    if exact is not None:
        return Intent(exact, {}, norm)
    for name, pattern in _COMPILED:
        match = pattern.fullmatch(norm)
        if not match:
            continue
        args = typed_args(match, text, where)
        if _asks(name, norm, args):
            break
        head = re.split(SEP_CLASS, args["unit"])[0] if name == N.UNIT_SCORE else ""
        if head and phrasings.exact(f"得分{head}") is not None:
            break  # "得分明细", "得分明细，椒江区": 得分明细 (of a unit), not a unit named 明细
        return Intent(name, args, norm)
    found = phrasings.match(norm)
    if found is not None:
        return Intent(found[0], {}, norm, keyword=not found[1])
    if is_question(norm):
        return Intent(N.QUESTION, {}, norm)
    return Intent(N.UNKNOWN, {}, norm)


# App menu clicks (EventKey) map to the same intents as the words.
MENU_KEYS: dict[str, IntentName] = {
    key: N(key)
    for key in ("my_score", "progress", "records", "help", "start_info", "tally", "dashboard")
}

TITLE_MAX = 200  # a first line longer than this is a paragraph, not a title
_SENTENCE_END = re.compile(r"[。！？!?]")


def split_title(body: str) -> tuple[str, str]:
    """'标题\\n正文' → (title, body), both exactly as typed. A one-line text is split after its
    first sentence ('标题。正文…'); a text of one sentence is a title with no body ('', the
    caller asks for the body). The title never reappears in the body."""
    body = body.strip()
    first, newline, rest = body.partition("\n")
    if newline and len(first.strip()) <= TITLE_MAX:
        return first.strip(), rest.strip()
    match = _SENTENCE_END.search(body)
    if match and match.end() < len(body):
        head, tail = body[: match.start()].strip(), body[match.end() :].strip()
        if head and len(head) <= TITLE_MAX:
            return head, tail
    if len(body) <= TITLE_MAX:
        return body, ""
    return "", body


_YEAR_MONTH = re.compile(r"(?:(?P<y>\d{4})\s*[-年./])?\s*(?P<m>\d{1,2})\s*(?:月份?)?")
_QUARTER = re.compile(
    r"(?:(?P<y>\d{4})\s*[-年]?\s*)?(?:Q|第)?(?P<q>[1-4一二三四])\s*(?:季度?)?", re.I
)
_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4}


# the months as written in characters: 十一月, 十二月份
CN_MONTHS = {
    name: n
    for n, name in enumerate(
        ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"), start=1
    )
}
CN_MONTH = r"十[一二]?|[一二三四五六七八九]"  # (longest first: 十二 before 十)
LAST_MONTH = ("上月", "上个月")


def previous_month(today: date) -> tuple[int, int]:
    """(year, month) of the month before today's."""
    return (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)


def parse_month(text: str, default_year: int) -> str | None:
    """'11月', '11月份', '2026-11', '2026年11月' → '2026-11'."""
    m = _YEAR_MONTH.fullmatch(normalize(text))
    if not m or not 1 <= int(m["m"]) <= 12:
        return None
    return f"{int(m['y'] or default_year):04d}-{int(m['m']):02d}"


def parse_quarter(text: str, default_year: int) -> str | None:
    """'Q3', '三季度', '2026-Q3', '第三季度' → '2026-Q3'."""
    m = _QUARTER.fullmatch(normalize(text))
    if not m:
        return None
    q = _CN_DIGITS.get(m["q"]) or int(m["q"])
    return f"{int(m['y'] or default_year):04d}-Q{q}"


_DATE = re.compile(r"(?:(?P<y>\d{4})\s*[-年./])?\s*(?P<m>\d{1,2})\s*[-月./]\s*(?P<d>\d{1,2})\s*日?")


def parse_date(text: str, today: date) -> date | None:
    """'2026-12-10', '12月10日', '12-10', '12.10' → a date (this year when no year is given)."""
    m = _DATE.fullmatch(normalize(text))
    if not m:
        return None
    try:
        return date(int(m["y"] or today.year), int(m["m"]), int(m["d"]))
    except ValueError:
        return None
