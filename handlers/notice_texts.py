"""Texts of 通知 with 签收 and of 未报 / 一键催报 (the office's follow-up)."""

from __future__ import annotations

NOTICE_PREFIX = "【市创模办通知{ref}】"
NOTICE_CARD_TITLE = "请签收：市创模办通知{ref}"
NOTICE_CARD_DESC = "{excerpt}\n请点击「签收」确认已收到（也可回复「签收」）。"
NOTICE_CARD_AGAIN = "【提醒】市创模办通知{ref}您尚未签收：{excerpt}"
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
