"""Every text a user sees, in one place: clear, polite Chinese that says what to do next."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

from scoring.facts import Status
from scoring.numbers import fmt

# the liaison's help: one numbered line per thing the unit's scheme has (handlers/app.py)
HELP_LIAISON_HEAD = "您好！我是创模考核助手，可以这样跟我说："
HELP_INFO = (
    "报送政务信息：发送「政务信息：标题」，换行写正文；或先说「报送政务信息」，"
    "再发文字、文件、图片或转发文章，最后回复「确认」"
)
HELP_FEEDBACK = "任务反馈：「反馈 K7 反馈内容」"
HELP_REPORTS = "报表报告：{examples}"
HELP_REPORT_EXAMPLES = {
    "月报": "「月报 10月 内容」",
    "季报": "「季报 三季度 内容」",
    "年报": "「年报 内容」",
    "自查报告": "「自查报告 内容」",
    "年度总结": "「年度总结 内容」",
}
HELP_EVIDENCE = "目标佐证：「佐证 {ref} 完成情况说明」"
HELP_QUERIES = (
    "查询：「我的得分」（往年如「我的得分 2025」）「扣分原因」「得分明细」，指标名称或编号"
    "（如{example}）「进度」「记录」「我的任务」（本单位责任书）"
)
HELP_QUERY_INFO = "「信息怎么报」"
HELP_WITHDRAW = "撤回：「撤回 S12」（截止前可撤回本单位的报送；只说「撤回」可查看能撤回哪些）"

HELP_ADMIN = """管理员命令：
· 布置任务 单位1,单位2（或「全部」） 截止日期 标题，如「布置任务 全部 12月10日 报送大气污染防治进展」
· 未报（本月）/ 未报 11月 / 未报 K47 / 未报 全部：各单位未报的政务信息、任务反馈、报告和责任书任务；点「一键催报」或回复「一键催报」立即催报
· 待审核 / 查看 S12 / 通过 S1 S2（或 S1-S9、本页）/ 退回 S12 原因：审核报送
· 打分 单位 指标 分值 理由 / 扣分 单位 规则 分值 理由 / 加分 单位 规则 数量 理由
· 比率 单位 规则 0.85 理由 / 确认完成 单位 规则 理由 / 确认未完成 单位 规则 理由
· 任务完成 单位 任务编号 理由
· 责任书：把填好的责任书 Excel 发给我，核对后回复「确认」；查看「责任书 单位」
· 更正：取消任务 K7 原因 / 改期 K7 12月20日 原因 / 撤销 E36 原因 / 作废 S12 原因
· 人员：更换联络员 单位 旧账号 新账号 姓名 / 停用联络员 账号 原因
· 定级 单位 等次 理由（超出第七条的须写「例外」）
· 得分 单位 / 汇总 2026 / 看板 / 通知 内容
· 通知签收 内容：需签收的通知；签收情况 / 催签收：查看谁未签收并提醒"""

SCORE_LAST_YEAR_HINT = "如需查询{year}年度得分，请发送「我的得分 {year}」。"
SCORE_YEAR_NO_RECORDS = (
    "{year}年度没有本单位的考核记录，无法计算得分。查询本年度请发送「我的得分」。"
)
SCORE_YEAR_NOT_STARTED = "{year}年度的考核尚未开始，暂无得分。查询本年度请发送「我的得分」。"

UNKNOWN = "抱歉，没有听懂您的意思。发送「帮助」可查看我能做的事，例如「我的得分」「进度」「报送政务信息」。"
UNKNOWN_ADMIN = "抱歉，没有听懂您的意思。" + HELP_ADMIN
QUESTION = (
    "抱歉，这个问题我还答不上来，没有登记任何内容。您可以问「我的得分」「进度」「信息怎么报」"
    "「截止是哪天」，或发送「帮助」查看全部用法；其他问题请联系{office}。"
)
QUESTION_IN_DRAFT = "（这条消息像是提问，没有记入正在编辑的政务信息。）"
# a one-line 「政务信息：…」 with a word that may ask (几项, 哪些): not logged, and why
INFO_OR_QUESTION = (
    "这条「政务信息：…」只有一行，又带有「几」「哪些」等可能是提问的说法，我无法确定是要报送的信息"
    "还是提问，所以没有登记任何内容。"
)
# a question that begins like a 政务信息 item: how to send it as one, if that was meant
QUESTION_LOOKS_LIKE_INFO = (
    "如果这是要报送的政务信息，请把标题单独写在第一行，正文另起一行，例如：\n政务信息：标题\n正文……"
)
THANKS = "不客气！有需要随时发消息给我。"
THANKS_ADMIN = "不客气！发送「帮助」可查看管理员命令。"
ACK = "好的。有需要随时发消息给我，发送「帮助」可查看我能做的事。"
ACK_ADMIN = "好的。发送「帮助」可查看管理员命令。"

# the office that runs the assessment a message is about (分级考核): the city's, or the
# organiser's for a district's own assessment of its towns (handlers.assessments.office_name())
CITY_OFFICE = "市创模办"
OFFICE_OF = "{organiser}创模办"

UNREGISTERED = (
    "您好！您还没有登记为创模考核联络员，暂时无法使用本助手。"
    "请联系市创模办，提供您的姓名和所在单位，登记后即可报送和查询。"
)
NOT_ADMIN = "抱歉，这条命令仅限{office}管理员使用。如需办理，请联系{office}。"
LEADER_READ_ONLY = (
    "领导账号可以查看本单位的得分、进度和记录；报送、反馈和撤回请由本单位联络员办理。"
    "如您同时担任联络员，请联系{office}登记为联络员。"
)
INACTIVE = "您的账号已停用，不能再报送或查询。如有疑问，请联系市创模办。"
OTHER_UNIT = "抱歉，您只能查看和办理本单位（{own}）的事项。"
MEDIA_OUTSIDE_CONVERSATION = (
    "已收到您的{what}。如需作为政务信息附件报送，请先发送「报送政务信息」，再发送文件或图片。"
)

CONV_STARTED = (
    "好的，开始报送政务信息。请发送标题和正文（第一行为标题，换行写正文），文件、图片和文章链接"
    "也可直接发送。全部发完后回复「确认」提交，回复「取消」放弃。"
)
CONV_READY = "已记下。标题：{title}\n正文：{body}\n还可以继续发送文件或图片；回复「确认」提交，回复「取消」放弃。"
CONV_NEED_BODY = (
    "已记下标题：{title}\n请接着发送正文（也可以发送文件或图片）；如只报送标题，请回复「确认」按原样登记，"
    "回复「取消」放弃。"
)
CONV_NEED_TITLE = "已记下正文。请再发送一行标题，然后回复「确认」提交。"
CONV_ADDED_MEDIA = "已收到{what}（共{count}个附件）。回复「确认」提交，回复「取消」放弃。"
CONV_LINK_STARTED = (
    "已收到文章「{title}」，已存为一篇待提交的政务信息（标题和链接照原文保存）。"
    "回复「确认」登记，回复「取消」放弃；也可以继续补充文字、文件或图片。"
)
CONV_LINK_ADDED = "已收到文章「{title}」（共{count}个附件）。回复「确认」提交，回复「取消」放弃。"
CONV_NEED_TEXT = "请先发送政务信息的标题和正文，再回复「确认」。"
CONV_YES_NEEDS_BODY = (
    "这篇政务信息还没有正文（标题：{title}）。请发送正文；如只报送标题，请回复「确认」。"
)
CONV_CANCELLED = "已取消本次报送，没有登记任何内容。"
CONV_EXPIRED = (
    "您的政务信息草稿{what}超过{minutes}分钟未确认，已自动取消，没有登记。"
    "如需报送，请重新发送「报送政务信息」。"
)
CONV_ASK_RESTART = (
    "您有一篇尚未提交的政务信息{what}。要放弃它、重新开始吗？"
    "回复「是」放弃并重新开始，回复「确认」先提交它，回复「继续」接着编辑。"
)
CONV_NEW_ITEM_IN_DRAFT = (
    "您还有一篇尚未提交的政务信息{what}，这条新发的政务信息没有并入它，也没有登记。"
    "请先回复「确认」提交原来那篇，或回复「取消」放弃它，再重新发送这条。"
)
CONV_KEEP = "好的，继续编辑这篇政务信息{what}。发完后回复「确认」提交。"
CONV_ANSWER_RESTART_FIRST = (
    "这条消息没有记入。您有一篇尚未提交的政务信息{what}，请先回复：「是」放弃它并重新开始，"
    "「确认」先提交它，或「继续」接着编辑它；之后再发送新的内容。"
)
CONV_ANSWER_REPEAT_FIRST = (
    "这条消息没有记入。政务信息{what}与本月已登记的{ref}相同，尚未登记：仍要登记请回复「确认」，"
    "不登记请回复「取消」；如需修改，请「取消」后重新发送修改后的全文。"
)
# 「确任」, 「取小」: never taken for the answer itself
ANSWER_TYPO = {
    "confirm": "您是要回复「确认」吗？为免误操作，请准确回复「确认」两个字；不需要请回复「取消」。",
    "cancel": "您是要回复「取消」吗？为免误操作，请准确回复「取消」两个字；要提交请回复「确认」。",
}
# 「同过 S259」: a command's first word mistyped, and the command an action
DID_YOU_MEAN = (
    "没有听懂。您是要发送「{word}」吗？如是，请把开头的「{typed}」改为「{word}」后重新发送。"
)
NOTHING_TO_CONFIRM = "当前没有待确认的报送。报送政务信息请发送「报送政务信息」。"
NOTHING_TO_CANCEL = "当前没有正在进行的报送，无需取消。"

INFO_LOGGED = (
    "已登记{month}月第{n}篇政务信息（编号{ref}，指标{target}）：{title}\n"
    "{remaining}，截止{deadline}。"
)
INFO_REMAINING = "本月还差{left}篇"
INFO_DONE = "本月{quota}篇已报满"
INFO_REPEAT = (
    "这篇与本月已登记的{ref}「{title}」{same}相同，看起来是重复报送，这次没有登记。"
    "如确需另登记一篇，请回复「确认」；不需要请回复「取消」。"
)
REPEAT_SAME_TITLE = "标题"
REPEAT_SAME_BODY = "正文"
INFO_HOWTO = (
    "政务信息每月需报送{quota}篇（指标{target}），本月截止{deadline}；{month}月已报{n}篇。\n"
    "报送方法：发送「政务信息：标题」，换行写正文；或先发送「报送政务信息」，再发送文字、文件、图片"
    "或转发文章，最后回复「确认」。"
)

FEEDBACK_LOGGED = "已登记任务{task}「{title}」的反馈（编号{ref}），{timing}。"
FEEDBACK_AGAIN = "任务{task}此前已有反馈{refs}，本次作为补充一并登记。"
TASK_UNKNOWN = "没有找到本单位的任务{task}。请发送「进度」查看本单位的任务编号。"
REPORT_LOGGED = "已登记{report}（编号{ref}，{period}，指标{target}），{timing}。"
REPORT_NOT_IN_SCHEME = (
    "本单位的考核方案中没有「{report}」这一项，未登记。{have}如有疑问请联系{office}。"
)
REPORTS_WE_HAVE = "本单位需报送的是：{reports}。"
REPORTS_NONE = "本单位的考核方案不需要报送报表报告。"
EVIDENCE_LOGGED = "已登记{what}的完成佐证（编号{ref}），待{office}确认。"
SUBMISSION_REPEAT = (
    "这份{what}与{date}已登记的{ref}内容相同，看起来是重复报送，这次没有登记。"
    "如确需再登记一份，请在{minutes}分钟内回复「确认」；如是新的内容，请修改后重新发送。"
)
REPEAT_FEEDBACK = "任务{task}的反馈"
REPEAT_EVIDENCE = "{what}的完成佐证"
EVIDENCE_UNKNOWN = "没有找到编号为{ref}的目标或任务。请核对编号，或发送「进度」查看。"
ON_TIME = "按时报送（截止{deadline}）"
LATE = "已超过截止日期{deadline}，记为迟报"
BODY_NEEDED = "请在命令后写上内容，例如「{example}」。没有登记任何内容。"
FEEDBACK_HOWTO = (
    "请写明任务编号和反馈内容，例如「反馈 K7 已完成排查，共整改3处」。"
    "发送「进度」可查看待反馈的任务及编号。没有登记任何内容。"
)
EVIDENCE_HOWTO = (
    "请写明指标或任务编号和说明，可附文件或图片，例如「佐证 A1 已建成投运，见验收报告」。"
    "发送「进度」可查看任务编号。没有登记任何内容。"
)

WITHDRAWN = "已撤回编号{ref}的报送（{title}）。撤回记录已存档。"
WITHDRAWN_APPROVED = "该篇此前已通过审核，已告知审核人{reviewer}。"
WITHDRAWN_TELL_REVIEWER = (
    "【撤回】{unit}的{who}撤回了您已通过的{ref}「{title}」，该篇不再计分。如有疑问请与其联系。"
)
WITHDRAW_ONE_AT_A_TIME = (
    "撤回请一次发送一个编号，例如「撤回 {ref}」；撤回后再发送下一个。没有撤回任何内容。"
)
WITHDRAW_UNKNOWN = "没有找到本单位编号为{ref}的报送。发送「记录」可查看最近的报送编号。"
WITHDRAW_TOO_LATE = "编号{ref}的报送已过截止日期{deadline}，不能撤回。如需更正请联系{office}。"
WITHDRAW_ALREADY = "编号{ref}的报送已经是「{status}」状态，无需撤回。"
WITHDRAW_LIST_HEADER = "以下报送可以撤回（截止前）："
WITHDRAW_LIST_FOOTER = "撤回请发送「撤回 编号」，如「撤回 {ref}」。"
WITHDRAW_LIST_EMPTY = (
    "目前没有可以撤回的报送（已过截止日期、已退回或已撤回的不能撤回）。发送「记录」可查看全部报送。"
)

RECORDS_HEADER = "{unit}最近的报送："
RECORDS_EMPTY = "{unit}还没有报送记录。"
STATUS_NAMES: dict[str, str] = {  # by Status (a StrEnum: its members are the strings)
    Status.SUBMITTED: "待审核",
    Status.ACCEPTED: "已通过",
    Status.REJECTED: "已退回",
    Status.WITHDRAWN: "已撤回",
}

PROGRESS_HEADER = "{unit}{month}月进度（截至{today}）："
PROGRESS_INFO = "· 政务信息：已报{n}/{quota}篇，截止{deadline}"
PROGRESS_TASK = "· 任务{task}「{title}」：截止{due}，{state}"
PROGRESS_OVERDUE = "· 已逾期未反馈或未完成的任务：{refs}"
PROGRESS_NOTHING = "· 本月暂无其他待办事项"
MONTH_PROGRESS = (
    "{unit}{month}政务信息：已报{n}/{quota}篇（截止{deadline}），{state}本月进度请发送「进度」。"
)
MONTH_PROGRESS_FULL = "已报满。"
MONTH_PROGRESS_LEFT = "还差{left}篇。"
MONTH_PROGRESS_CLOSED = "差{left}篇，已过截止日期，不能补报。"

SCORE_FOOTER = "（发送「记录」查看报送明细，对得分有疑问请联系{office}）"

REASON_NEEDED = "请写明理由，例如「{example}」。所有评分操作都会记录理由备查。"

UNIT_UNKNOWN = "没有找到单位「{unit}」。请核对名称，已登记的单位有：{known}"
RULE_UNKNOWN = (
    "单位「{unit}」的考核方案中没有指标或规则「{rule}」。请发送「得分 {unit}」查看指标编号。"
)
VALUE_BAD = "分值「{value}」不正确：{why}。"

TASK_ASSIGNED = "已向{count}个单位布置任务{ids}「{title}」，截止{due}。"
ASSIGN_HOWTO = (
    "布置任务请写明单位、截止日期和任务标题，例如「布置任务 全部 12月10日 报送大气污染防治进展」"
    "或「布置任务 椒江区,黄岩区 12月10日 标题」。"
)
TASK_NOTICE = (
    "{office}布置了新任务{task}「{title}」，请于{due}前反馈。反馈方式：「反馈 {task} 反馈内容」。"
)
DATE_BAD = "截止日期「{text}」无法识别，请写成「12月10日」或「2026-12-10」。"
TASK_COMPLETED = "已确认{unit}完成任务{task}「{title}」（理由：{reason}）。"


BROADCAST_DONE = "通知已发送给{count}人（联络员{liaisons}人、分管领导{leaders}人）。"
BROADCAST_DONE_LIAISONS = "通知已发送给{count}位联络员。"
BROADCAST_PREFIX = "【{office}通知】"

TALLY_HEADER = "{year}年度考核汇总（截至{today}）："

_SENTENCE_ENDS = "。！？!?…"


def sentence(text: str) -> str:
    """`text` as typed, ended with 。 unless it already ends a sentence (never '。。')."""
    text = text.rstrip()
    return text if text.endswith(tuple(_SENTENCE_ENDS)) else text + "。"


def fmt_date(d: date | datetime) -> str:
    return f"{d.month}月{d.day}日"


def fmt_points(value: Decimal | Fraction | int | float | str | None) -> str:
    """Points as people read them everywhere (scoring.numbers.fmt): 6, 6.5, 3.92."""
    return fmt(Decimal(value) if isinstance(value, str) else value)


ADMIN_USE_UNIT = (
    "您是管理员，未绑定单位。查询某单位请发送「得分 单位名」，发送「帮助」查看管理员命令。"
)
ADMIN_NAME_A_UNIT = "请在后面加上单位名称，如「{ask} {unit}」；发送「汇总」可查看全部单位。"
NO_UNIT = "您的账号尚未绑定单位，暂时无法报送或查询。请联系{office}登记所在单位。"
DASHBOARD_LINK = "考核看板（{minutes}分钟内有效，请勿转发）：\n{link}"
DASHBOARD_NO_ADDRESS = (
    "考核看板已启用，但尚未设置对外访问地址（KAOHE_PUBLIC_URL），链接在手机上无法打开。"
    "请联系系统运维人员设置后再发送「看板」。"
)
DASHBOARD_OFF = "考核看板尚未启用（需设置 KAOHE_DASHBOARD_SECRET）。请联系系统运维人员。"
