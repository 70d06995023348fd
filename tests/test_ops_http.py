"""What an operator sees over HTTP: the front page, /metrics in Prometheus format with the
callback's outcomes, handler latency and the outbox read from the database, and one log line per
request carrying the message key and user id (as text, or JSON with KAOHE_LOG_FORMAT=json)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from bot import logsetup
from bot.app import create_app
from bot.wecom.callback import CallbackConfig
from handlers.types import InboundMessage, Reply, TextReply
from storage.db import Database
from storage.outbox import claim_due, mark_failed, send_later
from storage.types import utcnow
from tests.fakewecom import AES_KEY, AGENT_ID, CORP_ID, TOKEN, WeComPeer


async def echo(msg: InboundMessage) -> Reply | None:
    return TextReply("你说：" + msg.text)


@pytest.fixture
async def client(sqlite_db: Database) -> AsyncIterator[TestClient]:
    app = create_app(
        db=sqlite_db,
        handler=echo,
        callback=CallbackConfig(
            token=TOKEN, encoding_aes_key=AES_KEY, corp_id=CORP_ID, agent_id=AGENT_ID
        ),
    )
    async with TestClient(TestServer(app)) as c:
        yield c


@pytest.fixture
async def sqlite_db(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Database]:
    import shutil

    shutil.copyfile(sqlite_template, tmp_path / "k.db")
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'k.db'}")
    yield db
    await db.dispose()


async def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    resp = await client.get("/metrics")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
    values = {}
    for family in text_string_to_metric_families(await resp.text()):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


async def test_front_page_names_the_service_and_links_health(client: TestClient) -> None:
    resp = await client.get("/")
    page = await resp.text()
    assert resp.status == 200 and resp.content_type == "text/html"
    assert "kaohe 考核机器人" in page and "href='/healthz'" in page


async def test_metrics_count_callbacks_handler_time_and_outbox(
    client: TestClient, sqlite_db: Database
) -> None:
    before = await scrape(client)
    ok, refused = (
        ("kaohe_callback_requests_total", (("outcome", "ok"),)),
        (
            "kaohe_callback_requests_total",
            (("outcome", "refused"),),
        ),
    )
    handled = ("kaohe_handler_seconds_count", ())
    reply = await WeComPeer().send_text(client, user="zhangsan", content="进度", msg_id="m-1")
    assert reply.status == 200
    assert (await client.post("/wecom/callback?timestamp=1", data=b"<xml/>")).status == 400
    for _ in range(3):
        await send_later(sqlite_db, "lisi", {"type": "text", "text": "提醒"})
    (item, *_) = await claim_due(sqlite_db, now=utcnow() + timedelta(seconds=1), limit=1)
    await mark_failed(sqlite_db, item.id, "errcode 81013", retry_at=None)

    after = await scrape(client)
    assert after[ok] == before[ok] + 1
    assert after[refused] == before[refused] + 1
    assert after[handled] == before[handled] + 1
    assert after[("kaohe_outbox_messages", (("status", "pending"),))] == 2
    assert after[("kaohe_outbox_messages", (("status", "failed"),))] == 1
    names = {key[0] for key in after}
    assert {"kaohe_reminder_sends_total", "kaohe_holiday_data_missing"} <= names
    assert "process_cpu_seconds_total" in names


async def test_one_log_line_per_request_with_key_and_user(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="bot.app"):
        await WeComPeer().send_text(client, user="wangwu", content="帮助", msg_id="m-77")
    lines = [r for r in caplog.records if r.getMessage().startswith("POST /wecom/callback 200")]
    assert len(lines) == 1
    context = lines[0].context  # type: ignore[attr-defined]
    assert context["user"] == "wangwu" and "m-77" in context["key"]

    record = lines[0]
    logsetup.ContextFilter().filter(record)
    text = logsetup.TextFormatter().format(record)
    assert "POST /wecom/callback 200" in text and "user=wangwu" in text
    entry = json.loads(logsetup.JsonFormatter().format(record))
    assert entry["message"].startswith("POST /wecom/callback 200")
    assert entry["user"] == "wangwu" and entry["level"] == "INFO" and "time" in entry


def test_configure_hides_alembic_chatter_at_info() -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        logsetup.configure("INFO", "json")
        assert not logging.getLogger("alembic.runtime.plugins").isEnabledFor(logging.INFO)
        assert isinstance(root.handlers[-1].formatter, logsetup.JsonFormatter)
        logsetup.configure("DEBUG", "text")
        assert logging.getLogger("alembic").isEnabledFor(logging.INFO)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name in logsetup.QUIET_AT_INFO:
            logging.getLogger(name).setLevel(logging.NOTSET)
