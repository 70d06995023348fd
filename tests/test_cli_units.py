"""`kaohe units import|list` and `kaohe db upgrade`: idempotent import, all-or-nothing on errors."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from bot.cli import main
from scoring.periods import TZ
from storage.audit import list_audit
from storage.db import Database
from storage.ledger import add_task
from storage.models import AuditLog, Member, Unit
from storage.units import get_member, get_unit_by_name
from storage.units_import import UnitsFileError, parse_rows

GOOD = """unit,kind,scheme,userid,name,role
椒江区,district,chuangmo-taizhou,zhangsan,张三,liaison
椒江区,区,chuangmo-taizhou,lisi,李四,leader
市生态环境局,部门,chuangmo-taizhou,wangwu,王五,liaison
创模办,department,chuangmo-taizhou,cmb-wang,王主任,admin
路桥区环保局,district,epb-district-2007,zhaoliu,赵六,liaison
"""


async def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()

    def run() -> int:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return main(list(argv))

    code = await asyncio.to_thread(run)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def db(database: Database, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from bot.settings import get_settings

    monkeypatch.setenv("KAOHE_DATABASE_URL", database.url)
    get_settings.cache_clear()
    yield database
    get_settings.cache_clear()


async def snapshot(db: Database) -> tuple:  # type: ignore[type-arg]
    async with db.session() as s:
        units = [
            (u.name, u.kind, u.scheme_id, u.updated_at) for u in (await s.exec(select(Unit))).all()
        ]
        members = [
            (m.userid, m.name, m.role, m.unit_id, m.updated_at)
            for m in (await s.exec(select(Member))).all()
        ]
        audits = (await s.exec(select(func.count()).select_from(AuditLog))).one()
    return sorted(units), sorted(members), audits


def write(tmp_path: Path, text: str, name: str = "units.csv", bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


async def test_import_twice_changes_nothing(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD, bom=True)
    code, out, err = await cli("units", "import", str(path))
    assert (code, err) == (0, "")
    assert "单位 新增4" in out and "人员 新增5" in out
    first = await snapshot(db)
    assert len(first[0]) == 4 and len(first[1]) == 5
    code, out, _ = await cli("units", "import", str(path))
    assert code == 0 and "单位 新增0、更新0、未变4" in out and "人员 新增0、更新0、未变5" in out
    assert await snapshot(db) == first
    async with db.session() as s:
        member = await get_member(s, "lisi")
    assert member is not None and member.role == "leader"
    assert member.unit is not None and member.unit.kind == "district"
    assert member.created_at.tzinfo is not None


async def test_import_updates_and_audits(db: Database, tmp_path: Path) -> None:
    await cli("units", "import", str(write(tmp_path, GOOD)))
    changed = GOOD.replace("lisi,李四,leader", "lisi,李四,liaison").replace(
        "zhaoliu,赵六,liaison",
        "zhaoliu,赵六,liaison\n椒江区,district,chuangmo-taizhou,sunqi,孙七,liaison",
    )
    code, out, _ = await cli("units", "import", str(write(tmp_path, changed, "v2.csv")))
    assert code == 0 and "人员 新增1、更新1、未变4" in out
    async with db.session() as s:
        member = await get_member(s, "lisi")
        actions = [a.action for a in (await s.exec(select(AuditLog))).all()]
    assert member is not None and member.role == "liaison"
    assert actions.count("member.update") == 1 and actions.count("member.create") == 6


async def test_import_xlsx(db: Database, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for line in GOOD.strip().splitlines():
        sheet.append(line.split(","))
    path = tmp_path / "units.xlsx"
    book.save(path)
    code, out, err = await cli("units", "import", str(path))
    assert (code, err) == (0, "") and "人员 新增5" in out
    code, out, _ = await cli("units", "import", str(path))
    assert code == 0 and "人员 新增0、更新0、未变5" in out


BAD_LINES = [
    ("椒江区,county,chuangmo-taizhou,x1,某,liaison", "kind"),
    ("椒江区,district,chuangmo-taizhou,x1,某,boss", "role"),
    ("椒江区,district,no-such-scheme,x1,某,liaison", "no-such-scheme"),
    ("椒江区,district,chuangmo-taizhou,,某,liaison", "缺少 userid"),
    ("椒江区,district,chuangmo-taizhou,zhangsan,张三丰,liaison", "zhangsan"),
    ("椒江区,department,chuangmo-taizhou,x1,某,liaison", "不一致"),
]


@pytest.mark.parametrize(("bad", "says"), BAD_LINES)
async def test_bad_line_changes_nothing(db: Database, tmp_path: Path, bad: str, says: str) -> None:
    await cli("units", "import", str(write(tmp_path, GOOD)))
    before = await snapshot(db)
    text = GOOD.replace("路桥区环保局", "路桥区", 1) + bad + "\n"  # good new rows, then the bad one
    code, out, err = await cli("units", "import", str(write(tmp_path, text, "bad.csv")))
    assert code == 1 and out == ""
    assert "bad.csv:7:" in err and says in err
    assert await snapshot(db) == before


async def test_bad_file_on_empty_database_applies_nothing(db: Database, tmp_path: Path) -> None:
    text = GOOD + "椒江区,district,chuangmo-taizhou,x9,某,nobody\n\n,,,,,\n"
    code, _, err = await cli("units", "import", str(write(tmp_path, text)))
    assert code == 1 and "units.csv:7:" in err
    assert await snapshot(db) == ([], [], 0)


def test_parse_reports_every_bad_line_and_header() -> None:
    rows = [
        (1, ["unit", "kind", "scheme", "userid", "name", "role"]),
        (2, ["A", "district", "s", "u1", "n", "liaison"]),
        (3, ["A", "district", "s", "u2", "n", "x"]),
        (5, ["A", "y", "s", "u3", "n", "liaison"]),
    ]
    with pytest.raises(UnitsFileError) as info:
        parse_rows(rows, ["s"], "f.csv")
    assert [e.split(":")[1] for e in info.value.errors] == ["3", "5"]
    with pytest.raises(UnitsFileError, match="表头"):
        parse_rows([(1, ["unit", "kind", "scheme", "userid", "name"])], ["s"], "f.csv")
    same_twice = [*rows[:2], (3, ["A", "district", "s", "u1", "n", "liaison"])]
    assert len(parse_rows(same_twice, ["s"], "f.csv")) == 1


async def test_units_list(db: Database, tmp_path: Path) -> None:
    code, out, _ = await cli("units", "list")
    assert code == 0 and "尚无单位" in out
    await cli("units", "import", str(write(tmp_path, GOOD)))
    code, out, _ = await cli("units", "list")
    assert code == 0 and "椒江区  区  chuangmo-taizhou" in out and "lisi  李四  领导" in out
    assert "共4个单位，5人" in out
    code, out, _ = await cli("units", "list", "--json")
    data = json.loads(out)
    assert [u["unit"] for u in data] == sorted(u["unit"] for u in data)
    assert {m["userid"] for u in data for m in u["members"]} == {
        "zhangsan",
        "lisi",
        "wangwu",
        "cmb-wang",
        "zhaoliu",
    }


async def test_db_upgrade_and_current(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.settings import get_settings

    monkeypatch.setenv("KAOHE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'k.db'}")
    get_settings.cache_clear()
    try:
        code, _, err = await cli("units", "list")
        assert code == 1 and "kaohe db upgrade" in err
        code, _, _ = await cli("db", "current")
        assert code == 1
        code, out, _ = await cli("db", "upgrade")
        assert code == 0 and "最新版本" in out
        code, out, _ = await cli("db", "upgrade")
        assert code == 0
        code, out, _ = await cli("db", "current")
        assert code == 0
        code, _, _ = await cli("db")
        assert code == 2
    finally:
        get_settings.cache_clear()


UNITS_CN = """单位,类型,方案,账号,姓名,角色,状态
椒江区,区,chuangmo-taizhou,zhangsan,张三,联络员,
椒江区,区,chuangmo-taizhou,xiaoli,小李,联络员,在岗
椒江区,区,chuangmo-taizhou,laowang,老王,联络员,停用
"""


async def test_units_import_chinese_headers_status_and_forced_scheme_change(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "人员.csv"
    path.write_text(UNITS_CN, encoding="utf-8-sig")
    code, out, err = await cli("units", "import", str(path))
    assert code == 0, err
    async with db.session() as s:
        members = {m.userid: m for m in (await s.exec(select(Member))).all()}
        unit = await get_unit_by_name(s, "椒江区")
        this_year = datetime.now(TZ).year
        await add_task(s, unit_id=unit.id, kind="feedback", due=date(this_year, 12, 1), actor="t")
        await s.commit()
    assert {u: m.active for u, m in members.items()} == {
        "zhangsan": True,
        "xiaoli": True,
        "laowang": False,
    }  # several liaisons for one unit; one deactivated by the import
    code, out, _ = await cli("units", "import", str(path))
    assert "新增0、更新0" in out  # the same file twice changes nothing
    code, out, _ = await cli("units", "list")
    assert "laowang  老王  联络员  （已停用）" in out

    moved = tmp_path / "moved.csv"
    moved.write_text(UNITS_CN.replace("chuangmo-taizhou", "epb-district-2007"), encoding="utf-8")
    code, out, err = await cli("units", "import", str(moved))
    assert code == 1 and "须加 --force" in err
    async with db.session() as s:
        assert (await get_unit_by_name(s, "椒江区")).scheme_id == "chuangmo-taizhou"
    code, out, err = await cli("units", "import", str(moved), "--force", "--actor", "cmb")
    assert code == 0, err
    async with db.session() as s:
        assert (await get_unit_by_name(s, "椒江区")).scheme_id == "epb-district-2007"
        (change,) = await list_audit(s, action="unit.scheme_change")
    assert change.actor == "cmb" and change.detail["forced"] is True


async def test_units_sync_fills_names_or_skips_cleanly(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.settings import get_settings
    from tests.fakewecom import AGENT_ID, CORP_ID, FakeWeCom

    path = tmp_path / "u.csv"
    path.write_text(
        "unit,kind,scheme,userid,name,role\n"
        "椒江区,district,chuangmo-taizhou,zhangsan,zhangsan,liaison\n"
        "椒江区,district,chuangmo-taizhou,lisi,李四,leader\n",
        encoding="utf-8",
    )
    assert (await cli("units", "import", str(path)))[0] == 0
    code, out, _ = await cli("units", "sync")
    assert code == 0 and "未配置企业微信" in out  # no WeCom: skipped, nothing changed

    async with FakeWeCom() as wecom:
        for name, value in (
            ("WECOM_CORP_ID", CORP_ID),
            ("WECOM_SECRET", wecom.secret),
            ("WECOM_AGENT_ID", str(AGENT_ID)),
            ("WECOM_API_BASE", wecom.url),
        ):
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        wecom.directory = {"zhangsan": "张三", "lisi": "李四", "stranger": "路人"}
        wecom.fail("user/simplelist", 60011)
        code, out, _ = await cli("units", "sync")
        assert code == 0 and "没有读取通讯录的权限（60011" in out
        async with db.session() as s:
            assert (await get_member(s, "zhangsan")).name == "zhangsan"

        code, out, err = await cli("units", "sync", "--actor", "cmb")
        assert code == 0, err
        assert "zhangsan：zhangsan → 张三" in out and "已更新1人" in out
        async with db.session() as s:
            assert (await get_member(s, "zhangsan")).name == "张三"
            assert await get_member(s, "stranger") is None  # nobody is registered by a sync
            (update,) = await list_audit(s, action="member.update")
        assert update.actor == "cmb"
        assert "已更新0人" in (await cli("units", "sync"))[1]  # twice: nothing more


async def test_assessments_and_units_imported_into_one(db: Database, tmp_path: Path) -> None:
    """分级考核 on the command line: a district's assessment with its admins, its towns imported
    into it; a unit name of another assessment is refused and nothing is imported."""
    city = tmp_path / "city.csv"
    city.write_text(GOOD, encoding="utf-8")
    assert (await cli("units", "import", str(city)))[0] == 0
    code, out, err = await cli(
        "assessments",
        "add",
        "椒江区创模考核",
        "--organiser",
        "椒江区",
        "--admins",
        "zhangsan,jj-li",
    )
    assert code == 0 and "已新增考核2：椒江区创模考核" in out, err
    assert (await cli("assessments", "add", "椒江区创模考核"))[0] == 1  # the name is taken
    assert "没有名为" in (await cli("assessments", "add", "某考核", "--organiser", "无此单位"))[2]
    towns = tmp_path / "towns.csv"
    towns.write_text(
        "unit,kind,scheme,userid,name,role\n"
        "海门街道,district,chuangmo-taizhou,hm1,海一,liaison\n"
        "章安街道,district,chuangmo-taizhou,za1,章一,liaison\n",
        encoding="utf-8",
    )
    code, out, err = await cli("units", "import", str(towns), "--assessment", "椒江区创模考核")
    assert code == 0, err
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "unit,kind,scheme,userid,name,role\n椒江区,district,chuangmo-taizhou,x1,某,liaison\n",
        encoding="utf-8",
    )
    code, _, err = await cli("units", "import", str(bad), "--assessment", "2")
    assert code == 1 and "已属于另一个考核" in err
    assert "没有考核" in (await cli("units", "import", str(towns), "--assessment", "无"))[2]
    async with db.session() as s:
        units = {u.name: u.assessment_id for u in (await s.exec(select(Unit))).all()}
    assert units["海门街道"] == units["章安街道"] == 2 and units["椒江区"] == 1
    code, out, _ = await cli("assessments", "list")
    assert (
        code == 0 and "1\t默认考核" in out and "2\t椒江区创模考核\t组织单位椒江区\t单位2个" in out
    )
    assert "zhangsan、jj-li" in out
    code, out, _ = await cli("assessments", "admin", "椒江区创模考核", "jj-zhao", "zhangsan")
    assert code == 0 and "新增管理员 jj-zhao" in out
