"""测评意见 in chat (seed 000 第八条): the office opens a round, each district's leaders rate every
city department (a card per department), the office watches progress and closes the round, and
each department's aggregate result enters its score through its scheme's `rating` rule.

Anonymous to the departments: what a department can see is its aggregate (测评结果, its score
card); who rated what is kept in the ledger for audit and never shown in chat.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import method_texts as mt
from handlers import pending
from handlers.channel import reply_to_data
from handlers.context import Ctx, scheme_of
from handlers.intents import Intent, parse_date
from handlers.method_intents import RATE_KEY, MethodIntent
from handlers.pending import PendingAction
from handlers.router import ADMIN, MEMBERS, Router
from handlers.texts import fmt_date
from handlers.types import Button, Card, CardReply
from scoring.kinds.rating import Rating
from scoring.model import Rule, Scheme
from scoring.satisfaction import CHOICES, Scale, answers_of, index_of, recorded, summary
from storage import rating as store
from storage.models import Member, Role, Unit, UnitKind
from storage.outbox import enqueue
from storage.units import list_members, list_units

router = Router()

DEFAULT_DAYS = 10  # a round without a due date runs this many days
TASK_ID_MAX = 128


def rating_rule(scheme: Scheme) -> Rule | None:
    """The scheme's `rating` rule (the first, when a scheme has several)."""
    return next((r for r in scheme.rules() if isinstance(r.params, Rating)), None)


def rating_params(rule: Rule) -> Rating:
    """The parameters of a `rating` rule (as the rating kind's own model)."""
    assert isinstance(rule.params, Rating)
    return rule.params


def _pct(index: Any) -> str:
    return f"{float(index) * 100:.1f}%"


def _how(scale: str) -> str:
    return mt.HOW_CHOICE if scale == Scale.CHOICE else mt.HOW_SCORE


def _example(scale: str) -> str:
    return "满意" if scale == Scale.CHOICE else "8"


def _people(members: list[Member], unit_id: int | None, roles: tuple[str, ...]) -> list[str]:
    return [m.userid for m in members if m.unit_id == unit_id and m.active and m.role in roles]


def _card(view: store.RoundView, rater: str, department: Unit) -> Card:
    assert department.id is not None
    scale = view.round.scale
    buttons: tuple[Button, ...] = ()
    if scale == Scale.CHOICE:
        buttons = tuple(
            Button(choice, f"{RATE_KEY}{view.id}:{department.id}:{n}", style=1 if n == 0 else 2)
            for n, choice in enumerate(CHOICES)
        )
    text = mt.CARD_CHOICE if scale == Scale.CHOICE else mt.CARD_SCORE
    task_id = f"rate-{view.id}-{department.id}-{rater}"
    return Card(
        title=mt.CARD_TITLE.format(year=view.round.year, department=department.name),
        description=text.format(department=department.name),
        task_id=re.sub(r"[^0-9A-Za-z_\-@]", "_", task_id)[:TASK_ID_MAX],
        buttons=buttons,
    )


@router.intent(MethodIntent.RATING_OPEN, roles=ADMIN)
async def open_round(ctx: Ctx, intent: Intent) -> str:
    year = int(intent.args.get("year", ctx.year))
    due = ctx.today + timedelta(days=DEFAULT_DAYS)
    due_text = intent.args.get("due") or intent.args.get("due2")
    if due_text:
        parsed = parse_date(due_text, ctx.today)
        if parsed is None or parsed < ctx.today:
            return mt.RATING_DUE_BAD.format(text=due_text)
        due = parsed
    async with ctx.db.session() as session:
        units = await list_units(session)
        members = await list_members(session)
        if (open_ := await store.current_round(session, year)) is not None:
            return mt.RATING_ALREADY_OPEN.format(year=year, ref=open_.ref, due=open_.round.due)
        all_departments = [u for u in units if u.kind == UnitKind.DEPARTMENT]
        if not all_departments:
            return mt.RATING_NO_DEPARTMENTS
        # only the departments whose scheme asks for the districts' rating are rated
        rules = {u.id: rating_rule(scheme_of(u.scheme_id)) for u in all_departments}
        departments = [u for u in all_departments if rules[u.id] is not None]
        unrated = [u.name for u in all_departments if rules[u.id] is None]
        scales = sorted({rating_params(r).scale for r in rules.values() if r is not None})
        if not scales:
            return mt.RATING_NO_RULE
        if len(scales) > 1:
            return mt.RATING_SCALES_DIFFER.format(scales="、".join(_how(s) for s in scales))
        raters: list[tuple[str, int | None]] = []
        skipped = []
        if "raters" in intent.args:
            named = _named_raters(intent.args["raters"], members)
            if isinstance(named, str):
                return named
            raters = named
        else:
            for unit in (u for u in units if u.kind == UnitKind.DISTRICT):
                assert unit.id is not None
                leaders = _people(members, unit.id, (Role.LEADER.value,))
                raters += [(userid, unit.id) for userid in leaders]
                if not leaders:
                    skipped.append(unit.name)
        if not raters:
            return mt.RATING_NO_RATERS
        row = await store.open_round(
            session,
            year=year,
            scale=Scale(scales[0]),
            due=due,
            raters=raters,
            departments=[u.id for u in departments if u.id is not None],
            actor=ctx.sender.userid,
            at=ctx.now,
        )
        assert row.id is not None
        view = store.RoundView(row, None)
        names = {m.userid: m.name for m in members}
        for userid, _ in raters:
            intro = mt.RATING_INTRO.format(
                name=names.get(userid, userid),
                year=year,
                ref=view.ref,
                due=fmt_date(due),
                count=len(departments),
                how=_how(row.scale),
            )
            enqueue(session, userid, {"type": "text", "to": [userid], "text": intro})
            for department in departments:
                card = reply_to_data(CardReply(_card(view, userid, department)))
                enqueue(session, userid, {"type": "card", "to": [userid], "card": card["card"]})
        await session.commit()
    answer = mt.RATING_OPENED.format(
        year=year,
        ref=view.ref,
        raters=len(raters),
        departments=len(departments),
        due=fmt_date(due),
        how=_how(row.scale),
        names="、".join(names.get(u, u) for u, _ in raters),
    )
    if skipped:
        answer += mt.RATING_OPENED_SKIPPED.format(units="、".join(skipped))
    if unrated:
        answer += mt.RATING_OPENED_UNRATED.format(units="、".join(unrated))
    return answer


def _named_raters(text: str, members: list[Member]) -> list[tuple[str, int | None]] | str:
    """The raters named for a round, by name or user id ("张三 李四", "张三、lisi"); the reply
    when a name is unknown or names two people."""
    raters: list[tuple[str, int | None]] = []
    unknown, twice, unitless = [], [], []
    for word in (w for w in re.split(r"[\s,，、;；]+", text) if w):
        found = [m for m in members if m.active and word in (m.name, m.userid)]
        if not found:
            unknown.append(word)
        elif len({m.userid for m in found}) > 1:
            twice.append(f"{word}（{'、'.join(m.userid for m in found)}）")
        elif found[0].unit_id is None:
            unitless.append(word)  # a rater speaks for a unit (and is reminded as one)
        elif found[0].userid not in (r for r, _ in raters):
            raters.append((found[0].userid, found[0].unit_id))
    if unknown:
        return mt.RATERS_UNKNOWN.format(names="、".join(unknown))
    if twice:
        return mt.RATERS_AMBIGUOUS.format(names="；".join(twice))
    if unitless:
        return mt.RATERS_UNITLESS.format(names="、".join(unitless))
    return raters


async def _my_round(session: AsyncSession, ctx: Ctx) -> store.RoundView | None:
    rounds = await store.open_rounds_of(session, ctx.sender.userid)
    return rounds[-1] if rounds else None


def _find(name: str, units: dict[int, str]) -> int | None:
    """A department by its name, or by a part of it that names only one (市住建局 is not a part
    of 市住房和城乡建设局, so it is not guessed)."""
    exact = [i for i, n in units.items() if n == name]
    if exact:
        return exact[0]
    partial = [i for i, n in units.items() if name in n]
    return partial[0] if len(partial) == 1 else None


async def _rate(ctx: Ctx, view: store.RoundView, unit_id: int, value: str, comment: str) -> str:
    async with ctx.db.session() as session:
        names = await _department_names(session, view)
        try:
            _, before = await store.answer(
                session,
                view,
                rater=ctx.sender.userid,
                unit_id=unit_id,
                value=value,
                comment=comment,
                at=ctx.now,
                source_key=ctx.msg.key,
            )
        except store.RatingError as exc:
            return f"未记录：{exc}。"
        await session.commit()
    note = f"（意见：{comment}）" if comment else ""
    department = names[unit_id]
    if before is not None and before.answer != value:
        head = mt.RATED_CHANGED.format(
            department=department, before=before.answer, answer=value, comment=note
        )
    else:
        head = mt.RATED.format(department=department, answer=value, comment=note)
    left = view.missing_of(ctx.sender.userid)
    if left:
        tail = mt.RATED_LEFT.format(count=len(left), names="、".join(names[i] for i in left))
    else:
        tail = mt.RATED_ALL.format(count=len(view.round.departments))
    return f"{head}\n{tail}"


async def _department_names(session: AsyncSession, view: store.RoundView) -> dict[int, str]:
    units = {u.id: u.name for u in await list_units(session) if u.id is not None}
    return {i: units.get(i, f"单位{i}") for i in view.round.departments}


@router.intent(MethodIntent.RATE, roles=MEMBERS)
async def rate(ctx: Ctx, intent: Intent) -> str:
    async with ctx.db.session() as session:
        view = await _my_round(session, ctx)
        if view is None:
            return mt.NOT_RATER if await store.current_round(session) else mt.NO_OPEN_ROUND
        names = await _department_names(session, view)
    unit_id = _find(intent.args["department"], names)
    if unit_id is None:
        return mt.RATE_UNKNOWN_DEPARTMENT.format(
            name=intent.args["department"], known="、".join(names.values())
        )
    value = intent.args["answer"]
    if value not in answers_of(view.round.scale):
        return mt.RATE_BAD_ANSWER.format(
            choices="、".join(answers_of(view.round.scale)),
            department=names[unit_id],
            example=_example(view.round.scale),
        )
    return await _rate(ctx, view, unit_id, value, intent.args.get("comment", ""))


@router.intent(MethodIntent.RATE_CLICK, roles=MEMBERS)
async def rate_click(ctx: Ctx, intent: Intent) -> str:
    async with ctx.db.session() as session:
        view = await store.get_round(session, int(intent.args["round"]))
    if view is None or ctx.sender.userid not in view.rater_ids:
        return mt.NOT_RATER
    if not view.is_open:
        return f"测评{view.ref}已结束，未记录。"
    choice = int(intent.args["choice"])
    if view.round.scale != Scale.CHOICE or choice >= len(CHOICES):
        return mt.NOT_RATER
    return await _rate(ctx, view, int(intent.args["unit_id"]), CHOICES[choice], "")


@router.intent(MethodIntent.MY_RATING, roles=MEMBERS)
async def my_rating(ctx: Ctx, intent: Intent) -> str:
    async with ctx.db.session() as session:
        view = await _my_round(session, ctx)
        if view is None:
            if ctx.sender.is_admin:
                return mt.NO_OPEN_ROUND + "发起请发「发起测评」，查看请发「测评进度」。"
            return mt.NOT_RATER if await store.current_round(session) else mt.NO_OPEN_ROUND
        names = await _department_names(session, view)
    me = ctx.sender.userid
    lines = [
        mt.MY_RATING_HEAD.format(
            year=view.round.year,
            ref=view.ref,
            due=fmt_date(view.round.due),
            done=len(view.round.departments) - len(view.missing_of(me)),
            count=len(view.round.departments),
        )
    ]
    for unit_id, name in names.items():
        given = view.answers.get((me, unit_id))
        lines.append(
            mt.MY_RATING_LINE.format(department=name, answer=given.answer if given else mt.NOT_YET)
        )
    lines.append(mt.MY_RATING_TAIL.format(example=_example(view.round.scale)))
    return "\n".join(lines)


async def _latest_round(session: AsyncSession, year: int) -> store.RoundView | None:
    rounds = await store.list_rounds(session, year)
    open_ = [v for v in rounds if v.is_open]
    found = open_ or rounds
    return found[-1] if found else None


@router.intent(MethodIntent.RATING_PROGRESS, roles=ADMIN)
async def progress(ctx: Ctx, intent: Intent) -> str:
    async with ctx.db.session() as session:
        view = await _latest_round(session, ctx.year) or await _latest_round(session, ctx.year - 1)
        if view is None:
            return mt.NO_OPEN_ROUND + "发起请发「发起测评」。"
        names = await _department_names(session, view)
        members = {m.userid: m for m in await list_members(session)}
        units = {u.id: u.name for u in await list_units(session)}
    count = len(view.round.departments)
    lines = [
        mt.PROGRESS_HEAD.format(
            year=view.round.year,
            ref=view.ref,
            due=fmt_date(view.round.due),
            state="" if view.is_open else mt.PROGRESS_CLOSED,
            answered=len(view.answers),
            total=count * len(view.rater_ids),
        )
    ]
    for rater in view.rater_ids:
        missing = view.missing_of(rater)
        member = members.get(rater)
        left = "，未评：" + "、".join(names[i] for i in missing) if missing else " ✓"
        lines.append(
            mt.PROGRESS_RATER.format(
                unit=units.get(view.rater_unit(rater), ""),
                name=member.name if member else rater,
                done=count - len(missing),
                count=count,
                missing=left,
            )
        )
    lines.append(mt.PROGRESS_DEPTS)
    lines += [
        mt.PROGRESS_DEPT.format(department=name, count=len(view.answers_for(i)))
        for i, name in names.items()
    ]
    if view.is_open:
        lines.append(mt.PROGRESS_TAIL)
    return "\n".join(lines)


@router.intent(MethodIntent.RATING_CLOSE, roles=ADMIN)
async def close(ctx: Ctx, intent: Intent) -> str:
    async with ctx.db.session() as session:
        view = await store.current_round(session)
        if view is None:
            return mt.CLOSE_NOTHING
        members = {m.userid: m.name for m in await list_members(session)}
    missing = {r: len(view.missing_of(r)) for r in view.rater_ids if view.missing_of(r)}
    if missing:
        names = "、".join(f"{members.get(r, r)}{n}份" for r, n in missing.items())
        prompt = mt.CLOSE_ASK.format(ref=view.ref, missing=sum(missing.values()), names=names)
        return await pending.ask(ctx, PendingAction.RATING_CLOSE, {"round": view.id}, prompt)
    return await _close(ctx, {"round": view.id})


@pending.runner(PendingAction.RATING_CLOSE)
async def _close(ctx: Ctx, args: dict[str, Any]) -> str:
    async with ctx.db.session() as session:
        view = await store.get_round(session, int(args["round"]))
        if view is None or not view.is_open:
            return mt.CLOSE_NOTHING
        units = {u.id: u for u in await list_units(session)}
        members = await list_members(session)
        results: dict[int, tuple[str | None, Any, str]] = {}
        lines = []
        scale = view.round.scale
        for unit_id in view.round.departments:
            unit = units[unit_id]
            answers = view.answers_for(unit_id)
            text = summary(answers, scale)
            rule = rating_rule(scheme_of(unit.scheme_id))
            index = (
                index_of(answers, scale, rating_params(rule).choice_weights())
                if rule is not None
                else None
            )
            if not answers:
                lines.append(mt.CLOSED_NONE.format(department=unit.name))
            elif rule is None or index is None:
                lines.append(mt.CLOSED_NO_RULE.format(department=unit.name, summary=text))
            else:
                value = recorded(index)
                results[unit_id] = (rule.id, value, f"测评{view.ref}：{text}")
                lines.append(
                    mt.CLOSED_LINE.format(department=unit.name, summary=text, index=_pct(value))
                )
                for userid in _people(members, unit_id, (Role.LIAISON.value, Role.LEADER.value)):
                    notice = mt.CLOSED_NOTICE.format(
                        year=view.round.year, summary=text, index=_pct(value)
                    )
                    enqueue(session, userid, {"type": "text", "to": [userid], "text": notice})
        done = await store.close_round(
            session, view, actor=ctx.sender.userid, results=results, at=ctx.now
        )
        await session.commit()
    entries = "、".join(f"E{d.entry_id}" for d in done if d.entry_id is not None) or "无"
    head = mt.CLOSED_HEAD.format(year=view.round.year, ref=view.ref, entries=entries)
    return "\n".join([head, *lines])


@router.intent(MethodIntent.RATING_RESULT, roles=MEMBERS)
async def result(ctx: Ctx, intent: Intent) -> str:
    """A department's own aggregate result; never who rated what."""
    year = int(intent.args.get("year", ctx.year))
    unit_id = ctx.sender.unit_id
    async with ctx.db.session() as session:
        rounds = [
            v
            for v in await store.list_rounds(session, year)
            if not v.is_open and unit_id in v.round.departments
        ]
        units = {u.id: u for u in await list_units(session)}
    if unit_id is None or not rounds:
        return mt.RESULT_NONE.format(year=year)
    lines = []
    for view in rounds:
        answers = view.answers_for(unit_id)
        rule = rating_rule(scheme_of(units[unit_id].scheme_id))
        weights = rating_params(rule).choice_weights() if rule else None
        index = index_of(answers, view.round.scale, weights)
        lines.append(
            mt.RESULT_LINE.format(
                year=year,
                ref=view.ref,
                summary=summary(answers, view.round.scale),
                index=_pct(recorded(index)) if index is not None else "—",
            )
        )
    return "\n".join(lines)
