"""Frames of the 智能机器人 long connection: `{cmd, headers: {req_id}, body}` JSON text frames.

Parsing turns a pushed message or event into our `InboundMessage`; it refuses (FrameError) a frame
without what every later step needs (msgid, sender), so nothing half-read is recorded.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from handlers.types import InboundMessage

SUBSCRIBE = "aibot_subscribe"
PING = "ping"
MSG_CALLBACK = "aibot_msg_callback"
EVENT_CALLBACK = "aibot_event_callback"
RESPOND = "aibot_respond_msg"
RESPOND_WELCOME = "aibot_respond_welcome_msg"
RESPOND_UPDATE = "aibot_respond_update_msg"
SEND = "aibot_send_msg"
UPLOAD_INIT = "aibot_upload_media_init"
UPLOAD_CHUNK = "aibot_upload_media_chunk"
UPLOAD_FINISH = "aibot_upload_media_finish"

CHANNEL = "wecom_bot"  # the channel name in outbox payloads and inbound keys
KEY_PREFIX = "wecom_bot:"
STREAM_LIMIT = 20480  # bytes of one stream reply's content
MAX_FRAME = 1024 * 1024  # bytes; pushed frames are a few KB


class FrameError(ValueError):
    """A frame that is not JSON, or lacks what we need."""


@dataclass(frozen=True)
class Frame:
    cmd: str
    req_id: str
    body: dict[str, Any] = field(default_factory=dict)
    errcode: int | None = None
    errmsg: str = ""

    @property
    def is_answer(self) -> bool:
        """An answer to one of our requests (no cmd, an errcode)."""
        return not self.cmd and self.errcode is not None


def new_req_id(cmd: str) -> str:
    """`{cmd}_{ms}_{8 hex}`, as the official SDKs make them."""
    return f"{cmd}_{int(time.time() * 1000)}_{secrets.token_hex(4)}"


def encode(cmd: str, req_id: str, body: dict[str, Any] | None = None) -> str:
    data: dict[str, Any] = {"cmd": cmd, "headers": {"req_id": req_id}}
    if body is not None:
        data["body"] = body
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def decode(text: str) -> Frame:
    if len(text) > MAX_FRAME:
        raise FrameError("frame too large")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise FrameError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise FrameError("frame is not an object")
    headers = data.get("headers") if isinstance(data.get("headers"), dict) else {}
    body = data.get("body") if isinstance(data.get("body"), dict) else {}
    errcode = data.get("errcode")
    return Frame(
        cmd=str(data.get("cmd") or ""),
        req_id=str(headers.get("req_id") or ""),
        body=body,
        errcode=int(errcode)
        if isinstance(errcode, int | str) and str(errcode).lstrip("-").isdigit()
        else None,
        errmsg=str(data.get("errmsg") or ""),
    )


def _created(body: dict[str, Any], received: datetime) -> datetime:
    """The user's send time (create_time, seconds), never after our receipt."""
    raw = body.get("create_time")
    try:
        at = datetime.fromtimestamp(int(raw), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return received
    return min(at, received)


def _media(part: Any) -> dict[str, str]:
    if not isinstance(part, dict):
        return {}
    url, aeskey = str(part.get("url") or ""), str(part.get("aeskey") or "")
    return {"url": url, "aeskey": aeskey} if url else {}


def media_ref(media: dict[str, str]) -> str:
    """What the pipeline hands the media fetcher for one picture or file: its URL and the key it
    is sealed with (the URL lives 5 minutes, the key opens only this file)."""
    return f"{media['url']}#{media['aeskey']}"


def split_media_ref(ref: str) -> tuple[str, str]:
    url, _, aeskey = ref.rpartition("#")
    return url, aeskey


def recorded(frame: Frame) -> str:
    """The text kept with the recorded message (read again by `parse_recorded` in recovery)."""
    return json.dumps(
        {"cmd": frame.cmd, "headers": {"req_id": frame.req_id}, "body": frame.body},
        ensure_ascii=False,
    )


def parse_recorded(raw: str) -> InboundMessage:
    return parse_push(decode(raw))


def parse_push(frame: Frame, *, received: datetime | None = None) -> InboundMessage:
    """A pushed message (`aibot_msg_callback`) or event (`aibot_event_callback`) → InboundMessage.

    Key `wecom_bot:<msgid>`. Text and voice (already text) become `text`; `mixed` becomes text
    (or, pictures only, an image); image and file carry their encrypted URL and key as the
    `media_id` (`media_ref`): the pipeline has them downloaded and decrypted before the handler
    runs."""
    received = received or datetime.now(UTC)
    body = frame.body
    msgid = str(body.get("msgid") or "")
    sender = body.get("from") if isinstance(body.get("from"), dict) else {}
    userid = str(sender.get("userid") or "")
    if not msgid or not userid:
        raise FrameError("push without msgid or from.userid")
    base: dict[str, Any] = {
        "key": KEY_PREFIX + msgid,
        "sender": userid,
        "created_at": _created(body, received),
        "msg_id": msgid,
    }
    raw: dict[str, str] = {"req_id": frame.req_id, "chattype": str(body.get("chattype") or "")}
    if body.get("chatid"):
        raw["chatid"] = str(body["chatid"])
    msgtype = str(body.get("msgtype") or "")
    if frame.cmd == EVENT_CALLBACK or msgtype == "event":
        event = body.get("event") if isinstance(body.get("event"), dict) else {}
        kind = str(event.get("eventtype") or "")
        if not kind:
            raise FrameError("event without eventtype")
        detail = event.get(kind) if isinstance(event.get(kind), dict) else {}
        return InboundMessage(
            **base,
            msg_type="event",
            event=kind,
            event_key=str(detail.get("event_key") or ""),
            task_id=str(detail.get("task_id") or ""),
            card_type=str(detail.get("card_type") or ""),
            raw=raw,
        )
    if msgtype == "text":
        content = str((body.get("text") or {}).get("content") or "")
        return InboundMessage(**base, msg_type="text", content=content, raw=raw)
    if msgtype == "voice":  # WeCom sends the transcription
        content = str((body.get("voice") or {}).get("content") or "")
        return InboundMessage(**base, msg_type="text", content=content, raw={**raw, "voice": "1"})
    if msgtype == "mixed":
        items = (body.get("mixed") or {}).get("msg_item") or []
        texts = [
            str((i.get("text") or {}).get("content") or "")
            for i in items
            if isinstance(i, dict) and i.get("msgtype") == "text"
        ]
        images = [
            _media(i.get("image"))
            for i in items
            if isinstance(i, dict) and i.get("msgtype") == "image"
        ]
        images = [m for m in images if m]
        content = "\n".join(t for t in texts if t)
        if images and not content:  # pictures only: kept like a picture message (the first)
            return InboundMessage(**base, msg_type="image", media_id=media_ref(images[0]), raw=raw)
        return InboundMessage(**base, msg_type="text", content=content, raw=raw)
    if msgtype in ("image", "file", "video"):
        media = _media(body.get(msgtype))
        if not media:
            raise FrameError(f"{msgtype} without url")
        name = str((body.get(msgtype) or {}).get("filename") or "")
        return InboundMessage(
            **base, msg_type=msgtype, media_id=media_ref(media), file_name=name, raw=raw
        )
    return InboundMessage(**base, msg_type=msgtype or "unknown", raw=raw)
