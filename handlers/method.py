"""The method's later steps, wired in one place: 测评 (handlers/rating.py), 检查考评
(handlers/inspection.py) and the 通报 (handlers/report.py).

`parse_method` is tried before the other phrase tables; `event_intent` reads a click on a 测评
card; `before_route` gives a photo sent for an inspection finding (or an appeal) to it.
"""

from __future__ import annotations

from handlers import conversation, inspection, rating, report, selfcheck
from handlers.context import Ctx
from handlers.intents import Intent, IntentName
from handlers.method_intents import event_intent, parse_method
from handlers.router import Router

router = Router()
router.include(rating.router)
router.include(inspection.router)
router.include(report.router)
router.include(selfcheck.router)


async def before_route(ctx: Ctx, intent: Intent) -> str | None:
    """A photo or file for a 自查 line the sender has just marked, or for an inspection finding
    they have just logged or answered."""
    if intent.name == IntentName.MEDIA and not conversation.in_info_flow(ctx):
        return await selfcheck.receive_media(ctx) or await inspection.receive_media(ctx)
    return None


__all__ = ["before_route", "event_intent", "parse_method", "router"]
