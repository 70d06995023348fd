"""The `Channel` (handlers/channel.py) over DingTalk: the robot's one-to-one messages
(`oToMessages/batchSend`, up to 20 users a call). Cards become action cards whose buttons send
their own text back as the user's message (`dtmd://dingtalkclient/sendMessage`), which the
channel reads as the button's click (bot/dingtalk/service.py)."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

from bot.dingtalk.api import DingTalkApi, DingTalkError
from bot.dingtalk.frames import staff_id
from bot.wecom.cards import card_as_markdown
from bot.wecom.chunks import split_utf8
from handlers.channel import ChannelError
from handlers.types import Card

log = logging.getLogger(__name__)

TEXT_LIMIT = 4000  # bytes per message; longer text is split, never cut
BATCH = 20


def button_link(text: str) -> str:
    return "dtmd://dingtalkclient/sendMessage?content=" + quote(text, safe="")


def title_of(markdown: str) -> str:
    """The notification preview DingTalk shows for a markdown message: its first line."""
    first = next((line for line in markdown.splitlines() if line.strip()), "考核助手")
    return first.lstrip("#*> ").strip("* ")[:30] or "考核助手"


class DingTalkChannel:
    def __init__(self, api: DingTalkApi, robot_code: str) -> None:
        self.api, self.robot_code = api, robot_code

    async def _send(self, user: str, msg_key: str, param: dict[str, str]) -> None:
        ids = [staff_id(u) for u in user.split("|") if u]
        try:
            for i in range(0, len(ids), BATCH):
                await self.api.batch_send(self.robot_code, ids[i : i + BATCH], msg_key, param)
        except (DingTalkError, OSError, TimeoutError) as exc:
            raise ChannelError(f"dingtalk {msg_key}: {exc}") from exc

    async def send_text(self, user: str, text: str) -> None:
        for piece in split_utf8(text, TEXT_LIMIT):
            await self._send(user, "sampleText", {"content": piece})

    async def send_markdown(self, user: str, markdown: str) -> None:
        for piece in split_utf8(markdown, TEXT_LIMIT):
            await self._send(user, "sampleMarkdown", {"title": title_of(piece), "text": piece})

    async def send_file(self, user: str, path: str | Path) -> None:
        path = Path(path)
        try:
            media_id = await self.api.upload(path)
        except (DingTalkError, OSError, TimeoutError) as exc:
            raise ChannelError(f"dingtalk upload {path.name}: {exc}") from exc
        ext = path.suffix.lstrip(".").lower() or "file"
        await self._send(
            user, "sampleFile", {"mediaId": media_id, "fileName": path.name, "fileType": ext}
        )

    async def send_card(self, user: str, card: Card) -> str | None:
        if not card.buttons:
            text = card_as_markdown(card)
            if card.url:
                await self._send(
                    user,
                    "sampleActionCard",
                    {
                        "title": card.title,
                        "text": text,
                        "singleTitle": "查看详情",
                        "singleURL": card.url,
                    },
                )
            else:
                await self.send_markdown(user, text)
            return None
        buttons = card.buttons[:5]
        param = {"title": card.title, "text": card_as_markdown(card)}
        if len(buttons) == 1:
            param.update(singleTitle=buttons[0].text, singleURL=button_link(buttons[0].text))
            await self._send(user, "sampleActionCard", param)
            return None
        for n, button in enumerate(buttons, start=1):
            param[f"actionTitle{n}"] = button.text
            param[f"actionURL{n}"] = button_link(button.text)
        await self._send(user, f"sampleActionCard{len(buttons)}", param)
        return None

    async def update_card(self, user: str, response_code: str, replace_name: str) -> None:
        log.info("dingtalk: action cards cannot be updated; %r not shown", replace_name)

    async def announce(self, markdown: str) -> None:
        log.info("dingtalk: no group configured to announce to; not sent")
