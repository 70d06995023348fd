"""检查考评 in chat (seed 000 第九条): the office logs what an inspection (明察暗访, 抽查) found, with
photos and the deduction it proposes under a named rule; the unit is told at once, with a window
to answer (申辩) and add its own evidence; then the office confirms — the deduction enters the
ledger — or drops the finding. Every step is a row with who, when and why.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import method_texts as mt
from handlers.channel import clip
from handlers.context import Ctx, scheme_of
from handlers.intents import Intent
from handlers.lookup import resolve_rule
from handlers.method_intents import MethodIntent
from handlers.router import ADMIN, EVERYONE, INSPECTOR, MEMBERS, Router
from handlers.texts import fmt_date, fmt_points
from scoring.kinds.deduction import Deduction
from scoring.model import Rule, Scheme
from scoring.periods import TZ, day_label
from storage import inspection as store
from storage.conversation import EvidenceWindow, clear_state, get_state, set_state
from storage.models import Member, Role, Unit
from storage.outbox import enqueue
from storage.units import find_unit, list_members, list_units

router = Router()

APPEAL_DAYS = 5  # calendar days the unit has to answer (申辩)
MEDIA_NAMES = {"image": "照片", "video": "视频", "file": "文件", "voice": "语音"}


def _office_side(ctx: Ctx) -> bool:
    """The office and its inspectors see every finding and add the office's evidence."""
    return ctx.sender.is_admin or ctx.sender.is_inspector


def _state_key(userid: str) -> str:
    return f"j:{userid}"[:64]


async def _remember(ctx: Ctx, inspection_id: int, kind: store.EventKind) -> None:
    """Photos sent in the next minutes attach to this finding (as evidence or with the appeal)."""
    state = EvidenceWindow(inspection=inspection_id, event=kind, at=ctx.now)
    await set_state(ctx.db, _state_key(ctx.sender.userid), state)
    await clear_state(ctx.db, f"sc:{ctx.sender.userid}"[:64])  # files now go to this finding


def _people(members: list[Member], unit_id: int) -> list[str]:
    roles = (Role.LIAISON.value, Role.LEADER.value)
    return [m.userid for m in members if m.unit_id == unit_id and m.active and m.role in roles]


def _admins(ctx: Ctx, members: list[Member]) -> list[str]:
    ids = {m.userid for m in members if m.role == Role.ADMIN.value and m.active}
    return sorted(ids | set(ctx.deps.admins))


def _tell(session: AsyncSession, userids: list[str], text: str) -> None:
    for userid in userids:
        enqueue(session, userid, {"type": "text", "to": [userid], "text": text})


def _deduction_rule(scheme: Scheme, ref: str) -> Rule | str:
    """The deduction rule a finding names (a rule id, or a target with one deduction rule)."""
    rule = resolve_rule(scheme, ref, ("deduction",))
    if rule is not None:
        return rule
    key = _target_key(scheme, ref)
    if key in scheme.targets_by_id:
        several = [r for r in scheme.target(key).rules if isinstance(r.params, Deduction)]
        if len(several) > 1:
            lines = "；".join(f"{r.id} {r.text}" for r in several)
            return f"指标{key}有多条扣分细则，请写明细则编号：{lines}"
    return mt.INSPECT_NO_RULE.format(target=ref)


def _target_key(scheme: Scheme, ref: str) -> str:
    """A target id as the scheme spells it: `t20` → `T20`; `C1a` stays `C1a`."""
    if ref in scheme.targets_by_id:
        return ref
    return next((t for t in scheme.targets_by_id if t.upper() == ref.upper()), ref)


def _amount_problem(rule: Rule, amount: Decimal) -> str | None:
    """Why `amount` cannot be deducted under `rule`: another amount than the rule's fixed one
    per event (T20.7: 0.1), or outside its range."""
    fixed = rule.params.default_entry()
    if fixed is not None and amount != fixed:
        return f"细则{rule.id}每次扣{fmt_points(fixed)}分"
    problem = rule.params.entry_problem(amount)
    return f"细则{rule.id} {problem}" if problem else None


def _known_targets(scheme: Scheme) -> str:
    return "、".join(list(scheme.targets_by_id)[:40])


@router.intent(MethodIntent.INSPECT, roles=ADMIN | INSPECTOR)
async def inspect(ctx: Ctx, intent: Intent) -> str:
    args = intent.args
    async with ctx.db.session() as session:
        unit = await find_unit(session, args["unit"])
        if unit is None:
            known = "、".join(u.name for u in await list_units(session))
            return f"没有名为「{args['unit']}」的单位。已登记的单位：{known}。"
    scheme = scheme_of(unit.scheme_id)
    target = args["target"]
    is_known = target in scheme.rules_by_id or _target_key(scheme, target) in scheme.targets_by_id
    if not is_known and target not in scheme.items_by_id:
        return mt.INSPECT_BAD_TARGET.format(
            unit=unit.name, target=target, known=_known_targets(scheme)
        )
    rule: Rule | None = None
    amount: Decimal | None = None
    if "amount" in args:
        found = _deduction_rule(scheme, target)
        if isinstance(found, str):
            return found
        rule = found
        try:
            amount = Decimal(args["amount"])
        except InvalidOperation:
            return mt.INSPECT_BAD_AMOUNT.format(text=args["amount"], why="不是数字")
        problem = _amount_problem(rule, amount) if amount > 0 else "扣分须大于0"
        if problem:
            return mt.INSPECT_BAD_AMOUNT.format(text=args["amount"], why=problem)
    return await _record(ctx, unit, target, rule, amount, args["finding"])


async def _record(
    ctx: Ctx, unit: Unit, target: str, rule: Rule | None, amount: Decimal | None, finding: str
) -> str:
    assert unit.id is not None
    respond_by = ctx.today + timedelta(days=APPEAL_DAYS)
    async with ctx.db.session() as session:
        row, new = await store.add_inspection(
            session,
            year=ctx.year,
            unit_id=unit.id,
            target=target,
            rule=rule.id if rule else None,
            amount=amount,
            finding=finding,
            found_on=ctx.today,
            respond_by=respond_by,
            actor=ctx.sender.userid,
            at=ctx.now,
            source_key=ctx.msg.key,
        )
        assert row.id is not None
        ref = store.inspection_ref(row.id)
        if not new:
            return mt.INSPECTED_AGAIN.format(ref=ref)
        deduction = mt.UNIT_DEDUCTION.format(amount=fmt_points(amount)) if amount else ""
        notice = mt.UNIT_NOTICE.format(
            ref=ref,
            found_on=fmt_date(ctx.today),
            finding=finding,
            target=f"{target}（{rule.text if rule else _target_name(scheme_of(unit.scheme_id), target)}）",
            deduction=deduction,
            respond_by=fmt_date(respond_by),
        )
        _tell(session, _people(await list_members(session), unit.id), notice)
        await session.commit()
    await _remember(ctx, row.id, store.EventKind.EVIDENCE)
    line = (
        mt.DEDUCTION_LINE.format(amount=fmt_points(amount), rule=rule.id)
        if rule and amount
        else mt.NO_DEDUCTION
    )
    return mt.INSPECTED.format(
        ref=ref,
        unit=unit.name,
        target=target,
        rule_text=rule.text if rule else _target_name(scheme_of(unit.scheme_id), target),
        finding=finding,
        deduction=line,
        respond_by=fmt_date(respond_by),
    )


async def _find(ctx: Ctx, ref: str) -> store.InspectionView | str:
    """The finding `ref` (J3), if the sender may see it; else the reply."""
    async with ctx.db.session() as session:
        view = await store.get_inspection(session, int(ref[1:]))
    if view is None:
        return mt.INSPECTION_UNKNOWN.format(ref=ref.upper())
    if not _office_side(ctx) and view.row.unit_id != ctx.sender.unit_id:
        return mt.INSPECTION_NOT_YOURS.format(ref=ref.upper())
    return view


async def receive_media(ctx: Ctx) -> str | None:
    """A photo or file sent while a finding (or an appeal) is open for evidence; None when none
    is, so the message goes its usual way."""
    key = _state_key(ctx.sender.userid)
    state = await get_state(ctx.db, key)
    if not isinstance(state, EvidenceWindow):
        return None
    if ctx.now - state.at > ctx.deps.conversation_ttl:
        await clear_state(ctx.db, key)
        return None
    what = MEDIA_NAMES.get(ctx.msg.msg_type, "附件")
    attachment = {
        "media_id": ctx.msg.media_id,
        "file": ctx.msg.attachment,
        "name": ctx.msg.file_name,
        "type": ctx.msg.msg_type,
    }
    async with ctx.db.session() as session:
        view = await store.get_inspection(session, state.inspection)
        if view is None or view.state != store.State.OPEN:
            await clear_state(ctx.db, key)
            return None
        await store.add_event(
            session,
            view,
            store.EventKind.EVIDENCE,
            actor=ctx.sender.userid,
            text=state.event,  # whose evidence: the office's (evidence) or the unit's (appeal)
            attachment=attachment,
            at=ctx.now,
            source_key=ctx.msg.key,
        )
        await session.commit()
        view = await store.get_inspection(session, view.id)
    assert view is not None
    mine = [e for e in view.evidence if e.text == state.event]
    text = mt.EVIDENCE_APPEAL_ADDED if state.event == store.EventKind.APPEAL else mt.EVIDENCE_ADDED
    return text.format(what=what, ref=view.ref, count=len(mine))


def _target_name(scheme: Scheme, ref: str) -> str:
    if ref in scheme.rules_by_id:
        return scheme.rule(ref).text
    if _target_key(scheme, ref) in scheme.targets_by_id:
        return scheme.target(_target_key(scheme, ref)).name
    return scheme.item(ref).name if ref in scheme.items_by_id else ref


@router.intent(MethodIntent.INSPECTION_EVIDENCE, roles=EVERYONE)
async def evidence(ctx: Ctx, intent: Intent) -> str:
    found = await _find(ctx, intent.args["ref"])
    if isinstance(found, str):
        return found
    if found.state != store.State.OPEN:
        return mt.APPEAL_CLOSED.format(ref=found.ref, state=found.state.value)
    kind = store.EventKind.EVIDENCE if _office_side(ctx) else store.EventKind.APPEAL
    await _remember(ctx, found.id, kind)
    return mt.EVIDENCE_OPENED.format(ref=found.ref)


@router.intent(MethodIntent.APPEAL, roles=MEMBERS)
async def appeal(ctx: Ctx, intent: Intent) -> str:
    found = await _find(ctx, intent.args["ref"])
    if isinstance(found, str):
        return found
    if ctx.sender.is_admin:
        return "申辩由被检查单位提出。"
    text = intent.args.get("text", "")
    if not text:
        return f"请写明申辩理由，例如「申辩 {found.ref} 当晚值班人员外出处置突发事件」。"
    if found.state != store.State.OPEN:
        return mt.APPEAL_CLOSED.format(ref=found.ref, state=found.state.value)
    async with ctx.db.session() as session:
        await store.add_event(
            session,
            found,
            store.EventKind.APPEAL,
            actor=ctx.sender.userid,
            text=text,
            at=ctx.now,
            source_key=ctx.msg.key,
        )
        members = await list_members(session)
        notice = mt.APPEAL_NOTICE.format(unit=ctx.sender.unit_name, ref=found.ref, text=text)
        _tell(session, sorted({found.row.actor, *_admins(ctx, members)}), notice)
        await session.commit()
    await _remember(ctx, found.id, store.EventKind.APPEAL)
    return mt.APPEALED.format(ref=found.ref)


async def _decide(ctx: Ctx, intent: Intent, confirm: bool) -> str:
    found = await _find(ctx, intent.args["ref"])
    if isinstance(found, str):
        return found
    reason = intent.args.get("reason", "")
    if found.state != store.State.OPEN:
        return mt.DECIDED_ALREADY.format(ref=found.ref, state=found.state.value)
    if not confirm and not reason:
        return mt.DROP_NEEDS_REASON.format(ref=found.ref)
    async with ctx.db.session() as session:
        units = {u.id: u.name for u in await list_units(session)}
        unit = units.get(found.row.unit_id, "")
        if confirm and ctx.today <= found.row.respond_by and not found.appeals:
            return mt.CONFIRM_TOO_EARLY.format(
                ref=found.ref, respond_by=fmt_date(found.row.respond_by), unit=unit
            )
        event = await store.decide(
            session,
            found,
            confirm=confirm,
            actor=ctx.sender.userid,
            reason=reason,
            today=ctx.today,
            at=ctx.now,
        )
        deduction = ""
        if event.entry_id is not None:
            deduction = mt.CONFIRMED_DEDUCTION.format(
                amount=fmt_points(found.row.amount),
                unit=unit,
                rule=found.row.rule,
                entry=f"E{event.entry_id}",
            )
        state = store.State.CONFIRMED if confirm else store.State.DROPPED
        notice = mt.DECISION_NOTICE.format(
            ref=found.ref,
            state=state.value,
            deduction=deduction,
            reason=f"说明：{reason}" if reason else "",
        )
        _tell(session, _people(await list_members(session), found.row.unit_id), notice)
        await session.commit()
    if confirm:
        return mt.CONFIRMED.format(ref=found.ref, deduction=deduction)
    return mt.DROPPED.format(ref=found.ref, reason=reason)


@router.intent(MethodIntent.INSPECTION_CONFIRM, roles=ADMIN)
async def confirm(ctx: Ctx, intent: Intent) -> str:
    return await _decide(ctx, intent, True)


@router.intent(MethodIntent.INSPECTION_DROP, roles=ADMIN)
async def drop(ctx: Ctx, intent: Intent) -> str:
    return await _decide(ctx, intent, False)


@router.intent(MethodIntent.INSPECTIONS, roles=EVERYONE)
async def listing(ctx: Ctx, intent: Intent) -> str:
    async with ctx.db.session() as session:
        units = {u.id: u.name for u in await list_units(session)}
        unit_id = ctx.sender.unit_id
        if _office_side(ctx):
            unit_id = None
            if "unit" in intent.args:
                unit = await find_unit(session, intent.args["unit"])
                if unit is None:
                    return f"没有名为「{intent.args['unit']}」的单位。"
                unit_id = unit.id
        elif unit_id is None:
            return mt.INSPECTIONS_NONE.format(year=ctx.year)
        views = await store.list_inspections(session, year=ctx.year, unit_id=unit_id)
    if not views:
        return mt.INSPECTIONS_NONE.format(year=ctx.year)
    lines = [mt.INSPECTIONS_HEAD.format(year=ctx.year, count=len(views))]
    for view in views:
        amount = f" 拟扣{fmt_points(view.row.amount)}分" if view.row.amount else ""
        finding = clip(view.row.finding, 31)
        lines.append(
            mt.INSPECTION_LINE.format(
                ref=view.ref,
                unit=units.get(view.row.unit_id, ""),
                target=view.row.target,
                state=view.state.value,
                amount=amount,
                finding=finding,
            )
        )
    lines.append("查看详情请发「检查 J编号」。")
    return "\n".join(lines)


@router.intent(MethodIntent.INSPECTION_SHOW, roles=EVERYONE)
async def show(ctx: Ctx, intent: Intent) -> str:
    found = await _find(ctx, intent.args["ref"])
    if isinstance(found, str):
        return found
    async with ctx.db.session() as session:
        units = {u.id: u.name for u in await list_units(session)}
    row = found.row
    text = mt.INSPECTION_DETAIL.format(
        ref=found.ref,
        state=found.state.value,
        unit=units.get(row.unit_id, ""),
        target=row.target,
        rule=f"（扣分细则{row.rule}）" if row.rule else "",
        found_on=day_label(row.found_on, ctx.today.year),
        finding=row.finding,
        amount=f"拟扣分：{fmt_points(row.amount)}分\n" if row.amount else "",
        respond_by=day_label(row.respond_by, ctx.today.year),
        evidence=len(found.evidence),
    )
    for event in found.appeals:
        text += mt.INSPECTION_APPEAL_LINE.format(at=_local(event.at), text=event.text)
    decision = found.decision
    if decision is not None:
        text += mt.INSPECTION_DECISION_LINE.format(
            at=_local(decision.at),
            actor=decision.actor,
            state=found.state.value,
            reason=f"：{decision.text}" if decision.text else "",
        )
    return text


def _local(moment: Any) -> str:
    local = moment.astimezone(TZ)
    return f"{day_label(local.date())} {local:%H:%M}"  # 12月1日 10:05, as replies write days
