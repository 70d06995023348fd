"""A chat test bench: the real callback app, real crypto (WeComPeer), real storage, fake WeCom API,
and the real chat handler with a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient, TestServer

from bot.app import PIPELINE_KEY, create_app
from bot.wecom.callback import CallbackConfig
from bot.wecom.channel import WeComChannel
from handlers.app import make_handler
from storage.db import Database
from storage.units import upsert_member, upsert_unit
from tests.fakewecom import AES_KEY, AGENT_ID, CORP_ID, TOKEN, FakeWeCom, WeComPeer

TZ = ZoneInfo("Asia/Shanghai")
LIMIT = 2048

UNITS = [
    ("椒江区", "district", "chuangmo-taizhou"),
    ("路桥区", "district", "chuangmo-taizhou"),
    ("黄岩区环保局", "department", "epb-district-2007"),
]
MEMBERS = [
    ("zhangsan", "张三", "椒江区", "liaison"),
    ("lisi", "李四", "椒江区", "leader"),
    ("wangwu", "王五", "路桥区", "liaison"),
    ("qianba", "钱八", "黄岩区环保局", "liaison"),
    ("admin1", "赵主任", None, "admin"),
]


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> None:
        self.now = datetime(year, month, day, hour, minute, tzinfo=TZ).astimezone(UTC)


@dataclass
class Bench:
    client: TestClient
    peer: WeComPeer
    wecom: FakeWeCom
    db: Database
    clock: Clock
    app: object
    replies: list[tuple[str, str]]

    async def say(self, user: str, text: str) -> str:
        """Send `text` as `user`; return the bot's reply text (passive, or sent later)."""
        before = len(self.wecom.sent_texts(user))
        answer = await self.peer.send_text(self.client, user=user, content=text)
        assert answer.status == 200
        if answer.empty:
            await self.app[PIPELINE_KEY].drain()  # type: ignore[index]
            sent = self.wecom.sent_texts(user)[before:]
            content = "\n".join(sent)
        else:
            content = answer.content or ""
        assert len(content.encode()) <= LIMIT, f"reply over {LIMIT} bytes: {content[:80]}"
        self.replies.append((user, content))
        return content

    async def click(self, user: str, key: str, task_id: str = "card") -> str:
        """A click on a card button `key` as `user`; the bot's reply text."""
        before = len(self.wecom.sent_texts(user))
        answer = await self.peer.click(self.client, user=user, task_id=task_id, key=key)
        assert answer.status == 200
        if answer.empty:
            await self.app[PIPELINE_KEY].drain()  # type: ignore[index]
            return "\n".join(self.wecom.sent_texts(user)[before:])
        return answer.content or ""

    def cards(self, user: str) -> list[dict[str, Any]]:
        """The template cards sent to `user` (WeCom's JSON)."""
        return [m["template_card"] for m in self.wecom.sent_to(user) if "template_card" in m]


async def seed(db: Database) -> dict[str, int]:
    ids: dict[str, int] = {}
    async with db.session() as s:
        for name, kind, scheme in UNITS:
            unit, _ = await upsert_unit(s, name, kind, scheme, actor="test")
            assert unit.id is not None
            ids[name] = unit.id
        for userid, name, unit, role in MEMBERS:
            await upsert_member(s, userid, name, role, ids[unit] if unit else None, actor="test")
        await s.commit()
    return ids


@asynccontextmanager
async def bench(db: Database, tmp_path: Path) -> AsyncIterator[Bench]:
    clock = Clock(datetime(2026, 1, 5, 2, 0, tzinfo=UTC))
    await seed(db)
    async with FakeWeCom() as wecom:
        api = wecom.client(tmp_path / "media")
        channel = WeComChannel(api)
        handler = make_handler(
            db=db, channel=channel, clock=clock, media_dir=str(tmp_path / "media")
        )
        app = create_app(
            db=db,
            handler=handler,
            callback=CallbackConfig(
                token=TOKEN,
                encoding_aes_key=AES_KEY,
                corp_id=CORP_ID,
                agent_id=AGENT_ID,
                reply_budget=5.0,
            ),
            channel=channel,
            fetch_media=api.download_media,
            now=clock,
        )
        async with TestClient(TestServer(app)) as client:
            peer = WeComPeer(clock=lambda: clock.now.timestamp())  # messages sent "now"
            yield Bench(client, peer, wecom, db, clock, app, [])
        await api.close()
