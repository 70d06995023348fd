"""分级考核 in chat: which assessment a message is about.

A person has one *hat* per assessment they take part in: their unit's (liaison, leader or
inspector; admin when their member role is admin or they are in KAOHE_ADMINS, both for the
default assessment) and one per assessment they are an admin of (`assessment_admin`). With one
hat nothing changes. With several, the bot uses the one the person worked in last when it fits the
command (its role may do it), else the only hat whose role may do it (and remembers it), else asks:
「切换考核 2」 chooses, 「当前考核」 says which. The chosen hat is the sender of the turn, and its
assessment is the scope every repository reads (storage/scope.py).
"""

from __future__ import annotations

import re
from dataclasses import replace

from handlers import assessment_texts as at
from handlers.context import ChatDeps, Ctx, Sender, Unregistered
from handlers.intents import Intent, normalize
from handlers.router import Router
from handlers.texts import CITY_OFFICE, OFFICE_OF
from storage.assessments import names_of, organiser_name
from storage.conversation import AssessmentChoice, set_state
from storage.db import Database
from storage.models import Role
from storage.scope import DEFAULT_ASSESSMENT
from storage.sender import MemberRow, Scopes, choice_key

_SWITCH = re.compile(r"(?:切换|选择|进入)考核[\s:：,，、]*(?P<ref>\S+)?")
_WHICH = re.compile(r"(?:当前|我的)考核")


def hats_of(deps: ChatDeps, userid: str, member: MemberRow | None, scopes: Scopes) -> list[Sender]:
    """One sender per assessment the person takes part in (their unit's first); empty for
    someone unregistered and admin of nothing."""
    hats: dict[int, Sender] = {}
    if member is not None and member.active:
        home = member.assessment_id or DEFAULT_ASSESSMENT
        role = Role(member.role)
        if userid in deps.admins and home == DEFAULT_ASSESSMENT:
            role = Role.ADMIN
        hats[home] = Sender(
            userid,
            member.name,
            role,
            unit_id=member.unit_id,
            unit_name=member.unit_name,
            scheme_id=member.scheme_id,
            assessment_id=home,
        )
    name = member.name if member is not None and member.active else userid
    extra = set(scopes.admin_of) | ({DEFAULT_ASSESSMENT} if userid in deps.admins else set())
    for assessment_id in sorted(extra):
        hat = hats.get(assessment_id)
        if hat is not None:  # admin where they also have a unit: admin, unit kept
            hats[assessment_id] = replace(hat, role=Role.ADMIN)
        else:
            hats[assessment_id] = Sender(userid, name, Role.ADMIN, assessment_id=assessment_id)
    return list(hats.values())


async def office_of(db: Database, assessment_id: int | None, kept: dict[int, str]) -> str:
    """The office that runs an assessment: the city's 市创模办 for the default one (no read),
    else its organiser's ("路桥区创模办"), read once and kept in `kept` (ChatDeps.offices)."""
    if assessment_id is None or assessment_id == DEFAULT_ASSESSMENT:
        return CITY_OFFICE
    found = kept.get(assessment_id)
    if found is None:
        async with db.session() as session:
            organiser = await organiser_name(session, assessment_id)
        found = OFFICE_OF.format(organiser=organiser) if organiser else CITY_OFFICE
        kept[assessment_id] = found
    return found


def unregistered(userid: str, member: MemberRow | None) -> Sender:
    role = Unregistered.UNKNOWN if member is None else Unregistered.INACTIVE
    return Sender(userid, userid, role)


def first_hat(hats: list[Sender], scopes: Scopes) -> Sender:
    """The hat a turn starts with: the one chosen last, else the person's unit's."""
    return next((h for h in hats if h.assessment_id == scopes.chosen), hats[0])


def is_switch(text: str) -> bool:
    norm = normalize(text)
    return bool(_SWITCH.fullmatch(norm) or _WHICH.fullmatch(norm))


async def _remember(ctx: Ctx, assessment_id: int) -> None:
    await set_state(
        ctx.db, choice_key(ctx.sender.userid), AssessmentChoice(assessment=assessment_id)
    )


def _role_name(hat: Sender) -> str:
    label = at.ROLE_NAMES.get(str(hat.role), str(hat.role))
    return f"{hat.unit_name}{label}" if hat.unit_name and hat.role != Role.ADMIN else label


async def _menu(ctx: Ctx, hats: list[Sender]) -> list[str]:
    async with ctx.db.session() as session:
        names = await names_of(session, [h.assessment_id for h in hats])
    return [
        at.MENU_LINE.format(n=n, name=names.get(h.assessment_id, ""), role=_role_name(h))
        for n, h in enumerate(hats, 1)
    ]


async def switch(ctx: Ctx, hats: list[Sender]) -> str:
    """「切换考核 2」 / 「切换考核 路桥区考核」 / 「当前考核」."""
    norm = normalize(ctx.msg.content)
    match = _SWITCH.fullmatch(norm)
    menu = await _menu(ctx, hats)
    if match is None or not match["ref"]:
        current = next(n for n, h in enumerate(hats) if h.assessment_id == ctx.sender.assessment_id)
        head = at.CURRENT.format(line=menu[current][2:].strip())
        return "\n".join([head, *menu, at.HOW]) if len(hats) > 1 else head
    ref = match["ref"]
    chosen = None
    if ref.isdigit() and 1 <= int(ref) <= len(hats):
        chosen = hats[int(ref) - 1]
    else:
        async with ctx.db.session() as session:
            names = await names_of(session, [h.assessment_id for h in hats])
        chosen = next((h for h in hats if names.get(h.assessment_id) == ref), None)
    if chosen is None:
        return "\n".join([at.UNKNOWN.format(ref=ref), *menu, at.HOW])
    ctx.sender = chosen
    await _remember(ctx, chosen.assessment_id)
    line = menu[hats.index(chosen)]
    return at.SWITCHED.format(line=line[line.index(".") + 1 :].strip())


async def choose(
    ctx: Ctx, intent: Intent, hats: list[Sender], scopes: Scopes, router: Router
) -> str | None:
    """Put on the hat this message is about; a question back (str) when it cannot tell."""
    route = router.route(intent.name)
    if route is None:  # free text, media, drafts: where the person is working
        return None
    current = ctx.sender
    if scopes.chosen is not None and current.role in route.roles:
        return None
    fitting = [h for h in hats if h.role in route.roles]
    if len(fitting) == 1:
        ctx.sender = fitting[0]
        if fitting[0].assessment_id != scopes.chosen:
            await _remember(ctx, fitting[0].assessment_id)
        return None
    if not fitting:
        return None  # refused as the current hat would be
    menu = await _menu(ctx, fitting)
    return "\n".join([at.ASK, *menu, at.HOW])
