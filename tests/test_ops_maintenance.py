"""What an operator does by hand: look at and retry messages that failed for good, back the
database up and restore it, and the daily retention of inbound plaintext and attachments."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.cli import main
from bot.maintenance import purge_media, retention_cutoff, run_maintenance
from bot.settings import get_settings
from scoring.periods import TZ
from storage.db import Database
from storage.inbound import get_inbound, record_inbound, store_reply
from storage.models import AuditLog, OutboxStatus
from storage.outbox import claim_due, get_outbox, list_outbox, mark_failed, retry_failed, send_later
from storage.types import utcnow


@pytest.fixture
def db_file(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    path = tmp_path / "data" / "kaohe.db"
    path.parent.mkdir()
    shutil.copyfile(sqlite_template, path)
    monkeypatch.setenv("KAOHE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KAOHE_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def _run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


async def _with_db(url: str, work):  # type: ignore[no-untyped-def]
    db = Database(url)
    try:
        return await work(db)
    finally:
        await db.dispose()


async def _two_failed_one_pending(db: Database) -> list[int]:
    ids = [await send_later(db, user, {"type": "text", "text": "提醒"}) for user in "abc"]
    items = await claim_due(db, now=utcnow() + timedelta(seconds=1), limit=2)
    for item in items:
        await mark_failed(
            db, item.id, "WeCom message/send: errcode 60111: userid not found", retry_at=None
        )
    return ids


# --- outbox list / retry -------------------------------------------------------------------------


def test_outbox_list_and_retry(db_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = get_settings().database_url
    first, second, third = _run(_with_db(url, _two_failed_one_pending))

    assert main(["outbox", "list", "--failed"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("编号\t状态")
    assert [line.split("\t")[0] for line in lines[1:]] == [str(second), str(first)]
    assert all("已放弃" in line and "errcode 60111" in line for line in lines[1:])
    assert main(["outbox", "list"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 4  # the pending one too

    assert main(["outbox", "retry", str(first), str(third), "--actor", "ops"]) == 1  # third pends
    captured = capsys.readouterr()
    assert f"已重新排队1条：{first}" in captured.out and str(third) in captured.err
    assert main(["outbox", "retry"]) == 2  # neither ids nor --all-failed
    capsys.readouterr()
    assert main(["outbox", "retry", "--all-failed"]) == 0
    assert f"已重新排队1条：{second}" in capsys.readouterr().out
    assert main(["outbox", "list", "--failed"]) == 0
    assert "没有已放弃的消息" in capsys.readouterr().out

    async def check(db: Database) -> None:
        for row_id in (first, second):
            row = await get_outbox(db, row_id)
            assert row is not None and row.status == OutboxStatus.PENDING.value
            assert row.attempts == 0  # a fresh set of attempts
        due = await claim_due(db, now=utcnow() + timedelta(seconds=1))
        assert {i.id for i in due} == {first, second, third}
        async with db.session() as s:
            audits = (await s.exec(select(AuditLog).where(AuditLog.action == "outbox.retry"))).all()
        assert [(a.actor, a.detail["ids"]) for a in audits] == [("ops", [first]), ("cli", [second])]

    _run(_with_db(url, check))


async def test_retry_touches_only_failed_rows(database: Database) -> None:
    first, second, third = await _two_failed_one_pending(database)
    assert await retry_failed(database, [third], actor="x") == []
    assert {r.id for r in await list_outbox(database, failed_only=True)} == {first, second}
    assert await retry_failed(database, None, actor="x") == [first, second]
    assert await list_outbox(database, failed_only=True) == []


# --- backup and restore --------------------------------------------------------------------------


def test_backup_and_restore_round_trip(
    db_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = get_settings().database_url
    ids = _run(_with_db(url, _two_failed_one_pending))
    backup = tmp_path / "backups" / "kaohe-2026-11-30.db"

    assert main(["db", "backup", str(backup)]) == 0
    out = capsys.readouterr().out
    assert str(backup) in out and "cp " in out  # says how to restore
    assert main(["db", "backup", str(backup)]) == 1  # never overwrites
    capsys.readouterr()

    # After the backup: more data, then disaster, then the restore the note describes.
    _run(_with_db(url, lambda db: send_later(db, "d", {"type": "text", "text": "备份之后"})))
    db_file.unlink()
    shutil.copyfile(backup, db_file)

    assert main(["db", "current"]) == 0  # migrated, at head
    capsys.readouterr()
    rows = _run(_with_db(url, lambda db: list_outbox(db)))
    assert sorted(r.id for r in rows) == sorted(ids)  # as it was at the backup
    assert main(["outbox", "list", "--failed"]) == 0
    assert "errcode 60111" in capsys.readouterr().out


def test_backup_of_postgres_says_to_use_pg_dump(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KAOHE_DATABASE_URL", "postgresql+asyncpg://kaohe:pw@db:5432/kaohe")
    get_settings.cache_clear()
    try:
        assert main(["db", "backup", str(tmp_path / "x.db")]) == 2
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err
    assert "pg_dump" in err and "pw" not in err
    assert not (tmp_path / "x.db").exists()


# --- retention -----------------------------------------------------------------------------------


def test_the_cutoff_keeps_two_assessment_years() -> None:
    cutoff = retention_cutoff(datetime(2026, 11, 30, tzinfo=TZ).date(), 2)
    assert cutoff == datetime(2025, 1, 1, tzinfo=TZ)
    assert retention_cutoff(datetime(2026, 1, 1, tzinfo=TZ).date(), 1).year == 2026


async def test_retention_blanks_old_plaintext_and_removes_old_media(
    database: Database, tmp_path: Path
) -> None:
    old = datetime(2024, 12, 31, 15, 59, tzinfo=UTC)  # 23:59 on 31 Dec 2024 in Beijing
    kept = datetime(2024, 12, 31, 16, 0, tzinfo=UTC)  # 00:00 on 1 Jan 2025 in Beijing
    for key, when in (("old", old), ("kept", kept)):
        await record_inbound(
            database, key=key, sender="zhangsan", msg_type="text", received_at=when,
            content=f"<xml>{key} 的原文</xml>",
        )  # fmt: skip
        await store_reply(database, key, '{"mode": "passive", "text": "已登记"}')
    media = tmp_path / "media"
    for folder, name in (("2024/11", "a.jpg"), ("2024/12", "b.pdf"), ("2025/01", "c.jpg")):
        (media / folder).mkdir(parents=True)
        (media / folder / name).write_bytes(b"x")
    (media / "README").write_text("not ours")

    now = datetime(2026, 11, 30, 3, 30, tzinfo=TZ)
    result = await run_maintenance(database, media_dir=media, retention_years=2, now=now)
    assert (result.inbound_purged, result.media_removed) == (1, 2)
    gone, still = await get_inbound(database, "old"), await get_inbound(database, "kept")
    assert gone is not None and gone.content == "" and gone.reply  # the retry answer stays
    assert still is not None and still.content == "<xml>kept 的原文</xml>"
    assert sorted(p.relative_to(media).as_posix() for p in media.rglob("*") if p.is_file()) == [
        "2025/01/c.jpg",
        "README",
    ]
    again = await run_maintenance(database, media_dir=media, retention_years=2, now=now)
    assert (again.inbound_purged, again.media_removed) == (0, 0)


def test_purge_media_without_a_folder(tmp_path: Path) -> None:
    assert purge_media(tmp_path / "none", datetime(2025, 1, 1, tzinfo=TZ)) == 0


# --- upgrading a database that has data ----------------------------------------------------------


async def test_an_older_sqlite_database_with_data_upgrades_to_head(tmp_path: Path) -> None:
    """Migrations that rebuild a table (SQLite batch mode) while other rows point at it: an
    installation's database made before them upgrades, and its rows and links survive."""
    from storage.db import head_revisions

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await db.upgrade("0004")
        async with db.engine.begin() as conn:
            now = "2026-03-01 02:00:00.000000"
            await conn.exec_driver_sql(
                "INSERT INTO unit (id, name, kind, scheme_id, created_at, updated_at) "
                f"VALUES (1, '椒江区', 'district', 'chuangmo-taizhou', '{now}', '{now}')"
            )
            await conn.exec_driver_sql(
                "INSERT INTO task (id, unit_id, code, kind, title, due, year, actor, created_at) "
                f"VALUES (7, 1, 'K1', 'feedback', '创模任务反馈第 1 期', '2026-03-20', 2026, 'admin', '{now}')"
            )
            await conn.exec_driver_sql(
                "INSERT INTO submission (id, unit_id, year, target, kind, title, text, attachments,"
                " submitted_at, sender, task_id, created_at) VALUES (3, 1, 2026, 'C3a', 'feedback',"
                f" 'K1 反馈', '已按要求落实。', '[]', '{now}', 'zhangsan', 7, '{now}')"
            )
        await db.upgrade()
        assert await db.current_revisions() == head_revisions()
        async with db.engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
            linked = await conn.exec_driver_sql(
                "SELECT task.code, submission.title FROM submission JOIN task ON task.id = task_id"
            )
            assert linked.all() == [("K1", "K1 反馈")]
    finally:
        await db.dispose()
