"""Signed dashboard links: HMAC-SHA256 over user + expiry; tampered, expired or unsigned links fail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from tally.links import (
    LinkError,
    dashboard_link_for,
    sign_dashboard_link,
    verify_dashboard_link,
    verify_dashboard_query,
)

SECRET = "s3cret-for-tests"
NOW = 1_800_000_000.0


def _query(link: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(link).query))


def test_signed_link_verifies_for_its_user_until_it_expires() -> None:
    expires = datetime.fromtimestamp(NOW, UTC) + timedelta(minutes=30)
    link = sign_dashboard_link(SECRET, "zhangsan", expires, base_url="https://kaohe.example.cn/")
    assert link.startswith("https://kaohe.example.cn/dashboard?u=zhangsan&e=")
    query = _query(link)
    assert verify_dashboard_query(SECRET, query, now=NOW) == "zhangsan"
    assert verify_dashboard_query(SECRET, query, now=NOW + 29 * 60) == "zhangsan"
    with pytest.raises(LinkError, match="过期"):
        verify_dashboard_query(SECRET, query, now=NOW + 30 * 60)


def test_path_only_link_and_default_validity() -> None:
    link = dashboard_link_for(SECRET, "li", now=NOW)
    assert link.startswith("/dashboard?")
    query = _query(link)
    assert int(query["e"]) == int(NOW) + 30 * 60
    assert verify_dashboard_link(SECRET, query["u"], query["e"], query["s"], now=NOW) == "li"


@pytest.mark.parametrize(
    "change",
    [
        {"u": "wangwu"},  # another user
        {"e": str(int(NOW) + 3600 * 5)},  # a longer life
        {"s": "0" * 64},
        {"s": ""},
        {"u": ""},
        {"e": "soon"},
    ],
)
def test_tampered_links_are_refused(change: dict[str, str]) -> None:
    query = _query(dashboard_link_for(SECRET, "zhangsan", now=NOW)) | change
    with pytest.raises(LinkError):
        verify_dashboard_query(SECRET, query, now=NOW)


def test_unsigned_wrong_secret_and_no_secret() -> None:
    with pytest.raises(LinkError, match="缺少签名"):
        verify_dashboard_query(SECRET, {}, now=NOW)
    query = _query(dashboard_link_for(SECRET, "zhangsan", now=NOW))
    with pytest.raises(LinkError, match="签名无效"):
        verify_dashboard_query("another-secret", query, now=NOW)
    with pytest.raises(LinkError, match="未配置"):
        verify_dashboard_query("", query, now=NOW)


def test_signature_binds_user_and_expiry_exactly() -> None:
    # "ab" + "1" must not verify as "a" + "b1": the fields are separated
    link = sign_dashboard_link(SECRET, "ab", int(NOW) + 100)
    q = _query(link)
    with pytest.raises(LinkError):
        verify_dashboard_link(SECRET, "a", "b" + q["e"], q["s"], now=NOW)
    with pytest.raises(ValueError):
        sign_dashboard_link(SECRET, "zhangsan", datetime(2030, 1, 1))  # naive: which zone?
