"""The phrases of running the office's year: the 责任书, corrections, people, final grades.

Tried before the general phrase table (handlers/intents.py) and kept apart from it: each pattern
here starts with its own keyword (责任书, 取消任务, 改期, 撤销/作废 with a reason, 更换联络员, 定级,
我的任务), so it never takes a message the general table would have understood.
"""

from __future__ import annotations

import re
from enum import StrEnum

from handlers.intents import SEP, Intent, normalize_mapped, typed_args
from handlers.types import InboundMessage


class OfficeIntent(StrEnum):
    CHARTER = "charter"  # 责任书 [单位] [年度]
    MY_TASKS = "my_tasks"  # 我的任务
    CANCEL_TASK = "cancel_task"  # 取消任务 [单位] K47 原因
    REDATE_TASK = "redate_task"  # 改期 [单位] K47 12月20日 原因
    VOID = "void"  # 撤销 E36 原因 / 作废 S12 原因
    REPLACE_LIAISON = "replace_liaison"  # 更换联络员 单位 旧账号 新账号 [姓名]
    DEACTIVATE = "deactivate"  # 停用联络员 账号 原因
    GRADE = "grade"  # 定级 单位 [年度] 等次 [例外] 理由
    GRADE_HOWTO = "grade_howto"  # 定级 without a grade it knows: how to write it
    NOTICE_ACK = "notice_ack"  # 通知签收 正文: a 通知 that asks for 签收 (a card button)
    ACK = "ack"  # 签收 [N3] (typed, or the card's button on platforms that send its text back)
    ACK_CLICK = "ack_click"  # a click on a notice card's 签收 button
    ACK_STATUS = "ack_status"  # 签收情况 [N3]
    ACK_CHASE = "ack_chase"  # 催签收 [N3]
    CHASE = "chase"  # 一键催报: the overdue reminder now, to the units of the last 未报
    CHASE_CLICK = "chase_click"  # a click on the 未报 card's 一键催报 button


_UNIT = r"(?:(?P<unit>[^\s\d#][^\s]*?)\s+)?"  # an optional unit name before a task number
_TASK = r"#?(?P<task>[A-Za-z]*\d+)"
_PATTERNS: list[tuple[OfficeIntent, str]] = [
    (
        OfficeIntent.CHARTER,
        rf"(?:查看)?(?:年度)?责任书(?:{SEP}(?P<unit>[^\s\d]\S*?))?(?:{SEP}(?P<year>\d{{4}})\s*年?度?)?",
    ),
    (OfficeIntent.MY_TASKS, r"(?:我的|本单位)?(?:任务|任务清单|责任书任务)(?:清单|列表)?"),
    (OfficeIntent.CANCEL_TASK, rf"(?:取消任务|撤销任务){SEP}{_UNIT}{_TASK}(?:\s+(?P<reason>.+))?"),
    (
        OfficeIntent.REDATE_TASK,
        rf"(?:改期|延期|调整截止日期){SEP}{_UNIT}{_TASK}\s+(?P<due>\S+)(?:\s+(?P<reason>.+))?",
    ),
    (OfficeIntent.VOID, r"(?:撤销|撤消|作废)\s*#?(?P<ref>[Ee]\d+)(?:\s+(?P<reason>.+))?"),
    (OfficeIntent.VOID, r"(?:撤销|撤消|作废)\s*#?(?P<ref>[Ss]\d+)\s+(?P<reason>.+)"),
    (OfficeIntent.VOID, r"作废\s*#?(?P<ref>[Ss]\d+)"),
    (
        OfficeIntent.REPLACE_LIAISON,
        rf"(?:更换联络员|替换联络员){SEP}(?P<unit>\S+)\s+(?P<old>\S+)\s+(?P<new>\S+)"
        r"(?:\s+(?P<name>.+))?",
    ),
    (
        OfficeIntent.DEACTIVATE,
        rf"(?:停用联络员|停用账号|停用){SEP}(?P<userid>\S+)(?:\s+(?P<reason>.+))?",
    ),
    (
        OfficeIntent.GRADE,
        rf"(?:定级|确定等次|评定等次){SEP}(?P<unit>\S+)\s+(?:(?P<year>\d{{4}})\s*年?度?\s+)?"
        r"(?P<grade>优秀|良好|合格|不合格)"
        r"(?:\s*(?P<exception>例外|特例|破格)[:,，：]?)?(?:\s+(?P<reason>.+))?",
    ),
    (OfficeIntent.GRADE_HOWTO, r"(?:定级|确定等次|评定等次)(?:[\s:：,，、].*)?"),
]
_NOTICE = rf"(?:{SEP}#?(?P<ref>[Nn]\d+))?"
_PATTERNS += [
    (
        OfficeIntent.NOTICE_ACK,
        rf"(?:通知签收|签收通知|需签收通知|通知\s*\(\s*(?:需|请)?签收\s*\)){SEP}(?P<body>.+)",
    ),
    (OfficeIntent.ACK, rf"(?:签收|确认签收|已签收){_NOTICE}"),
    (OfficeIntent.ACK_STATUS, rf"(?:签收情况|签收进度|签收统计|查看签收){_NOTICE}"),
    (OfficeIntent.ACK_CHASE, rf"(?:催签收|提醒签收|催促签收){_NOTICE}"),
    (OfficeIntent.CHASE, r"(?:一键催报|一键催办|催报)"),
]
_COMPILED = [(intent, re.compile(p, re.S | re.I)) for intent, p in _PATTERNS]

ACK_KEY = "ack:"  # the 签收 button of a notice card: ack:<notice id>
CHASE_KEY = "chase:"  # the 一键催报 button of a 未报 card: chase:<listing id>


def event_intent(msg: InboundMessage) -> Intent | None:
    """A click on a notice's 签收 button or on a 未报 card's 一键催报."""
    if msg.event not in ("click", "template_card_event"):
        return None
    for key, intent in ((ACK_KEY, OfficeIntent.ACK_CLICK), (CHASE_KEY, OfficeIntent.CHASE_CLICK)):
        rest = msg.event_key.removeprefix(key)
        if rest != msg.event_key and rest.isdigit():
            return Intent(intent, {"id": rest}, msg.event_key)
    return None


def parse_office(text: str) -> Intent | None:
    """The office intent of `text`, or None to leave it to the general table."""
    norm, where = normalize_mapped(text)
    for intent, pattern in _COMPILED:
        match = pattern.fullmatch(norm)
        if match:
            return Intent(intent, typed_args(match, text, where), norm)
    return None
