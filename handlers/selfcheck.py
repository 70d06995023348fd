"""The 自查 checklist in chat (seed 000 第十一条): the liaison marks each target of the unit's 责任书
(or of its scheme) 完成 / 部分完成 / 未完成 with evidence — a card per line with three buttons, or
「自查 K1 完成 说明」, then photos or files — and may change a line until the self-check deadline
(the scheme's 自查报告 deadline, 12月15日 in chuangmo-taizhou). The office reads it beside the
scores: 「自查情况」 for every unit, 「自查情况 单位」 for one, and on the dashboard's unit page.
"""

from __future__ import annotations

import re
from datetime import date

from handlers import selfcheck_texts as st
from handlers.channel import reply_to_data
from handlers.context import Ctx, scheme_of
from handlers.intents import Intent
from handlers.lookup import report_rules
from handlers.method_intents import SELFCHECK_KEY, MethodIntent
from handlers.router import MEMBERS, REPORTERS, Router
from handlers.texts import fmt_date
from handlers.types import Button, Card, CardReply
from scoring.model import Scheme
from scoring.numbers import fmt
from scoring.periods import due_date
from storage import selfcheck as store
from storage.conversation import SelfCheckWindow, clear_state, get_state, set_state
from storage.outbox import enqueue
from storage.units import find_unit, list_units
from tally.service import load_tally

router = Router()

MARKS = {
    "完成": store.Mark.DONE,
    "已完成": store.Mark.DONE,
    "全部完成": store.Mark.DONE,
    "部分完成": store.Mark.PARTLY,
    "基本完成": store.Mark.PARTLY,
    "部分": store.Mark.PARTLY,
    "未完成": store.Mark.NOT,
    "没完成": store.Mark.NOT,
    "没有完成": store.Mark.NOT,
}
BUTTONS = (store.Mark.DONE, store.Mark.PARTLY, store.Mark.NOT)
CARDS_MAX = 20  # cards sent at once; the rest are marked by text
TASK_ID_MAX = 128
MEDIA_NAMES = {"image": "照片", "video": "视频", "file": "文件", "voice": "语音"}


def state_key(userid: str) -> str:
    return f"sc:{userid}"[:64]


def deadline_of(scheme: Scheme, year: int) -> date:
    """The last day the checklist can be changed: the deadline of the scheme's 自查报告 rule
    (12-15 in chuangmo-taizhou); the year's end when the scheme has none."""
    rules = report_rules(scheme, "自查报告")
    if rules:
        return due_date(str(year), rules[0].deadline)
    return date(year, 12, 31)


def _files(state: store.LineState) -> str:
    return st.FILES.format(count=len(state.files)) if state.files else ""


def _line(n: int, state: store.LineState, evidence: bool = True) -> str:
    mark = state.mark
    text = f"：{mark.evidence}" if evidence and mark is not None and mark.evidence else ""
    return st.LINE.format(
        n=n,
        key=state.line.key,
        title=state.line.title,
        label=state.label,
        evidence=text,
        files=_files(state),
    )


def _counts(sheet: store.Checklist) -> str:
    return st.COUNTS.format(
        filled=sheet.filled,
        total=len(sheet.lines),
        done=sheet.count(store.Mark.DONE),
        partly=sheet.count(store.Mark.PARTLY),
        not_=sheet.count(store.Mark.NOT),
    )


async def _sheet(ctx: Ctx, unit_id: int, scheme_id: str, year: int) -> store.Checklist:
    async with ctx.db.session() as session:
        return await store.checklist(session, unit_id, year, scheme_of(scheme_id))


def _card(ctx: Ctx, sheet: store.Checklist, state: store.LineState) -> Card:
    key = state.line.key
    buttons = tuple(
        Button(store.MARK_LABELS[m], f"{SELFCHECK_KEY}{sheet.year}:{key}:{n}", style=1 if n else 2)
        for n, m in enumerate(BUTTONS)
    )
    stamp = int(ctx.now.timestamp())
    task_id = f"sc-{sheet.unit_id}-{sheet.year}-{key}-{stamp}"
    return Card(
        title=st.CARD_TITLE.format(key=key, title=state.line.title)[:60],
        description=st.CARD_TEXT.format(source=state.line.source, key=key),
        task_id=re.sub(r"[^0-9A-Za-z_\-@]", "_", task_id)[:TASK_ID_MAX],
        buttons=buttons,
    )


@router.intent(MethodIntent.SELFCHECK_LIST, roles=MEMBERS)
async def checklist(ctx: Ctx, intent: Intent) -> str:
    """The unit's checklist; a liaison also gets a card for every line not yet marked."""
    if ctx.sender.is_admin:
        return await overview(ctx, intent)
    assert ctx.sender.unit_id is not None and ctx.sender.scheme_id is not None
    sheet = await _sheet(ctx, ctx.sender.unit_id, ctx.sender.scheme_id, ctx.year)
    deadline = deadline_of(ctx.scheme, ctx.year)
    lines = [
        st.HEAD.format(
            unit=ctx.sender.unit_name,
            year=ctx.year,
            deadline=fmt_date(deadline),
            counts=_counts(sheet),
        )
    ]
    lines += [_line(n, s) for n, s in enumerate(sheet.lines, 1)]
    if ctx.today > deadline:
        lines.append(st.CLOSED.format(deadline=fmt_date(deadline)))
        return "\n".join(lines)
    if ctx.sender.role not in REPORTERS:
        return "\n".join(lines)
    todo = [s for s in sheet.lines if s.mark is None][:CARDS_MAX]
    if todo:
        async with ctx.db.session() as session:
            me = ctx.sender.userid
            for state in todo:
                card = reply_to_data(CardReply(_card(ctx, sheet, state)))
                enqueue(session, me, {"type": "card", "to": [me], "card": card["card"]})
            await session.commit()
        lines.append(st.CARDS_SENT.format(count=len(todo)))
    example = sheet.lines[0].line.key if sheet.lines else "K1"
    lines.append(st.TAIL.format(example=example))
    return "\n".join(lines)


async def _mark(ctx: Ctx, key: str, mark: store.Mark, evidence: str, year: int) -> str:
    assert ctx.sender.unit_id is not None and ctx.sender.scheme_id is not None
    deadline = deadline_of(ctx.scheme, year)
    if ctx.today > deadline:
        return st.CLOSED.format(deadline=fmt_date(deadline))
    async with ctx.db.session() as session:
        sheet = await store.checklist(session, ctx.sender.unit_id, year, ctx.scheme)
        state = sheet.find(key)
        if state is None:
            known = "、".join(s.line.key for s in sheet.lines[:40])
            return st.UNKNOWN_LINE.format(key=key, known=known or "（无）")
        _, before = await store.mark_line(
            session,
            sheet,
            key,
            mark,
            evidence=evidence,
            actor=ctx.sender.userid,
            at=ctx.now,
            source_key=ctx.msg.key,
        )
        await session.commit()
    await set_state(
        ctx.db,
        state_key(ctx.sender.userid),
        SelfCheckWindow(line=state.line.key, year=year, at=ctx.now),
    )
    await clear_state(ctx.db, f"j:{ctx.sender.userid}"[:64])  # files now go to this line
    label = store.MARK_LABELS[mark]
    note = f"（{evidence}）" if evidence else ""
    if before is not None and before.mark != mark.value:
        was = store.MARK_LABELS[store.Mark(before.mark)] if before.mark else "未填"
        head = st.CHANGED.format(key=state.line.key, before=was, label=label, evidence=note)
    else:
        head = st.MARKED.format(key=state.line.key, label=label, evidence=note)
    left = [s.line.key for s in sheet.lines if s.mark is None]
    tail = st.LEFT.format(count=len(left), keys="、".join(left[:10])) if left else st.ALL_DONE
    hint = st.EVIDENCE_HINT.format(key=state.line.key) if not evidence else st.FILES_HINT
    return "\n".join([head, hint, tail])


@router.intent(MethodIntent.SELFCHECK_MARK, roles=REPORTERS)
async def mark(ctx: Ctx, intent: Intent) -> str:
    word = intent.args["mark"]
    return await _mark(
        ctx, intent.args["line"], MARKS[word], intent.args.get("evidence", ""), ctx.year
    )


@router.intent(MethodIntent.SELFCHECK_CLICK, roles=REPORTERS)
async def click(ctx: Ctx, intent: Intent) -> str:
    choice = int(intent.args["choice"])
    if choice >= len(BUTTONS):
        return st.UNKNOWN_LINE.format(key=intent.args["line"], known="")
    return await _mark(ctx, intent.args["line"], BUTTONS[choice], "", int(intent.args["year"]))


async def receive_media(ctx: Ctx) -> str | None:
    """A photo or file sent soon after marking a line: evidence of that line. None when no line
    was marked lately (the message goes its usual way)."""
    key = state_key(ctx.sender.userid)
    state = await get_state(ctx.db, key)
    if not isinstance(state, SelfCheckWindow) or ctx.sender.unit_id is None:
        return None
    if ctx.now - state.at > ctx.deps.conversation_ttl:
        await clear_state(ctx.db, key)
        return None
    year = state.year
    deadline = deadline_of(ctx.scheme, year)
    if ctx.today > deadline:
        await clear_state(ctx.db, key)
        return st.CLOSED.format(deadline=fmt_date(deadline))
    attachment = {
        "media_id": ctx.msg.media_id,
        "file": ctx.msg.attachment,
        "name": ctx.msg.file_name,
        "type": ctx.msg.msg_type,
    }
    async with ctx.db.session() as session:
        sheet = await store.checklist(session, ctx.sender.unit_id, year, ctx.scheme)
        try:
            await store.add_file(
                session,
                sheet,
                state.line,
                attachment,
                actor=ctx.sender.userid,
                at=ctx.now,
                source_key=ctx.msg.key,
            )
        except store.SelfCheckError:
            await clear_state(ctx.db, key)
            return None
        await session.commit()
    found = sheet.find(state.line)
    assert found is not None
    what = MEDIA_NAMES.get(ctx.msg.msg_type, "附件")
    return st.FILE_ADDED.format(what=what, key=found.line.key, count=len(found.files))


@router.intent(MethodIntent.SELFCHECK_VIEW, roles=MEMBERS)
async def view(ctx: Ctx, intent: Intent) -> str:
    """自查情况: the office sees every unit (or one) beside its score; a unit sees its own."""
    if not ctx.sender.is_admin:
        if ctx.sender.unit_id is None:
            return st.NO_UNIT
        return await checklist(ctx, intent)
    if "unit" in intent.args:
        return await unit_view(ctx, intent.args["unit"])
    return await overview(ctx, intent)


async def unit_view(ctx: Ctx, name: str) -> str:
    async with ctx.db.session() as session:
        unit = await find_unit(session, name)
        if unit is None:
            known = "、".join(u.name for u in await list_units(session))
            return st.NO_SUCH_UNIT.format(name=name, known=known)
    assert unit.id is not None
    scheme = scheme_of(unit.scheme_id)
    sheet = await _sheet(ctx, unit.id, unit.scheme_id, ctx.year)
    tally = await load_tally(ctx.db, ctx.year, as_of=ctx.today)
    row = next((r for r in tally.rows if r.unit_id == unit.id), None)
    score = st.SCORE.format(total=fmt(row.total), base=fmt(row.base_total)) if row else ""
    head = st.OFFICE_HEAD.format(
        unit=unit.name,
        year=ctx.year,
        deadline=fmt_date(deadline_of(scheme, ctx.year)),
        counts=_counts(sheet),
        score=score,
    )
    return "\n".join([head, *(_line(n, s) for n, s in enumerate(sheet.lines, 1))])


async def overview(ctx: Ctx, intent: Intent) -> str:
    tally = await load_tally(ctx.db, ctx.year, as_of=ctx.today)
    scores = {r.unit_id: r for r in tally.rows}
    async with ctx.db.session() as session:
        units = await list_units(session)
        rows = await store.entries_of(session, [u.id for u in units if u.id is not None], ctx.year)
        lines = [st.OVERVIEW_HEAD.format(year=ctx.year)]
        for unit in units:
            assert unit.id is not None
            found = await store.checklist_lines(
                session, unit.id, ctx.year, scheme_of(unit.scheme_id)
            )
            sheet = store.assemble(
                unit.id, ctx.year, found, [r for r in rows if r.unit_id == unit.id]
            )
            row = scores.get(unit.id)
            lines.append(
                st.OVERVIEW_LINE.format(
                    unit=unit.name,
                    score=st.SCORE.format(total=fmt(row.total), base=fmt(row.base_total))
                    if row
                    else "",
                    counts=_counts(sheet),
                )
            )
    lines.append(st.OVERVIEW_TAIL)
    return "\n".join(lines)
