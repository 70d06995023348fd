"""The dashboard: a signed link starts a short signed session (cookie), then the pages: the tally
(maximum points in the headers, 待评 where nothing is assessed), a unit (score card, 责任书,
submissions with bodies and attachments, open items without doubled codes), the review queue
whose buttons write the same ledger rows as chat (POST with a CSRF token), the 未报/红黄绿 board.
Refused: no session, tampered or expired links and sessions, non-admins, POSTs without the token.
And in headless Chromium (Debian's `chromium`, driven by Playwright) at 390×844 and 1366×768:
no horizontal overflow, screenshots written to out/screens for a person to look at."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image
from sqlmodel import col, select
from tally_helpers import AS_OF, YEAR, seed_file

from bot.dashboard import add_dashboard_routes
from bot.dashboard.session import COOKIE
from storage import ledger
from storage.db import Database
from storage.grades import grade_history
from storage.models import SubmissionEvent
from storage.units import get_unit_by_name
from tally.links import dashboard_link_for, sign_dashboard_link

SECRET = "dashboard-test-secret"
ADMIN = "cmb-admin"
QUERY = f"&year={YEAR}&as_of={AS_OF.isoformat()}"
SCREENS = Path(__file__).resolve().parent.parent / "out" / "screens"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def seeded(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:  # type: ignore[type-arg]
    path = tmp_path_factory.mktemp("dash") / "seeded.db"
    ids = seed_file(path, sqlite_template)
    return path, ids


@dataclass
class Dash:
    client: TestClient
    db: Database
    ids: dict[str, int]
    now: list[float]
    media: Path

    async def login(self, userid: str = ADMIN) -> None:
        resp = await self.client.get(link(userid, now=self.now[0]), allow_redirects=False)
        assert resp.status == 303, await resp.text()

    async def page(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        resp = await self.client.get(f"{path}{sep}year={YEAR}&as_of={AS_OF.isoformat()}")
        assert resp.status == 200, await resp.text()
        return await resp.text()


@pytest.fixture
async def dash(seeded, tmp_path: Path) -> AsyncIterator[Dash]:  # type: ignore[no-untyped-def]
    source, ids = seeded
    path = tmp_path / "dash.db"
    shutil.copyfile(source, path)  # each test may write (reviews): its own copy
    db = Database(f"sqlite+aiosqlite:///{path}")
    now = [time.time()]

    async def is_admin(userid: str) -> bool:
        return userid == ADMIN

    app = web.Application()
    media = tmp_path / "media"
    media.mkdir()
    add_dashboard_routes(
        app, db, secret=SECRET, is_admin=is_admin, media_dir=media, clock=lambda: now[0]
    )
    async with TestClient(TestServer(app)) as c:
        yield Dash(c, db, ids, now, media)
    await db.dispose()


def link(userid: str = ADMIN, path: str = "/dashboard", now: float | None = None) -> str:
    signed = dashboard_link_for(SECRET, userid, now=now)
    return path + signed[len("/dashboard") :] + QUERY


async def test_signed_link_starts_a_session_and_leaves_the_url(dash: Dash) -> None:
    resp = await dash.client.get(link(now=dash.now[0]), allow_redirects=False)
    assert resp.status == 303
    location = resp.headers["Location"]
    assert location.startswith("/dashboard?") and "s=" not in location and "u=" not in location
    assert f"year={YEAR}" in location
    cookie = resp.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/dashboard"
    assert 0 < int(cookie["max-age"]) <= 1800
    html = await dash.page("/dashboard")
    assert "2026年度考核汇总" in html
    for unit in ("临海市", "椒江区", "黄岩区", "路桥区", "市住建局", "路桥区环保局"):
        assert unit in html
    assert "86.38" in html and "已确认" in html and "未确认" in html
    # headers show the maximum; a unit not yet assessed shows 待评, not 0
    assert "C1组织领导<small>10分</small>" in html and "基本分<small>100分</small>" in html
    row = html.split("市住建局</a>")[1].split("</tr>")[0]
    # C2 工作网络建设 and C4 档案资料 are discretionary and not entered yet: 待评, not 0
    cells = row.split("<td")
    assert "待评" in cells[2] and "待评" in cells[4]
    assert "s=" not in html.replace("class=", "")  # no signature rides on the links


async def test_unit_page_has_card_charter_bodies_and_plain_open_items(dash: Dash) -> None:
    await dash.login()
    html = await dash.page(f"/dashboard/unit/{dash.ids['椒江区环保局']}")
    assert "椒江区环保局 · 2026年度得分" in html
    assert "计分明细" in html and "责任书与任务" in html and "报送记录" in html
    assert "待审核" in html
    assert "T16" in html  # codes come with their names
    assert "T16 T16" not in html and "info" not in html.replace("info-", "")
    html = await dash.page(f"/dashboard/unit/{dash.ids['椒江区']}")
    assert "A1" in html and "年度工作指标" in html  # the 责任书 tasks
    assert "C3b工作信息" in html
    assert (await dash.client.get("/dashboard/unit/99999")).status == 404


async def test_chart_open_and_board_pages(dash: Dash) -> None:
    await dash.login()
    resp = await dash.client.get(f"/dashboard/chart.png?year={YEAR}&as_of={AS_OF}")
    assert resp.status == 200 and resp.headers["Content-Type"] == "image/png"
    with Image.open(BytesIO(await resp.read())) as image:
        assert image.format == "PNG" and image.size[0] >= 800
    html = await dash.page("/dashboard/open")
    assert "待办事项（共" in html and "待评分" in html
    # dated as people write dates, not 2026-12-01
    assert f"截至{AS_OF.year}年{AS_OF.month}月{AS_OF.day}日" in html
    html = await dash.page("/dashboard/board")
    assert "各单位状态" in html and "红" in html and "逾期未报" in html
    assert re.search(r"截止\d{1,2}月\d{1,2}日，已逾期\d+个工作日", html)


async def test_review_buttons_write_the_same_rows_as_chat(dash: Dash) -> None:
    await dash.login()
    html = await dash.page("/dashboard/review")
    assert "待审核" in html and "通过所选" in html
    csrf = html.split('name="csrf" value="')[1].split('"')[0]
    first = int(html.split('name="ids" value="')[1].split('"')[0])
    before = await _events(dash.db)

    # without the token, or with another one: refused, nothing written
    for token in ("", "forged-token"):
        resp = await dash.client.post(
            "/dashboard/review", data={"csrf": token, "action": "accept", "ids": str(first)}
        )
        assert resp.status == 403 and "校验码不符" in await resp.text()
    assert await _events(dash.db) == before

    resp = await dash.client.post(
        "/dashboard/review", data={"csrf": csrf, "action": "accept", "ids": str(first)}
    )
    assert resp.status == 200 and "已通过1项" in await resp.text()
    rows = await _events(dash.db)
    assert len(rows) == len(before) + 1
    assert (rows[-1].submission_id, rows[-1].status, rows[-1].actor) == (first, "accepted", ADMIN)
    # the same click again: recorded once
    resp = await dash.client.post(
        "/dashboard/review", data={"csrf": csrf, "action": "accept", "ids": str(first)}
    )
    assert "未重复记录" in await resp.text()
    assert len(await _events(dash.db)) == len(rows)

    # 退回 needs a reason
    second = int(
        (await dash.page("/dashboard/review")).split('name="ids" value="')[1].split('"')[0]
    )
    resp = await dash.client.post(
        "/dashboard/review", data={"csrf": csrf, "action": "reject", "ids": str(second)}
    )
    assert "退回请填写原因" in await resp.text()
    assert len(await _events(dash.db)) == len(rows)
    resp = await dash.client.post(
        "/dashboard/review",
        data={"csrf": csrf, "action": "reject", "ids": str(second), "reason": "缺少图片"},
    )
    assert f"已退回S{second}" in await resp.text()
    last = (await _events(dash.db))[-1]
    assert (last.status, last.reason, last.actor) == ("rejected", "缺少图片", ADMIN)


async def _events(db: Database) -> list[SubmissionEvent]:
    async with db.session() as s:
        return list((await s.exec(select(SubmissionEvent).order_by(col(SubmissionEvent.id)))).all())


async def test_attachments_download_and_stay_inside_the_media_dir(dash: Dash) -> None:
    (dash.media / "ab12cd34ef-整治方案.pdf").write_bytes(b"%PDF-1.4 body")
    async with dash.db.session() as s:
        unit = await get_unit_by_name(s, "椒江区")
        sub = await ledger.add_submission(
            s,
            unit_id=unit.id,
            target="C3b",
            submitted_at=datetime.fromisoformat("2026-11-03T10:00:00+08:00"),
            sender="zhangsan",
            period="2026-11",
            title="整治简报",
            text="正文 <script>alert(1)</script>",
            attachments=[
                {"file": "ab12cd34ef-整治方案.pdf", "name": "ab12cd34ef-整治方案.pdf"},
                {"file": "../../etc/passwd", "name": "passwd"},
            ],
        )
        await s.commit()
    await dash.login()
    html = await dash.page(f"/dashboard/unit/{unit.id}")
    assert "整治方案.pdf" in html and "ab12cd34ef" not in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html  # escaped
    resp = await dash.client.get(f"/dashboard/file/{sub.id}/0")
    assert resp.status == 200 and await resp.read() == b"%PDF-1.4 body"
    assert "attachment" in resp.headers["Content-Disposition"]
    assert (await dash.client.get(f"/dashboard/file/{sub.id}/1")).status == 404
    assert (await dash.client.get(f"/dashboard/file/{sub.id}/7")).status == 404


async def test_session_expires_and_tampered_sessions_are_refused(dash: Dash) -> None:
    await dash.login()
    assert (await dash.client.get("/dashboard")).status == 200
    dash.now[0] += 31 * 60
    resp = await dash.client.get("/dashboard")
    assert resp.status == 403 and "会话已过期" in await resp.text()
    resp = await dash.client.post("/dashboard/review", data={"csrf": "x", "action": "accept"})
    assert resp.status == 403
    await dash.login()
    value = dash.client.session.cookie_jar.filter_cookies(dash.client.make_url("/dashboard"))[
        COOKIE
    ].value
    dash.client.session.cookie_jar.clear()
    dash.client.session.cookie_jar.update_cookies({COOKIE: value[:-3] + "AAA"})
    resp = await dash.client.get("/dashboard")
    assert resp.status == 403 and "会话无效" in await resp.text()


@pytest.mark.parametrize(
    "make",
    [
        lambda: "/dashboard",  # no session
        lambda: "/dashboard?year=2026",
        lambda: link().replace("u=cmb-admin", "u=someone"),  # tampered user
        lambda: link().replace("&s=", "&s=0"),  # tampered signature
        lambda: sign_dashboard_link(SECRET, ADMIN, int(time.time()) - 1) + QUERY,  # expired
        lambda: dashboard_link_for("not-the-secret", ADMIN) + QUERY,
        lambda: link(userid="liaison-1"),  # validly signed, but not an admin
        lambda: "/dashboard/unit/1",
        lambda: "/dashboard/review",
        lambda: "/dashboard/board",
        lambda: "/dashboard/chart.png",
    ],
)
async def test_refused_requests_get_a_403_page(dash: Dash, make) -> None:  # type: ignore[no-untyped-def]
    resp = await dash.client.get(make())
    assert resp.status == 403
    html = await resp.text()
    assert "无权访问" in html and "看板" in html
    assert "临海市" not in html
    assert COOKIE not in resp.cookies


async def test_no_secret_refuses_everything(seeded) -> None:  # type: ignore[no-untyped-def]
    path, _ = seeded
    db = Database(f"sqlite+aiosqlite:///{path}")
    app = web.Application()
    add_dashboard_routes(app, db, secret=None)
    async with TestClient(TestServer(app)) as c:
        resp = await c.get(link())  # signed with a secret the server does not have
        assert resp.status == 403
        assert "KAOHE_DASHBOARD_SECRET" in await resp.text()
    await db.dispose()


def test_serve_app_has_the_dashboard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.app import build_app
    from bot.settings import Settings

    monkeypatch.setenv("KAOHE_DASHBOARD_SECRET", SECRET)
    monkeypatch.setenv("KAOHE_PUBLIC_URL", "https://kaohe.example.cn")
    monkeypatch.setenv("KAOHE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'k.db'}")
    settings = Settings()
    assert settings.secret("dashboard_secret") == SECRET
    assert SECRET not in repr(settings)  # a SecretStr: never printed
    app = build_app(settings, upgrade_on_start=False)
    paths = {r.resource.canonical for r in app.router.routes() if r.resource is not None}
    assert {
        "/dashboard",
        "/dashboard/open",
        "/dashboard/unit/{unit_id}",
        "/dashboard/review",
        "/dashboard/board",
    } <= paths


# --- in a real browser ---------------------------------------------------------------------------


def _chromium() -> str:
    """Debian's chromium, or skip (only outside CI: in CI the browser tests must run)."""
    path = shutil.which("chromium") or "/usr/bin/chromium"
    missing = None
    if not Path(path).exists():
        missing = "chromium is not installed (apt-get install -y chromium)"
    else:
        try:
            import playwright.async_api  # noqa: F401
        except ImportError:
            missing = "playwright is not installed (pip install -e '.[test]')"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{missing}; in CI the browser tests must run")
        pytest.skip(f"{missing}; not in CI")
    return path


@pytest.fixture
async def browser():  # type: ignore[no-untyped-def]
    executable = _chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


def _not_blank(shot: bytes) -> None:
    with Image.open(BytesIO(shot)) as image:
        rgb = image.convert("RGB")
        colors = rgb.getcolors(maxcolors=1_000_000)
        assert colors is not None and len(colors) > 50  # text, tables: not blank
        lo, hi = zip(*rgb.getextrema(), strict=True)
        assert min(lo) < 60 and max(hi) > 200  # dark text on a light page


@pytest.mark.parametrize("size", [(390, 844), (1366, 768)], ids=["phone", "desktop"])
async def test_browser_pages_fit_the_screen(dash: Dash, browser, size) -> None:  # type: ignore[no-untyped-def]
    width, height = size
    base = str(dash.client.make_url("")).rstrip("/")
    context = await browser.new_context(viewport={"width": width, "height": height})
    page = await context.new_page()
    response = await page.goto(base + link(now=dash.now[0]), wait_until="load")
    assert response is not None and response.status == 200
    assert "s=" not in page.url  # the signature left the address bar
    SCREENS.mkdir(parents=True, exist_ok=True)
    unit = dash.ids["椒江区环保局"]
    pages = {
        "tally": "/dashboard",
        "unit": f"/dashboard/unit/{unit}",
        "review": "/dashboard/review",
        "board": "/dashboard/board",
        "open": "/dashboard/open",
    }
    for name, path in pages.items():
        response = await page.goto(f"{base}{path}?year={YEAR}&as_of={AS_OF}", wait_until="load")
        assert response is not None and response.status == 200, name
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
        css = await page.evaluate("getComputedStyle(document.querySelector('nav')).display")
        assert css == "flex"  # the stylesheet loaded
        shot = await page.screenshot(full_page=True)
        (SCREENS / f"{name}-{width}.png").write_bytes(shot)
        _not_blank(shot)
    await context.close()


async def test_browser_approves_from_the_review_page(dash: Dash, browser) -> None:  # type: ignore[no-untyped-def]
    base = str(dash.client.make_url("")).rstrip("/")
    context = await browser.new_context(viewport={"width": 390, "height": 844})
    page = await context.new_page()
    await page.goto(base + link(path="/dashboard/review", now=dash.now[0]), wait_until="load")
    first = await page.locator("input[name=ids][type=checkbox]").first.get_attribute("value")
    before = len(await _events(dash.db))
    await page.locator(".review-item").first.locator("button.approve").click()
    await page.wait_for_load_state("load")
    assert "已通过1项" in await page.inner_text("main")
    rows = await _events(dash.db)
    assert len(rows) == before + 1 and rows[-1].submission_id == int(first or 0)
    # 退回 with a reason typed on the phone
    item = page.locator(".review-item").first
    second = await item.locator("input[type=checkbox]").get_attribute("value")
    await item.locator("input[name=reason]").fill("请补充整改前后对比照片")
    await item.locator("button.return").click()
    await page.wait_for_load_state("load")
    assert f"已退回S{second}" in await page.inner_text("main")
    SCREENS.mkdir(parents=True, exist_ok=True)  # this test may run before the screenshots one
    (SCREENS / "review-after-390.png").write_bytes(await page.screenshot(full_page=True))
    await context.close()


async def test_grade_from_the_unit_page_is_checked_like_chat(dash: Dash) -> None:
    await dash.login()
    unit = dash.ids["市住建局"]
    html = await dash.page(f"/dashboard/unit/{unit}")
    assert "确认最终等次" in html
    csrf = html.split('name="csrf" value="')[1].split('"')[0]
    path = f"/dashboard/unit/{unit}/grade?year={YEAR}&as_of={AS_OF.isoformat()}"
    resp = await dash.client.post(path, data={"csrf": "x", "grade": "优秀", "reason": "r"})
    assert resp.status == 403
    resp = await dash.client.post(path, data={"csrf": csrf, "grade": "优秀", "reason": "成效突出"})
    html = await resp.text()
    assert "未记录" in html and "勾选「按例外处理」" in html
    async with dash.db.session() as s:
        assert await grade_history(s, unit, YEAR) == []
    data = {"csrf": csrf, "grade": "优秀", "reason": "经领导小组研究", "exception": "1"}
    html = await (await dash.client.post(path, data=data)).text()
    assert "已按例外确定市住建局" in html
    async with dash.db.session() as s:
        (row,) = await grade_history(s, unit, YEAR)
    assert (row.grade, row.exception, row.actor) == ("优秀", True, ADMIN)
