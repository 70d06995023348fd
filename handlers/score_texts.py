"""Texts of the score card, its details and the single indicator ("我的得分", "扣分原因",
"得分明细", "C3b"): names first, codes in brackets, no spaces between Chinese and digits."""

from __future__ import annotations

CARD_HEAD = "{unit}{year}年度得分（截至{as_of}）"
CARD_TOTALS = "基本分{base}/{base_max}"
CARD_BONUS = "，加分{bonus}，合计{total}"
# what is assessed and what is not
CARD_ASSESSED = "已评{base}分（已评部分满分{assessed_max}）；尚待评定{open}分（{who}）"
CARD_CREDITED = "其中{credited}分所属期次尚未到期，暂按满分计入"
CARD_ALL_ASSESSED = "各项指标均已评定"
WHO_SCORE = "由{office}评定"
WHO_COMPLETE = "按任务完成情况计分"
WHO_SUBMIT = "按报送情况计分"
WHO_BEFORE_YEAR_END = "年底前"

GRADE_LINE = "建议等次：{level}{mark}。依据：{basis}"
# a grade the office confirmed (定级) stands above the card's suggestion
CONFIRMED_GRADE = (
    "【已确定等次】{year}年度：{grade}（{day}确定，理由：{reason}）。下方得分与建议等次供参考。"
)
GRADE_PROVISIONAL = "（暂定）"
GRADE_FINAL = "（考核年度已结束，由考核组确认）"
BASIS_EXCELLENT = "基本分{base}，达到优秀线{excellent}"
BASIS_GOOD = "基本分{base}，达到良好线{good}、未达优秀线{excellent}"
BASIS_PASS = "基本分{base}，未达良好线{good}"
BASIS_FAIL = "{reason}"
CHANGE_OPEN = "尚待评定的{open}分全部得到，基本分可达{best}（{best_level}）"
CHANGE_OPEN_SAME = "尚待评定的{open}分全部得到，基本分可达{best}，仍为{best_level}"
CHANGE_REQUIRED = "{names}各项任务须在截止日前完成，逾期未完成即为不合格"
CHANGE_FAIL = "完成逾期任务并经{office}确认后，按基本分定等次"

LOST_TITLE = "失分（共{total}分）："
LOST_LINE = "· {label}−{value}：{why}"
LOST_NONE = "目前没有失分。"
# a points cell whose rules cannot give all its points (the scheme's numbers do not add up)
LOST_GAP_LINE = (
    "· {label}−{value}：本项{points}分，其下各细则满分合计少{value}分，无从得分，请向{office}核实"
)
LOST_MORE = "……另有{n}项失分较少，发送「扣分原因」查看"
OPEN_TITLE = "尚待评定："
OPEN_LINE = "· {label}{value}分：{why}"
CREDITED_LINE = "· {label}{value}分尚未到期，暂按满分计"
OPEN_MORE = "……另有{n}项待评定，发送「得分明细」查看"
# the office reading a unit's card (「得分 椒江区」): the commands that work for it, with the unit
ADMIN_CARD_FOOTER = (
    "发送「扣分原因 {unit}」查看每项失分的规则，「得分明细 {unit}」查看全部指标，"
    "「待审核 {unit}」查看其待审核的报送。"
)
ADMIN_FOOTER = "（发送「得分 {unit}」查看得分概况，「待审核 {unit}」查看其待审核的报送）"
CARD_FOOTER = (
    "发送「扣分原因」查看每项失分的规则和补救办法，「得分明细」查看全部指标，"
    "或发送指标名称或编号（如{example}）单独查看。"
)

# 扣分原因
LOSSES_HEAD = "{unit}{year}年度失分原因（截至{as_of}），共失分{total}分："
LOSSES_NONE = "{unit}{year}年度目前没有失分（截至{as_of}）。"
LOSSES_GAP = (
    "【{label}−{value}】\n本项{points}分，其下各细则满分合计少{value}分，这部分无从得分。"
    "这是考核方案分值不一致所致，不是本单位的问题，请向{office}核实。"
)
LOSSES_OPEN = "另有{open}分尚待评定，不是扣分；发送「得分明细」查看。"
LOSSES_OPEN_ADMIN = "另有{open}分尚待评定，不是扣分。"
LOSSES_MORE = "……另有{n}项失分较少，发送指标名称或编号单独查看"

# 得分明细
DETAIL_HEAD = "{unit}{year}年度得分明细（截至{as_of}），基本分{base}/{base_max}："
DETAIL_MORE = "……另有{n}项，发送指标名称或编号单独查看"
DETAIL_PENDING = "（待定）"
DETAIL_LOST = "扣{value}"
DETAIL_NOT_LOST = "未扣分"

# one indicator
IND_HEAD = "{label}（截至{as_of}）：{state}"
IND_STATE_BUDGET = "得{score}/{points}分"
IND_STATE_EARN = "得{value}/{max}分"
IND_STATE_LOSE = "扣{value}分"
IND_STATE_NOT_LOST = "未扣分"
IND_RULE = "规则：{text}"
IND_NOW = "情况：{text}"
IND_LOST = "失分：{value}分"
IND_STAKE_EARN = "待评定：{value}分"
IND_STAKE_LOSE = "未到期：{value}分暂按满分计"
IND_OPEN = "未了：{items}"
IND_DO = "可做：{text}"
IND_UNKNOWN = "本单位的考核方案中没有指标「{ref}」。发送「得分明细」可查看全部指标的名称和编号。"
IND_MORE = "……另有{n}项，发送单项编号查看"

# what the unit can still do, by what the rule waits for
DO_QUOTA_OPEN = (
    "每月报满{n}篇即不扣分：发送「政务信息：标题」，换行写正文。已过截止日的月份不能补报。"
)
DO_QUOTA_CLOSED = "本年度各月均已到期，不能再补报；下一年度请每月报满{n}篇。"
DO_REPORT_OPEN = "在截止日前发送「{word} 内容」报送，迟报、漏报都会扣分。"
DO_REPORT_CLOSED = "本年度的{word}均已到期，不能再补报。"
DO_TASK = "收到任务后在截止日前发送「反馈 任务编号 反馈内容」；已逾期的任务不能补救。"
DO_COMPLETE = (
    "完成任务后发送「佐证 任务编号 完成情况」，经{office}确认后计分；逾期未完成的任务不得分。"
)
DO_NO_TASKS = "本单位没有此类任务，本项不计分。"
DO_COMPLETE_DONE = "各项任务均已确认完成。"
DO_COMPLETE_LATE = "逾期未完成的任务不得分；如有特殊情况，请联系{office}。"
DO_RATING = "由各区“创模”工作领导小组测评，{office}按测评结果计分。"
DO_SCORE_OPEN = "由{office}评定；可发送「佐证 {ref} 情况说明」提供材料。"
DO_SCORE_DONE = "已由{office}评定；如有异议请联系{office}。"
DO_DEDUCTION = "扣分由{office}按扣分记录录入；如有异议请联系{office}。"

# admin replies: what changed and the unit's new score
ENTRY_DONE = "已为{unit}记录（{ref}）：{verb} {label}{value}，理由：{reason}。{change}。"
CHANGE_BASE = "{unit}基本分{before}→{after}（{label}{was}→{now}）"
CHANGE_BONUS = "{unit}加分{before}→{after}（{label}）"
CHANGE_NONE = "{unit}基本分不变，仍为{base}（{label}：{why}）"
CHANGE_TASK = "{unit}基本分{before}→{after}（{label}{was}→{now}）"
NOT_SCORED_YET = "{unit}{year}年度尚无考核记录，待评（没有报送、任务和评分）。"

# an admin entry that does not fit the indicator named
ENTRY_WRONG_KIND = "{label}不能「{verb}」：{how}"
ENTRY_TAKES_VERBS = "该指标{title}，请用「{verbs}」，如「{example}」。"
ENTRY_TAKES_TASKS = "该指标{title}，按任务完成情况计分：请用「任务完成 {unit} 任务编号 理由」。"
ENTRY_TAKES_NOTHING = (
    "该指标{title}，按本单位的报送自动计分，不能录入；有异议的报送可「作废 S编号 原因」。"
)
ENTRY_AMBIGUOUS = "{label}有{n}条可「{verb}」的规则，请写明规则编号：{rules}。"
UNIT_BASE_CHANGE = "{unit}基本分{before}→{after}"
MORE_UNITS = "等{n}个单位"
UNITS_SAME = "其余{n}个单位得分不变"
ALL_SAME = "各单位得分不变"
