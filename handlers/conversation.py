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

from handlers import pending, texts
from handlers.channel import clip
from handlers.context import ChatDeps, Ctx
from handlers.intents import TITLE_MAX, Intent, IntentName, split_title
from handlers.liaison import InfoItem, Repeat, log_info_in, not_in_scheme, repeat_text
from handlers.lookup import info_quota, rule_label
from handlers.router import REPORTERS, Router
from storage.conversation import (
    Ask,
    InfoDraft,
    clear_state,
    clear_state_if,
    list_states,
    set_state,
)

log = logging.getLogger(__name__)
router = Router()
N = IntentName

MEDIA_NAMES = {"image": "图片", "file": "文件", "voice": "语音", "video": "视频"}


# --- state ---------------------------------------------------------------------------------------


def in_info_flow(ctx: Ctx) -> bool:
    return isinstance(ctx.state, InfoDraft)


def _draft(ctx: Ctx) -> InfoDraft:
    """The open draft (an empty one when there is none)."""
    return ctx.state if isinstance(ctx.state, InfoDraft) else InfoDraft()


def _new_state(ctx: Ctx, source: str) -> InfoDraft:
    return InfoDraft(source=source, sent_at=ctx.now)


async def _save(ctx: Ctx, state: InfoDraft) -> None:
    state = state.model_copy(update={"touched": ctx.now})
    ctx.state = state
    await set_state(ctx.db, ctx.sender.userid, state)


async def _drop(ctx: Ctx) -> None:
    await clear_state(ctx.db, ctx.sender.userid)
    ctx.state = None


def _what(state: InfoDraft) -> str:
    """「标题」 of a draft, for the texts that name it ('' when it has no title yet)."""
    return f"「{state.title}」" if state.title else ""


def answer_first(ctx: Ctx) -> str | None:
    """The bot asked about the draft (start again? log a repeat?) and the user wrote something
    else: not added to the draft; the question again. None when nothing was asked."""
    state = _draft(ctx)
    if state.ask == Ask.RESTART:
        return texts.CONV_ANSWER_RESTART_FIRST.format(what=_what(state))
    if state.ask == Ask.REPEAT:
        return texts.CONV_ANSWER_REPEAT_FIRST.format(what=_what(state), ref=state.repeat_of or "")
    return None


def new_item_in_draft(ctx: Ctx) -> str | None:
    """The answer to a whole new 「政务信息：…」 while a draft with content is open: neither
    merged into the draft nor logged (the user says which to do with the draft first); None
    when no draft has content."""
    draft = _draft(ctx)
    if not (in_info_flow(ctx) and draft.has_content):
        return None
    return texts.CONV_NEW_ITEM_IN_DRAFT.format(what=_what(draft))


def _expired(state: InfoDraft, now: datetime, deps: ChatDeps) -> bool:
    if state.touched is None:
        return False
    return now - state.touched > deps.conversation_ttl


def expired_text(state: InfoDraft, deps: ChatDeps) -> str:
    minutes = int(deps.conversation_ttl.total_seconds() // 60)
    return texts.CONV_EXPIRED.format(what=_what(state), minutes=minutes)


async def expire_if_quiet(ctx: Ctx) -> None:
    """Drop a draft untouched for longer than the TTL (the periodic sweep had not yet), and say so
    before the reply."""
    state = ctx.state
    received = ctx.received or ctx.now
    if isinstance(state, InfoDraft) and _expired(state, received, ctx.deps):
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
        if not isinstance(state, InfoDraft) or not _expired(state, now, deps):
            continue
        notice = {"type": "text", "text": expired_text(state, deps)}
        if await clear_state_if(deps.db, userid, updated_at, notice=notice):
            told += 1  # else the user wrote meanwhile, or another instance dropped it
    return told


# --- items ---------------------------------------------------------------------------------------


def _item(ctx: Ctx, state: InfoDraft) -> InfoItem:
    return InfoItem(
        title=state.title or _fallback_title(state.attachments),
        body=state.body,
        attachments=state.attachments,
        sent_at=state.sent_at or ctx.now,
        source_key=state.source or f"conv:{ctx.msg.key}",
    )


def _fallback_title(attachments: tuple[dict[str, Any], ...]) -> str:
    """A draft of attachments only is titled by its first article or file, as it was named."""
    for att in attachments:
        name = att.get("title") or att.get("name")
        if name:
            return str(name)
    return ""


async def _log_or_hold(ctx: Ctx, state: InfoDraft, *, force: bool) -> str:
    """Log the draft's item, unless it looks like a repeat (then it waits for 「确认」)."""
    quota = info_quota(ctx.scheme)
    if quota is None:
        if ctx.state is not None:
            await _drop(ctx)
        return not_in_scheme(ctx, "政务信息")
    item = _item(ctx, state)
    assert ctx.sender.unit_id is not None
    outcome = await ctx.db.run_write(
        log_info_in,
        ctx.sender.unit_id,
        ctx.sender.userid,
        quota,
        rule_label(ctx.scheme, quota.rule.id),
        item,
        force,
    )
    if isinstance(outcome, Repeat):
        await _save(ctx, state.model_copy(update={"ask": Ask.REPEAT, "repeat_of": outcome.ref}))
        return repeat_text(outcome)
    if ctx.state is not None:
        await _drop(ctx)
    return outcome


@router.intent(N.SUBMIT_INFO, roles=REPORTERS)
async def submit_info(ctx: Ctx, intent: Intent) -> str:
    """「政务信息：标题」 + 正文 in one message: logged at once when it carries an item; a title
    without a body becomes a draft that asks for the body."""
    title, body = split_title(intent.args["body"])
    state = _new_state(ctx, ctx.msg.key).model_copy(update={"title": title, "body": body})
    if title and body:
        return await _log_or_hold(ctx, state, force=False)
    await _save(ctx, state)
    return _progress_text(state)


@router.intent(N.START_INFO, roles=REPORTERS)
async def start_info(ctx: Ctx, intent: Intent) -> str:
    draft = _draft(ctx)
    if in_info_flow(ctx) and draft.has_content:
        await _save(ctx, draft.model_copy(update={"ask": Ask.RESTART}))
        return texts.CONV_ASK_RESTART.format(what=_what(draft))
    # the conversation's own key: its item is logged once, however often 确认 arrives (a repeat
    # after a crash between logging the item and clearing the state finds the item logged)
    await _save(ctx, _new_state(ctx, f"conv:{ctx.msg.key}"))
    return texts.CONV_STARTED


def _progress_text(state: InfoDraft) -> str:
    """What the draft holds and what it still needs."""
    title, body = state.title, state.body
    if title and body:
        return texts.CONV_READY.format(title=title, body=clip(body, 60))
    if title:
        return texts.CONV_NEED_BODY.format(title=title)
    if body:
        return texts.CONV_NEED_TITLE
    return texts.CONV_NEED_TEXT


async def add_text(ctx: Ctx, text: str) -> str:
    """Text into the draft, exactly as typed: the first line of the first text is the title."""
    state = _draft(ctx)
    title, body = state.title, state.body
    text = text.strip()
    if not title and not body:
        title, body = split_title(text)
    elif not title:
        if "\n" not in text and len(text) <= TITLE_MAX:
            title = text
        else:
            body = body + "\n" + text
    elif not body:
        body = text
    else:
        body = body + "\n" + text
    state = state.model_copy(update={"title": title, "body": body, "sent_at": ctx.now, "ask": None})
    await _save(ctx, state)
    return _progress_text(state)


async def add_media(ctx: Ctx) -> str:
    msg = ctx.msg
    attachment = {
        "type": msg.msg_type,
        "media_id": msg.media_id,
        "file": msg.attachment,
        "name": msg.file_name,
        "error": msg.attachment_error,
    }
    attachments = (*_draft(ctx).attachments, attachment)
    state = _draft(ctx).model_copy(
        update={"attachments": attachments, "sent_at": ctx.now, "ask": None}
    )
    await _save(ctx, state)
    what = MEDIA_NAMES.get(msg.msg_type, "附件")
    return texts.CONV_ADDED_MEDIA.format(what=what, count=len(attachments))


async def add_link(ctx: Ctx) -> str:
    """A shared article: kept as an attachment exactly as the card carried it. Outside a draft
    it starts one, titled as the article; inside, it joins the draft (and titles it if untitled)."""
    link = ctx.msg.link
    assert link is not None
    fresh = not in_info_flow(ctx)
    state = _new_state(ctx, ctx.msg.key) if fresh else _draft(ctx)
    card = {
        "type": "link",
        "title": link.title,
        "description": link.description,
        "url": link.url,
        "pic_url": link.pic_url,
    }
    state = state.model_copy(
        update={
            "attachments": (*state.attachments, card),
            "title": state.title or link.title,
            "body": state.body or link.url,
            "sent_at": ctx.now,
            "ask": None,
        }
    )
    await _save(ctx, state)
    if fresh:
        return texts.CONV_LINK_STARTED.format(title=link.title)
    return texts.CONV_LINK_ADDED.format(title=link.title, count=len(state.attachments))


# --- answers -------------------------------------------------------------------------------------


@router.intent(N.CONFIRM, roles=REPORTERS)
async def confirm(ctx: Ctx, intent: Intent) -> str:
    """「确认」: logs the draft as it is (a title alone too: the user said so explicitly), or a
    held-back repeat of a feedback, report or 佐证 (whichever was asked about last)."""
    if not in_info_flow(ctx) or await _pending_last(ctx):
        answer = await pending.resolve(ctx, confirmed=True)
        return answer if answer is not None else texts.NOTHING_TO_CONFIRM
    state = _draft(ctx)
    if not _item(ctx, state).title:
        return texts.CONV_NEED_TEXT if not state.has_content else texts.CONV_NEED_TITLE
    return await _log_or_hold(ctx, state, force=state.ask == Ask.REPEAT)


async def yes(ctx: Ctx) -> str:
    """「好」/「是」/「对」 inside a draft: the answer to the bot's question, else 确认 of a complete
    draft (a title without a body is not complete: the body is asked for again)."""
    state = _draft(ctx)
    if state.ask == Ask.RESTART:
        await _save(ctx, _new_state(ctx, f"conv:{ctx.msg.key}"))
        return texts.CONV_CANCELLED + texts.CONV_STARTED.removeprefix("好的，")
    item = _item(ctx, state)
    if item.title and not item.body and not item.attachments and state.ask != Ask.REPEAT:
        return texts.CONV_YES_NEEDS_BODY.format(title=item.title)
    return await confirm(ctx, Intent(N.CONFIRM))


async def no(ctx: Ctx) -> str:
    """「不」/「继续」 inside a draft: keep editing (nothing to drop or log)."""
    state = _draft(ctx)
    if state.ask == Ask.REPEAT:  # "no, do not log it again"
        await _drop(ctx)
        return texts.CONV_CANCELLED
    state = state.model_copy(update={"ask": None})
    await _save(ctx, state)
    return texts.CONV_KEEP.format(what=_what(state))


async def _cancel(ctx: Ctx) -> bool:
    if not in_info_flow(ctx):
        return False
    await _drop(ctx)
    return True


async def _pending_last(ctx: Ctx) -> bool:
    """Whether a held-back repeat (a pending action) was asked about after the draft's last change."""
    waiting = await pending.waiting(ctx)
    touched = _draft(ctx).touched
    return waiting is not None and (touched is None or waiting.at >= touched)


@router.intent(N.CANCEL, roles=REPORTERS)
async def cancel(ctx: Ctx, intent: Intent) -> str:
    if not in_info_flow(ctx) or await _pending_last(ctx):
        answer = await pending.resolve(ctx, confirmed=False)
        if answer is not None:
            return answer
    return texts.CONV_CANCELLED if await _cancel(ctx) else texts.NOTHING_TO_CANCEL
