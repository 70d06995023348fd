"""A server process killed (SIGKILL) after a message's reply was committed but before the answer
went out: WeCom's retry, to the restarted server, gets the stored reply; nothing is lost and
nothing counted twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlmodel import func, select

from bench import seed
from bench.callback_bench import _check_replies, _exchange, build_requests, free_port
from storage.db import Database
from storage.models import AuditLog, InboundMessage, Submission

ROOT = Path(__file__).resolve().parent.parent


async def _start(url: str, port: int, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, str(ROOT / "tests" / "killed_server.py"), "--database", url]
    proc = subprocess.Popen([*cmd, "--port", str(port), *extra], cwd=ROOT, env=env)
    for _ in range(400):
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        status, _ = await _exchange(reader, writer, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        writer.close()
        if status == 200:
            return proc
    proc.kill()
    raise RuntimeError("server did not start")


async def _send(port: int, request: bytes) -> tuple[int, bytes] | None:
    """The answer, or None when the connection died without one."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        return await asyncio.wait_for(_exchange(reader, writer, request), 20)
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    finally:
        writer.close()


async def _count(db: Database, model: type, key: str) -> int:
    column = {InboundMessage: InboundMessage.key, Submission: Submission.source_key}
    async with db.session() as s:
        if model is AuditLog:
            return int((await s.exec(select(func.count()).select_from(AuditLog))).one())
        return int((await s.exec(select(func.count()).where(column[model] == key))).one())


async def test_killed_between_commit_and_answer(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/k.db"
    db = Database(url)
    await db.upgrade()
    await seed.register_units(db, 1, 1)
    audits_before = await _count(db, AuditLog, "")
    port = free_port()
    (request,) = build_requests(1, 1, port, "k")
    doomed = await _start(url, port, "--die-after-store")
    try:
        assert await _send(port, request) is None  # no answer: the process died
        assert await asyncio.to_thread(doomed.wait, 20) == -signal.SIGKILL
    finally:
        if doomed.poll() is None:
            doomed.kill()
    async with db.session() as s:
        (key,) = (await s.exec(select(InboundMessage.key))).all()
        row = (await s.exec(select(InboundMessage).where(InboundMessage.key == key))).one()
    assert row.reply and "已登记" in row.reply  # committed before the kill
    assert await _count(db, Submission, key) == 1
    server = await _start(url, port)
    try:
        answer = await _send(port, request)  # WeCom's retry of the same delivery
        assert answer is not None and answer[0] == 200
        assert _check_replies([answer[1]])  # the stored reply, 已登记
    finally:
        server.terminate()
        await asyncio.to_thread(server.wait, 20)
    assert await _count(db, InboundMessage, key) == 1
    assert await _count(db, Submission, key) == 1  # counted once
    assert await _count(db, AuditLog, "") == audits_before + 1
    await db.dispose()
