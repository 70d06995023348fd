"""From a chat text to an intent: forgiving phrase matching, pure and table-driven.

Users type on phones: full-width or half-width punctuation, with or without 冒号, common synonyms.
`parse(text)` normalises once and tries each pattern in order; the first match wins. Anything
unmatched is the `unknown` intent, which the router answers with a short help, never silence.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from scoring import kinds

SEP = r"[\s:：,，、]*"  # what may stand between a keyword and its argument


@dataclass(frozen=True)
class Intent:
    name: str
    args: dict[str, str] = field(default_factory=dict)
    text: str = ""  # the normalised message


def normalize(text: str) -> str:
    """NFKC (full-width → half-width, so '：' becomes ':'), trimmed, inner blanks collapsed per line."""
    text = unicodedata.normalize("NFKC", text or "")
    lines = [re.sub(r"[ \t\u3000]+", " ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line).strip()


def _words(*words: str) -> str:
    return "(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + ")"


# (intent name, pattern). Patterns run on normalised text with re.S; named groups become args.
_PATTERNS: list[tuple[str, str]] = [
    ("help", r"(?:帮助|help|\?|菜单|使用说明|怎么用|你好|您好)[!!。.]?"),
    ("cancel", r"(?:取消|算了|不报了|退出)[!!。.]?"),
    ("confirm", r"(?:确认|确定|提交|好的?|是的?|对|ok|OK|yes)[!!。.]?"),
    (
        "my_score",
        r"(?:(?:我的?|本单位)?(?:得分|分数|成绩|积分)(?:情况|查询)?|查分|查询得分|我的得分)"
        rf"(?:{SEP}(?P<year>\d{{4}})\s*(?:年度?)?)?",
    ),
    ("progress", r"(?:本月|我的)?(?:进度|还差什么|还欠什么|待办|欠交)"),
    ("records", r"(?:我的|最近)?(?:记录|报送记录|提交记录)"),
    ("withdraw", rf"{_words('撤回', '撤销', '撤消')}{SEP}#?(?P<ref>[A-Za-z]*\d+)"),
    (
        "start_info",
        rf"(?:我要)?{_words('报送政务信息', '报政务信息', '报送信息', '提交政务信息', '报信息')}",
    ),
    (
        "submit_info",
        rf"(?:报送)?{_words('政务信息', '工作信息', '信息')}{SEP}(?P<body>.+)",
    ),
    (
        "feedback",
        rf"(?:任务)?{_words('反馈', '回复任务', '任务回复')}{SEP}#?(?P<task>[A-Za-z]*\d+)"
        rf"(?:{SEP}(?P<body>.+))?",
    ),
    (
        "report",
        rf"(?P<report>{_words('月报', '季报', '年报', '自查报告', '年度总结', '年度工作总结', '工作总结')})"
        rf"(?:{SEP}(?P<body>.+))?",
    ),
    (
        "evidence",
        rf"{_words('佐证', '证明材料', '完成佐证', '完成情况', '目标完成')}{SEP}"
        rf"(?P<ref>[A-Za-z]+[\w.-]*)(?:{SEP}(?P<body>.+))?",
    ),
    # --- admin ---
    (
        "assign_task",
        rf"{_words('布置任务', '下达任务', '派发任务', '新任务')}{SEP}(?P<units>\S+)\s+"
        r"(?P<due>\S+)\s+(?P<title>.+)",
    ),
    ("missing", rf"{_words('未报', '谁没报', '谁没交', '未交', '缺报')}(?:{SEP}(?P<period>\S+))?"),
    ("accept", rf"{_words('通过', '采纳', '审核通过')}{SEP}#?(?P<ref>[A-Za-z]*\d+)"),
    (
        "reject",
        rf"{_words('退回', '驳回', '不通过', '不予采纳')}{SEP}#?(?P<ref>[A-Za-z]*\d+)"
        rf"(?:{SEP}(?P<reason>.+))?",
    ),
    (
        "admin_entry",
        rf"(?P<verb>{_words(*kinds.verbs())})"  # the rule kinds' admin verbs (scoring/kinds/)
        rf"{SEP}(?P<unit>\S+)\s+(?P<rule>[A-Za-z0-9.]+)"
        rf"(?:\s+(?P<value>-?\d+(?:\.\d+)?%?))?(?:{SEP}(?P<reason>.+))?",
    ),
    (
        "complete_task",
        rf"{_words('任务完成', '完成任务', '指标完成')}{SEP}(?P<unit>\S+)\s+#?(?P<task>[A-Za-z]*\d+)"
        rf"(?:{SEP}(?P<reason>.+))?",
    ),
    ("unit_score", rf"{_words('得分', '查分', '分数')}{SEP}(?P<unit>\S+)"),
    ("tally", rf"{_words('汇总', '统计', '总表')}(?:{SEP}(?P<year>\d{{4}}))?"),
    ("dashboard", rf"{_words('看板', '仪表盘', '考核看板', 'dashboard')}"),
    ("broadcast", rf"{_words('通知', '广播', '群发')}{SEP}(?P<body>.+)"),
]

_COMPILED: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(pattern, re.S | re.I)) for name, pattern in _PATTERNS
]


def parse(text: str) -> Intent:
    norm = normalize(text)
    for name, pattern in _COMPILED:
        match = pattern.fullmatch(norm)
        if match:
            args = {k: v.strip() for k, v in match.groupdict().items() if v}
            return Intent(name, args, norm)
    return Intent("unknown", {}, norm)


# App menu clicks (EventKey) map to the same intents as the words.
MENU_KEYS: dict[str, str] = {
    "my_score": "my_score",
    "progress": "progress",
    "records": "records",
    "help": "help",
    "start_info": "start_info",
    "tally": "tally",
    "dashboard": "dashboard",
}


def split_title(body: str) -> tuple[str, str]:
    """'标题\\n正文' or '标题。正文…' → (title, body). The title is at most 60 characters."""
    body = body.strip()
    first, _, rest = body.partition("\n")
    if rest:
        return first.strip()[:60], rest.strip()
    for mark in ("。", "!", "?", "+", " "):
        head, found, tail = body.partition(mark)
        if found and head and tail:
            return head.strip()[:60], body
    return body[:60], body


_YEAR_MONTH = re.compile(r"(?:(?P<y>\d{4})\s*[-年./])?\s*(?P<m>\d{1,2})\s*月?")
_QUARTER = re.compile(
    r"(?:(?P<y>\d{4})\s*[-年]?\s*)?(?:Q|第)?(?P<q>[1-4一二三四])\s*(?:季度?)?", re.I
)
_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4}


def parse_month(text: str, default_year: int) -> str | None:
    """'11月', '2026-11', '2026年11月' → '2026-11'."""
    m = _YEAR_MONTH.fullmatch(text.strip())
    if not m or not 1 <= int(m["m"]) <= 12:
        return None
    return f"{int(m['y'] or default_year):04d}-{int(m['m']):02d}"


def parse_quarter(text: str, default_year: int) -> str | None:
    """'Q3', '三季度', '2026-Q3', '第三季度' → '2026-Q3'."""
    m = _QUARTER.fullmatch(text.strip())
    if not m:
        return None
    q = _CN_DIGITS.get(m["q"]) or int(m["q"])
    return f"{int(m['y'] or default_year):04d}-Q{q}"


_DATE = re.compile(r"(?:(?P<y>\d{4})\s*[-年./])?\s*(?P<m>\d{1,2})\s*[-月./]\s*(?P<d>\d{1,2})\s*日?")


def parse_date(text: str, today: date) -> date | None:
    """'2026-12-10', '12月10日', '12-10', '12.10' → a date (this year when no year is given)."""
    m = _DATE.fullmatch(text.strip())
    if not m:
        return None
    try:
        return date(int(m["y"] or today.year), int(m["m"]), int(m["d"]))
    except ValueError:
        return None
