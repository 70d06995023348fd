"""Shared fixtures. `database`: a fresh, migrated `storage.db.Database` per test, on SQLite (a new
file) and — when KAOHE_TEST_POSTGRES_URL is set, e.g.
postgresql+asyncpg://postgres@127.0.0.1:5432/test — on PostgreSQL (a new database per test,
copied from a migrated template database made once per run, dropped afterwards)."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from storage.db import Database

POSTGRES_ENV = "KAOHE_TEST_POSTGRES_URL"


def _run(coro_fn, *args):  # type: ignore[no-untyped-def]
    """Run a coroutine to completion from sync code, even while a test's loop is running."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro_fn(*args)).result()


def _sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def _pg_admin(sql: list[str]) -> None:
    import asyncpg

    url = make_url(os.environ[POSTGRES_ENV])
    conn = await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        database=url.database or "postgres",
    )
    try:
        for statement in sql:
            await conn.execute(statement)
    finally:
        await conn.close()


def _pg_url(name: str) -> str:
    url = make_url(os.environ[POSTGRES_ENV]).set(database=name)
    return url.render_as_string(hide_password=False)


async def _migrate(url: str) -> None:
    db = Database(url)
    try:
        await db.upgrade()
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dbtemplate") / "template.db"
    _run(_migrate, _sqlite_url(path))
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    if not os.environ.get(POSTGRES_ENV):
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql+asyncpg://...)")
    name = f"kaohe_tpl_{uuid.uuid4().hex[:12]}"
    _run(_pg_admin, [f'CREATE DATABASE "{name}"'])
    try:
        _run(_migrate, _pg_url(name))
        yield name
    finally:
        _run(_pg_admin, [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated, empty database of each kind (PostgreSQL skipped without its URL)."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "kaohe.db"
        shutil.copyfile(template, path)
        db = Database(_sqlite_url(path))
        yield db
        await db.dispose()
        return
    template = request.getfixturevalue("postgres_template")
    name = f"kaohe_t_{uuid.uuid4().hex[:12]}"
    await _pg_admin([f'CREATE DATABASE "{name}" TEMPLATE "{template}"'])
    db = Database(_pg_url(name))
    try:
        yield db
    finally:
        await db.dispose()
        await _pg_admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])


# --- what was skipped, at the end of the run -----------------------------------------------------

SKIP_HINTS = {
    POSTGRES_ENV: f"PostgreSQL tests: {POSTGRES_ENV} is unset "
    "(e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)",
    "chromium": "browser tests: no Chromium (apt-get install -y chromium)",
}


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One short line per group of skipped tests and why, so a newcomer knows how to run the rest
    (pytest -q lists no skip reasons by itself)."""
    groups: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        label = next((hint for key, hint in SKIP_HINTS.items() if key in reason), reason)
        groups[label] = groups.get(label, 0) + 1
    for label, count in sorted(groups.items()):
        terminalreporter.write_line(f"skipped {count}: {label}")
