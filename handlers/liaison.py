"""Liaison intents: report 政务信息, feedback, reports and evidence; ask score, progress, records.

Every function acts for the sender's own unit only (the router admits liaisons and leaders, and
the unit comes from the sender, never from the message), so no reply can show another unit's data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from handlers import pending, score_texts, texts
from handlers.channel import clip, fit_text
from handlers.context import Ctx, office_name
from handlers.intents import (
    CN_MONTH,
    CN_MONTHS,
    LAST_MONTH,
    REFS_SEP,
    Intent,
    IntentName,
    indicator_words,
    parse_month,
    parse_quarter,
    previous_month,
)
from handlers.lookup import (
    REPORT_PERIODS,
    InfoQuota,
    find_indicator,
    indicator_named_in,
    info_quota,
    month_of,
    on_time_target,
    previous_period,
    report_deadline,
    report_rules,
    report_words,
    rule_label,
    submission_deadline,
)
from handlers.pending import PendingAction
from handlers.router import ADMIN, LIAISON, REPORTERS, Router
from handlers.scoretext import (
    confirmed_grade_line,
    detail_text,
    indicator_text,
    losses_text,
    past_unit_card,
    score_text,
    unit_card,
)
from handlers.texts import fmt_date
from scoring.facts import COUNTING, Status, SubmissionKind, TaskKind
from scoring.kinds import Delivery
from scoring.periods import PeriodKind, day_label, local_date, period_label
from scoring.scorecard import ScoreCard
from storage import ledger
from storage.forms import digest, same_text
from storage.intake import MonthItem, add_info, month_items
from storage.ledger import (
    SubmissionView,
    count_submissions,
    list_submissions,
    list_tasks,
    submission_ref,
)
from storage.models import Submission, Task
from storage.outbox import enqueue
from storage.types import to_utc
from storage.units import list_units

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

router = Router()
N = IntentName


def _unit_id(ctx: Ctx) -> int:
    assert ctx.sender.unit_id is not None
    return ctx.sender.unit_id


def _timing(ctx: Ctx, deadline: date) -> str:
    if ctx.today <= deadline:
        return texts.ON_TIME.format(deadline=fmt_date(deadline))
    return texts.LATE.format(deadline=fmt_date(deadline))


@dataclass(frozen=True)
class InfoItem:
    """One 政务信息 item as the liaison sent it: every text exactly as typed. `sent_at` is when
    its content was sent (it decides the month and whether it is on time); `source_key` is the
    message (or conversation) it comes from: it is logged once per key."""

    title: str
    body: str
    attachments: tuple[dict[str, Any], ...]
    sent_at: datetime
    source_key: str


REPEAT_BODY_MIN = 20  # shorter bodies ("正文见附件") are alike without being repeats


@dataclass(frozen=True)
class Repeat:
    """A counting 政务信息 of the unit's month that the item repeats, and what is the same."""

    ref: str
    title: str
    same: str


class ItemForms(NamedTuple):
    """What the repeat check needs of a new item, worked out once (its submission keeps the
    forms too): the forms of its title and body, and whether each can repeat another's."""

    title: int
    body: int
    titled: bool  # a title is left once blanks and punctuation are aside
    long_body: bool  # long enough to be a repeat by its body alone (REPEAT_BODY_MIN)


def item_forms(item: InfoItem) -> ItemForms:
    title, body = same_text(item.title), same_text(item.body)
    return ItemForms(digest(title), digest(body), bool(title), len(body) >= REPEAT_BODY_MIN)


def repeat_in(items: list[MonthItem], item: InfoItem, forms: ItemForms) -> Repeat | None:
    """The item's repeat among the month's `items` (same title, or same body sent as another
    message, compared by their forms: storage/forms.py); None when it is new or was itself
    logged before (a message handled again)."""
    if any(found.source_key == item.source_key for found in items):
        return None
    for found in items:
        if found.status not in COUNTING:
            continue
        if forms.titled and found.title_form == forms.title:
            return Repeat(submission_ref(found.id), found.title, texts.REPEAT_SAME_TITLE)
        if forms.long_body and found.text_form == forms.body:
            return Repeat(submission_ref(found.id), found.title, texts.REPEAT_SAME_BODY)
    return None


def repeat_text(found: Repeat) -> str:
    return texts.INFO_REPEAT.format(ref=found.ref, title=found.title, same=found.same)


def log_info_in(
    conn: Connection,
    unit_id: int,
    sender: str,
    quota: InfoQuota,
    label: str,
    item: InfoItem,
    force: bool,
) -> Repeat | str:
    """Log one 政务信息 item against the quota of the month it was sent in, and say how many are
    still owed (`label`: the quota's indicator as users see it, `rule_label`); unless `force`,
    an item that repeats one of the month is not logged (its `Repeat` is returned). One unit of
    work: run it with `Database.run_write`, or inside the message's own transaction. Logged
    once per `item.source_key`."""
    day = local_date(item.sent_at)
    period = month_of(day)
    target = quota.rule.target
    items = month_items(conn, unit_id, day.year, target, period)
    forms = item_forms(item)
    if not force:
        found = repeat_in(items, item, forms)
        if found is not None:
            return found
    logged = add_info(
        conn,
        unit_id=unit_id,
        year=day.year,
        target=target,
        period=period,
        title=item.title,
        text=item.body,
        attachments=item.attachments,
        submitted_at=item.sent_at,
        sender=sender,
        source_key=item.source_key,
        forms=(forms.title, forms.body),
    )
    n = sum(1 for found in items if found.status in COUNTING) + logged.new
    left = quota.per_period - n
    remaining = (
        texts.INFO_REMAINING.format(left=left)
        if left > 0
        else texts.INFO_DONE.format(quota=quota.per_period)
    )
    return texts.INFO_LOGGED.format(
        month=day.month,
        n=n,
        ref=submission_ref(logged.id),
        target=label,  # name first: 工作信息（C3b）
        title=logged.title,
        remaining=remaining,
        deadline=fmt_date(quota.deadline(period)),
    )


@router.intent(N.INFO_HOWTO, roles=LIAISON)
async def info_howto(ctx: Ctx, intent: Intent) -> str:
    quota = info_quota(ctx.scheme)
    if quota is None:
        return not_in_scheme(ctx, "政务信息")
    period = month_of(ctx.today)
    async with ctx.db.session() as session:
        n = await count_submissions(
            session, _unit_id(ctx), ctx.year, target=quota.rule.target, period=period
        )
    return texts.INFO_HOWTO.format(
        quota=quota.per_period,
        target=rule_label(ctx.scheme, quota.rule.id),
        deadline=fmt_date(quota.deadline(period)),
        month=ctx.today.month,
        n=n,
    )


async def _find_task(ctx: Ctx, ref: str) -> ledger.TaskView | None:
    wanted = ref.upper()
    if wanted.isdigit():
        wanted = f"K{wanted}"
    async with ctx.db.session() as session:
        for year in (ctx.year, ctx.year - 1):
            for view in await list_tasks(session, _unit_id(ctx), year):
                if view.ref.upper() == wanted:
                    return view
    return None


_LOGGED = {
    SubmissionKind.FEEDBACK: texts.FEEDBACK_LOGGED,
    SubmissionKind.REPORT: texts.REPORT_LOGGED,
    SubmissionKind.EVIDENCE: texts.EVIDENCE_LOGGED,
}


def _repeats(found: SubmissionView, fields: dict[str, Any]) -> bool:
    """Whether a logged submission is the same item as `fields` (add_submission's arguments):
    the same kind, task and period, the same text (blanks and character widths aside), counting."""
    sub = found.submission
    return (
        found.status in COUNTING
        and sub.kind == fields["kind"]
        and sub.task_id == fields.get("task_id")
        and sub.period == fields.get("period")
        and same_text(sub.text) == same_text(fields["text"])
    )


async def _log_submission(
    ctx: Ctx, fields: dict[str, Any], reply: dict[str, str], what: str, *, force: bool = False
) -> str:
    """Log one feedback, report or 佐证 (`fields`: add_submission's arguments but the session) and
    return its LOGGED text (`reply`: the text's fields but the ref). Unless `force`, one that
    repeats a counting submission of the unit (`_repeats`) is held back: the reply names the
    earlier one (`what`: the item as users see it), and 「确认」 within the conversation TTL logs
    it anyway, with its own time and message (a pending action under the user's own key)."""
    earlier: list[str] = []
    async with ctx.db.session() as session:
        if not force:
            views = await list_submissions(
                session,
                fields["unit_id"],
                fields.get("year") or ledger.year_of(fields.get("period"), fields["submitted_at"]),
                target=fields["target"],
                period=fields.get("period"),
            )
            mine = fields["source_key"]
            if not any(v.submission.source_key == mine for v in views):  # else handled again
                found = next((v for v in views if _repeats(v, fields)), None)
                if found is not None:
                    return await _hold_repeat(ctx, fields, reply, what, found.submission)
            if fields["kind"] == SubmissionKind.FEEDBACK:  # the task answered before
                earlier = [
                    v.ref
                    for v in views
                    if v.submission.task_id == fields["task_id"] and v.status in COUNTING
                ]
        row = await ledger.add_submission(session, **fields)
        await session.commit()
    assert row.id is not None
    text = _LOGGED[fields["kind"]].format(ref=submission_ref(row.id), office=office_name(), **reply)
    if earlier:
        text += texts.FEEDBACK_AGAIN.format(task=reply["task"], refs="、".join(earlier))
    return text


async def _hold_repeat(
    ctx: Ctx, fields: dict[str, Any], reply: dict[str, str], what: str, earlier: Submission
) -> str:
    assert earlier.id is not None
    stored = {**fields, "submitted_at": to_utc(fields["submitted_at"]).isoformat()}
    prompt = texts.SUBMISSION_REPEAT.format(
        what=what,
        date=fmt_date(local_date(earlier.submitted_at)),
        ref=submission_ref(earlier.id),
        minutes=int(ctx.deps.conversation_ttl.total_seconds() // 60),
    )
    args = {"fields": stored, "reply": reply, "what": what}
    return await pending.ask(ctx, PendingAction.REPEAT_SUBMISSION, args, prompt, suffix="")


@pending.runner(PendingAction.REPEAT_SUBMISSION)
async def log_repeat_anyway(ctx: Ctx, args: dict[str, Any]) -> str:
    """「确认」 of a held-back repeat: logged as it was sent (its time, its message)."""
    fields: dict[str, Any] = {
        **args["fields"],
        "submitted_at": datetime.fromisoformat(args["fields"]["submitted_at"]),
    }
    return await _log_submission(ctx, fields, args["reply"], args["what"], force=True)


@router.intent(N.FEEDBACK, roles=REPORTERS)
async def feedback(ctx: Ctx, intent: Intent) -> str:
    if "task" not in intent.args:  # 「反馈」 alone
        return texts.FEEDBACK_HOWTO
    body = intent.args.get("body", "")
    if not body:
        return texts.BODY_NEEDED.format(example=f"反馈{intent.args['task']}已完成排查，共整改3处")
    view = await _find_task(ctx, intent.args["task"])
    if view is None:
        return texts.TASK_UNKNOWN.format(task=intent.args["task"])
    task = view.task
    target = task.target or on_time_target(ctx.scheme, task.kind) or task.kind
    fields: dict[str, Any] = {
        "unit_id": _unit_id(ctx),
        "target": target,
        "submitted_at": ctx.now,
        "sender": ctx.sender.userid,
        "year": task.year,
        "kind": SubmissionKind.FEEDBACK,
        "title": f"{view.ref} {task.title}"[:500],
        "text": body,
        "task_id": task.id,
        "source_key": ctx.msg.key,
    }
    reply = {"task": view.ref, "title": task.title, "timing": _timing(ctx, task.due)}
    return await _log_submission(ctx, fields, reply, texts.REPEAT_FEEDBACK.format(task=view.ref))


_TARGET_TOKEN = re.compile(r"^(?P<target>[A-Za-z]+\d+[a-z]?)\b\s*")


def _report_period(report: str, text: str, today: date) -> tuple[str, str]:
    """(period, rest of the text): a leading month / quarter / year, else the period just ended."""
    first, rest = [*re.split(r"\s+", text, maxsplit=1), ""][:2]
    kind = REPORT_PERIODS.get(report, PeriodKind.YEARLY)
    if first:
        if kind == PeriodKind.MONTHLY and (period := parse_month(first, today.year)):
            return period, rest
        if kind == PeriodKind.QUARTERLY and (period := parse_quarter(first, today.year)):
            return period, rest
        if kind == PeriodKind.YEARLY and re.fullmatch(r"\d{4}年?(度)?", first):
            return first[:4], rest
    return previous_period(kind, today), text


def not_in_scheme(ctx: Ctx, what: str) -> str:
    """What the unit's scheme does not have, and the reports it does have."""
    words = report_words(ctx.scheme)
    have = texts.REPORTS_WE_HAVE.format(reports="、".join(words)) if words else texts.REPORTS_NONE
    return texts.REPORT_NOT_IN_SCHEME.format(report=what, have=have, office=office_name())


def _example_period(report: str) -> str:
    return {"月报": "10月 ", "季报": "三季度 "}.get(report, "")


@router.intent(N.REPORT, roles=REPORTERS)
async def report(ctx: Ctx, intent: Intent) -> str:
    name = intent.args["report"]
    text = intent.args.get("body", "")
    rules = report_rules(ctx.scheme, name)
    if not rules:
        return not_in_scheme(ctx, name)
    match = _TARGET_TOKEN.match(text)
    if match and len(rules) > 1:
        chosen = [r for r in rules if r.target.upper() == match["target"].upper()]
        if chosen:
            rules, text = chosen, text[match.end() :]
    rule = rules[0]
    period, text = _report_period(name, text, ctx.today)
    if not text.strip():  # "月报" or "月报 10月" alone: nothing to log yet
        return texts.BODY_NEEDED.format(example=f"{name} {_example_period(name)}本期工作情况……")
    deadline = report_deadline(rule, period)
    fields: dict[str, Any] = {
        "unit_id": _unit_id(ctx),
        "target": rule.target,
        "submitted_at": ctx.now,
        "sender": ctx.sender.userid,
        "period": period,
        "kind": SubmissionKind.REPORT,
        "title": f"{name}（{period_label(period)}）",
        "text": text,
        "source_key": ctx.msg.key,
    }
    reply = {
        "report": name,
        "period": period_label(period),
        "target": rule_label(ctx.scheme, rule.id),
        "timing": _timing(ctx, deadline),
    }
    return await _log_submission(ctx, fields, reply, fields["title"])


@router.intent(N.EVIDENCE, roles=REPORTERS)
async def evidence(ctx: Ctx, intent: Intent) -> str:
    if "ref" not in intent.args:  # 「佐证」 alone
        return texts.EVIDENCE_HOWTO
    ref = intent.args["ref"]
    body = intent.args.get("body", "")
    view = await _find_task(ctx, ref)
    target, task_id, what, year = None, None, ref, ctx.year
    if view is not None:
        task = view.task
        target = task.target or on_time_target(ctx.scheme, task.kind) or task.kind
        task_id, what, year = task.id, f"任务{view.ref}「{task.title}」", task.year
    elif ref.upper() in {t.upper() for t in ctx.scheme.targets_by_id}:
        target = next(t for t in ctx.scheme.targets_by_id if t.upper() == ref.upper())
        what = f"指标{target}（{ctx.scheme.target(target).name}）"
    if target is None:
        return texts.EVIDENCE_UNKNOWN.format(ref=ref)
    fields: dict[str, Any] = {
        "unit_id": _unit_id(ctx),
        "target": target,
        "submitted_at": ctx.now,
        "sender": ctx.sender.userid,
        "year": year,
        "kind": SubmissionKind.EVIDENCE,
        "title": f"{what}完成佐证"[:500],
        "text": body,
        "task_id": task_id,
        "source_key": ctx.msg.key,
    }
    repeat = texts.REPEAT_EVIDENCE.format(what=what)
    return await _log_submission(ctx, fields, {"what": what}, repeat)


@router.intent(N.MY_SCORE, roles=LIAISON)
async def my_score(ctx: Ctx, intent: Intent) -> str:
    year = int(intent.args.get("year", ctx.year))
    if year > ctx.year:
        return texts.SCORE_YEAR_NOT_STARTED.format(year=year)
    scheme_id = ctx.sender.scheme_id or ""
    if year == ctx.year:
        card = await unit_card(ctx.db, _unit_id(ctx), scheme_id, year, ctx.today)
    else:
        past = await past_unit_card(ctx.db, _unit_id(ctx), scheme_id, year, ctx.today)
        if past is None:
            return texts.SCORE_YEAR_NO_RECORDS.format(year=intent.args["year"])
        card = past
    hints: tuple[str, ...] = ()
    if "year" not in intent.args and ctx.today.month == 1:  # last year's result is what matters now
        hints = (texts.SCORE_LAST_YEAR_HINT.format(year=ctx.year - 1),)
    confirmed = await confirmed_grade_line(ctx.db, _unit_id(ctx), year)
    return score_text(card, hints=hints, confirmed=confirmed)


async def _this_year(ctx: Ctx) -> ScoreCard:
    return await unit_card(ctx.db, _unit_id(ctx), ctx.sender.scheme_id or "", ctx.year, ctx.today)


async def _card_asked(ctx: Ctx, intent: Intent) -> ScoreCard | str:
    """The sender's own unit; for an admin, the unit named in the message ("得分明细 椒江区"),
    or the reply saying how to name one."""
    if not ctx.sender.is_admin:
        return await _this_year(ctx)
    async with ctx.db.session() as session:
        units = await list_units(session)
    named = [u for u in units if u.name in intent.text]
    if not named:
        example = units[0].name if units else "单位名"
        return texts.ADMIN_NAME_A_UNIT.format(ask=intent.text.strip(), unit=example)
    unit = max(named, key=lambda u: len(u.name))  # "黄岩区" inside "黄岩区农业局" is the longer one
    assert unit.id is not None
    card = await past_unit_card(ctx.db, unit.id, unit.scheme_id, ctx.year, ctx.today)
    if card is None:  # nothing recorded yet: 待评, not a card of zeros
        return score_texts.NOT_SCORED_YET.format(unit=unit.name, year=ctx.year)
    return card


@router.intent(N.SCORE_LOSSES, roles=LIAISON | ADMIN)
async def score_losses(ctx: Ctx, intent: Intent) -> str:
    """ "扣分原因": every loss with its rule, counts, what is open and what the unit can do."""
    card = await _card_asked(ctx, intent)
    return card if isinstance(card, str) else losses_text(card, admin=ctx.sender.is_admin)


@router.intent(N.SCORE_DETAIL, roles=LIAISON | ADMIN)
async def score_detail(ctx: Ctx, intent: Intent) -> str:
    """ "得分明细": every indicator with its points."""
    card = await _card_asked(ctx, intent)
    return card if isinstance(card, str) else detail_text(card, admin=ctx.sender.is_admin)


@router.intent(N.INDICATOR, roles=LIAISON)
async def indicator(ctx: Ctx, intent: Intent) -> str:
    """One indicator by code ("C3b") or name ("工作信息"), explained."""
    ref = intent.args["ref"]
    rules = find_indicator(ctx.scheme, ref)
    if not rules:
        return score_texts.IND_UNKNOWN.format(ref=ref)
    return indicator_text(await _this_year(ctx), rules)


def named_indicator(ctx: Ctx, intent: Intent) -> Intent | None:
    """A message naming an indicator of the sender's scheme ("工作信息", "档案资料扣分原因"),
    as the INDICATOR intent; None when it names none."""
    if ctx.sender.scheme_id is None or ctx.sender.unit_id is None:
        return None
    for words in (intent.text, indicator_words(intent.text)):  # "年度工作指标" is a name
        if words and find_indicator(ctx.scheme, words):
            return Intent(N.INDICATOR, {"ref": words}, intent.text)
    if intent.name in (N.QUESTION, N.SCORE_LOSSES, N.MY_SCORE):  # "档案资料怎么还没分"
        name = indicator_named_in(ctx.scheme, intent.text)
        if name is not None:
            return Intent(N.INDICATOR, {"ref": name}, intent.text)
    return None


_ASKED_MONTH = re.compile(
    rf"(?P<last>{'|'.join(LAST_MONTH)})"
    rf"|(?:(?P<y>\d{{4}})\s*年\s*)?(?P<m>1[0-2]|0?[1-9]|{CN_MONTH})\s*月"
)


def asked_month(text: str, today: date) -> tuple[int, int] | None:
    """The month a progress question names (「上个月报了几篇」, 「11月的信息报了几篇」), None when it
    names none. A month later in the year than today's is last year's."""
    found = _ASKED_MONTH.search(text)
    if found is None:
        return None
    if found["last"]:
        return previous_month(today)
    m = found["m"]
    month = int(m) if m.isdigit() else CN_MONTHS[m]
    if found["y"]:
        return int(found["y"]), month
    return (today.year, month) if month <= today.month else (today.year - 1, month)


@router.intent(N.PROGRESS, roles=LIAISON)
async def progress(ctx: Ctx, intent: Intent) -> str:
    unit = ctx.sender.unit_name or ""
    asked = asked_month(intent.text, ctx.today)
    if asked is not None and asked != (ctx.today.year, ctx.today.month):
        return await _month_progress(ctx, *asked)
    lines = [
        texts.PROGRESS_HEADER.format(unit=unit, month=ctx.today.month, today=fmt_date(ctx.today))
    ]
    quota = info_quota(ctx.scheme)
    period = month_of(ctx.today)
    async with ctx.db.session() as session:
        if quota is not None:
            views = await list_submissions(
                session, _unit_id(ctx), ctx.year, target=quota.rule.target, period=period
            )
            n = sum(v.status in COUNTING for v in views)
            lines.append(
                texts.PROGRESS_INFO.format(
                    n=n, quota=quota.per_period, deadline=fmt_date(quota.deadline(period))
                )
            )
        tasks = await list_tasks(session, _unit_id(ctx), ctx.year)
        sent = {
            v.submission.task_id
            for v in await list_submissions(session, _unit_id(ctx), ctx.year)
            if v.submission.task_id is not None and v.status in COUNTING
        }
    owed = 0
    for view in tasks:
        task = view.task
        if task.id in sent or view.completed_at is not None or task.due < ctx.today:
            continue
        owed += 1
        state = "尚未反馈" if task.kind == TaskKind.FEEDBACK else "尚未完成"
        lines.append(
            texts.PROGRESS_TASK.format(
                task=view.ref, title=task.title, due=fmt_date(task.due), state=state
            )
        )
    overdue = [
        v
        for v in tasks
        if v.task.due < ctx.today and v.task.id not in sent and v.completed_at is None
    ]
    if overdue:
        refs = "、".join(v.ref for v in overdue[:10])
        lines.append(f"· 已逾期未反馈或未完成的任务：{refs}")
    card = await unit_card(ctx.db, _unit_id(ctx), ctx.sender.scheme_id or "", ctx.year, ctx.today)
    reports_open = [
        line
        for rule in ctx.scheme.rules()
        if rule.params.delivery == Delivery.REPORT
        for line in card.rule(rule.id).open
    ]
    lines.extend(f"· {line}" for line in reports_open[:6])
    if not owed and not overdue and not reports_open:
        lines.append(texts.PROGRESS_NOTHING)
    return fit_text("\n".join(lines))


async def _month_progress(ctx: Ctx, year: int, month: int) -> str:
    """「上个月报了几篇」: the 政务信息 of that month, counted as the score counts them."""
    quota = info_quota(ctx.scheme)
    if quota is None:
        return not_in_scheme(ctx, "政务信息")
    period = f"{year}-{month:02d}"
    async with ctx.db.session() as session:
        views = await list_submissions(
            session, _unit_id(ctx), year, target=quota.rule.target, period=period
        )
    n = sum(v.status in COUNTING for v in views)
    deadline = quota.deadline(period)
    if n >= quota.per_period:
        state = texts.MONTH_PROGRESS_FULL
    elif deadline < ctx.today:
        state = texts.MONTH_PROGRESS_CLOSED.format(left=quota.per_period - n)
    else:
        state = texts.MONTH_PROGRESS_LEFT.format(left=quota.per_period - n)
    label = f"{year}年{month}月" if year != ctx.year else f"{month}月"
    return texts.MONTH_PROGRESS.format(
        unit=ctx.sender.unit_name or "",
        month=label,
        n=n,
        quota=quota.per_period,
        deadline=fmt_date(deadline),
        state=state,
    )


# a title's characters on a line of 「记录」 or 「撤回」 (a longer one is clipped, with …)
RECORD_TITLE_MAX = 24


def _record_line(view: SubmissionView) -> str:
    sub = view.submission
    when = local_date(sub.submitted_at)
    status = texts.STATUS_NAMES.get(view.status, view.status)
    return f"· {view.ref} {day_label(when)} {sub.target} {clip(sub.title, RECORD_TITLE_MAX)}（{status}）"


@router.intent(N.RECORDS, roles=LIAISON)
async def records(ctx: Ctx, intent: Intent) -> str:
    unit = ctx.sender.unit_name or ""
    async with ctx.db.session() as session:
        views = await list_submissions(session, _unit_id(ctx), ctx.year)
        if len(views) < 10:
            views = await list_submissions(session, _unit_id(ctx), ctx.year - 1) + views
    if not views:
        return texts.RECORDS_EMPTY.format(unit=unit)
    recent = list(reversed(views))[:10]
    return fit_text("\n".join([texts.RECORDS_HEADER.format(unit=unit), *map(_record_line, recent)]))


def _deadline_of(ctx: Ctx, view: SubmissionView, task_due: date | None) -> date | None:
    """The deadline a submission counted for, if it had one."""
    sub = view.submission
    return submission_deadline(ctx.scheme, sub.kind, sub.target, sub.period, task_due)


def parse_ref(ref: str) -> int | None:
    digits = ref.upper().removeprefix("S")
    return int(digits) if digits.isdigit() else None


@router.intent(N.WITHDRAW, roles=REPORTERS)
async def withdraw(ctx: Ctx, intent: Intent) -> str:
    if "refs" in intent.args:  # 「撤回 S251 S244」
        first = re.split(REFS_SEP, intent.args["refs"])[0]
        return texts.WITHDRAW_ONE_AT_A_TIME.format(ref=first.lstrip("#").upper())
    ref = intent.args["ref"]
    sub_id = parse_ref(ref)
    async with ctx.db.session() as session:
        view = await ledger.get_submission(session, sub_id) if sub_id is not None else None
        if view is None or view.submission.unit_id != _unit_id(ctx):
            return texts.WITHDRAW_UNKNOWN.format(ref=ref)
        if view.status not in COUNTING:
            status = texts.STATUS_NAMES[view.status]
            return texts.WITHDRAW_ALREADY.format(ref=view.ref, status=status)
        task_due = None
        if view.submission.task_id is not None:
            task = await session.get(Task, view.submission.task_id)
            task_due = task.due if task is not None else None
        deadline = _deadline_of(ctx, view, task_due)
        if deadline is not None and ctx.today > deadline:
            deadline_ = fmt_date(deadline)
            return texts.WITHDRAW_TOO_LATE.format(
                ref=view.ref, deadline=deadline_, office=office_name()
            )
        reviewer = None
        if view.status == Status.ACCEPTED:  # the office counted it: its reviewer is told
            reviewer = await ledger.accepted_by(session, view.submission.id or 0)
        await ledger.withdraw_submission(
            session,
            view.submission.id or 0,
            actor=ctx.sender.userid,
            reason="联络员撤回",
            at=ctx.now,
        )
        if reviewer:
            told = texts.WITHDRAWN_TELL_REVIEWER.format(
                unit=ctx.sender.unit_name or "",
                who=ctx.sender.name,
                ref=view.ref,
                title=view.submission.title,
            )
            enqueue(session, reviewer, {"type": "text", "to": [reviewer], "text": told})
        await session.commit()
    done = texts.WITHDRAWN.format(ref=view.ref, title=view.submission.title)
    return done + (texts.WITHDRAWN_APPROVED.format(reviewer=reviewer) if reviewer else "")


@router.intent(N.WITHDRAW_LIST, roles=REPORTERS)
async def withdraw_list(ctx: Ctx, intent: Intent) -> str:
    """ "撤回" without a number: what this unit can still withdraw (counting, before its deadline)."""
    async with ctx.db.session() as session:
        views = await list_submissions(session, _unit_id(ctx), ctx.year)
        dues = {v.task.id: v.task.due for v in await list_tasks(session, _unit_id(ctx), ctx.year)}
    open_: list[SubmissionView] = []
    for view in views:
        if view.status not in COUNTING:
            continue
        deadline = _deadline_of(ctx, view, dues.get(view.submission.task_id))
        if deadline is None or ctx.today <= deadline:
            open_.append(view)
    if not open_:
        return texts.WITHDRAW_LIST_EMPTY
    recent = list(reversed(open_))[:10]
    lines = [texts.WITHDRAW_LIST_HEADER, *map(_record_line, recent)]
    lines.append(texts.WITHDRAW_LIST_FOOTER.format(ref=recent[0].ref))
    return fit_text("\n".join(lines))
