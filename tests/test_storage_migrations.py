"""Migrations: empty → head works, and the models agree with the migrated schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from storage.db import Database, alembic_config, head_revisions, upgrade
from storage.models import metadata

TABLES = {
    "unit",
    "member",
    "inbound_message",
    "submission",
    "submission_event",
    "task",
    "admin_entry",
    "reminder_send",
    "outbox",
    "conversation_state",
    "audit_log",
}


def _migration(database: Database, down_to: str):  # type: ignore[no-untyped-def]
    """`to(revision)`: what `run_sync` runs to take the database down to `down_to`, or up to
    another revision ("head")."""
    from alembic import command

    def to(revision: str):  # type: ignore[no-untyped-def]
        def run(connection):  # type: ignore[no-untyped-def]
            cfg = alembic_config(database.url)
            cfg.attributes["connection"] = connection
            (command.downgrade if revision == down_to else command.upgrade)(cfg, revision)

        return run

    return to


def _diff(connection):  # type: ignore[no-untyped-def]
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, metadata)


async def test_models_match_migrated_schema(database: Database) -> None:
    async with database.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert diff == []
    assert tables >= TABLES
    assert await database.is_current()


async def test_downgrade_to_base_and_up_again(database: Database) -> None:
    from alembic import command

    def down(connection):  # type: ignore[no-untyped-def]
        cfg = alembic_config(database.url)
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "base")

    async with database.engine.begin() as conn:
        await conn.run_sync(down)
    async with database.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert not (tables & TABLES)
    assert not await database.is_current()
    await database.upgrade()
    assert await database.is_current()
    async with database.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


async def test_upgrade_from_empty_file(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    await upgrade(url)
    await upgrade(url)  # again: nothing to do
    db = Database(url)
    try:
        assert await db.current_revisions() == head_revisions()
        async with db.engine.connect() as conn:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
            fks = (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one()
            busy = (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one()
        assert (mode, fks) == ("wal", 1) and busy >= 1000
        assert db.dialect == "sqlite"
    finally:
        await db.dispose()


def test_migrations_ship_inside_the_package() -> None:
    import storage

    root = Path(storage.__file__).parent
    assert (root / "migrations" / "env.py").is_file()
    assert (root / "migrations" / "script.py.mako").is_file()
    assert list((root / "migrations" / "versions").glob("*.py"))
    assert "import sqlmodel" in (root / "migrations" / "script.py.mako").read_text()


async def test_concurrent_upgrades_from_empty(database: Database) -> None:
    """Several instances starting at once: one migrates, the others wait and find it done."""
    import asyncio

    from alembic import command

    def down(connection):  # type: ignore[no-untyped-def]
        cfg = alembic_config(database.url)
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "base")

    async with database.engine.begin() as conn:
        await conn.run_sync(down)
    others = [Database(database.url) for _ in range(3)]
    try:
        await asyncio.gather(*(db.upgrade() for db in others))
    finally:
        for db in others:
            await db.dispose()
    assert await database.is_current()
    async with database.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


async def test_unique_source_key_migration_keeps_existing_double_logs(
    database: Database,
) -> None:
    """0004 on a ledger where one message was logged twice (what it prevents from then on):
    the upgrade succeeds, both rows stay, the earliest keeps the message key."""
    to = _migration(database, down_to="0003")

    async with database.engine.begin() as conn:
        await conn.run_sync(to("0003"))
        await conn.execute(
            text(
                "INSERT INTO unit (id, name, kind, scheme_id, created_at, updated_at) "
                "VALUES (1, '椒江区', 'district', 'chuangmo-taizhou', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        for sid in (1, 2, 3):
            await conn.execute(
                text(
                    "INSERT INTO submission (id, unit_id, year, target, period, kind, title, "
                    "text, attachments, submitted_at, sender, source_key, created_at) VALUES "
                    "(:id, 1, 2026, 'C3b', '2026-11', 'info', '重复', '', '[]', "
                    "CURRENT_TIMESTAMP, 'zhangsan', :key, CURRENT_TIMESTAMP)"
                ),
                {"id": sid, "key": "msg:1" if sid < 3 else "msg:2"},
            )
    async with database.engine.begin() as conn:
        await conn.run_sync(to("head"))
    async with database.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT id, source_key FROM submission ORDER BY id"))).all()
        assert await conn.run_sync(_diff) == []
    assert [tuple(r) for r in rows] == [(1, "msg:1"), (2, None), (3, "msg:2")]
    assert await database.is_current()


def test_heads_read_without_alembic_agree_with_alembic() -> None:
    from alembic.script import ScriptDirectory

    assert head_revisions() == set(ScriptDirectory.from_config(alembic_config()).get_heads())


def test_serving_imports_no_alembic() -> None:
    """The serving process checks its migrations with plain SQL; Alembic (with Mako and
    Pygments, ~10 MB resident) is loaded only to migrate."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import bot.app, handlers.app, storage.db\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('alembic', 'mako', 'pygments', 'matplotlib', 'openpyxl', 'xlsxwriter', 'docx')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def test_recovery_markers_in_the_reply_become_claims_in_their_own_columns(
    database: Database,
) -> None:
    """Before 0005 a message being recovered carried '{"mode": "recovering", ...}' as its reply.
    After the upgrade it has no reply and no live claim, so the recovery sweep takes it up again;
    a reply stored the old way ('{"mode": "passive", ...}') is still what a repeat delivery gets."""
    from alembic import command

    from bot.inbound import inline_of
    from handlers.types import TextReply
    from storage.inbound import claim_unanswered, get_inbound

    def to(revision: str, down: bool = False):  # type: ignore[no-untyped-def]
        def run(connection):  # type: ignore[no-untyped-def]
            cfg = alembic_config(database.url)
            cfg.attributes["connection"] = connection
            (command.downgrade if down else command.upgrade)(cfg, revision)

        return run

    received = datetime.now(UTC) - timedelta(minutes=5)
    async with database.engine.begin() as conn:
        await conn.run_sync(to("0004", down=True))
        for key, reply in [
            ("k-recovering", '{"mode": "recovering", "by": "a1b2", "until": 1700000000}'),
            ("k-answered", '{"mode": "passive", "type": "text", "text": "已登记"}'),
        ]:
            await conn.execute(
                text(
                    "INSERT INTO inbound_message (key, sender, msg_type, received_at, content, "
                    "reply, replied_at) VALUES (:key, 'zhangsan', 'text', :at, '进度', :reply, :at)"
                ),
                {"key": key, "reply": reply, "at": received.replace(tzinfo=None)},
            )
    async with database.engine.begin() as conn:
        await conn.run_sync(to("head"))
    recovering = await get_inbound(database, "k-recovering")
    assert recovering is not None and recovering.reply is None
    assert recovering.claimed_by is None and recovering.claimed_until is None
    now = datetime.now(UTC)
    claimed = await claim_unanswered(
        database,
        claimant="sweep",
        now=now,
        until=now + timedelta(seconds=20),
        newer_than=now - timedelta(hours=1),
    )
    assert [row.key for row in claimed] == ["k-recovering"]
    answered = await get_inbound(database, "k-answered")
    assert answered is not None and inline_of(answered.reply) == TextReply("已登记")
    assert await database.is_current()


async def test_submission_forms_are_filled_in_for_what_was_logged(database: Database) -> None:
    """0011 keeps each submission's forms (storage/forms.py) and works them out for the rows
    already logged, so the month's repeat check finds repeats of items sent before it."""
    from storage.forms import form

    to = _migration(database, down_to="0010")

    texts = [("河道保洁专项行动", "本周完成河道清淤３公里。"), ("第二篇", "")]
    async with database.engine.begin() as conn:
        await conn.run_sync(to("0010"))
        await conn.execute(
            text(
                "INSERT INTO unit (id, name, kind, scheme_id, assessment_id, created_at, "
                "updated_at) VALUES (1, '椒江区', 'district', 'chuangmo-taizhou', 1, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        for sid, (title, body) in enumerate(texts, start=1):
            await conn.execute(
                text(
                    "INSERT INTO submission (id, unit_id, year, target, period, kind, title, "
                    "text, attachments, submitted_at, sender, source_key, created_at) VALUES "
                    "(:id, 1, 2026, 'C3b', '2026-11', 'info', :title, :body, '[]', "
                    "CURRENT_TIMESTAMP, 'zhangsan', :key, CURRENT_TIMESTAMP)"
                ),
                {"id": sid, "title": title, "body": body, "key": f"msg:{sid}"},
            )
    async with database.engine.begin() as conn:
        await conn.run_sync(to("head"))
    async with database.engine.connect() as conn:
        rows = (
            await conn.execute(text("SELECT title_form, text_form FROM submission ORDER BY id"))
        ).all()
        assert await conn.run_sync(_diff) == []
    assert [tuple(r) for r in rows] == [(form(t), form(b)) for t, b in texts]
    assert rows[0][1] == form("本周完成河道清淤 3 公里")  # widths and punctuation aside
