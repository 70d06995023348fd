"""The units file's optional `channel` column: people of one unit on WeCom or DingTalk."""

from __future__ import annotations

import pytest

from bot.channel_router import ChannelRouter
from bot.local_channel import LocalChannel
from storage.db import Database
from storage.platforms import Platform, platform_of
from storage.units import get_member
from storage.units_import import UnitsFileError, apply_units, parse_rows

MIXED = """unit,kind,scheme,userid,name,role,channel
椒江区,district,chuangmo-taizhou,zhangsan,张三,liaison,wecom
椒江区,district,chuangmo-taizhou,0128316945,李四,leader,钉钉
椒江区,district,chuangmo-taizhou,wangwu,王五,liaison,
路桥区,district,chuangmo-taizhou,manager7,赵六,liaison,dingtalk
"""


def rows_of(text: str) -> list[tuple[int, list[str]]]:
    return [(n, line.split(",")) for n, line in enumerate(text.splitlines(), start=1)]


def test_channel_column_sets_each_persons_platform() -> None:
    rows = parse_rows(rows_of(MIXED), ["chuangmo-taizhou"])
    assert [(r.userid, platform_of(r.userid)) for r in rows] == [
        ("zhangsan", Platform.WECOM),
        ("dingtalk:0128316945", Platform.DINGTALK),
        ("wangwu", Platform.WECOM),  # empty: WeCom
        ("dingtalk:manager7", Platform.DINGTALK),
    ]


def test_a_file_without_the_column_is_all_wecom() -> None:
    text = "\n".join(line.rsplit(",", 1)[0] for line in MIXED.splitlines())
    rows = parse_rows(rows_of(text), ["chuangmo-taizhou"])
    assert [r.userid for r in rows] == ["zhangsan", "0128316945", "wangwu", "manager7"]


def test_unknown_channel_is_refused_with_its_line() -> None:
    bad = MIXED.replace("manager7,赵六,liaison,dingtalk", "manager7,赵六,liaison,飞书")
    with pytest.raises(UnitsFileError) as err:
        parse_rows(rows_of(bad), ["chuangmo-taizhou"])
    assert err.value.errors == [
        "<file>:5: channel 应为 wecom/dingtalk（企业微信/钉钉），实际为 '飞书'"
    ]


async def test_one_unit_on_both_platforms_is_reached_on_each(database: Database) -> None:
    rows = parse_rows(rows_of(MIXED), ["chuangmo-taizhou"])
    await apply_units(database, rows, actor="test")
    again = await apply_units(database, rows, actor="test")
    assert not again.changed  # importing twice changes nothing
    async with database.session() as s:
        li = await get_member(s, "dingtalk:0128316945")
        zhang = await get_member(s, "zhangsan")
    assert li is not None and zhang is not None and li.unit_id == zhang.unit_id

    wecom, ding = LocalChannel(stream=None), LocalChannel(stream=None)
    router = ChannelRouter(wecom=wecom, dingtalk=ding)
    await router.send_text("zhangsan|dingtalk:0128316945|wangwu", "请于本周五前报送")
    assert [(s.user, s.content) for s in wecom.sent] == [("zhangsan|wangwu", "请于本周五前报送")]
    assert [(s.user, s.content) for s in ding.sent] == [("dingtalk:0128316945", "请于本周五前报送")]
