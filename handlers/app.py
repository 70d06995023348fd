"""The chat handler: one inbound message → who sent it → one intent → one reply.

`make_handler(db=..., channel=..., settings=...)` is what `kaohe serve` and `kaohe chat` load. The
flow: resolve the sender (unknown senders get a polite registration hint and nothing is logged),
expire a quiet conversation, turn the message into an intent (text, menu click, or media inside a
conversation), check the route's declared roles, run it, and fit the reply to WeCom's limits.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from handlers import (
    admin,
    assessments,
    conversation,
    liaison,
    method,
    method_texts,
    office,
    pending,
    phrasings,
    review,
    texts,
)
from handlers.channel import Channel, fit_text
from handlers.context import (
    ChatDeps,
    Ctx,
    Sender,
    Unregistered,
    office_name,
    office_scope,
    scheme_of,
    sent_at,
    system_clock,
)
from handlers.intents import MENU_KEYS, Intent, IntentName, is_question, parse, split_title
from handlers.liaison import InfoItem, Repeat, log_info_in
from handlers.lookup import evidence_example, info_quota, month_of, report_words, rule_label
from handlers.review_intents import ReviewIntent
from handlers.router import ADMIN, EVERYONE, LIAISON, REPORTERS, Router
from handlers.scoretext import example
from handlers.types import Defer, InboundMessage, ReadsFirst, Reply, TextReply, UnitOfWork
from scoring.kinds import Delivery
from scoring.kinds.rating import Rating
from scoring.model import Scheme
from scoring.periods import local_date
from storage import scope
from storage.db import Database
from storage.intake import month_items_ahead
from storage.models import Role
from storage.sender import Scopes, member_state_ahead, member_state_scopes, member_state_scopes_of

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

router = Router()
router.include(liaison.router)
router.include(conversation.router)
router.include(admin.router)
router.include(office.router)
router.include(review.router)
router.include(method.router)
N = IntentName
INFO_GUESSES = 20_000  # liaisons whose unit and target `in_one` remembers (then it forgets all)


@router.intent(N.HELP, roles=EVERYONE)
async def help_(ctx: Ctx, intent: Intent) -> str:
    if ctx.sender.is_inspector:
        return method_texts.HELP_INSPECTOR
    if ctx.sender.is_admin:
        return texts.HELP_ADMIN + method_texts.HELP_ADMIN_MORE
    return liaison_help(ctx.scheme if ctx.sender.scheme_id else None)


def liaison_help(scheme: Scheme | None) -> str:
    """The liaison's help, offering only what the unit's scheme has (no 月报 in chuangmo)."""
    lines = []
    if scheme is None or info_quota(scheme) is not None:
        lines.append(texts.HELP_INFO)
    if scheme is None or any(r.params.delivery == Delivery.TASK for r in scheme.rules()):
        lines.append(texts.HELP_FEEDBACK)
    words = report_words(scheme) if scheme is not None else list(texts.HELP_REPORT_EXAMPLES)
    if words:
        examples = "".join(texts.HELP_REPORT_EXAMPLES[w] for w in words)
        lines.append(texts.HELP_REPORTS.format(examples=examples))
    lines.append(texts.HELP_EVIDENCE.format(ref=evidence_example(scheme)))
    quota = info_quota(scheme) if scheme is not None else None
    queries = texts.HELP_QUERIES.format(
        example=example(scheme) if scheme else "「工作信息」「C3b」"
    )
    lines.append(queries + (texts.HELP_QUERY_INFO if scheme is None or quota else ""))
    lines.append(texts.HELP_WITHDRAW)
    lines.append(method_texts.HELP_INSPECTION)
    if scheme is None or any(isinstance(rule.params, Rating) for rule in scheme.rules()):
        lines.append(method_texts.HELP_RATING)
    lines.append(method_texts.HELP_SELF_CHECK)
    numbered = [f"{n}. {line}" for n, line in enumerate(lines, start=1)]
    return "\n".join([texts.HELP_LIAISON_HEAD, *numbered])


_THANKING = ("谢", "辛苦", "麻烦", "thank", "🙏")  # 收到, 知道了, 明白, 👍 acknowledge


@router.intent(N.THANKS, roles=EVERYONE)
async def thanks(ctx: Ctx, intent: Intent) -> str:
    """「谢谢」 gets 不客气; 「收到」/「知道了」 are acknowledgements, not thanks: 好的."""
    if not any(word in ctx.msg.content.lower() for word in _THANKING):
        return await ack(ctx, intent)
    return texts.THANKS_ADMIN if ctx.sender.is_admin else texts.THANKS


@router.intent(N.YES, N.NO, roles=EVERYONE)
async def ack(ctx: Ctx, intent: Intent) -> str:
    """「好的」/「不用了」 with nothing waiting for an answer: a short acknowledgement."""
    return texts.ACK_ADMIN if ctx.sender.is_admin else texts.ACK


_INFO_HEAD = re.compile(r"(?:政务信息|工作信息|报送信息)\s*[:：]")


@router.intent(N.QUESTION, roles=EVERYONE)
async def question(ctx: Ctx, intent: Intent) -> str:
    if ctx.sender.is_admin:
        return texts.UNKNOWN_ADMIN
    if _INFO_HEAD.match(ctx.msg.content.strip()):  # "政务信息：椒江区开展哪些创模活动。全区…"
        return texts.INFO_OR_QUESTION + "\n" + texts.QUESTION_LOOKS_LIKE_INFO
    return texts.QUESTION.format(office=office_name())


async def resolve_sender(deps: ChatDeps, userid: str) -> Sender:
    """Who `userid` is in the assessment they work in (the one chosen last, else their unit's)."""
    member, _state, scopes, _waiting = await member_state_scopes(deps.db, userid)
    hats = assessments.hats_of(deps, userid, member, scopes)
    return assessments.first_hat(hats, scopes) if hats else assessments.unregistered(userid, member)


# In a draft, what the user types is content unless it clearly says something else.
_DRAFT_CONTENT = frozenset({N.UNKNOWN, N.SUBMIT_INFO})


def _text_intent(content: str) -> Intent:
    return (
        method.parse_method(content)
        or office.parse_office(content)
        or review.parse_review(content)
        or parse(content)
    )


def _intent_of(ctx: Ctx) -> Intent | str | None:
    """The intent of the message; a str is a direct reply; None means stay silent."""
    msg = ctx.msg
    if msg.is_event:
        if msg.event in ("click", "template_card_event") and msg.event_key in MENU_KEYS:
            return Intent(MENU_KEYS[msg.event_key])
        # a 测评 card, a notice's 签收, 一键催报; enter_agent and the like: nothing to say
        return method.event_intent(msg) or office.event_intent(msg)
    if msg.msg_type in conversation.MEDIA_NAMES:
        return Intent(N.MEDIA)
    if msg.msg_type == "link" and msg.link is not None:
        return Intent(N.LINK)
    if msg.msg_type != "text":
        return texts.UNKNOWN
    intent = _text_intent(msg.content)
    if intent.name == N.UNKNOWN:
        mistyped = _mistyped(msg.content, intent)
        if mistyped is not None:
            return mistyped
    if not conversation.in_info_flow(ctx):
        return intent
    if intent.name == N.SUBMIT_INFO and not intent.keyword and ctx.sender.role in REPORTERS:
        # 「政务信息：标题…」 again: a new item, not the draft's next line
        answer = conversation.new_item_in_draft(ctx)
        if answer is not None:
            return answer
    if intent.name in _DRAFT_CONTENT:
        content = Intent(N.DRAFT_TEXT, {"body": intent.args.get("body", msg.content)})
    elif intent.name == N.QUESTION and not is_question(intent.text, weak=False):
        content = Intent(N.DRAFT_TEXT, {"body": msg.content})  # "几处问题已整改": content
    elif intent.keyword and not is_question(intent.text):
        content = Intent(N.DRAFT_TEXT, {"body": msg.content})  # "工程进度过半": content, not 进度
    else:
        return intent
    # the bot asked about the draft (start again? log a repeat?): answer that first
    return conversation.answer_first(ctx) or content


# read again with its first word corrected: these only show something, so they run at once;
# the others (they act) are asked back
_SHOWS = frozenset(
    {N.UNIT_SCORE, N.TALLY, N.MISSING, N.DASHBOARD, N.PROGRESS, N.RECORDS, ReviewIntent.QUEUE}
)


def _mistyped(content: str, intent: Intent) -> Intent | str | None:
    """An unknown message that sounds like something: 「确任」 (asked back, never confirmed),
    「得份 黄岩区」 (得分 黄岩区: shown), 「同过 S259」 (asked back: 通过 acts)."""
    answer = phrasings.sounds_like_answer(intent.text)
    if answer is not None:
        return Intent(N.ANSWER_TYPO, {"answer": answer.value})
    fixed = phrasings.corrected_head(content)
    if fixed is None:
        return None
    meant = _text_intent(fixed.text)
    if meant.name in _SHOWS:
        return meant
    if meant.name in (N.UNKNOWN, N.QUESTION) or meant.keyword:
        return None
    return texts.DID_YOU_MEAN.format(word=fixed.word, typed=fixed.typed)


def _refusal(sender: Sender, roles: frozenset[Role]) -> str:
    if sender.is_inspector:
        return method_texts.INSPECTOR_ONLY
    if roles <= ADMIN:
        return texts.NOT_ADMIN.format(office=office_name())
    if sender.is_admin and roles <= LIAISON:
        return texts.ADMIN_USE_UNIT
    if sender.role == Role.LEADER and roles <= LIAISON:
        return texts.LEADER_READ_ONLY.format(office=office_name())
    return texts.NOT_ADMIN.format(office=office_name())


async def _in_draft(ctx: Ctx, intent: Intent) -> str | None:
    """What a message means to an open draft, or None when it is not about the draft."""
    if ctx.sender.role not in REPORTERS or not conversation.in_info_flow(ctx):
        return None
    if intent.name == N.DRAFT_TEXT:
        return await conversation.add_text(ctx, intent.args["body"])
    if intent.name == N.YES:
        return await conversation.yes(ctx)
    if intent.name == N.NO:
        return await conversation.no(ctx)
    return None


async def _dispatch(ctx: Ctx, intent: Intent) -> str:
    answer = await method.before_route(ctx, intent)
    if answer is not None:
        return answer
    if ctx.sender.is_admin:
        answer = await office.before_route(ctx, intent)
        if answer is not None:
            return answer
    if intent.name == N.MEDIA:
        if conversation.in_info_flow(ctx) and ctx.sender.role in REPORTERS:
            return await conversation.add_media(ctx)
        what = conversation.MEDIA_NAMES.get(ctx.msg.msg_type, "附件")
        return texts.MEDIA_OUTSIDE_CONVERSATION.format(what=what)
    if intent.name == N.LINK:
        if ctx.sender.role in REPORTERS and ctx.sender.unit_id is not None:
            return await conversation.add_link(ctx)
        if ctx.sender.is_admin:
            return texts.UNKNOWN_ADMIN
        text = texts.LEADER_READ_ONLY if ctx.sender.role == Role.LEADER else texts.NO_UNIT
        return text.format(office=office_name())
    if intent.name == N.ANSWER_TYPO:
        return texts.ANSWER_TYPO[intent.args["answer"]]
    answer = await _in_draft(ctx, intent)
    if answer is not None:
        return answer
    if ctx.sender.role in LIAISON and (intent.name in (N.UNKNOWN, N.QUESTION) or intent.keyword):
        intent = liaison.named_indicator(ctx, intent) or intent  # "工作信息", "档案资料扣分原因"
    if intent.name == N.UNKNOWN:
        return texts.UNKNOWN_ADMIN if ctx.sender.is_admin else texts.UNKNOWN
    route = router.route(intent.name)
    if route is None:
        return texts.UNKNOWN
    if ctx.sender.role not in route.roles:
        return _refusal(ctx.sender, route.roles)
    if route.roles <= LIAISON and ctx.sender.unit_id is None:
        return texts.NO_UNIT.format(office=office_name())
    reply = await route.func(ctx, intent)
    if (intent.name == N.QUESTION or intent.keyword) and conversation.in_info_flow(ctx):
        reply = texts.QUESTION_IN_DRAFT + "\n" + reply
    return reply


class ChatHandler:
    """Callable handler for the channels: `await handler(msg) -> Reply | None`; `periodic()` is
    what the server runs every `periodic_seconds` beside it."""

    periodic_seconds = 60.0

    def __init__(self, deps: ChatDeps) -> None:
        self.deps = deps
        # a liaison's unit and 政务信息 target as their last item found them: the month's items
        # are read ahead on that guess (`in_one`); a wrong guess only costs the read again
        self._info_month: dict[str, tuple[int, str]] = {}

    async def periodic(self) -> None:
        await expire_drafts(self.deps)

    async def __call__(self, msg: InboundMessage) -> Reply | None:
        deps = self.deps
        member, state, scopes, waiting = await member_state_scopes(deps.db, msg.sender)
        hats = assessments.hats_of(deps, msg.sender, member, scopes)
        if not hats:
            role = assessments.unregistered(msg.sender, member).role
            text = texts.UNREGISTERED if role == Unregistered.UNKNOWN else texts.INACTIVE
            return None if msg.is_event else TextReply(text)
        received: datetime = deps.clock()
        sender = assessments.first_hat(hats, scopes)
        ctx = Ctx(deps, sender, msg, sent_at(msg, received), state, received=received)
        office = await assessments.office_of(deps.db, sender.assessment_id, deps.offices)
        with scope.scoped(sender.assessment_id), office_scope(office):
            return await self._turn(ctx, hats, scopes, waiting)

    async def _turn(
        self, ctx: Ctx, hats: list[Sender], scopes: Scopes, waiting: bool
    ) -> Reply | None:
        msg = ctx.msg
        if msg.msg_type == "text" and assessments.is_switch(msg.content):
            return TextReply(await assessments.switch(ctx, hats))
        await conversation.expire_if_quiet(ctx)
        intent = _intent_of(ctx)
        if intent is None:
            return None
        if waiting and not (isinstance(intent, Intent) and intent.name in pending.ANSWERS):
            # anything else than an answer closes the question: a 确认 sent later is not taken
            # for an action asked about many messages before
            notice = await pending.abandon(ctx)
            if notice:
                ctx.notices.append(notice)
        if isinstance(intent, Intent) and len(hats) > 1:
            question = await assessments.choose(ctx, intent, hats, scopes, router)
            if question is not None:
                return TextReply(question)
            scope.enter(ctx.sender.assessment_id)  # the hat chosen for this message
        # the replies name the office that runs this assessment (市创模办, 路桥区创模办)
        office = await assessments.office_of(ctx.db, ctx.sender.assessment_id, ctx.deps.offices)
        with office_scope(office):
            reply = intent if isinstance(intent, str) else await _dispatch(ctx, intent)
        return TextReply(fit_text("\n\n".join([*ctx.notices, reply])))

    def in_one(self, msg: InboundMessage) -> UnitOfWork | None:
        """The handling of `msg` as one synchronous unit of work, for the pipeline to run in the
        message's own transaction (record, handle, store the reply, one commit), when it touches
        only the database: a 政务信息 item (title and body) in one text message. None: handle it
        with `await self(msg)`. The unit raises `Defer` when the message turns out to need more
        (not a liaison, a conversation open, a repeat to ask about): it is handled as usual."""
        if msg.is_event or msg.msg_type != "text" or assessments.is_switch(msg.content):
            return None
        intent = _text_intent(msg.content)
        if intent.name != N.SUBMIT_INFO or intent.keyword:
            return None
        title, body = split_title(intent.args["body"])
        if not (title and body):
            return None
        reads = [member_state_ahead(msg.sender)]
        guess = self._info_month.get(msg.sender)
        if guess is not None:
            day = local_date(sent_at(msg, self.deps.clock()))
            reads.append(month_items_ahead(guess[0], day.year, guess[1], month_of(day)))
        return ReadsFirst(partial(self._submit_info, msg, title, body), tuple(reads))

    def _submit_info(self, msg: InboundMessage, title: str, body: str, conn: Connection) -> Reply:
        """`submit_info` of a liaison with one hat and no conversation open, on the message's
        connection."""
        member, state, scopes, waiting = member_state_scopes_of(conn, msg.sender)
        hats = assessments.hats_of(self.deps, msg.sender, member, scopes)
        if state is not None or waiting or len(hats) != 1:
            raise Defer  # (an action waiting for 确认 is closed by the message: `_turn`)
        (sender,) = hats
        if sender.role not in REPORTERS or sender.unit_id is None:
            raise Defer
        scheme = scheme_of(sender.scheme_id) if sender.scheme_id else None
        quota = info_quota(scheme) if scheme is not None else None
        if scheme is None or quota is None:
            raise Defer
        if len(self._info_month) >= INFO_GUESSES:
            self._info_month.clear()
        self._info_month[msg.sender] = (sender.unit_id, quota.rule.target)
        now = sent_at(msg, self.deps.clock())
        item = InfoItem(title=title, body=body, attachments=(), sent_at=now, source_key=msg.key)
        label = rule_label(scheme, quota.rule.id)
        outcome = log_info_in(conn, sender.unit_id, sender.userid, quota, label, item, False)
        if isinstance(outcome, Repeat):
            raise Defer  # asks the user: the conversation's state is written by the handler
        return TextReply(fit_text(outcome))


async def expire_drafts(deps: ChatDeps, now: datetime | None = None) -> int:
    """The periodic part of the chat: drafts left quiet past their time are dropped and their
    authors told (the server runs it every minute)."""
    return await conversation.expire_drafts(deps, now or deps.clock())


def make_handler(
    *,
    db: Database,
    channel: Channel | None = None,
    settings: Any = None,
    clock: Callable[[], datetime] = system_clock,
    **options: Any,
) -> ChatHandler:
    """The factory `kaohe serve` loads (`handlers.app:make_handler`)."""
    admins = frozenset(getattr(settings, "admins", ()) or ())
    for name in ("dashboard_secret", "public_url"):
        value: Any = getattr(settings, name, None)
        if hasattr(value, "get_secret_value"):  # a SecretStr setting
            value = value.get_secret_value()
        options.setdefault(name, value)
    if getattr(settings, "media_dir", None):
        options.setdefault("media_dir", str(settings.media_dir))
    if getattr(settings, "exports_dir", None) is not None:
        options.setdefault("work_dir", str(settings.exports_dir))
    return ChatHandler(ChatDeps(db=db, channel=channel, clock=clock, admins=admins, **options))
