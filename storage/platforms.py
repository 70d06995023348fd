"""The chat platforms people are on, and how their ids are kept apart.

A WeCom user id is kept as it is; a DingTalk staff id as `dingtalk:<staffId>`, so ids of the two
platforms never collide, and every send can be routed to the platform its user is on."""

from __future__ import annotations

from enum import StrEnum


class Platform(StrEnum):
    WECOM = "wecom"
    DINGTALK = "dingtalk"


DINGTALK_PREFIX = "dingtalk:"
PLATFORM_NAMES = {
    "wecom": Platform.WECOM,
    "企业微信": Platform.WECOM,
    "企微": Platform.WECOM,
    "dingtalk": Platform.DINGTALK,
    "钉钉": Platform.DINGTALK,
    "浙政钉": Platform.DINGTALK,
}


def address(platform: Platform, userid: str) -> str:
    """kaohe's user id of `userid` on `platform`."""
    if platform is Platform.DINGTALK and not userid.startswith(DINGTALK_PREFIX):
        return DINGTALK_PREFIX + userid
    return userid


def platform_of(user: str) -> Platform:
    return Platform.DINGTALK if user.startswith(DINGTALK_PREFIX) else Platform.WECOM
