"""DingTalk's HTTP side, as far as the Stream channel needs it:

- `POST /v1.0/gateway/connections/open` {clientId, clientSecret, subscriptions} → {endpoint, ticket}
- `POST /v1.0/oauth2/accessToken` {appKey, appSecret} → {accessToken, expireIn} (cached, renewed
  5 minutes early, dropped on a 401)
- `POST /v1.0/robot/oToMessages/batchSend` (header `x-acs-dingtalk-access-token`) {robotCode,
  userIds, msgKey, msgParam} — the robot's one-to-one messages (reminders, late replies)
- `POST /v1.0/robot/messageFiles/download` {downloadCode, robotCode} → {downloadUrl}
- `POST {oapi}/media/upload?access_token=…` (multipart `media`) → {media_id}, for files we send
- the message's `sessionWebhook`: a plain POST of {msgtype, …} (the in-line answer)
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=15)


class DingTalkError(RuntimeError):
    def __init__(self, api: str, status: int, detail: str) -> None:
        super().__init__(f"{api}: HTTP {status} {detail}"[:500])
        self.api, self.status, self.detail = api, status, detail


class DingTalkApi:
    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        api_base: str = "https://api.dingtalk.com",
        oapi_base: str = "https://oapi.dingtalk.com",
        session: aiohttp.ClientSession | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client_id, self._secret = client_id, client_secret
        self.api_base, self.oapi_base = api_base.rstrip("/"), oapi_base.rstrip("/")
        self._session = session
        self.clock = clock
        self._token: tuple[str, float] | None = None
        self.token_calls = 0

    def __repr__(self) -> str:  # never show the secret
        return f"DingTalkApi(client_id={self.client_id!r})"

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _post(
        self, api: str, url: str, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        async with self.session().post(url, json=body, headers=headers or {}) as resp:
            text = await resp.text()
            if resp.status != 200:
                raise DingTalkError(api, resp.status, text[:300])
        try:
            result = json.loads(text) if text else {}
        except ValueError:
            raise DingTalkError(api, 200, f"not JSON: {text[:100]}") from None
        if not isinstance(result, dict):
            raise DingTalkError(api, 200, "not an object")
        if result.get("errcode") not in (None, 0):
            raise DingTalkError(api, 200, f"errcode {result.get('errcode')} {result.get('errmsg')}")
        return result

    async def open_connection(self, subscriptions: list[dict[str, str]]) -> tuple[str, str]:
        """(endpoint, ticket) of a new Stream connection."""
        result = await self._post(
            "gateway/connections/open",
            f"{self.api_base}/v1.0/gateway/connections/open",
            {
                "clientId": self.client_id,
                "clientSecret": self._secret,
                "subscriptions": subscriptions,
                "ua": "kaohe",
                "localIp": "",
            },
        )
        endpoint, ticket = str(result.get("endpoint") or ""), str(result.get("ticket") or "")
        if not endpoint or not ticket:
            raise DingTalkError("gateway/connections/open", 200, "no endpoint or ticket")
        return endpoint, ticket

    async def token(self) -> str:
        now = self.clock()
        if self._token is not None and now < self._token[1]:
            return self._token[0]
        self.token_calls += 1
        result = await self._post(
            "oauth2/accessToken",
            f"{self.api_base}/v1.0/oauth2/accessToken",
            {"appKey": self.client_id, "appSecret": self._secret},
        )
        token = str(result.get("accessToken") or "")
        if not token:
            raise DingTalkError("oauth2/accessToken", 200, "no accessToken")
        expires = int(result.get("expireIn") or 7200)
        self._token = (token, now + max(expires - 300, 60))
        return token

    async def _authed(self, api: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        for attempt in (1, 2):
            token = await self.token()
            try:
                return await self._post(
                    api, f"{self.api_base}{path}", body, {"x-acs-dingtalk-access-token": token}
                )
            except DingTalkError as exc:
                if exc.status == 401 and attempt == 1:
                    self._token = None  # expired or revoked: fetch a new one once
                    continue
                raise
        raise AssertionError("unreachable")

    async def batch_send(
        self, robot_code: str, user_ids: list[str], msg_key: str, param: dict[str, Any]
    ) -> dict[str, Any]:
        result = await self._authed(
            "robot/oToMessages/batchSend",
            "/v1.0/robot/oToMessages/batchSend",
            {
                "robotCode": robot_code,
                "userIds": user_ids,
                "msgKey": msg_key,
                "msgParam": json.dumps(param, ensure_ascii=False),
            },
        )
        refused = [
            *result.get("invalidStaffIdList", []),
            *result.get("flowControlledStaffIdList", []),
        ]
        if refused:
            raise DingTalkError("robot/oToMessages/batchSend", 200, f"not delivered to {refused}")
        return result

    async def download_url(self, robot_code: str, download_code: str) -> str:
        result = await self._authed(
            "robot/messageFiles/download",
            "/v1.0/robot/messageFiles/download",
            {"downloadCode": download_code, "robotCode": robot_code},
        )
        url = str(result.get("downloadUrl") or "")
        if not url:
            raise DingTalkError("robot/messageFiles/download", 200, "no downloadUrl")
        return url

    async def upload(self, path: Path, kind: str = "file") -> str:
        token = await self.token()
        form = aiohttp.FormData()
        form.add_field("type", kind)
        form.add_field("media", path.read_bytes(), filename=path.name)
        url = f"{self.oapi_base}/media/upload"
        async with self.session().post(url, params={"access_token": token}, data=form) as resp:
            result = await resp.json(content_type=None)
        if resp.status != 200 or not isinstance(result, dict) or result.get("errcode"):
            raise DingTalkError("media/upload", resp.status, str(result)[:200])
        return str(result["media_id"])

    async def webhook(self, url: str, body: dict[str, Any]) -> None:
        """Answer through a message's session webhook."""
        await self._post("sessionWebhook", url, body)
