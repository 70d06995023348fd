"""Texts of the office's follow-up: 未报 and 一键催报, escalation to leaders, 通知 with 签收."""

from __future__ import annotations

NOTICE_PREFIX = "【{office}通知{ref}】"
NOTICE_CARD_TITLE = "请签收：{office}通知{ref}"
NOTICE_CARD_DESC = "{excerpt}\n请点击「签收」确认已收到（也可回复「签收」）。"
NOTICE_CARD_AGAIN = "【提醒】{office}通知{ref}您尚未签收：{excerpt}"
BUTTON_ACK = "签收"
NOTICE_SENT = (
    "通知{ref}已发送给{count}人，请他们签收。发送「签收情况」查看谁已签收，"
    "「催签收」提醒尚未签收的人。"
)
NOTICE_NOBODY = "还没有登记联络员或领导，通知无法发送。请先用 units import 登记人员。"

ACKED = "已签收通知{ref}，谢谢。"
ACKED_MANY = "已签收通知{refs}，谢谢。"
ACKED_BEFORE = "您已于{when}签收通知{ref}，无需重复签收。"
ACK_NONE = "您目前没有需要签收的通知。"
ACK_NOT_YOURS = "没有找到发给您、需要签收的通知{ref}。"

STATUS_NONE = "还没有需要签收的通知。发送「通知签收 正文」可发出需签收的通知。"
STATUS_UNKNOWN = "没有找到需要签收的通知{ref}。"
STATUS_HEAD = "通知{ref}（{when}发送）签收情况：已签收{done}/{total}人。"
STATUS_EXCERPT = "内容：{excerpt}"
STATUS_MISSING = "未签收（{count}人）："
STATUS_DONE = "已签收（{count}人）："
STATUS_LINE = "· {unit}{name}"
STATUS_LINE_AT = "· {unit}{name}（{when}）"
STATUS_CHASE = "提醒未签收的人请发送「催签收 {ref}」。"
STATUS_ALL = "全部已签收。"

CHASED = "已提醒{count}人签收通知{ref}：{names}。"
CHASE_ALL_DONE = "通知{ref}已全部签收，无需提醒。"

# --- 未报 / 一键催报 ---------------------------------------------------------------------------

SCOPE_MONTH = "{year}年{month}月"
SCOPE_THIS_MONTH = "{month}月"
SCOPE_ALL = "截至今天全部到期事项"
SCOPE_TASK = "任务{code}"
SCOPE_BAD = (
    "没看懂「{text}」。可发送「未报」（本月）、「未报 11月」「未报 2025年12月」「未报 十月」、"
    "「未报 K47」（某项任务）或「未报 全部」（截至今天所有到期未报的）。"
)
TASK_NONE = "没有找到编号为{code}的任务。发送「未报 全部」查看所有到期未报的事项。"
MISSING_NONE = "{scope}：各单位均已按要求报送（截至{today}）。"
MISSING_HEAD = "{scope}未报：{units}个单位、{items}项（截至{today}）："
MISSING_UNIT = "· {unit}：{items}"
MISSING_MORE = "等{count}项"
MISSING_NO_LIAISON = "（未登记联络员）"
MISSING_FOOT = (
    "点击卡片上的「一键催报」或回复「一键催报」，立即向以上{units}个单位的联络员发送催报"
    "（今天已提醒过的事项不重复发送）。"
)
MISSING_MORE_UNITS = "……另有{n}个单位未列出"

OWED_QUOTA = "{label}已报{have}/{need}篇，还差{owed}篇"
OWED_TARGET = "{label}尚未确认完成"
OWED_OTHER = "{label}尚未报送"
DUE = "（截止{due}{late}）"
LATE_WORKDAYS = "，已逾期{n}个工作日"
LATE = "，已逾期"

CHASE_CARD_TITLE = "一键催报：{scope}未报{units}个单位"
CHASE_CARD_DESC = "{names}\n点击「一键催报」立即向这些单位的联络员发送催报。"
BUTTON_CHASE = "一键催报"

CHASE_NOTHING = "请先发送「未报」（或「未报 11月」等）列出未报的单位，再点击「一键催报」。"
CHASE_STALE = (
    "这张卡片对应的未报清单已被更新的清单取代。请按最新一次「未报」的卡片催报，或重新发送「未报」。"
)
CHASE_SENT = "已向{units}个单位的联络员发送催报（{items}项）：{names}。"
CHASE_ALREADY = "今天已提醒过、未重复发送{items}项（{names}）。"
CHASE_DONE_MEANWHILE = "已补报、无需催报：{names}。"
CHASE_NO_LIAISON = "未登记联络员、无法催报：{names}。"
CHASE_NONE_SENT = "没有发送新的催报。"

CHASE_TITLE = "催报：{what}"
CHASE_TITLE_MANY = "催报：{unit}{count}项未报"
CHASE_BODY = "{unit}：{items}。{office}提醒您尽快报送；已报送的请忽略。"
