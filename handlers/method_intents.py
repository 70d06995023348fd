"""The phrases of the method's later steps: 测评 (第八条), 检查考评 (第九条), 通报 (第十条).

Tried before the general phrase table, like handlers/office_intents.py: each pattern starts with
its own keyword (发起测评, 测评进度, 结束测评, 测评, 检查记录, 检查清单, 申辩, 确认检查, 撤销检查,
检查证据, 生成通报), so it never takes a message the general table would have understood. A click on
a 测评 card comes back as an event whose key starts with `rate:`.
"""

from __future__ import annotations

import re
from enum import StrEnum

from handlers.intents import SEP, Intent, normalize
from handlers.types import InboundMessage


class MethodIntent(StrEnum):
    RATING_OPEN = "rating_open"  # 发起测评 [年度] [截止 日期] [评价人 张三 李四]
    RATING_PROGRESS = "rating_progress"  # 测评进度
    RATING_CLOSE = "rating_close"  # 结束测评
    RATING_RESULT = "rating_result"  # 测评结果 (a department: its own result)
    RATE = "rate"  # 测评 部门 满意 [意见] / 测评 部门 8 [意见]
    MY_RATING = "my_rating"  # 测评 / 我的测评
    RATE_CLICK = "rate_click"  # a click on a 测评 card
    INSPECT = "inspect"  # 检查记录 单位 指标 发现… [扣0.1分]
    INSPECTIONS = "inspections"  # 检查清单 [单位]
    INSPECTION_SHOW = "inspection_show"  # 检查 J3
    INSPECTION_EVIDENCE = "inspection_evidence"  # 检查证据 J3 (then photos)
    APPEAL = "appeal"  # 申辩 J3 理由
    INSPECTION_CONFIRM = "inspection_confirm"  # 确认检查 J3 [意见]
    INSPECTION_DROP = "inspection_drop"  # 撤销检查 J3 理由
    NOTICE = "notice"  # 生成通报 [年度]
    SELFCHECK_LIST = "selfcheck_list"  # 自查清单
    SELFCHECK_MARK = "selfcheck_mark"  # 自查 K1 完成 [说明]
    SELFCHECK_CLICK = "selfcheck_click"  # a click on a 自查 card
    SELFCHECK_VIEW = "selfcheck_view"  # 自查情况 [单位]


_REF = r"#?(?P<ref>[Jj]\d+)"
_YEAR = r"(?P<year>\d{4})\s*年?度?"
_AMOUNT = r"(?:\s*[,，]?\s*(?:拟)?扣(?:分)?\s*(?P<amount>\d+(?:\.\d+)?)\s*分?)"
_MARKS = "部分完成|基本完成|未完成|没有完成|没完成|已完成|全部完成|完成|部分"
_PATTERNS: list[tuple[MethodIntent, str]] = [
    (  # raters named for the round (default: each district's leaders)
        MethodIntent.RATING_OPEN,
        rf"(?:发起|开始|启动)测评(?:{SEP}{_YEAR})?(?:{SEP}(?:截止|截至|至){SEP}(?P<due>\S+?))?"
        rf"{SEP}(?:评价人|测评人)(?:为|是)?{SEP}(?P<raters>.+?)"
        rf"(?:{SEP}(?:截止|截至|至){SEP}(?P<due2>\S+?))?",
    ),
    (
        MethodIntent.RATING_OPEN,
        rf"(?:发起|开始|启动)测评(?:{SEP}{_YEAR})?(?:{SEP}(?:截止|截至|至)?{SEP}(?P<due>\S+?))?",
    ),
    (MethodIntent.RATING_PROGRESS, r"测评(?:进度|情况|进展)"),
    (MethodIntent.RATING_CLOSE, r"(?:结束|关闭|截止)测评"),
    (MethodIntent.RATING_RESULT, rf"(?:我的|本单位)?测评结果(?:{SEP}{_YEAR})?"),
    (MethodIntent.MY_RATING, r"(?:我的)?测评(?:表|卡片|清单)?"),
    (
        MethodIntent.RATE,
        rf"测评{SEP}(?P<department>[^\s\d]\S*?)\s*"
        r"(?P<answer>基本满意|不满意|满意|10|\d)(?:分)?(?:[\s,，:：]+(?P<comment>.+))?",
    ),
    (  # an answer the scale does not have: the handler says which answers there are
        MethodIntent.RATE,
        rf"测评{SEP}(?P<department>[^\s\d]\S*?)\s+(?P<answer>\S+)(?:\s+(?P<comment>.+))?",
    ),
    (
        MethodIntent.INSPECT,
        rf"(?:检查记录|检查发现|明察暗访|抽查发现){SEP}(?P<unit>\S+)\s+"
        rf"(?P<target>[A-Za-z]+\d*[A-Za-z]?(?:\.\d+)?)\s+(?P<finding>.+?){_AMOUNT}?",
    ),
    (MethodIntent.INSPECTIONS, rf"(?:检查清单|检查情况|检查记录)(?:{SEP}(?P<unit>\S+))?"),
    (MethodIntent.INSPECTION_SHOW, rf"(?:查看)?检查{SEP}{_REF}"),
    (MethodIntent.INSPECTION_EVIDENCE, rf"(?:检查证据|补充证据|补充照片){SEP}{_REF}"),
    (MethodIntent.APPEAL, rf"申辩{SEP}{_REF}(?:{SEP}(?P<text>.+))?"),
    (MethodIntent.INSPECTION_CONFIRM, rf"确认检查{SEP}{_REF}(?:\s+(?P<reason>.+))?"),
    (MethodIntent.INSPECTION_DROP, rf"(?:撤销|撤回|撤消)检查{SEP}{_REF}(?:\s+(?P<reason>.+))?"),
    (MethodIntent.SELFCHECK_LIST, r"(?:填写|我的)?自查(?:清单|表|卡片)"),
    (MethodIntent.SELFCHECK_VIEW, rf"自查(?:情况|进度|结果)(?:{SEP}(?P<unit>\S+))?"),
    (
        MethodIntent.SELFCHECK_MARK,
        rf"自查{SEP}(?P<line>[A-Za-z]*\d+[A-Za-z]?)\s*(?P<mark>{_MARKS})"
        r"(?:[\s,，:：]+(?P<evidence>.+))?",
    ),
    (MethodIntent.NOTICE, rf"(?:生成|起草|导出)?(?:考核结果)?通报(?:{SEP}{_YEAR})?"),
]
_COMPILED = [(intent, re.compile(p, re.S | re.I)) for intent, p in _PATTERNS]

RATE_KEY = "rate:"
SELFCHECK_KEY = "sc:"


def parse_method(text: str) -> Intent | None:
    """The intent of `text` among these steps, or None to leave it to the other tables. The
    arguments keep the user's own text (a finding, a comment) as sent, only trimmed."""
    norm = normalize(text)
    for intent, pattern in _COMPILED:
        match = pattern.fullmatch(norm)
        if match:
            args = {k: v.strip() for k, v in match.groupdict().items() if v}
            raw = _raw_tail(text, intent)
            if raw is not None:
                args[raw[0]] = raw[1]
            return Intent(intent, args, norm)
    return None


def _raw_tail(text: str, intent: MethodIntent) -> tuple[str, str] | None:
    """The free text of a finding or an appeal exactly as typed (normalisation is only for
    recognising the command; what users write is stored as they wrote it)."""
    if intent == MethodIntent.INSPECT:
        match = re.match(
            r"\s*(?:检查记录|检查发现|明察暗访|抽查发现)[\s:：,，、]*\S+\s+\S+\s+(.+)", text, re.S
        )
        if match:
            tail = re.sub(
                r"\s*[,，]?\s*(?:拟)?扣(?:分)?\s*[\d.０-９．]+\s*分?\s*$", "", match.group(1)
            )
            return "finding", tail.strip()
    if intent == MethodIntent.SELFCHECK_MARK:
        match = re.match(rf"\s*自查[\s:：,，、]*\S+?\s*(?:{_MARKS})[\s,，:：]+(.+)", text, re.S)
        if match:
            return "evidence", match.group(1).strip()
    if intent == MethodIntent.APPEAL:
        match = re.match(r"\s*申辩[\s:：,，、]*#?[JjＪｊ][\d０-９]+[\s:：,，、]*(.+)", text, re.S)
        if match:
            return "text", match.group(1).strip()
    return None


def event_intent(msg: InboundMessage) -> Intent | None:
    """A click on a 测评 card: key `rate:<round>:<department unit id>:<answer index>`; on a 自查
    card: `sc:<year>:<line>:<mark index>`."""
    if msg.event not in ("click", "template_card_event"):
        return None
    if msg.event_key.startswith(SELFCHECK_KEY):
        found = re.fullmatch(
            r"(\d{4}):([A-Za-z]*\d+[A-Za-z]?):(\d)", msg.event_key[len(SELFCHECK_KEY) :]
        )
        if found is None:
            return None
        args = {"year": found[1], "line": found[2], "choice": found[3]}
        return Intent(MethodIntent.SELFCHECK_CLICK, args, msg.event_key)
    if not msg.event_key.startswith(RATE_KEY):
        return None
    parts = msg.event_key[len(RATE_KEY) :].split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    args = {"round": parts[0], "unit_id": parts[1], "choice": parts[2]}
    return Intent(MethodIntent.RATE_CLICK, args, msg.event_key)
