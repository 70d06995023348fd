"""Shared bench helpers: percentiles, resident memory, the machine, scratch databases."""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

POSTGRES_ENV = "KAOHE_TEST_POSTGRES_URL"
POSTGRES_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100) by nearest rank; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def rss_mb(pid: int | None = None) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB, from /proc/<pid>/status (Linux)."""
    found: dict[str, float] = {}
    path = Path(f"/proc/{pid or os.getpid()}/status")
    for line in path.read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) / 1024
    return found.get("VmRSS", 0.0), found.get("VmHWM", 0.0)


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU time of a process (all its threads), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid or os.getpid()}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine() -> dict[str, str]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count() or 0),
        "cpu": model or platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


def postgres_url() -> str:
    return os.environ.get(POSTGRES_ENV) or POSTGRES_DEFAULT


async def _pg_connect() -> Any:
    """A plain asyncpg connection to the benchmark's PostgreSQL server (its admin database)."""
    import asyncpg

    url = make_url(postgres_url())
    return await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        database=url.database or "postgres",
        timeout=5,
    )


async def _pg_admin(statement: str) -> None:
    conn = await _pg_connect()
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


_BACKENDS = "SELECT pid FROM pg_stat_activity WHERE datname = $1"


def _cpu_by_pid(rows: Any) -> dict[int, float]:
    """CPU seconds so far of each backend of `rows` (pid), those gone meanwhile left out."""
    found: dict[int, float] = {}
    for row in rows:
        try:
            found[row["pid"]] = cpu_seconds(row["pid"])
        except OSError:
            continue
    return found


class BackendsCPU:
    """CPU seconds of the PostgreSQL backends serving `database` over a phase, those that end
    during it included: `async with BackendsCPU(db) as cpu: ...` then `cpu.seconds`. The
    backends are looked up and read every `every` seconds, each counted up to its last
    reading (a backend started during the phase from zero). Two readings alone miss every
    backend that ends between them — a pool's overflow connections, opened under load and
    closed as it ebbs: kaohe's pool (10 + 20 overflow) did most of its work on such connections
    under 50 senders, and the two-reading figure counted a third of its server CPU."""

    def __init__(self, database: str, every: float = 0.1) -> None:
        self.database, self.every = database, every
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.ended = 0  # backends seen that were gone at the end
        self._conn: Any = None
        self._task: asyncio.Task[None] | None = None

    async def _read(self) -> dict[int, float]:
        return _cpu_by_pid(await self._conn.fetch(_BACKENDS, self.database))

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            self.last.update(await self._read())

    async def __aenter__(self) -> BackendsCPU:
        self._conn = await _pg_connect()
        self.first = await self._read()
        self.last = dict(self.first)
        self._task = asyncio.ensure_future(self._poll())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        try:
            now = await self._read()
            self.ended = len(set(self.last) - set(now))
            self.last.update(now)
        finally:
            await self._conn.close()

    @property
    def seconds(self) -> float:
        return sum(cpu - self.first.get(pid, 0.0) for pid, cpu in self.last.items())


async def postgres_available() -> bool:
    try:
        await _pg_admin("SELECT 1")
    except Exception:
        return False
    return True


@asynccontextmanager
async def scratch_database(kind: str) -> AsyncIterator[str]:
    """A new, empty database URL: a SQLite file in a temporary directory, or a PostgreSQL
    database created for the bench and dropped afterwards."""
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="kaohe-bench-")
        try:
            yield f"sqlite+aiosqlite:///{folder}/bench.db"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    if kind != "postgres":
        raise ValueError(f"unknown database kind {kind!r}")
    name = f"kaohe_bench_{os.getpid()}_{secrets.token_hex(3)}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(postgres_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        for _ in range(3):
            try:
                await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                break
            except Exception:
                await asyncio.sleep(0.5)
