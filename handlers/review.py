"""The office's review in chat: 待审核 (the queue, paged), 查看 S198 (the whole item, attachments
sent as files), 通过 S1 S2 / S1-S9 / 本页 (batches), 退回 S5 原因; and the liaison's 补正 S5.

`parse_review` is tried before the general phrase table; each pattern starts with its own keyword.
Decisions go through handlers/reviewing.py, the same path the dashboard's buttons take.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import pending, reviewing
from handlers import review_texts as rt
from handlers.channel import clip, fit_text
from handlers.context import Ctx, office_name, scheme_of
from handlers.intents import TITLE_MAX, Intent, normalize_mapped, typed_args
from handlers.lookup import submission_deadline
from handlers.notify import card_of, tell_unit_change
from handlers.pending import PendingAction
from handlers.review_intents import ReviewIntent
from handlers.router import ADMIN, LIAISON, Router
from handlers.texts import STATUS_NAMES, fmt_date
from scoring.facts import Status, SubmissionKind
from scoring.periods import TZ, day_label
from storage import ledger
from storage import review as queue
from storage.conversation import ReviewPage, get_state, set_state
from storage.models import Submission, Task, Unit
from storage.units import find_unit, get_member

router = Router()

PAGE_SIZE = 10
BATCH_LIMIT = 50


_REF = r"#?[Ss]?\d+"
_REFS = rf"(?P<refs>本页|{_REF}(?:\s*[-–~至到]\s*{_REF})?(?:[\s,，、]+{_REF}(?:\s*[-–~至到]\s*{_REF})?)*)"
_PATTERNS: list[tuple[ReviewIntent, str]] = [
    (
        ReviewIntent.QUEUE,
        r"(?:待审核|待审|审核队列|待审核列表)(?:\s+(?P<scope>[^\s第]\S*?))?"
        r"(?:\s*第?\s*(?P<page>\d+)\s*页)?",
    ),
    (ReviewIntent.QUEUE, r"(?P<step>下一页|上一页)"),
    (ReviewIntent.SHOW, rf"(?:查看|详情|看看)\s*(?P<ref>{_REF})"),
    (ReviewIntent.ACCEPT, rf"(?:通过|采纳|审核通过)\s*{_REFS}(?:\s+(?P<reason>\D.*))?"),
    (
        ReviewIntent.REJECT,
        # the reason may follow the number without a blank: 「退回S248标题前多了分号」
        rf"(?:退回|驳回|不通过|不予采纳)\s*(?P<ref>{_REF})(?:(?:[\s,，:：]+|(?=[^\s\dA-Za-z-–~至到]))(?P<reason>.+))?",
    ),
    (ReviewIntent.CORRECT, rf"补正\s*(?P<ref>{_REF})(?:[\s,，:：]+(?P<body>.+))?"),
]
_COMPILED = [(intent, re.compile(p, re.S | re.I)) for intent, p in _PATTERNS]


def parse_review(text: str) -> Intent | None:
    norm, where = normalize_mapped(text)  # the reason as typed, the rest normalised
    for intent, pattern in _COMPILED:
        match = pattern.fullmatch(norm)
        if match:
            return Intent(intent, typed_args(match, text, where), norm)
    return None


def ref_id(ref: str) -> int | None:
    digits = ref.lstrip("#").upper().removeprefix("S")
    return int(digits) if digits.isdigit() else None


_RANGE_SEP = re.compile(r"\s*([-–~至到])\s*")


def expand_refs(text: str) -> list[int]:
    """'S1 S2, S5-S7' → [1, 2, 5, 6, 7] (order kept, no repeats)."""
    out: list[int] = []
    text = _RANGE_SEP.sub(r"\1", text.strip())
    for part in re.split(r"[\s,，、]+", text):
        found = [ref_id(p) for p in re.split(r"[-–~至到]", part) if p]
        ends = [e for e in found if e is not None]
        if len(ends) == 2 and ends[0] <= ends[1]:
            out.extend(range(ends[0], ends[1] + 1))
        else:
            out.extend(ends)
    return list(dict.fromkeys(out))


def _page_key(userid: str) -> str:
    return f"rq:{userid}"[:64]


async def _last_page(ctx: Ctx) -> ReviewPage:
    """The page of 待审核 the admin saw last (an empty one when none)."""
    state = await get_state(ctx.db, _page_key(ctx.sender.userid))
    return state if isinstance(state, ReviewPage) else ReviewPage(ids=())


# --- 待审核 ----------------------------------------------------------------------------------------


@router.intent(ReviewIntent.QUEUE, roles=ADMIN)
async def review_queue(ctx: Ctx, intent: Intent) -> str:
    state = await _last_page(ctx)
    scope_text = intent.args.get("scope", "")
    unit_id, target, offset = None, None, 0
    if "step" in intent.args:  # 下一页 / 上一页 of the last listing
        scope_text = state.scope
        step = PAGE_SIZE if intent.args["step"] == "下一页" else -PAGE_SIZE
        offset = max(0, state.offset + step)
    elif "page" in intent.args:
        offset = (max(int(intent.args["page"]), 1) - 1) * PAGE_SIZE
    scope, scope_cmd = "", ""
    if scope_text:
        async with ctx.db.session() as session:
            unit = await find_unit(session, scope_text)
        if unit is not None:
            unit_id, scope = unit.id, rt.QUEUE_SCOPE_UNIT.format(unit=unit.name)
        elif re.fullmatch(r"[A-Za-z]+[\w.]*", scope_text):
            target, scope = scope_text, rt.QUEUE_SCOPE_TARGET.format(target=scope_text)
        else:
            return rt.QUEUE_FILTER_UNKNOWN.format(text=scope_text)
        scope_cmd = f" {scope_text}"
    async with ctx.db.session() as session:
        page = await queue.review_queue(
            session, unit_id=unit_id, target=target, offset=offset, limit=PAGE_SIZE
        )
    if not page.items:
        return rt.QUEUE_EMPTY.format(scope=scope)
    ids = tuple(i.submission.id or 0 for i in page.items)
    await set_state(
        ctx.db,
        _page_key(ctx.sender.userid),
        ReviewPage(ids=ids, scope=scope_text, offset=page.offset),
    )
    pages = -(-page.total // PAGE_SIZE)
    number = page.offset // PAGE_SIZE + 1
    lines = [rt.QUEUE_HEADER.format(total=page.total, scope=scope, page=number, pages=pages)]
    lines.extend(_queue_line(item) for item in page.items)
    more = rt.QUEUE_MORE.format(scope_cmd=scope_cmd, next=number + 1) if number < pages else ""
    first = page.items[0].ref
    lines.append(rt.QUEUE_FOOTER.format(first=first, span=_span(ids), more=more))
    return fit_text("\n".join(lines))


def _span(ids: tuple[int, ...]) -> str:
    """「通过 S3-S12」 when the page holds exactly the numbers S3 to S12 (the queue is ordered by
    time, not number: a range from the lowest to the highest would take in items not shown)."""
    numbers = sorted(ids)
    if len(numbers) == 1:
        return rt.QUEUE_ONE.format(ref=ledger.submission_ref(numbers[0]))
    if not numbers or numbers != list(range(numbers[0], numbers[-1] + 1)):
        return ""
    low, high = ledger.submission_ref(numbers[0]), ledger.submission_ref(numbers[-1])
    return rt.QUEUE_SPAN.format(low=low, high=high)


def _queue_line(item: queue.QueueItem) -> str:
    sub = item.submission
    when = sub.submitted_at.astimezone(TZ)
    title = clip(sub.title, 20)
    return rt.QUEUE_LINE.format(
        ref=item.ref,
        unit=item.unit,
        target=sub.target,
        kind=rt.KIND_NAMES.get(sub.kind, sub.kind),
        when=day_label(when.date()),  # 11月5日, as every reply writes a day
        title=title,
        late="",
    ).rstrip()


# --- 查看 ----------------------------------------------------------------------------------------


@router.intent(ReviewIntent.SHOW, roles=ADMIN)
async def show(ctx: Ctx, intent: Intent) -> str:
    sid = ref_id(intent.args["ref"])
    async with ctx.db.session() as session:
        view = await ledger.get_submission(session, sid) if sid is not None else None
        if view is None:
            return rt.SHOW_UNKNOWN.format(ref=intent.args["ref"])
        sub = view.submission
        unit = await session.get(Unit, sub.unit_id)
        task = await queue.task_of(session, sub)
        events = await queue.history(session, sid or 0)
        later = await queue.corrections_of(session, sid or 0)
        member = await get_member(session, sub.sender) if sub.sender else None
    assert unit is not None
    lines = [
        rt.SHOW_HEAD.format(
            ref=view.ref,
            unit=unit.name,
            target=sub.target,
            kind=rt.KIND_NAMES.get(sub.kind, sub.kind),
        ),
        rt.SHOW_TITLE.format(title=sub.title),
    ]
    when = sub.submitted_at.astimezone(TZ)
    deadline = submission_deadline(
        scheme_of(unit.scheme_id), sub.kind, sub.target, sub.period, task.due if task else None
    )
    sent = f"{when:%Y-%m-%d %H:%M}"
    if deadline is not None:
        timing = rt.SHOW_TIMING_ON if when.date() <= deadline else rt.SHOW_TIMING_LATE
        sent += "，" + timing.format(deadline=fmt_date(deadline))
    who = f"{member.name}（{sub.sender}）" if member is not None else sub.sender or "—"
    lines.append(rt.SHOW_SENDER.format(sender=who, when=sent))
    if task is not None:
        lines.append(
            rt.SHOW_TASK.format(
                task=ledger.task_ref(task), title=task.title, due=fmt_date(task.due)
            )
        )
    if sub.corrects_id:
        lines.append(rt.SHOW_CORRECTS.format(ref=f"S{sub.corrects_id}"))
    if later:
        lines.append(rt.SHOW_CORRECTED_BY.format(refs="、".join(f"S{s.id}" for s in later)))
    lines.append(rt.SHOW_STATUS.format(status=STATUS_NAMES.get(view.status, "")))
    files = [a for a in sub.attachments if a.get("file")]
    if sub.attachments:
        names = "、".join(queue.attachment_name(a) for a in sub.attachments)
        lines.append(rt.SHOW_ATTACHMENTS.format(count=len(sub.attachments), names=names))
    if events:
        lines.append(rt.SHOW_HISTORY)
        for e in events:
            at = e.at.astimezone(TZ)
            lines.append(
                rt.SHOW_HISTORY_LINE.format(
                    when=f"{at:%m-%d %H:%M}",
                    actor=e.actor,
                    status=STATUS_NAMES.get(e.status, e.status),
                    reason=f"：{e.reason}" if e.reason else "",
                )
            )
    if view.status == Status.SUBMITTED:
        lines.append(rt.SHOW_ACTIONS.format(ref=view.ref))
    body = rt.SHOW_BODY.format(body=sub.text) if sub.text.strip() else rt.SHOW_NO_BODY
    lines.insert(3, body)
    missing = []
    for attachment in files:
        path = Path(ctx.deps.media_dir) / str(attachment["file"])
        if path.is_file():
            await ctx.send_file(ctx.sender.userid, path)
        else:
            missing.append(
                rt.SHOW_ATTACHMENT_MISSING.format(name=queue.attachment_name(attachment))
            )
    for attachment in sub.attachments:
        if not attachment.get("file"):
            missing.append(
                rt.SHOW_ATTACHMENT_MISSING.format(name=queue.attachment_name(attachment))
            )
    return fit_text("\n".join([*lines, *missing]))


# --- 通过 / 退回 ---------------------------------------------------------------------------------


@router.intent(ReviewIntent.ACCEPT, roles=ADMIN)
async def accept(ctx: Ctx, intent: Intent) -> str:
    refs = intent.args.get("refs", "")
    if refs == "本页":
        ids = list((await _last_page(ctx)).ids)
        if not ids:
            return rt.PAGE_NONE
    else:
        ids = expand_refs(refs)
    if not ids:
        return rt.REFS_NONE
    if len(ids) > BATCH_LIMIT:
        return rt.REFS_TOO_MANY.format(limit=BATCH_LIMIT)
    decision = await reviewing.decide(
        ctx.db,
        ids,
        accepted=True,
        actor=ctx.sender.userid,
        reason=intent.args.get("reason", ""),
        now=ctx.now,
        channel=ctx.deps.channel,
    )
    answer = reviewing.summary(decision)
    asks = [
        {"id": c.task_id, "ref": c.ref, "title": c.title, "unit": d.unit, "unit_id": d.unit_id}
        | {"sub": d.ref}
        for d in decision.of(reviewing.Outcome.RECORDED)
        for c in d.ask
    ]
    if asks:
        tasks = "、".join(
            rt.ASK_TASK_ONE.format(unit=a["unit"], task=a["ref"], title=a["title"]) for a in asks
        )
        question = await pending.ask(
            ctx,
            PendingAction.EVIDENCE_TASKS,
            {"tasks": asks},
            rt.ASK_TASKS.format(tasks=tasks),
            rt.ASK_SUFFIX,
        )
        answer = f"{answer}\n{question}"
    return fit_text(answer)


@pending.runner(PendingAction.EVIDENCE_TASKS)
async def _complete_asked(ctx: Ctx, args: dict[str, Any]) -> str:
    """The office's yes to 「同时确认 A3 完成？」: each task completed once, with the 佐证 named as
    the reason; each unit's liaisons told with the score change."""
    done: list[dict[str, Any]] = []
    already: list[dict[str, Any]] = []
    by_unit: dict[int, list[dict[str, Any]]] = {}
    for asked in args["tasks"]:
        by_unit.setdefault(int(asked["unit_id"]), []).append(asked)
    for unit_id, asked_tasks in by_unit.items():
        async with ctx.db.session() as session:
            views = {v.task.id: v for v in await ledger.list_tasks(session, unit_id, ctx.year)}
            views |= {v.task.id: v for v in await ledger.list_tasks(session, unit_id, ctx.year - 1)}
        year = next((views[a["id"]].task.year for a in asked_tasks if a["id"] in views), ctx.year)
        before = await card_of(ctx.db, unit_id, year, ctx.today)
        lines = []
        async with ctx.db.session() as session:
            for asked in asked_tasks:
                view = views.get(asked["id"])
                if view is None or view.completed_at is not None:
                    already.append(asked)
                    continue
                why = rt.ASKED_WHY.format(ref=asked["sub"])
                await ledger.complete_task(
                    session, asked["id"], actor=ctx.sender.userid, reason=why, at=ctx.now
                )
                done.append(asked)
                lines.append(
                    rt.NOTICE_TASK_DONE.format(task=asked["ref"], title=asked["title"], reason=why)
                )
            await session.commit()
        if lines:
            await tell_unit_change(
                ctx.db,
                unit_id,
                lines,
                year=year,
                before=before,
                today=ctx.today,
                now=ctx.now,
                channel=ctx.deps.channel,
            )

    def names(items: list[dict[str, Any]]) -> str:
        return "、".join(
            rt.ASK_TASK_ONE.format(unit=a["unit"], task=a["ref"], title=a["title"]) for a in items
        )

    out = []
    if done:
        refs = "、".join(dict.fromkeys(a["sub"] for a in done))
        out.append(rt.ASKED_DONE.format(tasks=names(done), refs=refs))
    if already:
        out.append(rt.ASKED_ALREADY.format(tasks=names(already)))
    return "\n".join(out)


@router.intent(ReviewIntent.REJECT, roles=ADMIN)
async def reject(ctx: Ctx, intent: Intent) -> str:
    ref = intent.args["ref"]
    reason = intent.args.get("reason", "")
    if not reason:
        return rt.REJECT_REASON.format(ref=ref.upper())
    sid = ref_id(ref)
    assert sid is not None
    decision = await reviewing.decide(
        ctx.db,
        [sid],
        accepted=False,
        actor=ctx.sender.userid,
        reason=reason,
        now=ctx.now,
        channel=ctx.deps.channel,
    )
    return fit_text(reviewing.summary(decision))


# --- 补正 (liaison) ------------------------------------------------------------------------------


_RAW_CORRECT = re.compile(r"\s*补正\s*[#＃]?[SsＳｓ]?[\d０-９]+[\s,，:：\u3000]*", re.S)


def raw_body(raw: str, fallback: str) -> str:
    """The body of a 补正 exactly as typed (the intent's args are normalised)."""
    match = _RAW_CORRECT.match(raw)
    return raw[match.end() :].rstrip() if match else fallback


@router.intent(ReviewIntent.CORRECT, roles=LIAISON)
async def correct(ctx: Ctx, intent: Intent) -> str:
    ref = intent.args["ref"].upper().lstrip("#")
    body = raw_body(ctx.msg.content, intent.args.get("body", "")) if intent.args.get("body") else ""
    sid = ref_id(ref)
    async with ctx.db.session() as session:
        view = await ledger.get_submission(session, sid) if sid is not None else None
        if view is None or view.submission.unit_id != ctx.sender.unit_id:
            return rt.CORRECT_UNKNOWN.format(ref=ref)
        if view.status == Status.WITHDRAWN:
            return rt.CORRECT_WITHDRAWN.format(
                ref=view.ref, how=await _send_again(session, view.submission)
            )
        if view.status != Status.REJECTED:
            status = STATUS_NAMES.get(view.status, view.status)
            return rt.CORRECT_NOT_RETURNED.format(ref=view.ref, status=status)
        already = await _corrected_by(session, view.submission)
        if already is not None:
            return already
        if not body:
            return rt.CORRECT_BODY.format(ref=view.ref)
        old = view.submission
        title, text = _retitled(old, body)
        row = await ledger.add_submission(
            session,
            unit_id=old.unit_id,
            target=old.target,
            submitted_at=ctx.now,
            sender=ctx.sender.userid,
            year=old.year,
            period=old.period,
            kind=old.kind,
            title=title,
            text=text,
            task_id=old.task_id,
            source_key=ctx.msg.key,
            corrects_id=old.id,
        )
        await session.commit()
    renamed = rt.CORRECT_RETITLED.format(title=title) if title != old.title else ""
    return rt.CORRECT_LOGGED.format(old=view.ref, ref=f"S{row.id}", office=office_name()) + renamed


async def _corrected_by(session: AsyncSession, old: Submission) -> str | None:
    """Why `old` cannot be corrected again, or None: a returned item has one 补正 at a time (a
    chain counts once); only when its last 补正 was withdrawn may it be corrected anew."""
    for sub in reversed(await queue.corrections_of(session, old.id or 0)):
        view = await ledger.get_submission(session, sub.id or 0)
        if view is None or view.status == Status.WITHDRAWN:
            continue
        names = {"old": f"S{old.id}", "ref": view.ref}
        if view.status == Status.REJECTED:
            return rt.CORRECTED_REJECTED.format(**names)
        if view.status == Status.ACCEPTED:
            return rt.CORRECTED_ACCEPTED.format(**names)
        return rt.CORRECTED_WAITING.format(**names)
    return None


async def _send_again(session: AsyncSession, old: Submission) -> str:
    """How to send a withdrawn item again, as a new one of its kind."""
    if old.kind == SubmissionKind.INFO:
        return rt.SEND_AGAIN_INFO
    if old.kind == SubmissionKind.FEEDBACK and old.task_id:
        task = await session.get(Task, old.task_id)
        if task is not None:
            return rt.SEND_AGAIN_FEEDBACK.format(task=ledger.task_ref(task))
    return rt.SEND_AGAIN_OTHER


def _retitled(old: Submission, body: str) -> tuple[str, str]:
    """(title, text) of a 补正: a 政务信息 item's correction may give a new title on its first
    line, the text below it (a return for 「标题重复」 is corrected so); else the old title."""
    first, newline, rest = body.partition("\n")
    head = first.strip()
    if old.kind == SubmissionKind.INFO and newline and rest.strip() and 0 < len(head) <= TITLE_MAX:
        return head, rest.strip()
    return old.title, body
