"""Reminder texts: clear, polite Chinese for liaisons and admins."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from handlers.channel import TEXT_LIMIT, clip, fit_lines
from reminders.board import UnitLight
from reminders.calendar import WorkCalendar
from reminders.deadlines import Deadline
from scoring.kinds import Delivery
from scoring.periods import day_label

BUTTON_START = ("立即报送", "start_info")  # starts a 政务信息 draft: only for 政务信息 owed
BUTTON_PROGRESS = ("查看进度", "progress")


def card_buttons(items: Sequence[Deadline]) -> list[dict[str, str]]:
    """The buttons of a card asking for `items`: 「立即报送」 starts a 政务信息 draft, so it is
    offered only when 政务信息 is all the card asks for; what else is owed (任务反馈, 报告, 佐证)
    the card says how to send in words (`how_to_send`)."""
    buttons = [BUTTON_PROGRESS]
    if items and all(d.kind == Delivery.QUOTA for d in items):
        buttons.insert(0, BUTTON_START)
    return [{"text": text, "key": key} for text, key in buttons]


HOW_TO_SEND = "报送方式：{ways}。"
WAY_FEEDBACK = "任务反馈发送「反馈 {ref} 反馈内容」"
WAY_REPORT = "{word}发送「{word} 内容」"
WAY_REPORT_MONTH = "月报发送「月报 {month}月 内容」"
WAY_REPORT_QUARTER = "季报发送「季报 {quarter} 内容」"
WAY_INFO = "政务信息发送「政务信息：标题」，换行写正文"
QUARTERS = {"1": "一季度", "2": "二季度", "3": "三季度", "4": "四季度"}


def _way(d: Deadline) -> str:
    """How a liaison sends one owed item ('' for a 佐证: `owed_text` says it already)."""
    if d.kind == Delivery.QUOTA:
        return WAY_INFO
    if d.kind == Delivery.TASK:
        return WAY_FEEDBACK.format(ref=d.key.partition("@")[2] or "任务编号")
    if d.kind != Delivery.REPORT:
        return ""
    if "自查" in d.label:
        return WAY_REPORT.format(word="自查报告")
    if "总结" in d.label:
        return WAY_REPORT.format(word="年度总结")
    _, _, part = d.period.partition("-")
    if part.startswith("Q"):
        return WAY_REPORT_QUARTER.format(quarter=QUARTERS.get(part[1:], part))
    if part.isdigit():
        return WAY_REPORT_MONTH.format(month=int(part))
    return WAY_REPORT.format(word="年报")


def how_to_send(items: Sequence[Deadline], *, button: bool = False) -> str:
    """「报送方式：任务反馈发送「反馈 K8 反馈内容」。」 for what a card asks (with `button`, 政务信息 goes
    without saying: the card's 「立即报送」 starts it); '' when there is nothing to add."""
    ways = [_way(d) for d in items if not (button and d.kind == Delivery.QUOTA)]
    found = list(dict.fromkeys(w for w in ways if w))
    return HOW_TO_SEND.format(ways="；".join(found)) if found else ""


def day_text(day: date, calendar: WorkCalendar, year: int | None = None) -> str:
    """ "11 月 30 日（周一）", "10 月 4 日（周日，国庆节放假）"."""
    return f"{day_label(day, year)}（{calendar.describe(day)}）"


def owed_text(d: Deadline, calendar: WorkCalendar) -> str:
    """What is still owed: "11 月政务信息已报 3/4 篇，还差 1 篇，截止 11 月 30 日（周一）"."""
    due = day_text(d.due, calendar, d.remind_on.year)
    if d.kind == Delivery.QUOTA:
        return f"{d.label}已报{d.have}/{d.need}篇，还差{d.owed}篇，截止{due}"
    if d.kind == Delivery.TARGET:
        ref = d.key.partition("@")[2] or "编号"
        return f"{d.label}尚未确认完成，截止{due}；完成后请发送「佐证 {ref} 完成情况」"
    return f"{d.label}尚未报送，截止{due}"


def _when_text(d: Deadline, stage: str, today: date, calendar: WorkCalendar) -> str:
    if stage == "overdue":
        return "截止日期已过，请尽快补报。"
    if d.remind_on != d.due:
        # the deadline falls on a day off: say so and ask for it by the working day before
        on = "今天" if today == d.remind_on else day_label(d.remind_on)
        return f"截止日为非工作日，请于{on}（{calendar.describe(d.remind_on)}）下班前报送。"
    if stage == "dayof":
        return "今天是截止日，请于下班前报送。"
    left = calendar.workdays_after(today, d.remind_on)  # remind_on is a working day: it counts
    return f"距截止还有{left}个工作日，请及时报送。"


TITLE_MAX = 26  # WeCom shows about 26 characters of a card title
DIGEST_MAX_LINES = 30  # lines listed in an admin digest (one app markdown message)


def reminder_title(d: Deadline, stage: str) -> str:
    prefix = {"overdue": "逾期提醒", "dayof": "今日截止"}.get(stage, "截止提醒")
    return clip(f"{prefix}：{d.label}", TITLE_MAX)


def reminder_description(
    unit_name: str, d: Deadline, stage: str, today: date, calendar: WorkCalendar
) -> str:
    """The card body, e.g. "椒江区：11 月政务信息已报 3/4 篇，还差 1 篇，截止 11 月 30 日（周一）。
    距截止还有 3 个工作日，请及时报送。" """
    when = _when_text(d, stage, today, calendar)
    how = how_to_send([d], button=True)
    return f"{unit_name}：{owed_text(d, calendar)}。{when}{how}"


def stage_reason(stage_label: str, stage_day: date, today: date) -> str:
    if stage_day == today:
        return f"今天是“{stage_label}”提醒日"
    return f"补发“{stage_label}”提醒（提醒日{day_label(stage_day)}，期间未发送）"


# --- the holiday calendar ----------------------------------------------------------------------


def holiday_data_notice(year: int, version: str) -> str:
    """Markdown for admins, once a week while `year`'s statutory holidays are unknown."""
    return "\n".join(
        [
            f"### {year}年法定节假日数据尚未更新",
            "",
            f"系统使用的节假日数据（chinesecalendar {version}）还没有{year}年的放假安排，"
            f"{year}年的提醒暂按“周一至周五上班”计算，节假日和调休上班日可能算错。",
            "",
            "国务院办公厅发布放假通知后，请任选其一：",
            "- 请运维人员升级 chinesecalendar 后重启服务；",
            f"- 或由管理员逐日录入：`kaohe calendar set {year}-02-06 workday 调休`、"
            f"`kaohe calendar set {year}-10-01 holiday 国庆节`，用 `kaohe calendar show {year}` 核对。",
            "",
            "录入第一天后本提示不再发送。",
        ]
    )


# --- admin digests ------------------------------------------------------------------------------


def daily_digest(
    today: date, missed: Iterable[tuple[str, Deadline]], calendar: WorkCalendar
) -> str:
    """Markdown: units that missed a deadline lately and still owe."""
    rows = list(missed)
    return fit_lines(
        [f"### 逾期未报汇总（{day_label(today)}）", ""],
        [f"- **{u}**：{owed_text(d, calendar)}" for u, d in rows],
        ["", f"共{len(rows)}项。如需催办，请联系相关单位联络员。"],
        limit=TEXT_LIMIT,
        most=DIGEST_MAX_LINES,
        more="- ……另有{n}项未列出",
    )


def monthly_summary(
    month_label: str,
    rows: Iterable[tuple[str, list[Deadline]]],
    calendar: WorkCalendar,
) -> str:
    """Markdown: per unit, the deadlines of the past month and whether they were met."""
    lines = [f"### {month_label}报送情况汇总", ""]
    done_units, open_lines = 0, []
    total = 0
    for unit_name, deadlines in rows:
        total += 1
        owed = [d for d in deadlines if not d.done]
        if not owed:
            done_units += 1
            continue
        open_lines.append(f"- **{unit_name}**：" + "；".join(owed_text(d, calendar) for d in owed))
    lines.append(f"{total}个单位中，{done_units}个已全部按要求报送。")
    if not open_lines:
        return "\n".join(lines)
    lines += ["", f"尚未完成的单位（{len(open_lines)}个）："]
    return fit_lines(
        lines,
        open_lines,
        limit=TEXT_LIMIT,
        most=DIGEST_MAX_LINES,
        more="- ……另有{n}个单位未列出",
    )


# --- escalation to the unit's leaders (督办) ------------------------------------------------------

ESCALATE_TITLE = "督办：{unit}{label}逾期未报"
ESCALATE_BODY = "{unit}：{owed}。已逾期{days}个工作日，联络员已收到提醒，请您督促尽快报送。"
NO_LEADER = "单位“{unit}”没有登记领导（角色 leader），逾期督办无法送达"


def escalation_title(unit: str, d: Deadline) -> str:
    return clip(ESCALATE_TITLE.format(unit=unit, label=d.label), TITLE_MAX)


def escalation_body(unit: str, d: Deadline, days: int, calendar: WorkCalendar) -> str:
    return ESCALATE_BODY.format(unit=unit, owed=owed_text(d, calendar), days=days)


# --- the daily digest: each unit's light (the dashboard board's 红/黄/绿) ------------------------

LIGHT_NAMES = {"红": "红灯", "黄": "黄灯", "绿": "绿灯"}
DIGEST_ITEMS = 3  # items named per unit
GREEN_NAMES = 30  # green units named


def light_digest(today: date, lights: Iterable[UnitLight], calendar: WorkCalendar) -> str:
    """Markdown for admins: every unit as 红 (overdue) / 黄 (due within 3 working days) / 绿,
    as on the dashboard's board; the red and yellow ones with what they owe."""
    rows = sorted(lights, key=lambda u: ("红黄绿".index(u.light), u.unit))
    count = {name: sum(1 for u in rows if u.light == name) for name in "红黄绿"}
    head = [
        f"### 逾期未报汇总（{day_label(today)}）",
        "",
        f"红灯{count['红']}个，黄灯{count['黄']}个，绿灯{count['绿']}个"
        "（红：有逾期未报；黄：3个工作日内有到期未报；绿：无）。",
        "",
    ]
    items = []
    for u in rows:
        if u.light == "绿":
            continue
        owed = sorted(u.overdue, key=lambda d: d.due, reverse=True) if u.overdue else list(u.soon)
        what = "逾期" if u.overdue else "即将到期"
        named = "；".join(owed_text(d, calendar) for d in owed[:DIGEST_ITEMS])
        more = f"等{len(owed)}项" if len(owed) > DIGEST_ITEMS else ""
        items.append(f"- 【{u.light}】**{u.unit}**：{what}{len(owed)}项：{named}{more}")
    green = [u.unit for u in rows if u.light == "绿"]
    shown = "、".join(green[:GREEN_NAMES]) + (
        f"等{len(green)}个" if len(green) > GREEN_NAMES else ""
    )
    tail = ["", f"【绿】{shown}"] if green else []
    tail += ["", "催办请在对话中发送「未报」，点击「一键催报」。"]
    return fit_lines(
        head,
        items,
        tail,
        limit=TEXT_LIMIT,
        most=DIGEST_MAX_LINES,
        more="- ……另有{n}个单位未列出",
    )


NO_LIAISON = "单位“{unit}”没有登记联络员，提醒无法送达（请用 units import 登记联络员）"


# ---- 测评 (seed 000 第八条): raters who have not finished ----------------------------------------

RATING_TITLE = "测评提醒：还有{count}个部门待评"
RATING_BODY = (
    "{year}年度“创模”测评{ref}截止{due}，您还有{count}个部门待评：{names}。"
    "请点开各部门的测评卡片作出评价，或回复「测评」查看。"
)
RATING_REASON = "测评{ref}未完成{count}个部门；{stage}"
