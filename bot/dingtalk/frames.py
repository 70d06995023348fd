"""Stream-mode frames: `{specVersion, type: SYSTEM|EVENT|CALLBACK, headers: {messageId, topic,
...}, data: "<JSON text>"}` in, `{code, headers: {contentType, messageId}, message, data}` ACKs
out; and the robot's message (topic `/v1.0/im/bot/messages/get`) as our `InboundMessage`.

Users are DingTalk staff ids; inside kaohe they are `dingtalk:<staffId>` (storage/platforms.py),
so they never collide with WeCom user ids and every send can be routed to the right platform.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from handlers.types import InboundMessage
from storage.platforms import DINGTALK_PREFIX, Platform, platform_of
from storage.platforms import address as platform_address

CHANNEL = "dingtalk"
KEY_PREFIX = "dingtalk:"
TOPIC_ROBOT = "/v1.0/im/bot/messages/get"
TOPIC_CARD = "/v1.0/card/instances/callback"
MAX_FRAME = 1024 * 1024


class FrameError(ValueError):
    """A frame that is not what the protocol says."""


def address(staff_id: str) -> str:
    """kaohe's user id of a DingTalk staff id."""
    return platform_address(Platform.DINGTALK, staff_id)


def staff_id(user: str) -> str:
    """The DingTalk staff id of one of our user ids (plain ids are taken as they are)."""
    return user.removeprefix(DINGTALK_PREFIX)


def is_dingtalk(user: str) -> bool:
    return platform_of(user) is Platform.DINGTALK


@dataclass(frozen=True)
class Frame:
    type: str
    topic: str
    message_id: str
    data: str  # the JSON text as sent (echoed back in a ping's ACK)
    headers: dict[str, Any] = field(default_factory=dict)

    def json(self) -> dict[str, Any]:
        try:
            value = json.loads(self.data) if self.data else {}
        except ValueError as exc:
            raise FrameError(f"data is not JSON: {exc}") from None
        if not isinstance(value, dict):
            raise FrameError("data is not an object")
        return value


def decode(text: str) -> Frame:
    if len(text) > MAX_FRAME:
        raise FrameError("frame too large")
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise FrameError(f"not JSON: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("headers"), dict):
        raise FrameError("frame without headers")
    headers = raw["headers"]
    data = raw.get("data", "")
    if not isinstance(data, str):
        data = json.dumps(data, ensure_ascii=False)
    return Frame(
        type=str(raw.get("type") or ""),
        topic=str(headers.get("topic") or ""),
        message_id=str(headers.get("messageId") or ""),
        data=data,
        headers=headers,
    )


def ack(frame: Frame, data: str, *, code: int = 200, message: str = "OK") -> str:
    return json.dumps(
        {
            "code": code,
            "headers": {"contentType": "application/json", "messageId": frame.message_id},
            "message": message,
            "data": data,
        },
        ensure_ascii=False,
    )


CALLBACK_OK = json.dumps({"response": None})
EVENT_OK = json.dumps({"status": "SUCCESS", "message": "success"})


def _ms(value: Any, received: datetime) -> datetime:
    try:
        at = datetime.fromtimestamp(int(value) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return received
    return min(at, received)


def parse_robot_message(
    data: dict[str, Any], *, received: datetime | None = None
) -> InboundMessage:
    """A robot message → InboundMessage, key `dingtalk:<msgId>`, sender `dingtalk:<staffId>`.

    text → text; audio → text of its recognition; richText → its text, first picture as media;
    picture / file / video → media with the `downloadCode` in `raw`. The session webhook and its
    expiry ride along in `raw` for the in-line answer."""
    received = received or datetime.now(UTC)
    msg_id = str(data.get("msgId") or "")
    staff = str(data.get("senderStaffId") or "")
    if not msg_id or not staff:
        raise FrameError("robot message without msgId or senderStaffId")
    raw: dict[str, str] = {
        "session_webhook": str(data.get("sessionWebhook") or ""),
        "webhook_expires": str(data.get("sessionWebhookExpiredTime") or ""),
        "conversation_type": str(data.get("conversationType") or ""),
        "conversation_id": str(data.get("conversationId") or ""),
        "robot_code": str(data.get("robotCode") or ""),
        "nick": str(data.get("senderNick") or ""),
    }
    base: dict[str, Any] = {
        "key": KEY_PREFIX + msg_id,
        "sender": address(staff),
        "created_at": _ms(data.get("createAt"), received),
        "msg_id": msg_id,
    }
    kind = str(data.get("msgtype") or "")
    content = data.get("content") if isinstance(data.get("content"), dict) else {}
    if kind == "text":
        text = str((data.get("text") or {}).get("content") or "").strip()
        return InboundMessage(**base, msg_type="text", content=text, raw=raw)
    if kind == "audio":
        text = str(content.get("recognition") or "")
        return InboundMessage(**base, msg_type="text", content=text, raw={**raw, "voice": "1"})
    if kind == "richText":
        parts = content.get("richText") if isinstance(content.get("richText"), list) else []
        texts = [str(p.get("text")) for p in parts if isinstance(p, dict) and p.get("text")]
        codes = [
            str(p.get("downloadCode"))
            for p in parts
            if isinstance(p, dict) and p.get("downloadCode")
        ]
        if codes:
            raw["download_code"] = codes[0]
        return InboundMessage(**base, msg_type="text", content="\n".join(texts).strip(), raw=raw)
    if kind in ("picture", "file", "video"):
        code = str(content.get("downloadCode") or content.get("pictureDownloadCode") or "")
        if not code:
            raise FrameError(f"{kind} without downloadCode")
        raw["download_code"] = code
        msg_type = "image" if kind == "picture" else kind
        name = str(content.get("fileName") or "")
        return InboundMessage(**base, msg_type=msg_type, media_id=code, file_name=name, raw=raw)
    return InboundMessage(**base, msg_type=kind or "unknown", raw=raw)


def parse_card_callback(
    frame: Frame, data: dict[str, Any], *, received: datetime | None = None
) -> InboundMessage:
    """A card button press → a `template_card_event`, keyed by the frame's messageId."""
    user = str(data.get("userId") or "")
    if not user or not frame.message_id:
        raise FrameError("card callback without userId or messageId")
    key = ""
    try:
        value = json.loads(str(data.get("content") or data.get("value") or "{}"))
        private = value.get("cardPrivateData") or {}
        key = str((private.get("params") or {}).get("key") or (private.get("actionIds") or [""])[0])
    except (ValueError, AttributeError, TypeError):
        pass
    return InboundMessage(
        key=f"{KEY_PREFIX}card:{frame.message_id}",
        sender=address(user),
        msg_type="event",
        created_at=received or datetime.now(UTC),
        event="template_card_event",
        event_key=key,
        task_id=str(data.get("outTrackId") or ""),
    )
