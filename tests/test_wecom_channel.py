"""The Channel protocol and its two implementations (WeCom, local); the dependency rule is in
tests/test_layers.py."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.local_channel import LocalChannel
from bot.wecom.cards import template_card
from bot.wecom.channel import WeComChannel
from bot.wecom.client import WebhookClient, WeComClient
from handlers.channel import Channel, ChannelError, deliver
from handlers.types import (
    Button,
    Card,
    CardReply,
    FileReply,
    MarkdownReply,
    TextReply,
    UpdateButtonReply,
)
from tests.fakewecom import FakeWeCom

CARD = Card(
    title="政务信息待审核",
    description="椒江区 · 第 3 条",
    task_id="review-17",
    buttons=(Button("采纳", "accept:17"), Button("退回", "reject:17", style=2)),
)


@pytest.fixture
async def wecom() -> AsyncIterator[FakeWeCom]:
    async with FakeWeCom() as fake:
        yield fake


@pytest.fixture
async def channel(wecom: FakeWeCom, tmp_path: Path) -> AsyncIterator[WeComChannel]:
    async def no_sleep(_: float) -> None:
        return None

    client = WeComClient(
        corp_id=wecom.corp_id,
        secret=wecom.secret,
        agent_id=wecom.agent_id,
        api_base=wecom.url,
        media_dir=tmp_path,
        sleep=no_sleep,
    )
    robot = WebhookClient(wecom.webhook_key, api_base=wecom.url, sleep=no_sleep)
    yield WeComChannel(client, robot)
    await client.close()
    await robot.close()


def test_both_implement_the_protocol(channel: WeComChannel) -> None:
    assert isinstance(channel, Channel)
    assert isinstance(LocalChannel(None), Channel)


async def test_wecom_channel_sends_everything(
    wecom: FakeWeCom, channel: WeComChannel, tmp_path: Path
) -> None:
    await channel.send_text("zhangsan", "你好")
    await channel.send_markdown("zhangsan", "**得分** 95")
    report = tmp_path / "自查报告.pdf"
    report.write_bytes(b"%PDF-1.7 report")
    await channel.send_file("zhangsan", report)
    code = await channel.send_card("admin", CARD)
    assert code and code.startswith("RC")
    await channel.update_card("admin", code, "已采纳")
    await channel.announce("## 本月报送情况")
    kinds = [m["msgtype"] for m in wecom.sent]
    assert kinds == ["text", "markdown", "file", "template_card"]
    card = wecom.sent[3]["template_card"]
    assert card["card_type"] == "button_interaction"
    assert card["task_id"] == "review-17"
    assert [b["key"] for b in card["button_list"]] == ["accept:17", "reject:17"]
    assert wecom.card_updates[0]["button"] == {"replace_name": "已采纳"}
    assert wecom.webhook_sent == [
        {"msgtype": "markdown", "markdown": {"content": "## 本月报送情况"}}
    ]


async def test_card_without_buttons_or_url_goes_as_markdown(
    wecom: FakeWeCom, channel: WeComChannel
) -> None:
    assert await channel.send_card("u", Card(title="提醒", description="明天截止")) is None
    assert wecom.sent[0]["markdown"]["content"] == "**提醒**\n明天截止"


def test_template_card_rules() -> None:
    notice = template_card(Card(title="t", url="https://example.org"))
    assert notice["card_type"] == "text_notice" and notice["card_action"]["url"]
    assert template_card(Card(title="t", buttons=(Button("a", "k"),)))["task_id"]
    with pytest.raises(ValueError):
        template_card(Card(title="t", task_id="bad id!", buttons=(Button("a", "k"),)))
    with pytest.raises(ValueError):
        template_card(Card(title="t", buttons=tuple(Button(str(i), str(i)) for i in range(7))))


async def test_errors_become_channel_errors(wecom: FakeWeCom, channel: WeComChannel) -> None:
    wecom.fail("message/send", 81013)
    with pytest.raises(ChannelError):
        await channel.send_text("nobody", "x")


async def test_announce_without_robot_is_a_noop(wecom: FakeWeCom, channel: WeComChannel) -> None:
    await WeComChannel(channel.client).announce("x")
    assert wecom.webhook_sent == []


async def test_local_channel_prints_and_collects(tmp_path: Path) -> None:
    out = io.StringIO()
    local = LocalChannel(out)
    await deliver(local, "zhangsan", TextReply("你好"))
    await deliver(local, "zhangsan", MarkdownReply("**粗**"))
    await deliver(local, "zhangsan", CardReply(CARD))
    await deliver(local, "zhangsan", FileReply(str(tmp_path / "a.xlsx"), text="汇总表"))
    await deliver(local, "zhangsan", UpdateButtonReply("已处理"), response_code="RC1")
    await deliver(local, "zhangsan", UpdateButtonReply("已处理"))  # no code: nothing to update
    await local.announce("公告")
    assert [s.kind for s in local.sent] == [
        "text",
        "markdown",
        "card",
        "text",
        "file",
        "card_update",
        "announce",
    ]
    assert len(local.messages_for("zhangsan")) == 6
    shown = out.getvalue()
    assert "你好" in shown and "[采纳] (accept:17)" in shown and "公告" in shown
