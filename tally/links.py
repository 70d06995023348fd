"""Signed dashboard links: HMAC-SHA256 over the user id and the expiry, valid for a limited time.

    link = sign_dashboard_link(secret, "zhangsan", expires_at)      # "/dashboard?u=...&e=...&s=..."
    url = settings.public_url.rstrip("/") + link                    # what the admin gets in chat
    userid = verify_dashboard_query(secret, request.query)          # raises LinkError if not valid

The chat layer signs a link only for admins (30 minutes by default); the dashboard accepts a request
only with a valid, unexpired signature. The secret never leaves the server.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from urllib.parse import urlencode

DASHBOARD_PATH = "/dashboard"
DEFAULT_VALIDITY = timedelta(minutes=30)
MAX_VALIDITY = timedelta(days=1)  # a link claiming a longer life was not made by us
_CONTEXT = b"kaohe-dashboard-v1"


class LinkError(ValueError):
    """Why a link is refused; `reason` is a short Chinese sentence for the 403 page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _key(secret: str | bytes) -> bytes:
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    if not key:
        raise LinkError("看板未配置签名密钥（KAOHE_DASHBOARD_SECRET）")
    return key


def _epoch(expires_at: datetime | int | float) -> int:
    if isinstance(expires_at, datetime):
        if expires_at.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware")
        return int(expires_at.timestamp())
    return int(expires_at)


def signature(secret: str | bytes, userid: str, expires: int) -> str:
    """Hex HMAC-SHA256 of (context, user id, expiry in Unix seconds)."""
    message = b"\n".join([_CONTEXT, userid.encode("utf-8"), str(int(expires)).encode("ascii")])
    return hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def sign_params(secret: str | bytes, userid: str, expires_at: datetime | int) -> dict[str, str]:
    """The query parameters of a signed link: u (user id), e (expiry, Unix seconds), s (signature)."""
    if not userid:
        raise ValueError("a dashboard link is signed for a user")
    expires = _epoch(expires_at)
    return {"u": userid, "e": str(expires), "s": signature(secret, userid, expires)}


def sign_dashboard_link(
    secret: str | bytes,
    userid: str,
    expires_at: datetime | int,
    *,
    base_url: str = "",
    path: str = DASHBOARD_PATH,
) -> str:
    """A signed link to the dashboard for `userid`, valid until `expires_at` (aware datetime or
    Unix seconds). Without `base_url` it is the path and query ("/dashboard?u=..&e=..&s=..");
    with it (KAOHE_PUBLIC_URL), the full URL."""
    query = urlencode(sign_params(secret, userid, expires_at))
    return f"{base_url.rstrip('/')}{path}?{query}"


def dashboard_link_for(
    secret: str | bytes,
    userid: str,
    *,
    base_url: str = "",
    valid_for: timedelta = DEFAULT_VALIDITY,
    now: float | None = None,
) -> str:
    """A link valid for `valid_for` from now (default 30 minutes)."""
    start = time.time() if now is None else now
    return sign_dashboard_link(
        secret, userid, int(start + valid_for.total_seconds()), base_url=base_url
    )


def verify_dashboard_link(
    secret: str | bytes, userid: str, expires: int | str, sig: str, *, now: float | None = None
) -> str:
    """The user id when (userid, expires, sig) is a valid, unexpired signature; else LinkError."""
    if not userid or not sig or expires in ("", None):
        raise LinkError("链接缺少签名，请在企业微信中发送“看板”获取新链接")
    try:
        expiry = int(expires)
    except (TypeError, ValueError):
        raise LinkError("链接无效（有效期格式错误）") from None
    expected = signature(secret, userid, expiry)
    if not hmac.compare_digest(expected, str(sig).lower()):
        raise LinkError("链接签名无效，可能已被修改")
    current = time.time() if now is None else now
    if expiry <= current:
        raise LinkError("链接已过期，请在企业微信中发送“看板”获取新链接")
    if expiry - current > MAX_VALIDITY.total_seconds():
        raise LinkError("链接有效期异常")
    return userid


def verify_dashboard_query(
    secret: str | bytes, query: Mapping[str, str], *, now: float | None = None
) -> str:
    """Check the u/e/s parameters of a request's query; the user id, or LinkError."""
    return verify_dashboard_link(
        secret, query.get("u", ""), query.get("e", ""), query.get("s", ""), now=now
    )
