"""Texts of the office's review (待审核, 查看, 通过, 退回, 补正) and of the notices liaisons get."""

from __future__ import annotations

from scoring.facts import SubmissionKind

KIND_NAMES: dict[str, str] = {
    SubmissionKind.INFO: "政务信息",
    SubmissionKind.FEEDBACK: "任务反馈",
    SubmissionKind.REPORT: "报告",
    SubmissionKind.EVIDENCE: "完成佐证",
}

QUEUE_EMPTY = "目前没有待审核的报送{scope}。"
QUEUE_HEADER = "待审核{total}项{scope}（第{page}/{pages}页，最早的在前）："
QUEUE_LINE = "· {ref} {unit} {target} {kind} {when}「{title}」{late}"
QUEUE_FOOTER = (
    "查看全文：「查看 {first}」；批量通过：「通过 本页」{span}；退回：「退回 {first} 原因」{more}"
)
QUEUE_SPAN = "「通过 {low}-{high}」"  # only when the page is exactly that range of numbers
QUEUE_ONE = "「通过 {ref}」"
QUEUE_MORE = "；下一页：「待审核{scope_cmd} 第{next}页」"
QUEUE_SCOPE_UNIT = "（{unit}）"
QUEUE_SCOPE_TARGET = "（指标{target}）"
QUEUE_FILTER_UNKNOWN = (
    "没有找到单位或指标「{text}」。可发送「待审核」查看全部，"
    "或「待审核 椒江区」「待审核 C3b」按单位、指标查看。"
)

SHOW_UNKNOWN = "没有找到编号为{ref}的报送。请发送「待审核」查看待审核的编号。"
SHOW_HEAD = "{ref}｜{unit}｜{target} {kind}"
SHOW_TITLE = "标题：{title}"
SHOW_SENDER = "报送人：{sender}，时间：{when}"
SHOW_TIMING_ON = "按时（截止{deadline}）"
SHOW_TIMING_LATE = "迟报（截止{deadline}）"
SHOW_STATUS = "状态：{status}"
SHOW_BODY = "正文：\n{body}"
SHOW_NO_BODY = "正文：（无）"
SHOW_ATTACHMENTS = "附件{count}个：{names}（随后以文件发送）"
SHOW_ATTACHMENT_MISSING = "附件「{name}」未能保存，无法发送。"
SHOW_HISTORY = "审核记录："
SHOW_HISTORY_LINE = "· {when} {actor} {status}{reason}"
SHOW_CORRECTS = "这是对{ref}的补正。"
SHOW_CORRECTED_BY = "已补正：{refs}"
SHOW_TASK = "所属任务：{task}「{title}」，截止{due}"
SHOW_ACTIONS = "审核：「通过 {ref}」或「退回 {ref} 原因」"

REFS_NONE = "请写明要审核的编号，例如「通过 S12」「通过 S1 S2 S3」「通过 S1-S9」或「通过 本页」。"
REFS_TOO_MANY = "一次最多审核{limit}项，请分批发送。"
PAGE_NONE = "请先发送「待审核」列出一页，再发送「通过 本页」。"
REJECT_REASON = "退回请写明原因，例如「退回 {ref} 内容与创模工作无关」，联络员会看到原因。"

DONE_ACCEPTED = "已通过{count}项：{refs}。"
DONE_REJECTED = (
    "已退回{ref}（{unit}「{title}」），原因：{reason}联络员可发送「补正 {ref} 内容」重新报送。"
)
DONE_ALREADY = "{refs}此前已是「{status}」，未重复记录。"
DONE_UNKNOWN = "没有找到：{refs}，请核对编号（发送「待审核」可查看待审核的报送及编号）。"
DONE_WITHDRAWN = "{refs}已被联络员撤回，无需审核。"
DONE_TASK = "佐证{ref}通过，已同时确认{unit}任务{task}「{title}」完成。"
DONE_TOLD = "已通知相关单位联络员。"
DONE_ASK_TASK = "佐证{ref}（{unit}）是关于指标的，{unit}任务{task}「{title}」尚未确认完成。"
ASK_TASKS = "同时确认{tasks}完成？"
ASK_TASK_ONE = "{unit}{task}「{title}」"
ASK_SUFFIX = "\n回复「好」或「确认」即确认完成；回复「不用」则只通过佐证、任务保持未完成。"
ASKED_DONE = "已确认{tasks}完成（依据佐证{refs}）。已通知相关单位联络员。"
ASKED_ALREADY = "{tasks}此前已确认完成，未重复记录。"
ASKED_WHY = "佐证{ref}审核通过，管理员确认完成"

NOTICE_HEAD = "【审核结果】{office}审核了本单位的报送："
NOTICE_ACCEPTED = "· {ref} {title}：已通过"
NOTICE_REJECTED = (
    "· {ref}「{title}」：被退回，原因：{reason}请发送「补正 {ref} 修改后的内容」重新报送。"
)
NOTICE_TASK = "· 任务{task}「{title}」：已确认完成"
NOTICE_OFFICE_HEAD = "【考核记录】{office}记录了本单位的考核事项："
NOTICE_ENTRY = "· {rule} {verb}{value}（{reason}）"
NOTICE_CONFIRMED = "· {rule} {verb}（{reason}）"
NOTICE_TASK_DONE = "· 任务{task}「{title}」：已确认完成（{reason}）"
NOTICE_GRADE = "· {year}年度等次：{grade}（{reason}）"
SCORE_CHANGE = "当前基本分{before} → {after}"
SCORE_SAME = "当前基本分{after}（不变）"
BONUS_CHANGE = "，加分{before} → {after}"

CORRECT_UNKNOWN = "没有找到本单位编号为{ref}的报送。发送「记录」可查看编号。"
CORRECT_NOT_RETURNED = "{ref}未被退回（当前状态：{status}），无需补正。"
CORRECT_WITHDRAWN = "{ref}已撤回，不能补正。如需报送，请作为新的报送重新发送：{how}"
SEND_AGAIN_INFO = "「政务信息：标题」，换行写正文。"
SEND_AGAIN_FEEDBACK = "「反馈 {task} 反馈内容」。"
SEND_AGAIN_OTHER = "按原来的格式重新发送（发送「帮助」可查看各类报送的格式）。"
# a returned item already corrected: one 补正 at a time, so a chain counts once
CORRECTED_WAITING = (
    "{old}已由{ref}补正，{ref}正在等待审核，本次未重复登记。"
    "如需修改，请先发送「撤回 {ref}」，再发送「补正 {old} 修改后的内容」。"
)
CORRECTED_ACCEPTED = "{old}已由{ref}补正，{ref}已审核通过，无需再次补正，本次未登记。"
CORRECTED_REJECTED = "{old}已由{ref}补正，但{ref}也被退回，本次未登记。请对{ref}补正：发送「补正 {ref} 修改后的内容」。"
CORRECT_BODY = "请在编号后写上补正内容，例如「补正 {ref} 已补充现场照片和整改说明」。"
CORRECT_LOGGED = "已登记对{old}的补正（新编号{ref}），待{office}审核。"
CORRECT_RETITLED = "标题改为「{title}」。"
