"""The active client against the fake WeCom: tokens, retries, config errors, encoding, media,
cards, the group robot and pacing. A fake clock makes every wait instant."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.wecom.chunks import split_utf8
from bot.wecom.client import (
    WebhookClient,
    WeComAPIError,
    WeComClient,
    WeComConfigError,
    dumps,
    safe_filename,
)
from bot.wecom.pacing import Pacer
from tests.fakewecom import FakeWeCom


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
async def wecom() -> AsyncIterator[FakeWeCom]:
    async with FakeWeCom() as fake:
        yield fake


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def client(wecom: FakeWeCom, clock: FakeClock, tmp_path: Path) -> AsyncIterator[WeComClient]:
    async with WeComClient(
        corp_id=wecom.corp_id,
        secret=wecom.secret,
        agent_id=wecom.agent_id,
        api_base=wecom.url,
        media_dir=tmp_path / "media",
        clock=clock,
        sleep=clock.sleep,
        timeout=2.0,
    ) as c:
        yield c  # type: ignore[misc]


# --- token -----------------------------------------------------------------------------------------


async def test_token_is_cached_and_refreshed_before_expiry(
    wecom: FakeWeCom, client: WeComClient, clock: FakeClock
) -> None:
    await client.send_text("zhangsan", "一")
    await client.send_text("zhangsan", "二")
    assert wecom.gettoken_calls == 1
    clock.now += 7200 - 300 - 1
    await client.send_text("lisi", "三")
    assert wecom.gettoken_calls == 1
    clock.now += 2  # inside the refresh margin: fetched again before WeCom would expire it
    await client.send_text("lisi", "四")
    assert wecom.gettoken_calls == 2
    assert wecom.sent_texts() == ["一", "二", "三", "四"]


async def test_expired_token_is_refreshed_once_under_twenty_concurrent_sends(
    wecom: FakeWeCom, client: WeComClient
) -> None:
    await client.get_token()
    wecom.expire_tokens()
    users = [f"user{i}" for i in range(20)]
    await asyncio.gather(*(client.send_text(u, f"提醒 {u}") for u in users))
    assert wecom.gettoken_calls == 2  # the first token and exactly one refresh
    assert sorted(m["touser"] for m in wecom.sent) == sorted(users)
    assert len(wecom.calls_to("message/send")) == 40  # each: one 42001, one success


async def test_invalid_token_retries_only_once(wecom: FakeWeCom, client: WeComClient) -> None:
    wecom.fail("message/send", 40014, times=2)
    with pytest.raises(WeComAPIError) as info:
        await client.send_text("zhangsan", "x")
    assert info.value.errcode == 40014
    assert len(wecom.calls_to("message/send")) == 2
    assert wecom.gettoken_calls == 2


async def test_a_stale_failure_does_not_drop_a_newer_token(client: WeComClient) -> None:
    old = await client.get_token()
    client.invalidate_token(old)
    new = await client.get_token()
    client.invalidate_token(old)  # a late report about the old token
    assert await client.get_token() == new


@pytest.mark.parametrize("code", [40013, 60020, 40001])
async def test_config_errors_are_clear_and_never_retried(
    wecom: FakeWeCom, client: WeComClient, clock: FakeClock, code: int
) -> None:
    wecom.gettoken_error = code
    for _ in range(3):
        with pytest.raises(WeComConfigError) as info:
            await client.send_text("zhangsan", "x")
        assert info.value.errcode == code
    assert wecom.gettoken_calls == 1  # remembered during the cool-down
    assert clock.sleeps == []
    assert wecom.secret not in str(info.value)
    assert "check" in str(info.value) or "IP" in str(info.value)
    clock.now += 301
    wecom.gettoken_error = None
    await client.send_text("zhangsan", "x")
    assert wecom.gettoken_calls == 2


async def test_wrong_secret_is_a_config_error(wecom: FakeWeCom, tmp_path: Path) -> None:
    async with WeComClient(
        corp_id=wecom.corp_id, secret="wrong", agent_id=wecom.agent_id, api_base=wecom.url
    ) as c:
        with pytest.raises(WeComConfigError) as info:
            await c.get_token()
    assert info.value.errcode == 40001
    assert "wrong" not in repr(c)


async def test_config_error_on_a_business_call(wecom: FakeWeCom, client: WeComClient) -> None:
    wecom.fail("message/send", 60020)
    with pytest.raises(WeComConfigError):
        await client.send_text("zhangsan", "x")
    assert len(wecom.calls_to("message/send")) == 1


# --- busy, limits, timeouts --------------------------------------------------------------------


@pytest.mark.parametrize("code", [-1, 45009, 45033])
async def test_busy_answers_are_retried_with_backoff(
    wecom: FakeWeCom, client: WeComClient, clock: FakeClock, code: int
) -> None:
    wecom.fail("message/send", code, times=2)
    await client.send_text("zhangsan", "终于")
    assert wecom.sent_texts() == ["终于"]
    assert clock.sleeps == [1.0, 2.0]


async def test_retries_give_up(wecom: FakeWeCom, client: WeComClient, clock: FakeClock) -> None:
    wecom.fail("message/send", 45009, times=10)
    with pytest.raises(WeComAPIError) as info:
        await client.send_text("zhangsan", "x")
    assert info.value.errcode == 45009
    assert len(wecom.calls_to("message/send")) == 4
    assert clock.sleeps == [1.0, 2.0, 4.0]


async def test_timeouts_are_retried_and_duplicates_suppressed(
    wecom: FakeWeCom, tmp_path: Path
) -> None:
    clock = FakeClock()
    async with WeComClient(
        corp_id=wecom.corp_id,
        secret=wecom.secret,
        agent_id=wecom.agent_id,
        api_base=wecom.url,
        clock=clock,
        sleep=clock.sleep,
        timeout=0.2,
    ) as c:
        wecom.delay("message/send", 0.4)
        await c.send_text("zhangsan", "只到一次")
        await asyncio.sleep(0.3)  # let the slow first attempt finish on the server
    # The slow first attempt was delivered, the retry was recognised as a duplicate.
    assert wecom.sent_texts() == ["只到一次"]
    assert len(wecom.duplicates) == 1
    assert wecom.sent[0]["enable_duplicate_check"] == 1


# --- encoding and content ----------------------------------------------------------------------


async def test_chinese_text_arrives_unescaped(wecom: FakeWeCom, client: WeComClient) -> None:
    await client.send_text("zhangsan", "你好，联络员！")
    raw = wecom.calls_to("message/send")[-1].raw
    assert "你好，联络员！".encode() in raw
    assert b"\\u" not in raw
    assert wecom.sent[0] | {} == {
        "touser": "zhangsan",
        "msgtype": "text",
        "agentid": wecom.agent_id,
        "text": {"content": "你好，联络员！"},
        "enable_duplicate_check": 1,
        "duplicate_check_interval": 120,
    }
    assert dumps({"a": "中"}) == '{"a":"中"}'.encode()


async def test_long_text_is_split_on_utf8_boundaries(wecom: FakeWeCom, client: WeComClient) -> None:
    text = "\n".join(f"第{i}行：考核情况说明，得分正常。" for i in range(200))
    await client.send_text("zhangsan", text)
    parts = wecom.sent_texts("zhangsan")
    assert len(parts) > 1
    assert all(len(p.encode()) <= 2048 for p in parts)
    assert "".join(parts) == text


def test_split_utf8_edges() -> None:
    assert split_utf8("") == []
    assert split_utf8("   ") == []
    assert split_utf8("短") == ["短"]
    emoji = "😀" * 1000  # 4 bytes each, no newlines
    parts = split_utf8(emoji, 2048)
    assert all(len(p.encode()) <= 2048 for p in parts) and "".join(parts) == emoji
    assert [len(p.encode()) for p in split_utf8("中" * 1000, 2048)] == [2046, 954]


async def test_markdown_and_cards(wecom: FakeWeCom, client: WeComClient) -> None:
    await client.send_markdown("zhangsan", '**得分** <font color="info">95</font>')
    card = {
        "card_type": "button_interaction",
        "main_title": {"title": "审核"},
        "task_id": "task-1",
        "button_list": [{"text": "通过", "style": 1, "key": "accept:1"}],
    }
    result = await client.send_template_card("admin", card)
    assert result["response_code"].startswith("RC")
    await client.update_template_card(
        result["response_code"], userids=["admin"], replace_name="已通过"
    )
    assert wecom.sent[0]["markdown"]["content"].startswith("**得分**")
    assert wecom.sent[1]["template_card"] == card
    assert wecom.card_updates == [
        {
            "userids": ["admin"],
            "agentid": wecom.agent_id,
            "response_code": result["response_code"],
            "button": {"replace_name": "已通过"},
        }
    ]
    with pytest.raises(ValueError):
        await client.update_template_card("x", userids=["a"])


async def test_file_upload_and_send(wecom: FakeWeCom, client: WeComClient, tmp_path: Path) -> None:
    path = tmp_path / "年度考核汇总.xlsx"
    path.write_bytes(b"PK\x03\x04 spreadsheet bytes")
    await client.send_file("admin", path)
    ((media_id, media),) = wecom.uploads.items()
    assert media.filename == "年度考核汇总.xlsx"
    assert media.content == path.read_bytes()
    assert wecom.sent[-1]["file"] == {"media_id": media_id}
    assert wecom.calls_to("media/upload")[0].query["type"] == "file"


async def test_media_is_downloaded_and_kept(wecom: FakeWeCom, client: WeComClient) -> None:
    media_id = wecom.add_media(b"\xff\xd8jpeg" * 100, "现场照片.jpg")
    stored = await client.download_media(media_id)
    assert stored.path.read_bytes() == b"\xff\xd8jpeg" * 100
    assert stored.filename == "现场照片.jpg"
    assert stored.ref.endswith("-现场照片.jpg")
    assert (client.media_dir / stored.ref) == stored.path
    assert stored.size == 600 and stored.content_type == "image/jpeg"
    assert not list(client.media_dir.rglob("*.part"))


async def test_media_errors(wecom: FakeWeCom, client: WeComClient) -> None:
    with pytest.raises(WeComAPIError) as info:
        await client.download_media("nope")
    assert info.value.errcode == 40007
    media_id = wecom.add_media(b"data", "../../etc/passwd")
    wecom.expire_tokens()
    stored = await client.download_media(media_id)  # 42001 → refresh → retry
    assert stored.path.parent.is_relative_to(client.media_dir)
    assert stored.filename == "passwd"


def test_safe_filename() -> None:
    assert safe_filename("a/b\\c.txt") == "c.txt"
    assert safe_filename("..") == "file"
    assert safe_filename("报告 (1).pdf") == "报告 (1).pdf"
    assert safe_filename("x;rm -rf*.sh") == "x_rm -rf_.sh"
    long = safe_filename("长" * 100 + ".docx")
    assert long.endswith(".docx") and len(long.encode()) <= 120


# --- group robot and pacing --------------------------------------------------------------------


async def test_webhook_markdown_split_and_paced(wecom: FakeWeCom) -> None:
    clock = FakeClock()
    async with WebhookClient(
        wecom.webhook_key, api_base=wecom.url, clock=clock, sleep=clock.sleep
    ) as robot:
        big = "\n".join(f"- 单位{i}：已报送" for i in range(600))
        await robot.send_markdown(big)
        assert all(len(m["markdown"]["content"].encode()) <= 4096 for m in wecom.webhook_sent)
        assert "".join(m["markdown"]["content"] for m in wecom.webhook_sent) == big
        for i in range(25 - len(wecom.webhook_sent)):
            await robot.send_markdown(f"公告 {i}")
    assert len(wecom.webhook_sent) == 25
    assert sum(clock.sleeps) >= 60  # the 21st message waited for the minute to pass
    assert b"\\u" not in wecom.calls_to("webhook/send")[0].raw
    assert "robot-key" not in repr(robot)


async def test_webhook_wrong_key(wecom: FakeWeCom) -> None:
    async with WebhookClient("bad", api_base=wecom.url) as robot:
        with pytest.raises(WeComAPIError) as info:
            await robot.send_text("x")
    assert info.value.errcode == 93000


async def test_member_pacing(wecom: FakeWeCom, client: WeComClient, clock: FakeClock) -> None:
    for i in range(30):
        await client.send_text("zhangsan", f"{i}")
    await client.send_text("lisi", "other member: no wait")
    assert clock.sleeps == []
    await client.send_text("zhangsan", "31st")
    assert clock.sleeps and sum(clock.sleeps) == pytest.approx(60.0)


async def test_pacer_windows() -> None:
    clock = FakeClock()
    pacer = Pacer([(2, 10.0), (3, 100.0)], clock=clock, sleep=clock.sleep)
    waits = [await pacer.acquire("k") for _ in range(4)]
    assert waits == [0.0, 0.0, 10.0, 90.0]
    with pytest.raises(ValueError):
        Pacer([])


async def test_non_json_answer_is_an_error(wecom: FakeWeCom, client: WeComClient) -> None:
    # Point the client at a path the fake does not know: 404 with a text body.
    with pytest.raises(WeComAPIError):
        await client.call("GET", "/cgi-bin/nothing")
    assert json.loads(dumps([1]).decode()) == [1]
