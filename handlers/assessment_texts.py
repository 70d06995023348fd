"""What the bot says about 分级考核: which assessment a message is about."""

from __future__ import annotations

from storage.models import Role

ROLE_NAMES: dict[str, str] = {  # by Role (a StrEnum: its members are the strings)
    Role.LIAISON: "联络员",
    Role.LEADER: "领导",
    Role.ADMIN: "管理员",
    Role.INSPECTOR: "检查员",
}
ASK = "您同时参加多个考核，这条消息是关于哪一个考核的？"
MENU_LINE = "{n}. {name}（{role}）"
HOW = "请回复「切换考核 编号」选择，之后的消息都按所选考核处理；随时可再切换。"
CURRENT = "当前考核：{line}"
SWITCHED = "已切换到：{line}。之后的消息都按该考核处理。"
UNKNOWN = "没有找到考核「{ref}」。您参加的考核："
