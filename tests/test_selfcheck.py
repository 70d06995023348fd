"""The 自查 checklist (seed 000 第十一条): one line per 责任书 target (or scheme target when a unit
has no 责任书), marked 完成 / 部分完成 / 未完成 from a card or by text, with evidence text and
files; changeable until the self-check deadline (12月15日 in chuangmo-taizhou); the office reads it
beside the scores (「自查情况」, 「自查情况 单位」)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlmodel import select

from bot.app import PIPELINE_KEY
from storage.ledger import add_task
from storage.selfcheck import SelfCheckEntry
from storage.units import get_unit_by_name
from tests.chat_env import Bench, bench
from tests.method_env import cards_to, click, flush_outbox


async def _charter(b: Bench) -> None:
    async with b.db.session() as s:
        unit = await get_unit_by_name(s, "椒江区")
        assert unit is not None and unit.id is not None
        for code, kind, title in (
            ("K1", "annual_target", "建成区绿化覆盖率达到40%"),
            ("K2", "annual_target", "城市污水处理率达到85%"),
            ("K3", "key_project", "东部污水处理厂二期"),
        ):
            await add_task(
                s,
                unit_id=unit.id,
                kind=kind,
                due=date(2026, 12, 31),
                title=title,
                code=code,
                actor="admin1",
            )
        await s.commit()


async def _rows(b: Bench) -> list[SelfCheckEntry]:
    async with b.db.session() as s:
        return list(await s.exec(select(SelfCheckEntry).order_by(SelfCheckEntry.id)))  # type: ignore[arg-type]


async def _photo(b: Bench, user: str, msg_id: str) -> str:
    media_id = b.wecom.add_media(b"\xff\xd8jpeg", "greening.jpg")
    before = len(b.wecom.sent_texts(user))
    answer = await b.peer.send_media(
        b.client, user=user, msg_type="image", media_id=media_id, msg_id=msg_id, PicUrl=""
    )
    if answer.empty:
        await b.app[PIPELINE_KEY].drain()  # type: ignore[index]
        return "\n".join(b.wecom.sent_texts(user)[before:])
    return answer.content or ""


async def test_the_checklist_from_cards_and_text_to_the_office(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        await _charter(b)
        b.clock.set(2026, 12, 1)
        sheet = await b.say("zhangsan", "自查清单")
        assert "椒江区2026年度自查清单（12月15日前可填写和修改）" in sheet
        assert "已填0/3项" in sheet and "1. K1 建成区绿化覆盖率达到40%：未填" in sheet
        assert "3. K3 东部污水处理厂二期：未填" in sheet and "未填的3项已发卡片" in sheet
        await flush_outbox(b)
        cards = cards_to(b, "zhangsan")
        assert [c["main_title"]["title"] for c in cards] == [
            "自查：K1 建成区绿化覆盖率达到40%",
            "自查：K2 城市污水处理率达到85%",
            "自查：K3 东部污水处理厂二期",
        ]
        assert [x["text"] for x in cards[0]["button_list"]] == ["完成", "部分完成", "未完成"]

        # a click marks K1 完成; the evidence comes as text, then a photo
        reply = await click(b, "zhangsan", cards[0]["task_id"], cards[0]["button_list"][0]["key"])
        assert "已记录自查：K1 完成" in reply and "请补充完成依据" in reply
        assert "还有2项未填：K2、K3" in reply
        evidence = "绿化覆盖率经住建部门测算为41.2%，见测算报告"
        reply = await b.say("zhangsan", f"自查 K1 完成 {evidence}")
        assert f"已记录自查：K1 完成（{evidence}）" in reply
        assert "已将照片附在自查K1上（共1件）" in await _photo(b, "zhangsan", "p-1")
        assert "共1件" in await _photo(b, "zhangsan", "p-1")  # the same photo delivered twice

        # text marks, a change of mind, an unknown line; a leader reads but does not mark
        assert "已记录自查：K2 部分完成" in await b.say(
            "zhangsan", "自查 2 部分完成 83%，差2个百分点"
        )
        reply = await b.say("zhangsan", "自查 K3 未完成 二期主体完工，设备安装中")
        assert "已记录自查：K3 未完成" in reply and "已全部填写" in reply
        reply = await b.say("zhangsan", "自查 K3 部分完成 主体完工，设备已进场")
        assert "由「未完成」改为「部分完成」" in reply
        assert "自查清单中没有「K9」" in await b.say("zhangsan", "自查 K9 完成")
        assert "领导账号可以查看" in await b.say("lisi", "自查 K1 未完成")
        mine = await b.say("lisi", "自查情况")
        assert "已填3/3项（完成1，部分完成2，未完成0）" in mine and evidence in mine
        assert "（附件1件）" in mine

        # what liaisons typed is stored as typed; every mark is a row (the change too)
        rows = await _rows(b)
        assert [(r.line, r.kind, r.mark) for r in rows] == [
            ("K1", "mark", "done"),
            ("K1", "mark", "done"),
            ("K1", "file", None),
            ("K2", "mark", "partly"),
            ("K3", "mark", "not"),
            ("K3", "mark", "partly"),
        ]
        assert rows[1].evidence == evidence and rows[2].attachment["type"] == "image"

        # the office, beside the scores
        overview = await b.say("admin1", "自查情况")
        assert "2026年度各单位自查情况" in overview
        assert "· 椒江区：已填3/3项（完成1，部分完成2，未完成0）；当前得分" in overview
        assert "· 路桥区：已填0/" in overview  # no 责任书: the scheme's targets
        detail = await b.say("admin1", "自查情况 椒江区")
        assert "椒江区2026年度自查情况（截止12月15日）" in detail and "当前得分" in detail
        assert "2. K2 城市污水处理率达到85%：部分完成：83%，差2个百分点" in detail
        assert "没有名为「无此区」的单位" in await b.say("admin1", "自查情况 无此区")
        assert "管理员" not in await b.say("zhangsan", "自查情况")  # a unit sees its own

        # after the deadline nothing changes
        b.clock.set(2026, 12, 16)
        assert "自查已于12月15日截止" in await b.say("zhangsan", "自查 K3 完成 已投运")
        assert "自查已于12月15日截止" in await b.say("zhangsan", "自查清单")
        assert len(await _rows(b)) == 6


async def test_without_a_charter_the_lines_are_the_scheme_targets(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 2)
        sheet = await b.say("qianba", "自查清单")  # 黄岩区环保局, seed 003's T1…T38
        assert "已填0/38项" in sheet and "1. T1 " in sheet
        assert "已记录自查：T20 完成" in await b.say("qianba", "自查 T20 完成 值班表见附件")
        assert "自查报告" not in (await _rows(b))[0].line
        # 自查报告 is still the report, not the checklist
        assert "已登记自查报告" in await b.say("zhangsan", "自查报告 本单位创模自查情况")


async def test_the_unit_page_shows_the_checklist_and_the_inspections(
    database, tmp_path: Path
) -> None:
    """The dashboard's unit page: the 自查 lines with their evidence and files, and every
    inspection finding with its state, 申辩, decision and evidence, files downloadable."""
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from bot.dashboard import add_dashboard_routes
    from tally.links import dashboard_link_for

    async with bench(database, tmp_path) as b:
        await _charter(b)
        b.clock.set(2026, 12, 1)
        await b.say("zhangsan", "自查 K1 完成 绿化覆盖率41.2%")
        await _photo(b, "zhangsan", "p-1")
        await b.say("zhangsan", "自查 K2 未完成 差2个百分点")
        await b.say("admin1", "检查记录 椒江区 C1a 领导小组年内未召开会议")
        await _photo(b, "admin1", "p-2")
        await b.say("zhangsan", "申辩 J1 10月12日召开过，见会议纪要")
        await b.say("admin1", "撤销检查 J1 会议纪要属实")

        app = web.Application()
        add_dashboard_routes(
            app,
            database,
            secret="s3cret",
            is_admin=lambda u: _async(u == "admin1"),
            media_dir=tmp_path / "media",
            clock=lambda: b.clock.now.timestamp(),
        )
        async with TestClient(TestServer(app)) as c:
            async with database.session() as s:
                unit = await get_unit_by_name(s, "椒江区")
            assert unit is not None
            now = b.clock.now.timestamp()
            refused = await c.get(dashboard_link_for("s3cret", "zhangsan", now=now))
            assert refused.status == 403  # a liaison has no dashboard
            signed = dashboard_link_for("s3cret", "admin1", now=now)
            first = await c.get(signed.replace("/dashboard?", f"/dashboard/unit/{unit.id}?"))
            assert first.status == 200
            page = await first.text()
            assert "自查清单（已填2/3项：完成1，部分完成0，未完成1）" in page
            assert "绿化覆盖率41.2%" in page and "差2个百分点" in page and "未填" in page
            assert "检查考评（1条）" in page and "领导小组年内未召开会议" in page
            assert "已撤销" in page and "会议纪要属实" in page and "10月12日召开过" in page
            links = [p for p in page.split('"') if p.startswith("/dashboard/evidence/")]
            assert len(links) == 2
            for path in links:
                got = await c.get(path.replace("&amp;", "&"))
                assert got.status == 200 and await got.read() == b"\xff\xd8jpeg"
            assert (await c.get("/dashboard/evidence/selfcheck/999")).status == 404


async def _async(value: bool) -> bool:
    return value
