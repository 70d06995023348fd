"""One `Channel` over several platforms, chosen by the user id: `dingtalk:<staffId>` goes to
DingTalk, any other id to WeCom (the self-built app when configured, else the 智能机器人). The
handlers and reminders keep talking to one channel; people of one unit can be on either platform.
A recipient list (`a|b|dingtalk:c`) is split per platform."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.dingtalk.frames import is_dingtalk
from handlers.channel import Channel, ChannelError
from handlers.types import Card


class ChannelRouter:
    def __init__(self, *, wecom: Channel | None = None, dingtalk: Channel | None = None) -> None:
        self.wecom, self.dingtalk = wecom, dingtalk

    def _groups(self, user: str) -> list[tuple[Channel, str]]:
        ids = [u for u in user.split("|") if u]
        ding = [u for u in ids if is_dingtalk(u)]
        wecom = [u for u in ids if not is_dingtalk(u)]
        groups: list[tuple[Channel, str]] = []
        for channel, members, name in (
            (self.wecom, wecom, "企业微信"),
            (self.dingtalk, ding, "钉钉"),
        ):
            if not members:
                continue
            if channel is None:
                raise ChannelError(f"{name} is not configured; cannot reach {','.join(members)}")
            groups.append((channel, "|".join(members)))
        return groups

    async def _each(self, user: str, send: Callable[[Channel, str], Awaitable[object]]) -> None:
        for channel, members in self._groups(user):
            await send(channel, members)

    async def send_text(self, user: str, text: str) -> None:
        await self._each(user, lambda c, u: c.send_text(u, text))

    async def send_markdown(self, user: str, markdown: str) -> None:
        await self._each(user, lambda c, u: c.send_markdown(u, markdown))

    async def send_file(self, user: str, path: str | Path) -> None:
        await self._each(user, lambda c, u: c.send_file(u, path))

    async def send_card(self, user: str, card: Card) -> str | None:
        codes = [await channel.send_card(members, card) for channel, members in self._groups(user)]
        return next((c for c in codes if c), None)

    async def update_card(self, user: str, response_code: str, replace_name: str) -> None:
        await self._each(user, lambda c, u: c.update_card(u, response_code, replace_name))

    async def announce(self, markdown: str) -> None:
        for channel in (self.wecom, self.dingtalk):
            if channel is not None:
                await channel.announce(markdown)
