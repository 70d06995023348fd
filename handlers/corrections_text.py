"""What admins and liaisons read about corrections: cancelled and re-dated tasks, voided entries
and submissions, commands sent twice, due dates in the past."""

from __future__ import annotations

TASK_NOT_FOUND = (
    "没有找到任务{task}。请核对编号；责任书任务请写明单位，如「取消任务 椒江区 A3 原因」。"
)
TASK_AMBIGUOUS = "有多个单位的任务编号为{task}（{units}），请写明单位，如「{example}」。"
TASK_CANCELLED = "已取消{units}的任务{task}「{title}」（理由：{reason}）。取消记录已存档，得分已重新计算：{change}。"
TASK_ALREADY_CANCELLED = "任务{task}已经取消，未重复记录。"
TASK_REDATED = (
    "已将{units}的任务{task}「{title}」截止日期改为{due}（理由：{reason}）。改期记录已存档，"
    "得分已重新计算：{change}。"
)
TASK_SAME_DUE = "任务{task}的截止日期已是{due}，未重复记录。"
TASK_IS_CANCELLED = "任务{task}已取消，不能改期。"
NOTICE_CANCELLED = (
    "【任务取消】{office}已取消任务{task}「{title}」，原因：{reason}该任务不再计分，无需再反馈。"
)
NOTICE_REDATED = "【任务改期】任务{task}「{title}」的截止日期改为{due}，原因：{reason}"
PAST_DUE = "截止日期{due}已经过去（今天是{today}），任务一下达即为逾期。"
REDATE_PAST = "新的截止日期{due}已经过去（今天是{today}）。确定要改为这一天吗？"
ASSIGNED_TWICE = "{units}今年已有同名任务「{title}」，再布置一次就是两项任务。"

VOID_UNKNOWN = "没有找到编号为{ref}的记录。"
VOID_NOT_YOURS = "记录{ref}是{actor}录入的，只能由录入人本人撤销；如确需更正，请联系{actor}。"
VOID_ALREADY = "记录{ref}已经撤销，未重复记录。"
VOID_TASK_ENTRY = "记录{ref}是任务完成确认，已一并撤销；任务{task}恢复为未完成。"
VOIDED_ENTRY = (
    "已撤销{unit}的记录{ref}（{what}；理由：{reason}）。撤销记录已存档，得分已重新计算：{change}。"
)
BASE_CHANGE = "{unit}基本分{before}→{after}"
VOIDED_SUBMISSION = (
    "已作废{unit}的报送{ref}「{title}」（理由：{reason}），该报送不再计分。作废记录已存档。"
)
SUBMISSION_ALREADY = "报送{ref}已经是「{status}」状态，未重复记录。"
NOTICE_ENTRY_VOIDED = "【评分更正】{office}撤销了本单位的一条记录{ref}（{what}），原因：{reason}得分已重新计算，当前基本分{base}。"
NOTICE_VOIDED = "您报送的「{title}」（编号{ref}）已被{office}作废，不再计分。原因：{reason}如有疑问请联系{office}。"

ALREADY_DONE = "{unit}的任务{task}「{title}」已于{when}确认完成，未重复记录。"
SAME_ENTRY = "您在{when}已为{unit}记录过同样的一条（{ref}：{verb} {rule} {value}，理由：{reason}）。再记一次就会算两次。"
