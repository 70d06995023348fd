"""Parsing pushed frames into messages, for both long connections (no network, no database)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.dingtalk import frames as dd
from bot.dingtalk.service import message_of
from bot.wecombot import frames as wx

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def push(body: dict, cmd: str = wx.MSG_CALLBACK) -> wx.Frame:
    return wx.decode(json.dumps({"cmd": cmd, "headers": {"req_id": "r1"}, "body": body}))


def wx_body(msgtype: str, part: dict, **extra: object) -> dict:
    return {
        "msgid": "m1",
        "from": {"userid": "zhangsan"},
        "msgtype": msgtype,
        msgtype: part,
        **extra,
    }


def test_wecom_bot_text_voice_mixed_and_file() -> None:
    text = wx.parse_push(
        push(wx_body("text", {"content": "我的得分"}, create_time=int(NOW.timestamp()) + 100)),
        received=NOW,
    )
    assert (text.key, text.sender, text.msg_type, text.content) == (
        "wecom_bot:m1",
        "zhangsan",
        "text",
        "我的得分",
    )
    assert text.created_at == NOW  # a create time after receipt is bounded by it
    voice = wx.parse_push(push(wx_body("voice", {"content": "进度"})), received=NOW)
    assert (voice.msg_type, voice.content) == ("text", "进度")
    image = {"url": "https://x/y", "aeskey": "k"}
    mixed = wx_body(
        "mixed",
        {
            "msg_item": [
                {"msgtype": "text", "text": {"content": "政务信息：标题"}},
                {"msgtype": "image", "image": image},
            ]
        },
    )
    assert wx.parse_push(push(mixed), received=NOW).content == "政务信息：标题"
    pictures = wx_body("mixed", {"msg_item": [{"msgtype": "image", "image": image}]})
    only = wx.parse_push(push(pictures), received=NOW)
    assert only.msg_type == "image" and wx.split_media_ref(only.media_id or "") == (
        "https://x/y",
        "k",
    )
    file = wx.parse_push(push(wx_body("file", image)), received=NOW)
    assert file.msg_type == "file" and file.media_id == "https://x/y#k"


def test_wecom_bot_events_and_refusals() -> None:
    event = push(
        {
            "msgid": "e1",
            "from": {"userid": "lisi"},
            "msgtype": "event",
            "event": {
                "eventtype": "template_card_event",
                "template_card_event": {
                    "event_key": "progress",
                    "task_id": "rem-1",
                    "card_type": "button_interaction",
                },
            },
        },
        wx.EVENT_CALLBACK,
    )
    msg = wx.parse_push(event, received=NOW)
    assert (msg.event, msg.event_key, msg.task_id, msg.is_event) == (
        "template_card_event",
        "progress",
        "rem-1",
        True,
    )
    for bad in ({"from": {"userid": "x"}, "msgtype": "text"}, {"msgid": "m", "msgtype": "text"}):
        with pytest.raises(wx.FrameError):
            wx.parse_push(push(bad))
    with pytest.raises(wx.FrameError):
        wx.decode("not json")
    assert (
        wx.parse_recorded(wx.recorded(push(wx_body("text", {"content": "帮助"})))).content == "帮助"
    )


def callback(data: dict, topic: str = dd.TOPIC_ROBOT) -> dd.Frame:
    return dd.decode(
        json.dumps(
            {
                "type": "CALLBACK",
                "headers": {"messageId": "h1", "topic": topic},
                "data": json.dumps(data),
            }
        )
    )


def dd_msg(msgtype: str, **part: object) -> dict:
    return {
        "msgId": "d1",
        "senderStaffId": "0128",
        "createAt": 1796000000000,
        "sessionWebhook": "https://hook",
        "msgtype": msgtype,
        **part,
    }


def test_dingtalk_text_audio_rich_text_and_files() -> None:
    text = message_of(callback(dd_msg("text", text={"content": " 我的得分 "})))
    assert (text.key, text.sender, text.content) == ("dingtalk:d1", "dingtalk:0128", "我的得分")
    assert text.raw["session_webhook"] == "https://hook"
    audio = message_of(
        callback(dd_msg("audio", content={"recognition": "进度", "downloadCode": "a"}))
    )
    assert (audio.msg_type, audio.content) == ("text", "进度")
    rich = message_of(
        callback(
            dd_msg(
                "richText",
                content={
                    "richText": [
                        {"text": "政务信息：标题"},
                        {"downloadCode": "p1", "type": "picture"},
                    ]
                },
            )
        )
    )
    assert rich.content == "政务信息：标题"
    picture = message_of(callback(dd_msg("picture", content={"downloadCode": "p2"})))
    assert (picture.msg_type, picture.media_id) == ("image", "p2")
    file = message_of(
        callback(dd_msg("file", content={"downloadCode": "f1", "fileName": "报告.docx"}))
    )
    assert (file.msg_type, file.media_id, file.file_name) == ("file", "f1", "报告.docx")
    click = message_of(
        callback(dd_msg("text", text={"content": "查看进度"}))
    )  # an action card's button
    assert (click.event, click.event_key) == ("template_card_event", "progress")


def test_dingtalk_card_callback_and_refusals() -> None:
    value = json.dumps({"cardPrivateData": {"actionIds": ["a"], "params": {"key": "start_info"}}})
    card = message_of(
        callback({"userId": "0128", "outTrackId": "rem-9", "content": value}, dd.TOPIC_CARD)
    )
    assert (card.key, card.sender, card.event_key, card.task_id) == (
        "dingtalk:card:h1",
        "dingtalk:0128",
        "start_info",
        "rem-9",
    )
    with pytest.raises(dd.FrameError):
        message_of(callback({"msgId": "d1", "msgtype": "text"}))  # no staff id: cannot be answered
    with pytest.raises(dd.FrameError):
        dd.decode('{"type": "CALLBACK"}')
    ack = json.loads(dd.ack(callback(dd_msg("text", text={"content": "x"})), dd.CALLBACK_OK))
    assert ack == {
        "code": 200,
        "headers": {"contentType": "application/json", "messageId": "h1"},
        "message": "OK",
        "data": '{"response": null}',
    }
