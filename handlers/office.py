"""The office's year in chat, wired in one place: the 责任书 (handlers/targets.py), corrections
(handlers/corrections.py), people (handlers/people.py) and final grades (handlers/grading.py).

`parse_office` is tried before the general phrase table; `before_route` gives an admin's file
(a 责任书 workbook) and an admin's 确认 / 取消 of a waiting action to their handlers.
"""

from __future__ import annotations

from handlers import corrections, followup, grading, notices, pending, people, targets
from handlers.context import Ctx
from handlers.intents import Intent, IntentName
from handlers.office_intents import event_intent, parse_office
from handlers.router import Router

router = Router()
router.include(targets.router)
router.include(corrections.router)
router.include(people.router)
router.include(grading.router)
router.include(notices.router)
router.include(followup.router)


async def before_route(ctx: Ctx, intent: Intent) -> str | None:
    """An admin's answer that does not go through the router, or None."""
    if intent.name == IntentName.MEDIA:
        return await targets.receive_file(ctx)
    if intent.name in (IntentName.CONFIRM, IntentName.CANCEL):
        answer = await pending.resolve(ctx, intent.name == IntentName.CONFIRM)
        return answer if answer is not None else pending.NOTHING
    if intent.name in (IntentName.YES, IntentName.NO) and await pending.waiting_short(ctx):
        return await pending.resolve(ctx, intent.name == IntentName.YES)
    return None


__all__ = ["before_route", "event_intent", "parse_office", "router"]
