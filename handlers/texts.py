"""Every text a user sees, in one place: clear, polite Chinese that says what to do next."""

from __future__ import annotations

from datetime import date, datetime

HELP_LIAISON = """您好！我是创模考核助手，可以这样跟我说：
1. 报送政务信息：「政务信息：标题」换行写正文；或先说「报送政务信息」，再发文字、文件、图片，最后回复「确认」
2. 任务反馈：「反馈 K7 反馈内容」
3. 报表报告：「月报 10月 内容」「季报 三季度 内容」「年报 内容」「自查报告 内容」「年度总结 内容」
4. 目标佐证：「佐证 A1 完成情况说明」
5. 查询：「我的得分」（往年如「我的得分 2025」）「进度」「记录」「我的任务」（本单位责任书）
6. 撤回：「撤回 12」（截止前可撤回本单位的报送）"""

HELP_ADMIN = """管理员命令：
· 布置任务 单位1,单位2(或「全部」) 截止日期 标题 —— 如「布置任务 全部 12月10日 报送大气污染防治进展」
· 未报 11月 —— 查看该月政务信息未报满的单位
· 待审核 / 查看 S12 / 通过 S1 S2（或 S1-S9、本页）/ 退回 S12 原因 —— 审核报送
· 打分 单位 指标 分值 理由 / 扣分 单位 规则 分值 理由 / 加分 单位 规则 数量 理由
· 比率 单位 规则 0.85 理由 / 确认完成 单位 规则 理由 / 确认未完成 单位 规则 理由
· 任务完成 单位 任务编号 理由
· 责任书：把填好的责任书 Excel 发给我，核对后回复「确认」；查看「责任书 单位」
· 更正：取消任务 K7 原因 / 改期 K7 12月20日 原因 / 撤销 E36 原因 / 作废 S12 原因
· 人员：更换联络员 单位 旧账号 新账号 姓名 / 停用联络员 账号 原因
· 定级 单位 等次 理由（超出第七条的须写「例外」）
· 得分 单位 / 汇总 2026 / 通知 内容"""

SCORE_LAST_YEAR_HINT = "如需查询 {year} 年度得分，请发送「我的得分 {year}」。"
SCORE_YEAR_NO_RECORDS = (
    "{year} 年度没有本单位的考核记录，无法计算得分。查询本年度请发送「我的得分」。"
)
SCORE_YEAR_NOT_STARTED = "{year} 年度的考核尚未开始，暂无得分。查询本年度请发送「我的得分」。"

UNKNOWN = "抱歉，没有听懂您的意思。发送「帮助」可查看我能做的事，例如「我的得分」「进度」「报送政务信息」。"

UNREGISTERED = (
    "您好！您还没有登记为创模考核联络员，暂时无法使用本助手。"
    "请联系市创模办，提供您的姓名和所在单位，登记后即可报送和查询。"
)
NOT_ADMIN = "抱歉，这条命令仅限市创模办管理员使用。如需办理，请联系市创模办。"
LEADER_READ_ONLY = (
    "领导账号可以查看本单位的得分、进度和记录；报送、反馈和撤回请由本单位联络员办理。"
    "如您同时担任联络员，请联系市创模办登记为联络员。"
)
INACTIVE = "您的账号已停用，不能再报送或查询。如有疑问，请联系市创模办。"
OTHER_UNIT = "抱歉，您只能查看和办理本单位（{own}）的事项。"
MEDIA_OUTSIDE_CONVERSATION = (
    "已收到您的{what}。如需作为政务信息附件报送，请先发送「报送政务信息」，再发送文件或图片。"
)

CONV_STARTED = (
    "好的，开始报送政务信息。请发送标题和正文（第一行为标题），文件和图片也可直接发送。"
    "全部发完后回复「确认」提交，回复「取消」放弃。"
)
CONV_ADDED_TEXT = (
    "已记下正文（标题：{title}）。还可以继续发送文件或图片；回复「确认」提交，「取消」放弃。"
)
CONV_ADDED_MEDIA = "已收到{what}（共 {count} 个附件）。回复「确认」提交，「取消」放弃。"
CONV_NEED_TEXT = "请先发送政务信息的标题和正文，再回复「确认」。"
CONV_CANCELLED = "已取消本次报送，没有登记任何内容。"
CONV_EXPIRED = "您上次的政务信息报送超过 {minutes} 分钟未确认，已自动取消，没有登记。如需报送请重新发送「报送政务信息」。"
NOTHING_TO_CONFIRM = "当前没有待确认的报送。报送政务信息请发送「报送政务信息」。"

INFO_LOGGED = (
    "已登记 {month} 月第 {n} 篇政务信息（编号 {ref}，指标 {target}）：{title}\n"
    "{remaining}，截止 {deadline}。"
)
INFO_REMAINING = "本月还差 {left} 篇"
INFO_DONE = "本月 {quota} 篇已报满"

FEEDBACK_LOGGED = "已登记任务 {task}「{title}」的反馈（编号 {ref}），{timing}。"
TASK_UNKNOWN = "没有找到本单位的任务 {task}。请发送「进度」查看本单位的任务编号。"
REPORT_LOGGED = "已登记{report}（编号 {ref}，{period}，指标 {target}），{timing}。"
REPORT_NOT_IN_SCHEME = "本单位的考核方案中没有「{report}」这一项，未登记。如有疑问请联系市创模办。"
EVIDENCE_LOGGED = "已登记{what}的完成佐证（编号 {ref}），待市创模办确认。"
EVIDENCE_UNKNOWN = "没有找到编号为 {ref} 的目标或任务。请核对编号，或发送「进度」查看。"
ON_TIME = "按时报送（截止 {deadline}）"
LATE = "已超过截止日期 {deadline}，记为迟报"
BODY_NEEDED = "请在命令后写上内容，例如「{example}」。"

WITHDRAWN = "已撤回编号 {ref} 的报送（{title}）。撤回记录已存档。"
WITHDRAW_UNKNOWN = "没有找到本单位编号为 {ref} 的报送。发送「记录」可查看最近的报送编号。"
WITHDRAW_TOO_LATE = "编号 {ref} 的报送已过截止日期 {deadline}，不能撤回。如需更正请联系市创模办。"
WITHDRAW_ALREADY = "编号 {ref} 的报送已经是「{status}」状态，无需撤回。"

RECORDS_HEADER = "{unit}最近的报送："
RECORDS_EMPTY = "{unit}还没有报送记录。"
STATUS_NAMES = {
    "submitted": "待审核",
    "accepted": "已采纳",
    "rejected": "已退回",
    "withdrawn": "已撤回",
}

PROGRESS_HEADER = "{unit} {month} 月进度（截至 {today}）："
PROGRESS_INFO = "· 政务信息：已报 {n}/{quota} 篇，截止 {deadline}"
PROGRESS_TASK = "· 任务 {task}「{title}」：截止 {due}，{state}"
PROGRESS_NOTHING = "· 本月暂无其他待办事项"

SCORE_FOOTER = "（发送「记录」查看报送明细，对得分有疑问请联系市创模办）"

REASON_NEEDED = "请写明理由，例如「{example}」。所有评分操作都会记录理由备查。"

UNIT_UNKNOWN = "没有找到单位「{unit}」。请核对名称，已登记的单位有：{known}"
RULE_UNKNOWN = (
    "单位「{unit}」的考核方案中没有指标或规则「{rule}」。请发送「得分 {unit}」查看指标编号。"
)
VALUE_BAD = "分值「{value}」不正确：{why}"
ENTRY_DONE = (
    "已为{unit}记录：{verb} {rule} {value}（理由：{reason}）。当前基本分 {base}，加分 {bonus}。"
)

TASK_ASSIGNED = "已向 {count} 个单位布置任务 {ids}「{title}」，截止 {due}。"
TASK_NOTICE = "市创模办布置了新任务 {task}「{title}」，请于 {due} 前反馈。反馈方式：「反馈 {task} 反馈内容」。"
DATE_BAD = "截止日期「{text}」无法识别，请写成「12月10日」或「2026-12-10」。"
TASK_COMPLETED = "已确认{unit}完成任务 {task}「{title}」（理由：{reason}）。"

MISSING_HEADER = "{month} 月政务信息未报满的单位（每月 {quota} 篇）："
MISSING_NONE = "{month} 月所有单位的政务信息均已报满。"
PERIOD_BAD = "月份「{text}」无法识别，请写成「11月」或「2026-11」。"

BROADCAST_DONE = "通知已发送给 {count} 位联络员。"
BROADCAST_PREFIX = "【市创模办通知】"

TALLY_HEADER = "{year} 年度考核汇总（截至 {today}）："


def fmt_date(d: date | datetime) -> str:
    return f"{d.month} 月 {d.day} 日"


def fmt_points(value: object) -> str:
    """Points with at most two decimals, no trailing zeros: 6, 6.5, 3.92."""
    text = f"{float(str(value)):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


ADMIN_USE_UNIT = (
    "您是管理员，未绑定单位。查询某单位请发送「得分 单位名」，发送「帮助」查看管理员命令。"
)
NO_UNIT = "您的账号尚未绑定单位，暂时无法报送或查询。请联系市创模办登记所在单位。"
DASHBOARD_LINK = "考核看板（{minutes} 分钟内有效，请勿转发）：\n{link}"
DASHBOARD_OFF = "考核看板尚未启用（需设置 KAOHE_DASHBOARD_SECRET）。请联系系统运维人员。"
