"""The short conversation for a 政务信息 item: start, send text / files / images, confirm.

State lives in the database (`storage.conversation`), so a half-finished submission survives a
restart; it expires after a quiet period (`ChatDeps.conversation_ttl`), and the user is told.
Times in the state come from the chat clock, not the database's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handlers import texts
from handlers.context import Ctx
from handlers.intents import Intent, split_title
from handlers.liaison import log_info
from handlers.router import REPORTERS, Router
from storage.conversation import clear_state, set_state

router = Router()

FLOW_INFO = "info"
MEDIA_NAMES = {"image": "图片", "file": "文件", "voice": "语音", "video": "视频"}


async def _save(ctx: Ctx, state: dict[str, Any]) -> None:
    state["touched"] = ctx.now.isoformat()
    ctx.state = state
    await set_state(ctx.db, ctx.sender.userid, state)


async def expire_if_quiet(ctx: Ctx) -> None:
    """Drop a state untouched for longer than the TTL, and say so before the reply."""
    state = ctx.state
    if not state:
        return
    touched = datetime.fromisoformat(state.get("touched", ctx.now.isoformat()))
    if ctx.now - touched > ctx.deps.conversation_ttl:
        await clear_state(ctx.db, ctx.sender.userid)
        ctx.state = None
        minutes = int(ctx.deps.conversation_ttl.total_seconds() // 60)
        ctx.notices.append(texts.CONV_EXPIRED.format(minutes=minutes))


def in_info_flow(ctx: Ctx) -> bool:
    return bool(ctx.state) and ctx.state.get("flow") == FLOW_INFO  # type: ignore[union-attr]


@router.intent("start_info", roles=REPORTERS)
async def start_info(ctx: Ctx, intent: Intent) -> str:
    # the conversation's own key: its item is logged once, however often 确认 arrives (a repeat
    # after a crash between logging the item and clearing the state finds the item logged)
    source = f"conv:{ctx.msg.key}"
    await _save(
        ctx, {"flow": FLOW_INFO, "title": "", "body": "", "attachments": [], "source": source}
    )
    return texts.CONV_STARTED


async def add_text(ctx: Ctx, text: str) -> str:
    state = dict(ctx.state or {})
    if state.get("title"):
        state["body"] = (state.get("body", "") + "\n" + text).strip()
    else:
        title, body = split_title(text)
        state["title"], state["body"] = title, body
    await _save(ctx, state)
    return texts.CONV_ADDED_TEXT.format(title=state["title"])


async def add_media(ctx: Ctx) -> str:
    msg = ctx.msg
    state = dict(ctx.state or {})
    attachments = list(state.get("attachments", []))
    attachments.append(
        {
            "type": msg.msg_type,
            "media_id": msg.media_id,
            "file": msg.attachment,
            "name": msg.file_name,
            "error": msg.attachment_error,
        }
    )
    state["attachments"] = attachments
    await _save(ctx, state)
    what = MEDIA_NAMES.get(msg.msg_type, "附件")
    return texts.CONV_ADDED_MEDIA.format(what=what, count=len(attachments))


@router.intent("confirm", roles=REPORTERS)
async def confirm(ctx: Ctx, intent: Intent) -> str:
    if not in_info_flow(ctx):
        return texts.NOTHING_TO_CONFIRM
    state = ctx.state or {}
    if not state.get("title"):
        return texts.CONV_NEED_TEXT
    reply = await log_info(
        ctx,
        state["title"],
        state.get("body", ""),
        state.get("attachments"),
        source_key=state.get("source"),
    )
    await clear_state(ctx.db, ctx.sender.userid)
    ctx.state = None
    return reply


@router.intent("cancel", roles=REPORTERS)
async def cancel(ctx: Ctx, intent: Intent) -> str:
    if not in_info_flow(ctx):
        return texts.NOTHING_TO_CONFIRM
    await clear_state(ctx.db, ctx.sender.userid)
    ctx.state = None
    return texts.CONV_CANCELLED
