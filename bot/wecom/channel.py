"""The `Channel` (handlers/channel.py) over WeCom: app messages to members, the robot for groups."""

from __future__ import annotations

import logging
from pathlib import Path

from bot.wecom.cards import card_as_markdown, template_card
from bot.wecom.client import WebhookClient, WeComAPIError, WeComClient
from handlers.channel import ChannelError
from handlers.types import Card

log = logging.getLogger(__name__)


class WeComChannel:
    """Sends through `message/send`; `announce` uses the group robot when one is configured."""

    def __init__(self, client: WeComClient, webhook: WebhookClient | None = None) -> None:
        self.client = client
        self.webhook = webhook

    async def send_text(self, user: str, text: str) -> None:
        try:
            await self.client.send_text(user, text)
        except WeComAPIError as exc:
            raise ChannelError(str(exc)) from exc

    async def send_markdown(self, user: str, markdown: str) -> None:
        try:
            await self.client.send_markdown(user, markdown)
        except WeComAPIError as exc:
            raise ChannelError(str(exc)) from exc

    async def send_file(self, user: str, path: str | Path) -> None:
        try:
            await self.client.send_file(user, path)
        except WeComAPIError as exc:
            raise ChannelError(str(exc)) from exc

    async def send_card(self, user: str, card: Card) -> str | None:
        try:
            if not card.buttons and not card.url:
                await self.client.send_markdown(user, card_as_markdown(card))
                return None
            result = await self.client.send_template_card(user, template_card(card))
        except WeComAPIError as exc:
            raise ChannelError(str(exc)) from exc
        return str(result.get("response_code") or "") or None

    async def update_card(self, user: str, response_code: str, replace_name: str) -> None:
        try:
            await self.client.update_template_card(
                response_code, userids=[user], replace_name=replace_name
            )
        except WeComAPIError as exc:
            raise ChannelError(str(exc)) from exc

    async def announce(self, markdown: str) -> None:
        if self.webhook is None:
            log.info("announce: no group robot configured (WECOM_WEBHOOK_KEY); not sent")
            return
        try:
            await self.webhook.send_markdown(markdown)
        except WeComAPIError as exc:
            raise ChannelError(str(exc)) from exc
