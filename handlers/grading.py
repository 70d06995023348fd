"""Final grades, checked against seed 000 第七条: 「定级 椒江区 良好 理由」.

第七条 lets the assessment group weigh workload and qualitative judgement, so a final grade may be
lower than the score suggests; it may not be higher: 优秀 needs 90, 良好 80, and a unit that did
not complete its annual tasks is 不合格. A grade above the suggested one is refused unless the
admin states it is a deliberate exception (「定级 椒江区 优秀 例外 理由」); it is then recorded as
an exception and the tally workbook marks it. `kaohe grade confirm` uses the same check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from handlers import review_texts as rt
from handlers.channel import Channel
from handlers.context import Ctx, office_name
from handlers.intents import Intent
from handlers.notify import tell_unit
from handlers.office_intents import OfficeIntent
from handlers.router import ADMIN, Router
from handlers.scoretext import unit_card
from handlers.texts import fmt_points
from scoring.scorecard import Level, ScoreCard
from storage.db import Database
from storage.grades import grade_history, set_final_grade
from storage.models import Unit
from storage.units import find_unit

router = Router()

NEED_REASON = "请写明定级理由，例如「定级 {unit} {grade} 工作量大、成效突出」。"
GRADE_HOWTO = (
    "定级请写明单位、等次和理由，等次为优秀、良好、合格、不合格之一，"
    "例如「定级 椒江区 良好 按建议」；往年的：「定级 椒江区 2025 良好 按建议」。"
)
RECORDED = (
    "已确定{unit}{year}年度等次为「{grade}」（理由：{reason}）。基本分{base}，建议等次{suggested}。"
)
RECORDED_EXCEPTION = "已按例外确定{unit}{year}年度等次为「{grade}」（理由：{reason}）。按第七条建议等次为{suggested}（{why}）；汇总表中将标注为例外。"
REFUSED = "未记录：{why}。按《考核办法》第七条，{unit}{year}年度最高可评「{suggested}」。"
RETRY_CHAT = "如确属经研究的例外，请发送「定级 {unit} {grade} 例外 理由」。"
RETRY_DASHBOARD = "如确属经研究的例外，请勾选「按例外处理」并写明理由。"
EXCEPTION_NOT_NEEDED = "（该等次符合第七条，无需按例外处理，已按正常定级记录。）"
NO_GRADING = "{unit}的考核方案没有等次规则，不能定级。"
EARLY = "（{year}年度尚未结束，此为提前定级；年度结束后如情况有变，可再次定级，以最后一次为准。）"


@dataclass(frozen=True)
class GradeCheck:
    card: ScoreCard
    suggested: str
    allowed: bool
    why: str  # why the suggested grade is what it is (the card's reason)


def grading_year(today: date) -> int:
    """The year a grade is for: the assessment ends by mid-January of the next year (第十一条),
    so until the end of February it is last year's."""
    return today.year - 1 if today.month <= 2 else today.year


async def check_grade(db: Database, unit: Unit, year: int, grade: str, today: date) -> GradeCheck:
    """Whether `grade` is one the rules allow for the unit's year: not above the suggested one."""
    assert unit.id is not None
    card = await unit_card(db, unit.id, unit.scheme_id, year, today)
    if card.grade is None:
        return GradeCheck(card, "", False, "")
    suggested = card.grade.level
    return GradeCheck(
        card, suggested, Level(grade).rank <= Level(suggested).rank, card.grade.reason
    )


@dataclass(frozen=True)
class GradeOutcome:
    recorded: bool
    text: str


async def confirm_grade(
    db: Database,
    unit: Unit,
    year: int,
    level: str,
    *,
    reason: str,
    actor: str,
    exception: bool,
    today: date,
    at: datetime | None = None,
    retry: str = "",
    channel: Channel | None = None,
) -> GradeOutcome:
    """Check `level` against 第七条 and record it (as an exception only when stated and needed).
    `retry`: how to state the exception where the admin is (chat: the command)."""
    assert unit.id is not None
    check = await check_grade(db, unit, year, level, today)
    if not check.suggested:
        return GradeOutcome(False, NO_GRADING.format(unit=unit.name))
    if not check.allowed and not exception:
        text = REFUSED.format(why=check.why, unit=unit.name, year=year, suggested=check.suggested)
        return GradeOutcome(False, text + retry)
    as_exception = exception and not check.allowed
    async with db.session() as session:
        history = await grade_history(session, unit.id, year)
        await set_final_grade(
            session,
            unit_id=unit.id,
            year=year,
            grade=level,
            actor=actor,
            reason=reason,
            at=at,
            exception=as_exception,
        )
        await session.commit()
    if not history or history[-1].grade != level:  # the same grade again is not news
        line = rt.NOTICE_GRADE.format(year=year, grade=level, reason=reason)
        base = rt.SCORE_SAME.format(after=fmt_points(check.card.base_total))
        text = "\n".join([rt.NOTICE_OFFICE_HEAD.format(office=office_name()), line, base])
        await tell_unit(db, unit.id, text, now=at or datetime.now(UTC), channel=channel)
    if as_exception:
        text = RECORDED_EXCEPTION.format(
            unit=unit.name,
            year=year,
            grade=level,
            reason=reason,
            suggested=check.suggested,
            why=check.why,
        )
        return GradeOutcome(True, text)
    text = RECORDED.format(
        unit=unit.name,
        year=year,
        grade=level,
        reason=reason,
        base=fmt_points(check.card.base_total),
        suggested=check.suggested,
    )
    text += EXCEPTION_NOT_NEEDED if exception else ""
    if today <= date(year, 12, 31):
        text += EARLY.format(year=year)
    return GradeOutcome(True, text)


@router.intent(OfficeIntent.GRADE_HOWTO, roles=ADMIN)
async def grade_howto(ctx: Ctx, intent: Intent) -> str:
    return GRADE_HOWTO


@router.intent(OfficeIntent.GRADE, roles=ADMIN)
async def grade(ctx: Ctx, intent: Intent) -> str:
    name, level = intent.args["unit"], intent.args["grade"]
    reason = intent.args.get("reason", "")
    if not reason:
        return NEED_REASON.format(unit=name, grade=level)
    async with ctx.db.session() as session:
        unit = await find_unit(session, name)
    if unit is None or unit.id is None:
        return f"没有找到单位「{name}」，请核对名称。"
    year = int(intent.args.get("year") or grading_year(ctx.today))
    shown = f"{intent.args['year']} {level}" if "year" in intent.args else level
    outcome = await confirm_grade(
        ctx.db,
        unit,
        year,
        level,
        reason=reason,
        actor=ctx.sender.userid,
        exception="exception" in intent.args,
        today=ctx.today,
        at=ctx.now,
        retry=RETRY_CHAT.format(unit=unit.name, grade=shown),
        channel=ctx.deps.channel,
    )
    return outcome.text
