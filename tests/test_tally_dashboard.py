"""The read-only dashboard: signed links only (unsigned, tampered, expired, non-admin: 403 with a
Chinese page), the tally table, a unit's card and submissions, open items, the chart; and the same
pages rendered in headless Chromium (Debian's `chromium`, driven by Playwright) with a screenshot."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import AsyncIterator
from io import BytesIO
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image
from tally_helpers import AS_OF, YEAR, seed_file

from bot.dashboard import add_dashboard_routes
from storage.db import Database
from tally.links import dashboard_link_for, sign_dashboard_link

SECRET = "dashboard-test-secret"
ADMIN = "cmb-admin"
QUERY = f"&year={YEAR}&as_of={AS_OF.isoformat()}"
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


@pytest.fixture
async def client(seeded: tuple[Path, dict]) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    path, _ = seeded
    db = Database(f"sqlite+aiosqlite:///{path}")

    async def is_admin(userid: str) -> bool:
        return userid == ADMIN

    app = web.Application()
    add_dashboard_routes(app, db, secret=SECRET, is_admin=is_admin)
    async with TestClient(TestServer(app)) as c:
        yield c
    await db.dispose()


def link(userid: str = ADMIN, path: str = "/dashboard") -> str:
    signed = dashboard_link_for(SECRET, userid)
    return path + signed[len("/dashboard") :] + QUERY


async def test_signed_link_shows_the_tally(client: TestClient, seeded) -> None:  # type: ignore[no-untyped-def]
    resp = await client.get(link())
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/html")
    assert resp.headers["Cache-Control"] == "no-store"
    html = await resp.text()
    assert "2026 年度考核汇总" in html
    for unit in ("临海市", "椒江区", "黄岩区", "路桥区", "市住建局", "路桥区环保局"):
        assert unit in html
    assert "86.38" in html and "已确认" in html and "未确认" in html
    assert "/dashboard/unit/" in html and "s=" in html  # internal links keep the signature


async def test_unit_page_open_items_and_chart(client: TestClient, seeded) -> None:  # type: ignore[no-untyped-def]
    _, ids = seeded
    resp = await client.get(link(path=f"/dashboard/unit/{ids['椒江区环保局']}"))
    assert resp.status == 200
    html = await resp.text()
    assert "椒江区环保局 · 2026 年度得分" in html
    assert "计分明细" in html and "T16" in html and "报送记录" in html and "待审核" in html
    resp = await client.get(link(path="/dashboard/open"))
    assert resp.status == 200
    html = await resp.text()
    assert "待办事项（共" in html and "待评分" in html
    resp = await client.get(link(path="/dashboard/chart.png"))
    assert resp.status == 200 and resp.headers["Content-Type"] == "image/png"
    with Image.open(BytesIO(await resp.read())) as image:
        assert image.format == "PNG" and image.size[0] >= 800
    assert (await client.get(link(path="/dashboard/unit/99999"))).status == 404


@pytest.mark.parametrize(
    "make",
    [
        lambda: "/dashboard",  # unsigned
        lambda: "/dashboard?year=2026",
        lambda: link().replace("u=cmb-admin", "u=someone"),  # tampered user
        lambda: link().replace("&s=", "&s=0"),  # tampered signature
        lambda: sign_dashboard_link(SECRET, ADMIN, int(time.time()) - 1) + QUERY,  # expired
        lambda: dashboard_link_for("not-the-secret", ADMIN) + QUERY,
        lambda: link(userid="liaison-1"),  # validly signed, but not an admin
        lambda: link(path="/dashboard/open").split("&s=")[0],
        lambda: "/dashboard/unit/1",
        lambda: "/dashboard/chart.png",
    ],
)
async def test_refused_links_get_a_403_page(client: TestClient, make) -> None:  # type: ignore[no-untyped-def]
    resp = await client.get(make())
    assert resp.status == 403
    html = await resp.text()
    assert "无权访问" in html and "看板" in html
    assert "临海市" not in html


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
    assert settings.dashboard_secret == SECRET
    assert settings.public_url == "https://kaohe.example.cn"
    app = build_app(settings, upgrade_on_start=False)
    paths = {r.resource.canonical for r in app.router.routes() if r.resource is not None}
    assert {"/dashboard", "/dashboard/open", "/dashboard/unit/{unit_id}"} <= paths


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


async def test_browser_renders_the_tally_and_a_unit(client: TestClient, browser) -> None:  # type: ignore[no-untyped-def]
    base = str(client.make_url("")).rstrip("/")
    page = await browser.new_page(viewport={"width": 1400, "height": 900})
    response = await page.goto(base + link(), wait_until="load")
    assert response is not None and response.status == 200
    assert await page.title() == "2026 年度考核汇总"
    tables = page.locator("table.tally")
    assert await tables.count() == 2
    assert await tables.nth(0).locator("tbody tr").count() == 5
    assert await tables.nth(1).locator("tbody tr").count() == 3
    first = await tables.nth(0).locator("tbody tr").first.inner_text()
    assert "临海市" in first and "86.38" in first
    width = await page.evaluate("document.querySelector('img.chart').naturalWidth")
    assert width >= 800  # the chart loaded through its signed link
    shot = await page.screenshot(full_page=True)
    with Image.open(BytesIO(shot)) as image:
        assert image.format == "PNG"
        assert image.size[0] >= 1000 and image.size[1] >= 600
        rgb = image.convert("RGB")
        colors = rgb.getcolors(maxcolors=1_000_000)
        assert colors is not None and len(colors) > 100  # text, table, chart: not blank
        lo, hi = zip(*rgb.getextrema(), strict=True)
        assert min(lo) < 60 and max(hi) > 200  # dark text on a light page
    await page.click("text=临海市")
    await page.wait_for_load_state("load")
    assert "临海市 · 2026 年度得分" in await page.title()
    assert "计分明细" in await page.inner_text("main")
    # the same signature travels with the unit link
    assert dict(parse_qsl(urlsplit(page.url).query))["u"] == ADMIN
    await page.close()


async def test_browser_is_refused_without_a_valid_link(client: TestClient, browser) -> None:  # type: ignore[no-untyped-def]
    base = str(client.make_url("")).rstrip("/")
    page = await browser.new_page()
    for url in (
        base + "/dashboard",
        base + sign_dashboard_link(SECRET, ADMIN, int(time.time()) - 5) + QUERY,
    ):
        response = await page.goto(url)
        assert response is not None and response.status == 403
        text = await page.inner_text("body")
        assert "无权访问" in text and "临海市" not in text
    await page.close()
