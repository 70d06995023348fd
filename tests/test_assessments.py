"""分级考核 (seed 000 第一条): two assessments side by side in one deployment — the city's (the
default one: 椒江区, 路桥区, 黄岩区环保局) and 路桥区's own, assessing its towns — with the walls
between them in chat and on the dashboard, a person who is a liaison in one and an admin in the
other, and the upgrade that puts existing data into the default assessment."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text
from sqlmodel import select

from bot.dashboard import add_dashboard
from storage.assessments import add_assessment
from storage.db import Database, alembic_config
from storage.models import Submission, Unit
from storage.scope import scoped
from storage.units import get_unit_by_name, list_units, upsert_member, upsert_unit
from tally.links import dashboard_link_for
from tests.chat_env import Bench, bench
from tests.method_env import flush_outbox

SECRET = "two-assessments"
TOWNS = [("新桥镇", "xq1", "许桥"), ("峰江街道", "fj1", "冯江")]


async def _district_assessment(b: Bench) -> int:
    """路桥区 assesses its towns; its admins: wangwu (路桥区's liaison in the city's assessment)
    and lq_admin (registered nowhere else)."""
    async with b.db.session() as s:
        row = await add_assessment(
            s,
            "路桥区创模考核",
            actor="test",
            organiser="路桥区",
            scheme_id="chuangmo-taizhou",
            year=2026,
            admins=["wangwu", "lq_admin"],
        )
        await s.commit()
    assert row.id is not None
    with scoped(row.id):
        async with b.db.session() as s:
            for town, userid, name in TOWNS:
                unit, _ = await upsert_unit(s, town, "district", "chuangmo-taizhou", actor="t")
                await upsert_member(s, userid, name, "liaison", unit.id, actor="test")
            await s.commit()
    return row.id


async def _submission_of(b: Bench, sender: str) -> int:
    async with b.db.session() as s:
        rows = await s.exec(select(Submission).where(Submission.sender == sender))
        found = rows.first()
    assert found is not None and found.id is not None
    return found.id


async def test_two_assessments_side_by_side_in_chat(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        district = await _district_assessment(b)
        b.clock.set(2026, 11, 16)

        # each assessment's units are its own
        async with database.session() as s:
            with scoped(1):
                city = [u.name for u in await list_units(s)]
            with scoped(district):
                towns = [u.name for u in await list_units(s)]
                assert await get_unit_by_name(s, "椒江区") is None
        assert "新桥镇" not in city and "椒江区" in city
        assert sorted(towns) == ["峰江街道", "新桥镇"]

        # wangwu: 路桥区's liaison in the city's assessment, an admin of 路桥区's own
        ask = await b.say("wangwu", "帮助")
        assert "同时参加多个考核" in ask
        assert "1. 默认考核（路桥区联络员）" in ask and "2. 路桥区创模考核（管理员）" in ask
        mine = await b.say("wangwu", "我的得分")  # only a liaison's: the city's
        assert "路桥区2026年度" in mine
        town = await b.say("wangwu", "得分 新桥镇")  # only an admin's: 路桥区's own
        assert "新桥镇2026年度" in town
        assert "没有找到单位「椒江区」" in await b.say("wangwu", "得分 椒江区")
        assert "路桥区创模考核" in await b.say("wangwu", "当前考核")
        overview = await b.say("wangwu", "自查情况")
        assert "新桥镇" in overview and "椒江区" not in overview
        assert "已切换到：默认考核（路桥区联络员）" in await b.say("wangwu", "切换考核 1")
        assert "管理员命令" not in await b.say("wangwu", "帮助")  # the liaison's help, no question

        # the city's admin sees nothing of the towns; 路桥区's admin nothing of the city
        assert "没有找到单位「新桥镇」" in await b.say("admin1", "得分 新桥镇")
        assert "新桥镇" not in await b.say("admin1", "自查情况")
        assert "没有名为「新桥镇」的单位" in await b.say("admin1", "检查记录 新桥镇 C1a 未开会")
        assert "没有找到单位「椒江区」" in await b.say("lq_admin", "得分 椒江区")

        # submissions by number: only the admins of the unit's assessment review them
        await b.say("xq1", "政务信息：新桥镇开展河道清理\n组织志愿者清理河道3公里。")
        await b.say("zhangsan", "政务信息：椒江区推进垃圾分类\n新增分类点20个。")
        town_sub, city_sub = await _submission_of(b, "xq1"), await _submission_of(b, "zhangsan")
        assert "通过" not in await b.say("admin1", f"通过 S{town_sub}")
        assert "通过" not in await b.say("lq_admin", f"通过 S{city_sub}")
        assert f"S{town_sub}" in await b.say("lq_admin", f"通过 S{town_sub}")
        assert f"S{city_sub}" in await b.say("admin1", f"通过 S{city_sub}")
        queue = await b.say("lq_admin", "待审核")
        assert "椒江区" not in queue
        tally = await b.say("lq_admin", "汇总")
        assert "新桥镇" in tally and "椒江区" not in tally
        tally = await b.say("admin1", "汇总")
        assert "椒江区" in tally and "新桥镇" not in tally

        # a town liaison is a liaison like any other: their own unit only
        assert "新桥镇2026年度" in await b.say("xq1", "我的得分")
        assert "管理员" in await b.say("xq1", "汇总")

        # a 测评 round of one assessment is not the other's
        assert "没有进行中的测评" in await b.say("lq_admin", "测评进度")


async def test_the_dashboard_shows_one_assessment_to_its_admins(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        district = await _district_assessment(b)
        async with database.session() as s:
            with scoped(None):
                ids = {u.name: u.id for u in (await s.exec(select(Unit))).all()}
        settings = SimpleNamespace(
            admins=frozenset({"admin1"}),
            timezone="Asia/Shanghai",
            media_dir=tmp_path / "media",
            public_url="",
            secret=lambda name: SECRET,
        )
        app = web.Application()
        add_dashboard(app, database, settings)
        async with TestClient(TestServer(app)) as c:

            async def login(userid: str) -> int:
                c.session.cookie_jar.clear()
                signed = dashboard_link_for(SECRET, userid)
                return (await c.get(signed, allow_redirects=False)).status

            assert await login("admin1") == 303
            page = await (await c.get("/dashboard")).text()
            assert "椒江区" in page and "新桥镇" not in page
            assert (await c.get(f"/dashboard/unit/{ids['新桥镇']}")).status == 404
            assert (await c.get(f"/dashboard?a={district}")).status == 403
            assert (await c.get(f"/dashboard/unit/{ids['椒江区']}")).status == 200

            assert await login("lq_admin") == 303
            page = await (await c.get("/dashboard")).text()
            assert "新桥镇" in page and "峰江街道" in page and "椒江区" not in page
            assert f"a={district}" in page  # the links keep the assessment
            assert (await c.get(f"/dashboard/unit/{ids['椒江区']}")).status == 404
            assert (await c.get("/dashboard?a=1")).status == 403

            # a liaison in the city's assessment, an admin in 路桥区's: that one only
            assert await login("wangwu") == 303
            page = await (await c.get("/dashboard")).text()
            assert "新桥镇" in page and "椒江区" not in page
            assert (await c.get("/dashboard?a=1")).status == 403

            # a liaison and nothing else: no dashboard at all
            assert await login("zhangsan") == 403


async def test_upgrade_puts_existing_data_into_the_default_assessment(database: Database) -> None:
    """From 0009 (before assessments), with units, people, a submission and a 测评 round, to head:
    one default assessment holds them all, and the chat sees them as before."""
    from alembic import command

    def to(revision: str):  # type: ignore[no-untyped-def]
        def run(connection):  # type: ignore[no-untyped-def]
            cfg = alembic_config(database.url)
            cfg.attributes["connection"] = connection
            if revision == "0009":
                command.downgrade(cfg, revision)
            else:
                command.upgrade(cfg, revision)

        return run

    async with database.engine.begin() as conn:
        await conn.run_sync(to("0009"))
        await conn.execute(
            text(
                "INSERT INTO unit (id, name, kind, scheme_id, created_at, updated_at) VALUES "
                "(1, '椒江区', 'district', 'chuangmo-taizhou', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),"
                "(2, '市住建局', 'department', 'chuangmo-taizhou', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO member (id, userid, name, unit_id, role, active, created_at, "
                "updated_at) VALUES (1, 'zhangsan', '张三', 1, 'liaison', TRUE, CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP)"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO submission (id, unit_id, year, target, period, kind, title, text, "
                "attachments, submitted_at, sender, created_at) VALUES (1, 1, 2026, 'C3b', "
                "'2026-11', 'info', '标题', '', '[]', CURRENT_TIMESTAMP, 'zhangsan', "
                "CURRENT_TIMESTAMP)"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO rating_round (id, year, scale, due, raters, departments, actor, "
                "reason, at) VALUES (1, 2026, 'choice', '2026-12-10', '[]', '[2]', 'admin1', '', "
                "CURRENT_TIMESTAMP)"
            )
        )
    async with database.engine.begin() as conn:
        await conn.run_sync(to("head"))
    async with database.engine.connect() as conn:
        assessments = (await conn.execute(text("SELECT id, name FROM assessment"))).all()
        units = (await conn.execute(text("SELECT name, assessment_id FROM unit ORDER BY id"))).all()
        rounds = (await conn.execute(text("SELECT assessment_id FROM rating_round"))).all()
    assert [tuple(r) for r in assessments] == [(1, "默认考核")]
    assert [tuple(r) for r in units] == [("椒江区", 1), ("市住建局", 1)]
    assert [tuple(r) for r in rounds] == [(1,)]
    assert await database.is_current()
    async with database.session() as s:
        with scoped(1):
            assert [u.name for u in await list_units(s)] == ["市住建局", "椒江区"]
        row = await add_assessment(s, "路桥区创模考核", actor="test")  # the next id is 2
        await s.commit()
    assert row.id == 2


async def test_the_city_digest_names_no_town(database, tmp_path: Path) -> None:
    """The admins' daily digest of late items goes to the default assessment's admins, so it
    lists only its units; the towns' liaisons are still reminded of their own deadlines."""
    from datetime import UTC, datetime

    from reminders.tick import plan
    from tests.chat_env import TZ

    async with bench(database, tmp_path) as b:
        await _district_assessment(b)
        at = datetime(2026, 11, 3, 10, 0, tzinfo=TZ).astimezone(UTC)  # October's quota is late
        found = await plan(database, at)
    digests = [i for i in found.items if i.kind != "reminder"]
    assert digests and all("admin1" in i.recipients for i in digests)
    text = "\n".join(str(i.payload) for i in digests)
    assert "椒江区" in text and "新桥镇" not in text and "峰江街道" not in text
    assert any("xq1" in i.recipients for i in found.items if i.kind == "reminder")


async def test_replies_name_the_office_that_runs_the_assessment(database, tmp_path: Path) -> None:
    """In 路桥区's own assessment of its towns the office is 路桥区创模办, not the city's
    市创模办: in refusals, score replies, the notices its admins' decisions send, and the
    welcome; the city's assessment still says 市创模办."""
    async with bench(database, tmp_path) as b:
        await _district_assessment(b)
        b.clock.set(2026, 11, 16)
        town = await b.say("xq1", "我的得分")
        assert "新桥镇2026年度" in town
        assert "对得分有疑问请联系路桥区创模办" in town and "市创模办" not in town
        assert "由路桥区创模办评定" in town
        losses = await b.say("xq1", "扣分原因")
        assert "市创模办" not in losses
        refused = await b.say("xq1", "汇总")
        assert refused == "抱歉，这条命令仅限路桥区创模办管理员使用。如需办理，请联系路桥区创模办。"

        await b.say("xq1", "政务信息：新桥镇开展河道清理\n组织志愿者清理河道3公里。")
        sub_id = await _submission_of(b, "xq1")
        assert f"S{sub_id}" in await b.say("lq_admin", f"退回 S{sub_id} 请补充照片")
        await flush_outbox(b)
        told = b.wecom.sent_texts("xq1")
        assert any("路桥区创模办审核了本单位的报送" in t for t in told), told
        assert not any("市创模办" in t for t in told), told

        # the city's own units and admins: unchanged
        city = await b.say("zhangsan", "我的得分")
        assert "对得分有疑问请联系市创模办" in city and "路桥区创模办" not in city
        assert "仅限市创模办管理员" in await b.say("zhangsan", "汇总")
