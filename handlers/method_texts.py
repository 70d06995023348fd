"""What the bot says about the method's later steps: 测评 (第八条), 检查考评 (第九条), 通报 (第十条)."""

from __future__ import annotations

# ---- 测评意见 -----------------------------------------------------------------------------------

RATING_NO_RULE = (
    "被测评部门的考核方案中没有测评规则（rating），测评结果无法计入得分。"
    "请先在考核方案中加入测评规则，再发起测评。"
)
RATING_SCALES_DIFFER = "各部门考核方案的测评方式不一致（{scales}），请统一后再发起测评。"
RATING_NO_DEPARTMENTS = "尚未登记市级部门（类别 department），无法发起测评。"
RATING_NO_RATERS = (
    "各区尚未登记分管领导（角色 leader），没有测评人。请先在单位名单中登记各区分管领导。"
)
RATING_ALREADY_OPEN = "{year}年度测评{ref}正在进行中（截止{due}）。查看进度请发「测评进度」。"
RATING_OPENED = (
    "已发起{year}年度测评{ref}：{raters}位测评人 × {departments}个部门，截止{due}。\n"
    "测评方式：{how}。测评卡片已发给：{names}。"
)
RATERS_UNKNOWN = (
    "评价人中有未登记（或已停用）的人员：{names}。请写已登记人员的姓名或账号，"
    "例如「发起测评 2026 评价人 张三 李四」。"
)
RATERS_UNITLESS = "评价人须为某个单位的人员（代表该单位评价），以下人员未登记所属单位：{names}。"
RATERS_AMBIGUOUS = "以下姓名对应多人，请改写账号：{names}。"
RATING_OPENED_SKIPPED = "\n以下区没有分管领导，未发测评表：{units}。"
RATING_OPENED_UNRATED = "\n以下部门的考核方案没有测评规则，不参加测评：{units}。"
RATING_DUE_BAD = "截止日期「{text}」看不懂，请写成「12月20日」或「2026-12-20」，且不早于今天。"
HOW_CHOICE = "满意 / 基本满意 / 不满意"
HOW_SCORE = "0–10分"

CARD_TITLE = "{year}年度测评：{department}"
CARD_CHOICE = (
    "请对{department}本年度“创模”工作作出评价（第八条）。测评结束前可随时更改；"
    "如有意见，可回复「测评 {department} 满意 意见内容」。结果对被测评部门匿名。"
)
CARD_SCORE = (
    "请对{department}本年度“创模”工作打分（0–10分），回复「测评 {department} 8」；"
    "可在分数后写意见。测评结束前可随时更改。结果对被测评部门匿名。"
)
RATING_INTRO = (
    "{name}您好：{year}年度“创模”测评{ref}已开始，请于{due}前对{count}个市级部门"
    "作出评价（{how}）。回复「测评」可查看待评部门。"
)

NOT_RATER = "您不是当前测评的测评人。如有疑问，请联系“创模”办。"
NO_OPEN_ROUND = "目前没有进行中的测评。"
RATE_UNKNOWN_DEPARTMENT = "「{name}」不在本次测评之列。待评部门：{known}。"
RATE_BAD_ANSWER = "测评结果请写{choices}之一，例如「测评 {department} {example}」。"
RATED = "已记录：{department} {answer}{comment}。"
RATED_CHANGED = "已更改：{department}由「{before}」改为「{answer}」{comment}。"
RATED_LEFT = "还有{count}个部门待评：{names}。"
RATED_ALL = "您已完成全部{count}个部门的测评，谢谢！结束前仍可更改。"
MY_RATING_HEAD = "{year}年度测评{ref}（截止{due}），已评{done}/{count}："
MY_RATING_LINE = "· {department}：{answer}"
NOT_YET = "未评"
MY_RATING_TAIL = "评价请回复「测评 部门名称 {example}」，结束前可随时更改。"

PROGRESS_HEAD = "{year}年度测评{ref}（截止{due}{state}）：已收{answered}/{total}份"
PROGRESS_RATER = "· {unit} {name}：{done}/{count}{missing}"
PROGRESS_DEPT = "· {department}：{count}份"
PROGRESS_DEPTS = "各部门收到的测评："
PROGRESS_CLOSED = "，已结束"
PROGRESS_TAIL = "结束测评请发「结束测评」；结束后结果计入各部门得分。"

CLOSE_NOTHING = "目前没有进行中的测评，无需结束。"
CLOSE_ASK = "测评{ref}尚有{missing}份未交（{names}）。结束后不能再评，确定结束吗？"
CLOSED_HEAD = "已结束{year}年度测评{ref}，结果已计入各部门得分（记录{entries}）："
CLOSED_LINE = "· {department}：{summary}，满意度{index}"
CLOSED_NONE = "· {department}：无人测评，未计分"
CLOSED_NO_RULE = "· {department}：{summary}（其考核方案无测评规则，未计分）"
CLOSED_NOTICE = (
    "{year}年度“创模”测评已结束。贵单位的测评结果：{summary}，满意度{index}，已计入得分。"
    "测评为匿名，不显示评价人。"
)

RESULT_NONE = "贵单位{year}年度尚无已结束的测评结果（测评对象为市级有关部门）。"
RESULT_LINE = "{year}年度测评{ref}：{summary}，满意度{index}（匿名，不显示评价人）。"

REMIND_TITLE = "测评提醒：还有{count}个部门待评"
REMIND_BODY = "{year}年度测评{ref}截止{due}。待评：{names}。回复「测评」查看。"

# ---- 检查考评 -----------------------------------------------------------------------------------

INSPECT_BAD_TARGET = "{unit}的考核方案中没有指标「{target}」。可用指标：{known}。"
INSPECT_NO_RULE = (
    "指标{target}没有可扣分的细则（deduction），无法扣分。可只记录检查发现（不写“扣…分”）。"
)
INSPECT_BAD_AMOUNT = "扣分「{text}」不对：{why}。"
INSPECTED = (
    "已记录检查{ref}：{unit} {target}（{rule_text}）\n发现：{finding}\n{deduction}"
    "已通知该单位，申辩期至{respond_by}。\n现场照片可直接发送，将附在{ref}上（30分钟内）。"
)
INSPECTED_AGAIN = "这条检查已记录为{ref}，未重复记录。"
DEDUCTION_LINE = "拟扣分：{amount}分（{rule}），确认后计入。\n"
NO_DEDUCTION = "不扣分，仅记录。\n"
UNIT_NOTICE = (
    "【检查考评通知】{ref}\n{found_on}检查发现：{finding}\n指标：{target}{deduction}\n"
    "如有异议，请于{respond_by}前回复「申辩 {ref} 理由」，可附照片；逾期未申辩的，"
    "由“创模”办确认。"
)
UNIT_DEDUCTION = "，拟扣{amount}分"
EVIDENCE_ADDED = "已将{what}附在检查{ref}上（共{count}件）。"
EVIDENCE_APPEAL_ADDED = "已将{what}附在您对{ref}的申辩上（共{count}件）。"
EVIDENCE_OPENED = "请发送{ref}的照片或文件，30分钟内发送的都会附上。"
INSPECTION_UNKNOWN = "没有检查记录{ref}。发送「检查清单」查看全部。"
INSPECTION_NOT_YOURS = "检查{ref}不是贵单位的记录。"
APPEALED = "已收到您对{ref}的申辩，将转“创模”办审核。可继续发送照片作为佐证（30分钟内）。"
APPEAL_NOTICE = "【申辩】{unit}对检查{ref}提出申辩：{text}\n确认请发「确认检查 {ref}」，撤销请发「撤销检查 {ref} 理由」。"
APPEAL_CLOSED = "检查{ref}已{state}，不能再申辩。如有疑问请联系“创模”办。"
CONFIRM_TOO_EARLY = (
    "{ref}的申辩期至{respond_by}，{unit}尚未申辩。请在申辩期满后再确认，"
    "或先撤销（「撤销检查 {ref} 理由」）。"
)
DECIDED_ALREADY = "检查{ref}已{state}，不能重复处理。"
DROP_NEEDS_REASON = "撤销检查须写明理由，例如「撤销检查 {ref} 经核实值班人员在岗」。"
CONFIRMED = "已确认检查{ref}{deduction}。"
CONFIRMED_DEDUCTION = "，扣{amount}分已计入{unit} {rule}（{entry}）"
DROPPED = "已撤销检查{ref}（理由：{reason}），不扣分。"
DECISION_NOTICE = "【检查考评结果】{ref}：“创模”办{state}{deduction}。{reason}"
INSPECTIONS_HEAD = "{year}年度检查记录（{count}条）："
INSPECTIONS_NONE = "{year}年度暂无检查记录。"
INSPECTION_LINE = "· {ref} {unit} {target} {state}{amount}：{finding}"
INSPECTION_DETAIL = (
    "检查{ref}（{state}）\n单位：{unit}\n指标：{target}{rule}\n检查日期：{found_on}\n"
    "发现：{finding}\n{amount}申辩期至：{respond_by}\n照片/附件：{evidence}件"
)
INSPECTION_APPEAL_LINE = "\n申辩（{at}）：{text}"
INSPECTION_DECISION_LINE = "\n处理（{at}，{actor}）：{state}{reason}"

# ---- 通报 ---------------------------------------------------------------------------------------

NOTICE_WRITING = "正在生成{year}年度考核结果通报（Word），稍后发送给您。"
NOTICE_REFUSED = "暂不能生成通报：{why}"
NOTICE_DONE = "{title}已生成（{counts}），见附件。"

# ---- 帮助 (added to the general help) -----------------------------------------------------------

HELP_ADMIN_MORE = """
· 发起测评 [截止日期] [评价人 张三 李四] / 测评进度 / 结束测评 —— 各区对市级部门的测评（第八条）
· 检查记录 单位 规则 发现 [扣0.1分] / 检查清单 / 确认检查 J1 / 撤销检查 J1 理由 —— 检查考评
· 生成通报 [年度] —— 等次全部确认后生成考核结果通报（Word）
· 自查情况 [单位] —— 各单位自查清单填写情况（第十一条），与得分并列"""
HELP_INSPECTOR = """您是检查员，可以：
· 检查记录 单位 指标 发现 [扣0.1分] —— 记录检查发现，随后30分钟内发送的照片附在该条上
· 检查清单 [单位] / 检查 J1 / 检查证据 J1 —— 查看检查记录、补充证据
确认、撤销检查和评分由“创模”办管理员办理。"""
INSPECTOR_ONLY = (
    "检查员账号只能记录和查看检查考评（「检查记录」「检查清单」「检查 J1」）；"
    "确认、撤销检查和评分由“创模”办管理员办理。"
)
HELP_INSPECTION = "检查考评：「检查清单」「检查 J1」，有异议回复「申辩 J1 理由」"
HELP_RATING = "测评（各区分管领导）：「测评」查看待评部门，「测评 部门 满意」作出评价"
HELP_SELF_CHECK = "自查（12月中旬前）：「自查清单」逐项填写，「自查 K1 完成 说明」"
