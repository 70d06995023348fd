"""`kaohe serve` wiring: build_app from settings, with and without WeCom, migrations at start."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_app, create_app
from bot.cli import build_parser, main
from bot.settings import Settings
from handlers.types import InboundMessage, Reply, TextReply
from tests.fakewecom import AES_KEY, AGENT_ID, CORP_ID, TOKEN, FakeWeCom, WeComPeer

WECOM_VARS = [
    "WECOM_CORP_ID",
    "WECOM_AGENT_ID",
    "WECOM_SECRET",
    "WECOM_TOKEN",
    "WECOM_ENCODING_AES_KEY",
    "WECOM_API_BASE",
    "WECOM_WEBHOOK_KEY",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in WECOM_VARS:
        monkeypatch.delenv(name, raising=False)


def settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(
        _env_file=None, KAOHE_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/k.db", **values
    )  # type: ignore[call-arg]


async def test_starts_without_wecom_and_says_what_is_missing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        app = build_app(settings(tmp_path), media_dir=tmp_path / "media")
        async with TestClient(TestServer(app)) as client:
            assert (await client.get("/healthz")).status == 200
            ready = await client.get("/readyz")  # migrations were applied at start
            assert ready.status == 200, await ready.text()
            assert (await client.post("/wecom/callback", data=b"<xml/>")).status == 503
    for name in ("WECOM_CORP_ID", "WECOM_SECRET", "WECOM_TOKEN", "WECOM_ENCODING_AES_KEY"):
        assert name in caplog.text
    assert "callback: OFF" in caplog.text and "active sending: OFF" in caplog.text


async def test_fully_configured(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def handler(msg: InboundMessage) -> Reply | None:
        return TextReply(f"收到 {msg.text}")

    made: dict[str, object] = {}

    def factory(**parts: object):  # type: ignore[no-untyped-def]
        made.update(parts)
        return handler

    async with FakeWeCom() as wecom:
        s = settings(
            tmp_path,
            WECOM_CORP_ID=CORP_ID,
            WECOM_AGENT_ID=AGENT_ID,
            WECOM_SECRET=wecom.secret,
            WECOM_TOKEN=TOKEN,
            WECOM_ENCODING_AES_KEY=AES_KEY,
            WECOM_API_BASE=wecom.url,
            WECOM_WEBHOOK_KEY=wecom.webhook_key,
        )
        assert s.missing_wecom() == []
        with caplog.at_level(logging.INFO):
            app = build_app(s, handler_factory=factory, media_dir=tmp_path / "media")
            async with TestClient(TestServer(app)) as client:
                reply = await WeComPeer().send_text(client, user="zhangsan", content="你好")
                assert reply.content == "收到 你好"
                await made["channel"].send_text("lisi", "提醒")  # type: ignore[attr-defined]
                await made["channel"].announce("公告")  # type: ignore[attr-defined]
        assert wecom.sent_texts("lisi") == ["提醒"]
        assert wecom.webhook_sent[0]["markdown"]["content"] == "公告"
    assert set(made) == {"db", "channel", "settings"}
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name != "aiohttp.access")
    assert wecom.secret not in ours and AES_KEY not in ours and TOKEN not in ours


async def test_readyz_fails_before_migrations(tmp_path: Path) -> None:
    from storage.db import Database

    db = Database(f"sqlite+aiosqlite:///{tmp_path}/fresh.db")

    async def handler(msg: InboundMessage) -> Reply | None:
        return None

    try:
        async with TestClient(TestServer(create_app(db=db, handler=handler))) as client:
            resp = await client.get("/readyz")
            assert resp.status == 503
            assert (await resp.json())["status"] == "unavailable"
    finally:
        await db.dispose()


def test_serve_is_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["serve", "--port", "9999", "--reply-budget", "1.5"])
    assert (args.port, args.reply_budget) == (9999, 1.5)
    with pytest.raises(SystemExit) as info:
        main(["serve", "--help"])
    assert info.value.code == 0
    assert "/wecom/callback" in capsys.readouterr().out


async def test_a_serving_app_freezes_what_start_up_made_last() -> None:
    """`kaohe serve` runs the app through `serving`: once every other start-up step has run,
    what is alive is moved out of the cyclic collector's reach (gc.freeze), so full collections
    no longer stall requests on it."""
    import gc

    from aiohttp import web
    from aiohttp.test_utils import TestServer

    from bot.app import freeze_startup_objects, serving

    seen: list[int] = []

    async def earlier_step(_app: web.Application) -> None:
        seen.append(gc.get_freeze_count())

    app = web.Application()
    app.on_startup.append(earlier_step)
    assert serving(app) is app and app.on_startup[-1] is freeze_startup_objects
    gc.unfreeze()
    try:
        async with TestServer(app):
            assert seen == [0]  # not yet frozen during the earlier steps
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
