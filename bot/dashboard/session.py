"""The dashboard's session: a short signed cookie instead of a signature on every URL.

The signed link from "看板" (tally.links) is checked once; it sets a cookie holding the user id
and a CSRF token, signed with KAOHE_DASHBOARD_SECRET and stamped with its time (itsdangerous),
and redirects to the same page without the signature. Every later request is let in only with a
cookie whose signature holds and whose stamp is younger than `max_age`; every POST also carries
the session's CSRF token in its form.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

COOKIE = "kaohe_dash"
SESSION_MAX_AGE = timedelta(minutes=30)

Clock = Callable[[], float]


class SessionRefused(Exception):
    """Why a request is not let in; `reason` is a Chinese sentence for the 403 page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Session:
    userid: str
    csrf: str

    def csrf_ok(self, token: str) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf, token)


class Sessions:
    """Issues and reads session cookies; time comes from `clock` (Unix seconds)."""

    def __init__(
        self, secret: str, *, max_age: timedelta = SESSION_MAX_AGE, clock: Clock = time.time
    ) -> None:
        self.max_age = int(max_age.total_seconds())
        self.clock = clock
        self.enabled = bool(secret)

        class _Signer(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(clock())

        self._serializer = URLSafeTimedSerializer(
            secret or "-", salt="kaohe-dashboard-session", signer=_Signer
        )

    def issue(self, userid: str) -> str:
        """A new session for `userid` with a fresh CSRF token: the cookie's value."""
        return self._serializer.dumps({"u": userid, "c": secrets.token_urlsafe(24)})

    def read(self, value: str | None) -> Session:
        if not self.enabled:
            raise SessionRefused("看板未配置签名密钥（KAOHE_DASHBOARD_SECRET）")
        if not value:
            raise SessionRefused("未登录或会话已结束，请在企业微信中发送「看板」获取新链接")
        try:
            data = self._serializer.loads(value, max_age=self.max_age)
        except SignatureExpired:
            raise SessionRefused("会话已过期，请在企业微信中发送「看板」获取新链接") from None
        except BadSignature:
            raise SessionRefused(
                "会话无效，可能已被修改，请在企业微信中发送「看板」获取新链接"
            ) from None
        if not isinstance(data, dict) or not data.get("u") or not data.get("c"):
            raise SessionRefused("会话无效，请在企业微信中发送「看板」获取新链接")
        return Session(str(data["u"]), str(data["c"]))
