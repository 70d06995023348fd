"""WeCom callback XML: the encrypted envelope, the plaintext message/event, and passive replies.

Parsed with the standard library's C parser after a check that the document has no DTD (so no
entity of its own, internal or external: only XML's five predefined ones and character
references), and bounded in depth, element count and text size, so that a hostile body is refused
before anything is recorded. (defusedxml did the same through the pure-Python parser, at ~4× the
cost per message; tests/test_wecom_messages.py keeps it as the oracle for hostile documents.)
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree.ElementTree import Element, ParseError, XMLParser

from handlers.types import InboundMessage, Link, Location, SelectedItem

MAX_DEPTH = 6  # <xml><SelectedItems><SelectedItem><OptionIds><OptionId> is 5
MAX_ELEMENTS = 400
MAX_TEXT = 64 * 1024


class XmlError(ValueError):
    """Malformed, hostile or incomplete XML."""


# What may come before the root element: a byte order mark, an XML declaration, blanks. A DTD
# (`<!DOCTYPE …>`) can only stand there, so a document whose root follows at once has none.
_PROLOG_BYTES = re.compile(
    rb"(?:\xef\xbb\xbf)?[ \t\r\n]*(?:<\?xml[^>]*\?>[ \t\r\n]*)?<xml[ \t\r\n/>]"
)
_PROLOG_TEXT = re.compile(r"\ufeff?[ \t\r\n]*(?:<\?xml[^>]*\?>[ \t\r\n]*)?<xml[ \t\r\n/>]")


def parse_xml(data: bytes | str) -> Element:
    """Parse untrusted XML: no DTD, no entities, bounded depth and size; root must be <xml>."""
    plain = _PROLOG_BYTES.match(data) if isinstance(data, bytes) else _PROLOG_TEXT.match(data)
    if plain is None:
        raise XmlError("not a WeCom XML document: a DTD, or a root other than <xml>")
    parser = XMLParser()
    try:
        parser.feed(data)
        root = parser.close()
    except ParseError as exc:
        raise XmlError(f"XML parse error: {exc}") from exc
    if root.tag != "xml":
        raise XmlError(f"unexpected root element <{root.tag}>")
    if len(data) <= MAX_TEXT and len(root) < MAX_ELEMENTS and not any(len(c) for c in root):
        # flat and small (every callback WeCom sends but a few events): two levels deep, one
        # element more than the root has children, no text longer than the whole document
        return root
    _check_bounds(root)
    return root


def _check_bounds(root: Element) -> None:
    count = 0
    stack: list[tuple[Element, int]] = [(root, 1)]
    while stack:
        elem, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH:
            raise XmlError("XML nested too deeply")
        if count > MAX_ELEMENTS:
            raise XmlError("too many XML elements")
        if elem.text and len(elem.text) > MAX_TEXT:
            raise XmlError("XML text too long")
        stack.extend((child, depth + 1) for child in elem)


def _text(root: Element, tag: str) -> str:
    elem = root.find(tag)
    return (elem.text or "").strip() if elem is not None else ""


# --- envelope ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Envelope:
    encrypt: str
    to_user: str  # CorpID; may be absent for some non-app callbacks
    agent_id: str


def parse_envelope(body: bytes) -> Envelope:
    root = parse_xml(body)
    encrypt = _text(root, "Encrypt")
    if not encrypt:
        raise XmlError("envelope has no Encrypt")
    return Envelope(encrypt, _text(root, "ToUserName"), _text(root, "AgentID"))


# --- plaintext message ---------------------------------------------------------------------------


def flat_fields(root: Element) -> dict[str, str]:
    """Top-level fields of a plaintext message (child elements with text only)."""
    return {child.tag: (child.text or "").strip() for child in root if len(child) == 0}


def _int_or_none(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def _float(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise XmlError(f"not a number: {value[:40]!r}") from None


def _selected_items(root: Element) -> tuple[SelectedItem, ...]:
    items = []
    for item in root.iterfind("SelectedItems/SelectedItem"):
        options = tuple(
            (o.text or "").strip() for o in item.iterfind("OptionIds/OptionId") if o.text
        )
        items.append(SelectedItem(_text(item, "QuestionKey"), options))
    return tuple(items)


def canonical_digest(root: Element) -> str:
    """A digest of every tag and text in document order: equal for redeliveries of one event,
    different for any two events that differ in any field (whitespace between tags ignored)."""
    h = hashlib.sha256()
    for elem in root.iter():
        h.update(elem.tag.encode())
        h.update(b"\x00")
        h.update((elem.text or "").strip().encode())
        h.update(b"\x01")
    return h.hexdigest()


def delivery_key(fields: Mapping[str, str], root: Element) -> str:
    """The unique key a delivery is recorded under: MsgId (a string!) for messages; for events,
    sender + time + event + a digest of the whole event (CreateTime alone collides, §1.8)."""
    msg_id = fields.get("MsgId", "")
    if fields.get("MsgType") != "event" and msg_id:
        if len(msg_id) > 150:  # keys are stored in 200 characters
            return "msg#" + hashlib.sha256(msg_id.encode()).hexdigest()
        return f"msg:{msg_id}"
    return ":".join(
        [
            "evt",
            fields.get("FromUserName", "")[:64],
            fields.get("CreateTime", ""),
            fields.get("Event", "")[:32],
            canonical_digest(root)[:40],
        ]
    )


# CreateTime must be a plausible Unix time (2000-01-01 .. 2100-01-01); 10**17 is refused with a
# 4xx, not left to overflow into a 500. The pipeline then bounds it by the time of receipt.
SANE_TIMES = (946_684_800, 4_102_444_800)


def parse_message(plaintext: str, *, corp_id: str | None = None) -> InboundMessage:
    """Plaintext XML → InboundMessage. Refuses a message addressed to another corp."""
    root = parse_xml(plaintext.encode("utf-8"))
    f = flat_fields(root)
    sender = f.get("FromUserName", "")
    msg_type = f.get("MsgType", "")
    if not sender or not msg_type:
        raise XmlError("message lacks FromUserName or MsgType")
    if len(sender) > 64 or len(msg_type) > 40:  # WeCom user ids are at most 64 characters
        raise XmlError("FromUserName or MsgType too long")
    if corp_id is not None and f.get("ToUserName") and f["ToUserName"] != corp_id:
        raise XmlError("message addressed to another corp")
    created = _int_or_none(f.get("CreateTime", ""))
    if created is not None and not SANE_TIMES[0] <= created <= SANE_TIMES[1]:
        raise XmlError(f"CreateTime {created} is not a plausible time")
    created_at = datetime.fromtimestamp(created if created is not None else time.time(), tz=UTC)
    location = None
    if msg_type == "location":
        location = Location(
            latitude=_float(f.get("Location_X", "0")),
            longitude=_float(f.get("Location_Y", "0")),
            scale=_int_or_none(f.get("Scale", "")),
            label=f.get("Label", ""),
        )
    link = None
    if msg_type == "link":
        link = Link(
            f.get("Title", ""), f.get("Description", ""), f.get("Url", ""), f.get("PicUrl", "")
        )
    return InboundMessage(
        key=delivery_key(f, root),
        sender=sender,
        msg_type=msg_type,
        created_at=created_at,
        msg_id=f.get("MsgId") or None,
        agent_id=_int_or_none(f.get("AgentID", "")),
        content=f.get("Content", ""),
        media_id=f.get("MediaId") or None,
        pic_url=f.get("PicUrl", ""),
        media_format=f.get("Format", ""),
        thumb_media_id=f.get("ThumbMediaId") or None,
        file_name=(f.get("FileName", "") or f.get("Title", "")) if msg_type == "file" else "",
        location=location,
        link=link,
        event=(f.get("Event") or None) if msg_type == "event" else None,
        event_key=f.get("EventKey", ""),
        task_id=f.get("TaskId", ""),
        card_type=f.get("CardType", ""),
        response_code=f.get("ResponseCode", ""),
        selected_items=_selected_items(root),
        raw=f,
    )


# --- building XML --------------------------------------------------------------------------------


def cdata(value: str) -> str:
    """CDATA section that survives a ']]>' inside the value."""
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def reply_xml(to_user: str, from_corp: str, create_time: int, msg_type: str, inner: str) -> str:
    """Plaintext of a passive reply: note To = member, From = CorpID (reversed from inbound)."""
    return (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_corp)}</FromUserName>"
        f"<CreateTime>{int(create_time)}</CreateTime>"
        f"<MsgType>{cdata(msg_type)}</MsgType>{inner}</xml>"
    )


def text_reply_xml(to_user: str, from_corp: str, create_time: int, content: str) -> str:
    return reply_xml(
        to_user, from_corp, create_time, "text", f"<Content>{cdata(content)}</Content>"
    )


def update_button_xml(to_user: str, from_corp: str, create_time: int, replace_name: str) -> str:
    inner = f"<Button><ReplaceName>{cdata(replace_name)}</ReplaceName></Button>"
    return reply_xml(to_user, from_corp, create_time, "update_button", inner)


def envelope_xml(encrypt: str, msg_signature: str, timestamp: str, nonce: str) -> str:
    """The encrypted passive-reply envelope."""
    return (
        f"<xml><Encrypt>{cdata(encrypt)}</Encrypt>"
        f"<MsgSignature>{cdata(msg_signature)}</MsgSignature>"
        f"<TimeStamp>{int(timestamp)}</TimeStamp>"
        f"<Nonce>{cdata(nonce)}</Nonce></xml>"
    )
