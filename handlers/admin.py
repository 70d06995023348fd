"""Admin intents: tasks, reviews, score entries, any unit's score, the tally, notices.

Each action is a ledger row written with the admin as actor and the reason given; the ledger also
writes the audit row in the same transaction.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from handlers import corrections_text as ct
from handlers import pending, texts
from handlers import review_texts as rt
from handlers import score_texts as st
from handlers.context import Ctx, office_name, scheme_of
from handlers.intents import Intent, IntentName, parse_date
from handlers.lookup import find_indicator, resolve_rule, rule_label, rule_ref
from handlers.notify import tell_unit_change
from handlers.pending import PendingAction
from handlers.router import ADMIN, Router
from handlers.scoretext import (
    confirmed_grade_line,
    past_unit_card,
    score_change,
    score_text,
    unit_card,
)
from handlers.texts import fmt_date, fmt_points, sentence
from scoring import kinds
from scoring.facts import EntryKind, TaskKind
from scoring.kinds import RuleKind
from scoring.model import Scheme
from scoring.periods import TZ, day_label
from storage import ledger
from storage.audit import audit
from storage.ledger import list_tasks
from storage.models import Member, Role, Unit
from storage.scope import DEFAULT_ASSESSMENT
from storage.tasks import next_task_code
from storage.units import find_unit, list_members, list_units
from tally.links import dashboard_link_for
from tally.service import load_tally, summary_text, write_files

router = Router()
N = IntentName

# the same entry (unit, rule, value, reason) by the same admin within this window is asked about:
# most likely the command was sent twice
SAME_ENTRY_WINDOW = timedelta(minutes=30)

ALL_UNITS = {"全部", "所有", "全部单位", "all"}


async def _unit(ctx: Ctx, name: str) -> Unit | str:
    """The unit named `name`, or the reply saying which units exist."""
    async with ctx.db.session() as session:
        unit = await find_unit(session, name)
        if unit is not None:
            return unit
        known = "、".join(u.name for u in await list_units(session)) or "（尚无单位）"
    return texts.UNIT_UNKNOWN.format(unit=name, known=known)


async def _members(
    ctx: Ctx, unit_id: int | None = None, roles: tuple[Role, ...] = (Role.LIAISON,)
) -> list[Member]:
    """The active members of a unit (of every unit) in `roles`. Task notices (布置任务, as
    取消任务 and 改期) go to liaisons, who act on them; leaders follow progress and get the 督办
    of what is overdue. Office notices (通知) go to liaisons and leaders, as 通知签收 does."""
    async with ctx.db.session() as session:
        members = await list_members(session, unit_id)
    return [m for m in members if m.role in roles]


@router.intent(N.ASSIGN_TASK, roles=ADMIN)
async def assign_task(ctx: Ctx, intent: Intent) -> str:
    """Assign a feedback task; a due date already past, or a title the unit already has this
    year, is asked about before anything is written."""
    if "title" not in intent.args:  # 「布置任务」 alone or without its title
        return texts.ASSIGN_HOWTO
    due = parse_date(intent.args["due"], ctx.today)
    if due is None:
        return texts.DATE_BAD.format(text=intent.args["due"])
    title = intent.args["title"]
    names = intent.args["units"]
    async with ctx.db.session() as session:
        if names in ALL_UNITS:
            units = await list_units(session)
        else:
            units = []
            for name in filter(None, re.split(r"[,;、]", names)):
                unit = await find_unit(session, name.strip())
                if unit is None:
                    known = "、".join(u.name for u in await list_units(session))
                    return texts.UNIT_UNKNOWN.format(unit=name, known=known)
                units.append(unit)
        if not units:
            return texts.UNIT_UNKNOWN.format(unit=names, known="（尚无单位）")
        twice: list[str] = []
        for unit in units:
            assert unit.id is not None
            same = [
                v.ref for v in await list_tasks(session, unit.id, due.year) if v.task.title == title
            ]
            if same:
                twice.append(f"{unit.name} {'、'.join(same)}")
    args = {"units": [u.id for u in units], "due": due.isoformat(), "title": title}
    worries = []
    if due < ctx.today:
        worries.append(
            ct.PAST_DUE.format(due=day_label(due, ctx.today.year), today=day_label(ctx.today))
        )
    if twice:
        worries.append(
            ct.ASSIGNED_TWICE.format(units="、".join(twice[:5]), title=title, refs="见前")
        )
    if worries:
        prompt = "\n".join([*worries, "确定仍要布置吗？"])
        return await pending.ask(ctx, PendingAction.ASSIGN_TASK, args, prompt)
    return await _assign(ctx, args)


@pending.runner(PendingAction.ASSIGN_TASK)
async def _assign(ctx: Ctx, args: dict[str, Any]) -> str:
    due, title = date.fromisoformat(args["due"]), args["title"]
    async with ctx.db.session() as session:
        code = await next_task_code(session)
        units = [u for u in [await session.get(Unit, i) for i in args["units"]] if u is not None]
        for unit in units:
            assert unit.id is not None
            await ledger.add_task(
                session,
                unit_id=unit.id,
                kind=TaskKind.FEEDBACK,
                due=due,
                actor=ctx.sender.userid,
                title=title,
                code=code,
            )
        await session.commit()
    notice = texts.TASK_NOTICE.format(
        task=code, title=title, due=fmt_date(due), office=office_name()
    )
    for unit in units:
        for member in await _members(ctx, unit.id):
            await ctx.tell(member.userid, notice)
    return texts.TASK_ASSIGNED.format(count=len(units), ids=code, title=title, due=fmt_date(due))


def _entry_value(verb: str, raw: str | None, rule_params: RuleKind) -> Decimal | str:
    """The value to record, or the reason it is not acceptable (the rule's kind has its say)."""
    spoken = kinds.verbs()[verb][2]
    if spoken.value is not None:
        return spoken.value
    if raw is None:
        return rule_params.default_entry() or "请写明分值"
    try:
        value = Decimal(raw.rstrip("%")) / (100 if raw.endswith("%") else 1)
    except InvalidOperation:
        return "不是数字"
    if value < 0:
        return "不能为负数"
    return rule_params.entry_problem(value) or value


@router.intent(N.ADMIN_ENTRY, roles=ADMIN)
async def admin_entry(ctx: Ctx, intent: Intent) -> str:
    verb, rule_ref = intent.args["verb"], intent.args["rule"]
    reason = intent.args.get("reason", "")
    unit = await _unit(ctx, intent.args["unit"])
    if isinstance(unit, str):
        return unit
    if not reason:
        return texts.REASON_NEEDED.format(example=f"{verb} {unit.name} {rule_ref} 1理由")
    kind, accepts, _ = kinds.verbs()[verb]
    scheme = scheme_of(unit.scheme_id)
    rule = resolve_rule(scheme, rule_ref, accepts)
    if rule is None:
        return _entry_misfit(scheme, unit.name, verb, rule_ref, accepts)
    value = _entry_value(verb, intent.args.get("value"), rule.params)
    if isinstance(value, str):
        return texts.VALUE_BAD.format(value=intent.args.get("value", ""), why=value)
    assert unit.id is not None
    args = {
        "unit": unit.id,
        "verb": verb,
        "rule": rule.id,
        "value": str(value),
        "reason": reason,
        "year": ctx.year,
    }
    async with ctx.db.session() as session:
        same = await ledger.recent_same_entry(
            session,
            unit_id=unit.id,
            year=ctx.year,
            kind=kind,
            rule=rule.id,
            value=value,
            actor=ctx.sender.userid,
            reason=reason,
            since=ctx.now - SAME_ENTRY_WINDOW,
        )
    if same is not None:
        prompt = ct.SAME_ENTRY.format(
            when=f"{same.created_at.astimezone(TZ):%H:%M}",
            unit=unit.name,
            ref=ledger.entry_ref(same.id or 0),
            verb=verb,
            rule=rule_label(scheme, rule.id),
            value=fmt_points(value),
            reason=reason,
        )
        return await pending.ask(
            ctx, PendingAction.ADMIN_ENTRY, args, prompt + "确定要再记一次吗？"
        )
    return await _record_entry(ctx, args)


def _entry_misfit(scheme: Scheme, unit: str, verb: str, ref: str, accepts: tuple[str, ...]) -> str:
    """Why `verb` cannot be recorded for the indicator `ref`, and which entry it takes instead
    (or that the scheme has no such indicator)."""
    rule_ids = find_indicator(scheme, ref)
    if not rule_ids:
        return texts.RULE_UNKNOWN.format(unit=unit, rule=ref)
    label = rule_label(scheme, rule_ids[0])
    fitting = [r for r in rule_ids if scheme.rule(r).kind in accepts]
    if len(fitting) > 1:
        rules = "、".join(
            f"{r}（{scheme.rule(r).text or scheme.rule(r).params.describe(scheme.rule(r))}）"
            for r in fitting
        )
        return st.ENTRY_AMBIGUOUS.format(label=label, n=len(fitting), verb=verb, rules=rules)
    rule = scheme.rule(rule_ids[0])
    params = rule.params
    title = f"是「{params.title}」"
    if params.verbs:
        words = "」或「".join(v.word for v in params.verbs)
        first = params.verbs[0]
        value = "" if first.value is not None else " 分值"
        example = f"{first.word} {unit} {rule_ref(scheme, rule.id)}{value} 理由"
        how = st.ENTRY_TAKES_VERBS.format(title=title, verbs=words, example=example)
    elif params.completed_task_kinds():
        how = st.ENTRY_TAKES_TASKS.format(title=title, unit=unit)
    else:
        how = st.ENTRY_TAKES_NOTHING.format(title=title)
    return st.ENTRY_WRONG_KIND.format(label=label, verb=verb, how=how)


@pending.runner(PendingAction.ADMIN_ENTRY)
async def _record_entry(ctx: Ctx, args: dict[str, Any]) -> str:
    verb, value = args["verb"], Decimal(args["value"])
    kind = kinds.verbs()[verb][0]
    async with ctx.db.session() as session:
        unit = await session.get(Unit, args["unit"])
        assert unit is not None and unit.id is not None
    before = await unit_card(ctx.db, unit.id, unit.scheme_id, args["year"], ctx.today)
    async with ctx.db.session() as session:
        entry = await ledger.add_entry(
            session,
            unit_id=unit.id,
            year=args["year"],
            kind=kind,
            rule=args["rule"],
            actor=ctx.sender.userid,
            value=value,
            reason=args["reason"],
            at=ctx.now,
        )
        await session.commit()
    after = await unit_card(ctx.db, unit.id, unit.scheme_id, args["year"], ctx.today)
    scheme = scheme_of(unit.scheme_id)
    shown = rt.NOTICE_CONFIRMED if kind == EntryKind.CONFIRMATION else rt.NOTICE_ENTRY
    line = shown.format(  # the liaison reads the indicator as the score card names it
        rule=rule_label(scheme, args["rule"]),
        verb=verb,
        value=fmt_points(value),
        reason=args["reason"],
    )
    await tell_unit_change(
        ctx.db,
        unit.id,
        [line],
        year=args["year"],
        before=before,
        today=ctx.today,
        now=ctx.now,
        channel=ctx.deps.channel,
    )
    return st.ENTRY_DONE.format(
        unit=unit.name,
        ref=ledger.entry_ref(entry.id or 0),
        verb=verb,
        label=rule_label(scheme, args["rule"]),
        value=fmt_points(value) if kind != EntryKind.CONFIRMATION else "",
        reason=sentence(args["reason"]).rstrip("。"),
        change=score_change(before, after, args["rule"]),
    )


@router.intent(N.COMPLETE_TASK, roles=ADMIN)
async def complete_task(ctx: Ctx, intent: Intent) -> str:
    unit = await _unit(ctx, intent.args["unit"])
    if isinstance(unit, str):
        return unit
    reason = intent.args.get("reason", "")
    if not reason:
        return texts.REASON_NEEDED.format(
            example=f"任务完成{unit.name} {intent.args['task']}已验收"
        )
    wanted = intent.args["task"].upper()
    wanted = f"K{wanted}" if wanted.isdigit() else wanted
    assert unit.id is not None
    async with ctx.db.session() as session:
        found = None
        for year in (ctx.year, ctx.year - 1):
            found = found or next(
                (v for v in await list_tasks(session, unit.id, year) if v.ref.upper() == wanted),
                None,
            )
        if found is None:
            return texts.TASK_UNKNOWN.format(task=intent.args["task"])
        if found.completed_at is not None:  # the same command again: recorded once
            return ct.ALREADY_DONE.format(
                unit=unit.name,
                task=found.ref,
                title=found.task.title,
                when=fmt_date(found.completed_at.astimezone(TZ)),
            )
    before = await unit_card(ctx.db, unit.id, unit.scheme_id, found.task.year, ctx.today)
    async with ctx.db.session() as session:
        await ledger.complete_task(
            session, found.task.id or 0, actor=ctx.sender.userid, reason=reason, at=ctx.now
        )
        await session.commit()
    await tell_unit_change(
        ctx.db,
        unit.id,
        [rt.NOTICE_TASK_DONE.format(task=found.ref, title=found.task.title, reason=reason)],
        year=found.task.year,
        before=before,
        today=ctx.today,
        now=ctx.now,
        channel=ctx.deps.channel,
    )
    after = await unit_card(ctx.db, unit.id, unit.scheme_id, found.task.year, ctx.today)
    done = texts.TASK_COMPLETED.format(
        unit=unit.name, task=found.ref, title=found.task.title, reason=reason
    )
    scheme = scheme_of(unit.scheme_id)
    rule = next(
        (
            r
            for r in scheme.rules()
            if found.task.kind in r.params.completed_task_kinds()
            or getattr(r.params, "task_kind", None) == found.task.kind
        ),
        None,
    )
    if rule is None:  # a task kind no rule scores: its completion changes no points
        return done
    return done + score_change(before, after, rule.id) + "。"


@router.intent(N.UNIT_SCORE, roles=ADMIN)
async def unit_score(ctx: Ctx, intent: Intent) -> str:
    unit = await _unit(ctx, intent.args["unit"])
    if isinstance(unit, str):
        return unit
    assert unit.id is not None
    card = await past_unit_card(ctx.db, unit.id, unit.scheme_id, ctx.year, ctx.today)
    if card is None:  # nothing recorded yet: 待评, not a card of zeros
        return st.NOT_SCORED_YET.format(unit=unit.name, year=ctx.year)
    confirmed = await confirmed_grade_line(ctx.db, unit.id, ctx.year)
    return score_text(card, confirmed=confirmed, admin=True)


def _year_of(text: str | None, this_year: int) -> int:
    """「汇总 2025」, 「汇总 今年」, 「汇总 去年」: the year meant (this year when none is said)."""
    if not text or text.startswith(("今年", "本年")):
        return this_year
    if text.startswith(("去年", "上")):
        return this_year - 1
    return int(text)


@router.intent(N.TALLY, roles=ADMIN)
async def tally(ctx: Ctx, intent: Intent) -> str:
    """The summary now; the workbook and the chart follow as files (writing them takes longer)."""
    year = _year_of(intent.args.get("year"), ctx.year)
    result = await load_tally(ctx.db, year, as_of=ctx.today)
    if result.empty:  # no empty workbook: say there is nothing to tally
        return summary_text(result)
    userid = ctx.sender.userid

    async def send_files() -> None:
        xlsx, png = await asyncio.to_thread(write_files, result, Path(ctx.deps.work_dir))
        await ctx.send_file(userid, xlsx)
        await ctx.send_file(userid, png)

    ctx.later(send_files())
    return summary_text(result)


@router.intent(N.DASHBOARD, roles=ADMIN)
async def dashboard(ctx: Ctx, intent: Intent) -> str:
    if not ctx.deps.dashboard_secret:
        return texts.DASHBOARD_OFF
    if not ctx.deps.public_url:  # a link without the address cannot be opened on a phone
        return texts.DASHBOARD_NO_ADDRESS
    link = dashboard_link_for(
        ctx.deps.dashboard_secret,
        ctx.sender.userid,
        base_url=ctx.deps.public_url,
        now=ctx.now.timestamp(),
    )
    if ctx.sender.assessment_id != DEFAULT_ASSESSMENT:  # 分级考核: the dashboard of this one
        link += f"&a={ctx.sender.assessment_id}"
    return texts.DASHBOARD_LINK.format(link=link, minutes=30)


@router.intent(N.BROADCAST, roles=ADMIN)
async def broadcast(ctx: Ctx, intent: Intent) -> str:
    body = intent.args["body"]
    members = await _members(ctx, roles=(Role.LIAISON, Role.LEADER))
    async with ctx.db.session() as session:
        audit(
            session, ctx.sender.userid, "broadcast", {"text": body, "to": len(members)}, at=ctx.now
        )
        await session.commit()
    for member in members:
        await ctx.tell(member.userid, texts.BROADCAST_PREFIX.format(office=office_name()) + body)
    return broadcast_done(members)


def broadcast_done(members: list[Member]) -> str:
    """「通知已发送给8人（联络员5人、分管领导3人）。」: how many people, and who they are."""
    liaisons = sum(1 for m in members if m.role == Role.LIAISON)
    leaders = len(members) - liaisons
    if not leaders:
        return texts.BROADCAST_DONE_LIAISONS.format(count=len(members))
    return texts.BROADCAST_DONE.format(count=len(members), liaisons=liaisons, leaders=leaders)
