"""An action waiting for 确认: an admin's 责任书 preview, a due date in the past, a task given to a
unit twice, the same entry sent twice, a grade outside the rules; a liaison's feedback, report or
佐证 that repeats one already logged.

The bot states what it would do and keeps the action (kind + arguments) in the database under the
user's own key, apart from the 政务信息 conversation; 「确认」 runs it, 「取消」 drops it,
and it lapses after the conversation TTL. Nothing is written before 确认.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from handlers.context import Ctx
from handlers.intents import IntentName
from storage.conversation import (
    PendingAction,
    PendingConfirmation,
    clear_state,
    get_state,
    set_state,
)
from storage.sender import pending_key

# what answers the question (anything else closes it: `abandon`)
ANSWERS = frozenset(
    {IntentName.CONFIRM, IntentName.CANCEL, IntentName.YES, IntentName.NO, IntentName.ANSWER_TYPO}
)
# answered by a short yes or no as well (好 / 不用): a question the office did not ask for
SHORT_ANSWER = frozenset({PendingAction.EVIDENCE_TASKS})


Runner = Callable[[Ctx, dict[str, Any]], Awaitable[str]]
R = TypeVar("R", bound=Runner)  # a runner may take more (optional) arguments
_RUNNERS: dict[PendingAction, Runner] = {}

CONFIRM_SUFFIX = "\n确认请回复「确认」，放弃请回复「取消」。"
NOTHING = "当前没有待确认的操作。"
DROPPED = "已取消，未作任何改动。"
LAPSED = "您{minutes}分钟前的待确认操作已过期，未作任何改动；如仍需办理，请重新发送命令。"
ABANDONED = "（您之前待确认的操作已放弃，未作任何改动；如仍需办理，请重新发送该命令。）"


def runner(action: PendingAction) -> Callable[[R], R]:
    """Register what 确认 does for `action`."""

    def decorate(func: R) -> R:
        _RUNNERS[action] = func
        return func

    return decorate


async def ask(
    ctx: Ctx,
    action: PendingAction,
    args: dict[str, Any],
    prompt: str,
    suffix: str = CONFIRM_SUFFIX,
) -> str:
    """Keep `action` until the user answers; return the question to send."""
    state = PendingConfirmation(action=action, args=args, at=ctx.now)
    await set_state(ctx.db, pending_key(ctx.sender.userid), state)
    return prompt + suffix


async def waiting_short(ctx: Ctx) -> bool:
    """Whether the action waiting is one a short 好 / 不用 answers (SHORT_ANSWER)."""
    state = await waiting(ctx)
    return state is not None and state.action in SHORT_ANSWER


async def waiting(ctx: Ctx) -> PendingConfirmation | None:
    state = await get_state(ctx.db, pending_key(ctx.sender.userid))
    return state if isinstance(state, PendingConfirmation) else None


async def abandon(ctx: Ctx) -> str | None:
    """Drop the action waiting (the user went on to something else); what to tell them, None
    when it had lapsed already or nothing waited."""
    state = await waiting(ctx)
    if state is None:
        return None
    await clear_state(ctx.db, pending_key(ctx.sender.userid))
    return None if ctx.now - state.at > ctx.deps.conversation_ttl else ABANDONED


async def resolve(ctx: Ctx, confirmed: bool) -> str | None:
    """The answer to 确认 / 取消 when an action waits; None when none does."""
    state = await waiting(ctx)
    if state is None:
        return None
    await clear_state(ctx.db, pending_key(ctx.sender.userid))
    if ctx.now - state.at > ctx.deps.conversation_ttl:
        return LAPSED.format(minutes=int((ctx.now - state.at).total_seconds() // 60))
    if not confirmed:
        return DROPPED
    return await _RUNNERS[state.action](ctx, state.args)
