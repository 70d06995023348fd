"""The 政务信息 draft: what a liaison sends piece by piece (or in one message) before it is logged.

A draft starts with 「报送政务信息」, with a title sent without its body, with a shared article
(link card), or with an item that looks like a repeat; text, files, images and links add to it;
「确认」 logs it, 「取消」 drops it. 「好」/「对」/「是」 confirm only when a complete draft waits.

State lives in the database (`storage.conversation`), so a half-finished draft survives a restart.
A draft untouched for `ChatDeps.conversation_ttl` expires: `expire_drafts` (run periodically by the
server) drops it and tells the user through the Channel; a draft found expired when the user
writes again is dropped the same way, with the notice before the reply.

The item's time is when its content was last sent (the latest message that added text, a file or
a link), not when 「确认」 arrived: a draft written at 23:55 on 30 November and confirmed at 00:05
counts for November.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from handlers import texts
from handlers.context import ChatDeps, Ctx
from handlers.intents import TITLE_MAX, Intent, IntentName, split_title
from handlers.liaison import InfoItem, find_repeat, log_info, repeat_text
from handlers.router import REPORTERS, Router
from storage.conversation import clear_state, clear_state_if, list_states, set_state

log = logging.getLogger(__name__)
router = Router()
N = IntentName

FLOW_INFO = "info"
ASK_RESTART = "restart"  # 「报送政务信息」 arrived while a draft was open
ASK_REPEAT = "repeat"  # the item looks like one already logged: 「确认」 logs it anyway
MEDIA_NAMES = {"image": "图片", "file": "文件", "voice": "语音", "video": "视频"}


# --- state ---------------------------------------------------------------------------------------


def in_info_flow(ctx: Ctx) -> bool:
    return bool(ctx.state) and ctx.state.get("flow") == FLOW_INFO  # type: ignore[union-attr]


def _new_state(ctx: Ctx, source: str) -> dict[str, Any]:
    return {
        "flow": FLOW_INFO,
        "title": "",
        "body": "",
        "attachments": [],
        "source": source,
        "sent_at": ctx.now.isoformat(),
    }


async def _save(ctx: Ctx, state: dict[str, Any]) -> None:
    state["touched"] = ctx.now.isoformat()
    ctx.state = state
    await set_state(ctx.db, ctx.sender.userid, state)


async def _drop(ctx: Ctx) -> None:
    await clear_state(ctx.db, ctx.sender.userid)
    ctx.state = None


def _what(state: dict[str, Any]) -> str:
    """「标题」 of a draft, for the texts that name it ('' when it has no title yet)."""
    title = state.get("title") or ""
    return f"「{title}」" if title else ""


def _expired(state: dict[str, Any], now: datetime, deps: ChatDeps) -> bool:
    touched = state.get("touched")
    if not touched:
        return False
    return now - datetime.fromisoformat(touched) > deps.conversation_ttl


def expired_text(state: dict[str, Any], deps: ChatDeps) -> str:
    minutes = int(deps.conversation_ttl.total_seconds() // 60)
    return texts.CONV_EXPIRED.format(what=_what(state), minutes=minutes)


async def expire_if_quiet(ctx: Ctx) -> None:
    """Drop a draft untouched for longer than the TTL (the periodic sweep had not yet), and say so
    before the reply."""
    state = ctx.state
    received = ctx.received or ctx.now
    if state and _expired(state, received, ctx.deps):
        await _drop(ctx)
        ctx.notices.append(expired_text(state, ctx.deps))


async def expire_drafts(deps: ChatDeps, now: datetime) -> int:
    """Drop every draft untouched for longer than the TTL and tell its author; returns how many.
    The notice is an outbox message written with the drop (the server's dispatcher sends it
    within seconds, and again after a crash or an outage). Without a channel nothing is dropped
    (the user is told at their next message instead). Safe on several instances: a draft is
    dropped, and its author told, by the one sweep whose delete finds it unchanged."""
    if deps.channel is None:
        return 0
    told = 0
    for userid, state, updated_at in await list_states(deps.db):
        if state.get("flow") != FLOW_INFO or not _expired(state, now, deps):
            continue
        notice = {"type": "text", "text": expired_text(state, deps)}
        if await clear_state_if(deps.db, userid, updated_at, notice=notice):
            told += 1  # else the user wrote meanwhile, or another instance dropped it
    return told


# --- items ---------------------------------------------------------------------------------------


def _item(ctx: Ctx, state: dict[str, Any]) -> InfoItem:
    title = state.get("title") or _fallback_title(state.get("attachments", []))
    return InfoItem(
        title=title,
        body=state.get("body", ""),
        attachments=tuple(state.get("attachments", [])),
        sent_at=datetime.fromisoformat(state.get("sent_at") or ctx.now.isoformat()),
        source_key=state.get("source") or f"conv:{ctx.msg.key}",
    )


def _fallback_title(attachments: list[dict[str, Any]]) -> str:
    """A draft of attachments only is titled by its first article or file, as it was named."""
    for att in attachments:
        name = att.get("title") or att.get("name")
        if name:
            return str(name)
    return ""


async def _log_or_hold(ctx: Ctx, state: dict[str, Any], *, force: bool) -> str:
    """Log the draft's item, unless it looks like a repeat (then it waits for 「确认」)."""
    item = _item(ctx, state)
    if not force:
        found = await find_repeat(ctx, item)
        if found is not None:
            state = {**state, "ask": ASK_REPEAT, "repeat_of": found[0].ref}
            await set_state(ctx.db, ctx.sender.userid, {**state, "touched": ctx.now.isoformat()})
            ctx.state = state
            return repeat_text(found)
    reply = await log_info(ctx, item)
    await _drop(ctx)
    return reply


@router.intent(N.SUBMIT_INFO, roles=REPORTERS)
async def submit_info(ctx: Ctx, intent: Intent) -> str:
    """「政务信息：标题」 + 正文 in one message: logged at once when it carries an item; a title
    without a body becomes a draft that asks for the body."""
    title, body = split_title(intent.args["body"])
    state = _new_state(ctx, ctx.msg.key)
    state["title"], state["body"] = title, body
    if title and body:
        return await _log_or_hold(ctx, state, force=False)
    await _save(ctx, state)
    return _progress_text(state)


@router.intent(N.START_INFO, roles=REPORTERS)
async def start_info(ctx: Ctx, intent: Intent) -> str:
    if in_info_flow(ctx) and _has_content(ctx.state or {}):
        await _save(ctx, {**(ctx.state or {}), "ask": ASK_RESTART})
        return texts.CONV_ASK_RESTART.format(what=_what(ctx.state or {}))
    # the conversation's own key: its item is logged once, however often 确认 arrives (a repeat
    # after a crash between logging the item and clearing the state finds the item logged)
    await _save(ctx, _new_state(ctx, f"conv:{ctx.msg.key}"))
    return texts.CONV_STARTED


def _has_content(state: dict[str, Any]) -> bool:
    return bool(state.get("title") or state.get("body") or state.get("attachments"))


def _progress_text(state: dict[str, Any]) -> str:
    """What the draft holds and what it still needs."""
    title, body = state.get("title", ""), state.get("body", "")
    if title and body:
        return texts.CONV_READY.format(title=title, body=_preview(body))
    if title:
        return texts.CONV_NEED_BODY.format(title=title)
    if body:
        return texts.CONV_NEED_TITLE
    return texts.CONV_NEED_TEXT


def _preview(body: str, n: int = 60) -> str:
    return body if len(body) <= n else body[: n - 1] + "…"


async def add_text(ctx: Ctx, text: str) -> str:
    """Text into the draft, exactly as typed: the first line of the first text is the title."""
    state = {k: v for k, v in (ctx.state or {}).items() if k != "ask"}
    text = text.strip()
    if not state.get("title") and not state.get("body"):
        state["title"], state["body"] = split_title(text)
    elif not state.get("title"):
        if "\n" not in text and len(text) <= TITLE_MAX:
            state["title"] = text
        else:
            state["body"] = state["body"] + "\n" + text
    elif not state.get("body"):
        state["body"] = text
    else:
        state["body"] = state["body"] + "\n" + text
    state["sent_at"] = ctx.now.isoformat()
    await _save(ctx, state)
    return _progress_text(state)


async def add_media(ctx: Ctx) -> str:
    msg = ctx.msg
    state = {k: v for k, v in (ctx.state or {}).items() if k != "ask"}
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
    state["sent_at"] = ctx.now.isoformat()
    await _save(ctx, state)
    what = MEDIA_NAMES.get(msg.msg_type, "附件")
    return texts.CONV_ADDED_MEDIA.format(what=what, count=len(attachments))


async def add_link(ctx: Ctx) -> str:
    """A shared article: kept as an attachment exactly as the card carried it. Outside a draft
    it starts one, titled as the article; inside, it joins the draft (and titles it if untitled)."""
    link = ctx.msg.link
    assert link is not None
    fresh = not in_info_flow(ctx)
    state = _new_state(ctx, ctx.msg.key) if fresh else dict(ctx.state or {})
    state.pop("ask", None)
    card = {
        "type": "link",
        "title": link.title,
        "description": link.description,
        "url": link.url,
        "pic_url": link.pic_url,
    }
    state["attachments"] = [*state.get("attachments", []), card]
    if not state.get("title"):
        state["title"] = link.title
    if not state.get("body"):
        state["body"] = link.url
    state["sent_at"] = ctx.now.isoformat()
    await _save(ctx, state)
    if fresh:
        return texts.CONV_LINK_STARTED.format(title=link.title)
    return texts.CONV_LINK_ADDED.format(title=link.title, count=len(state["attachments"]))


# --- answers -------------------------------------------------------------------------------------


@router.intent(N.CONFIRM, roles=REPORTERS)
async def confirm(ctx: Ctx, intent: Intent) -> str:
    """「确认」: logs the draft as it is (a title alone too: the user said so explicitly)."""
    if not in_info_flow(ctx):
        return texts.NOTHING_TO_CONFIRM
    state = ctx.state or {}
    if not _item(ctx, state).title:
        return texts.CONV_NEED_TEXT if not _has_content(state) else texts.CONV_NEED_TITLE
    return await _log_or_hold(ctx, state, force=state.get("ask") == ASK_REPEAT)


async def yes(ctx: Ctx) -> str:
    """「好」/「是」/「对」 inside a draft: the answer to the bot's question, else 确认 of a complete
    draft (a title without a body is not complete: the body is asked for again)."""
    state = ctx.state or {}
    if state.get("ask") == ASK_RESTART:
        await _save(ctx, _new_state(ctx, f"conv:{ctx.msg.key}"))
        return texts.CONV_CANCELLED + texts.CONV_STARTED.removeprefix("好的，")
    item = _item(ctx, state)
    if item.title and not item.body and not item.attachments and state.get("ask") != ASK_REPEAT:
        return texts.CONV_YES_NEEDS_BODY.format(title=item.title)
    return await confirm(ctx, Intent(N.CONFIRM))


async def no(ctx: Ctx) -> str:
    """「不」/「继续」 inside a draft: keep editing (nothing to drop or log)."""
    state = ctx.state or {}
    if state.get("ask") == ASK_REPEAT:  # "no, do not log it again"
        await _drop(ctx)
        return texts.CONV_CANCELLED
    state = {k: v for k, v in state.items() if k != "ask"}
    await _save(ctx, state)
    return texts.CONV_KEEP.format(what=_what(state))


async def _cancel(ctx: Ctx) -> bool:
    if not in_info_flow(ctx):
        return False
    await _drop(ctx)
    return True


@router.intent(N.CANCEL, roles=REPORTERS)
async def cancel(ctx: Ctx, intent: Intent) -> str:
    return texts.CONV_CANCELLED if await _cancel(ctx) else texts.NOTHING_TO_CANCEL
