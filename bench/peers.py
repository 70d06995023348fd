"""Two reference servers for the callback benchmark, doing the durable work kaohe does for a
政务信息 message — the inbound row with its reply, the submission, the audit row, in kaohe's own
tables of a migrated database — in the least and in the most common way:

* `peer`: what a typical WeCom bot does: wechatpy 1.8.18 (crypto, parse, reply) + aiohttp +
  SQLAlchemy's async ORM, the sender looked up, the three rows stored in one commit per message;
* `limit`: our crypto and the same rows written with plain SQL in one transaction on one
  database thread (SQLite) or connection (PostgreSQL), with group commit: the messages that
  arrive while a commit is in progress share the next one, each answered only after it.

Neither is kaohe: they bound what kaohe's pipeline costs from both sides (docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bench.server import AES_KEY, CORP_ID, TOKEN, healthz

TARGET = "C3b"  # the indicator of 政务信息 in the bench's scheme


def _reply_text(ref: int, title: str) -> str:
    return f"已登记政务信息（编号 S{ref}，指标 {TARGET}）：{title}"


def _title(content: str) -> str:
    return content.split("\n", 1)[0].removeprefix("政务信息：")[:500]


# --- peer: wechatpy + SQLAlchemy ORM, one commit per message ---------------------------------------


def peer_app(database_url: str) -> web.Application:
    from sqlalchemy import select
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
    from wechatpy.enterprise import create_reply, parse_message
    from wechatpy.enterprise.crypto import WeChatCrypto

    from storage.db import create_engine
    from storage.models import AuditLog, InboundMessage, Member, Submission

    crypto = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
    engine = create_engine(database_url)  # kaohe's engine options and SQLite pragmas
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

    async def callback(request: web.Request) -> web.Response:
        q = request.query
        xml = crypto.decrypt_message(
            await request.text(), q["msg_signature"], q["timestamp"], q["nonce"]
        )
        msg = parse_message(xml)
        key, now = f"wecom:{msg.id}", datetime.now(UTC)
        try:
            async with sessions() as s:
                member = (
                    await s.execute(select(Member).where(Member.userid == msg.source))
                ).scalar_one()
                row = InboundMessage(
                    key=key, sender=msg.source, msg_type=msg.type, received_at=now, content=xml
                )
                sub = Submission(
                    unit_id=member.unit_id or 0, year=now.year, target=TARGET,
                    period=f"{now:%Y-%m}", kind="info", title=_title(msg.content),
                    text=msg.content, submitted_at=now, sender=msg.source, source_key=key,
                )  # fmt: skip
                s.add_all([row, sub])
                await s.flush()
                s.add(AuditLog(actor=msg.source, action="submission.add",
                               detail={"submission": sub.id, "unit_id": sub.unit_id}))  # fmt: skip
                text = _reply_text(sub.id or 0, sub.title)
                row.reply = json.dumps({"mode": "inline", "text": text}, ensure_ascii=False)
                row.replied_at = now
                await s.commit()
        except IntegrityError:  # a repeat delivery: the stored reply
            async with sessions() as s:
                stored = (
                    await s.execute(select(InboundMessage.reply).where(InboundMessage.key == key))
                ).scalar_one()
            text = json.loads(stored)["text"]
        reply = create_reply(text, msg).render()
        nonce = str(secrets.randbelow(10**10))
        return web.Response(
            text=crypto.encrypt_message(reply, nonce, str(int(time.time()))),
            content_type="application/xml",
        )

    async def close(_app: web.Application) -> None:
        await engine.dispose()

    return _app(callback, close)


# --- limit: our crypto + plain SQL in one transaction, group commit ----------------------------


_INSERT_INBOUND = (
    "INSERT INTO inbound_message (key, sender, msg_type, received_at, content, channel) "
    "VALUES ({p}) ON CONFLICT (key) DO NOTHING RETURNING id"
)
_MEMBER_UNIT = "SELECT unit_id FROM member WHERE userid = {p}"
_INSERT_SUBMISSION = (
    "INSERT INTO submission (unit_id, year, target, period, kind, title, text, attachments, "
    "submitted_at, sender, source_key, created_at) VALUES ({p}) RETURNING id"
)
_INSERT_AUDIT = "INSERT INTO audit_log (actor, action, detail, at) VALUES ({p})"
_STORE_REPLY = "UPDATE inbound_message SET reply = {p1}, replied_at = {p2} WHERE id = {p3}"
_STORED_REPLY = "SELECT reply FROM inbound_message WHERE key = {p}"


def _sql(template: str, n: int, style: str) -> str:
    marks = ["?"] * n if style == "qmark" else [f"${i}" for i in range(1, n + 1)]
    if "{p1}" in template:
        return template.format(p1=marks[0], p2=marks[1], p3=marks[2])
    return template.format(p=", ".join(marks))


class _Job:
    __slots__ = ("content", "done", "key", "loop", "result", "sender", "text")

    def __init__(self, key: str, sender: str, content: str, text: str) -> None:
        self.key, self.sender, self.content, self.text = key, sender, content, text
        self.loop = asyncio.get_running_loop()
        self.done: asyncio.Future[str] = self.loop.create_future()


def _limit_rows(execute: Any, job: _Job, now: Any, stamp: str | datetime) -> str:
    """The durable work of one message through `execute(sql_name, *args) -> row | None`."""
    inserted = execute("inbound", job.key, job.sender, "text", stamp, job.content, "wecom")
    if inserted is None:  # a repeat delivery: the stored reply
        return str(json.loads(execute("stored", job.key)[0])["text"])
    unit_id = execute("member", job.sender)[0]
    title = _title(job.text)
    sub = execute("submission", unit_id, now.year, TARGET, f"{now:%Y-%m}", "info", title,
                  job.text, "[]", stamp, job.sender, job.key, stamp)  # fmt: skip
    detail = json.dumps({"submission": sub[0], "unit_id": unit_id})
    execute("audit", job.sender, "submission.add", detail, stamp)
    text = _reply_text(sub[0], title)
    reply = json.dumps({"mode": "inline", "text": text}, ensure_ascii=False)
    execute("reply", reply, stamp, inserted[0])
    return text


class SqliteGroupWriter:
    """One thread, one sqlite3 connection (kaohe's pragmas): every job queued while a commit
    runs goes into the next transaction; each future is resolved after its commit."""

    def __init__(self, path: str) -> None:
        import sqlite3

        from storage.db import _sqlite_pragmas

        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        _sqlite_pragmas(self.conn, None)
        names = {"inbound": (_INSERT_INBOUND, 6), "member": (_MEMBER_UNIT, 1),
                 "submission": (_INSERT_SUBMISSION, 12), "audit": (_INSERT_AUDIT, 4),
                 "reply": (_STORE_REPLY, 3), "stored": (_STORED_REPLY, 1)}  # fmt: skip
        self.sql = {name: _sql(t, n, "qmark") for name, (t, n) in names.items()}
        self.jobs: list[_Job] = []
        self.cv = threading.Condition()
        threading.Thread(target=self._run, daemon=True, name="limit-db").start()

    def submit(self, job: _Job) -> asyncio.Future[str]:
        with self.cv:
            self.jobs.append(job)
            self.cv.notify()
        return job.done

    def _execute(self, name: str, *args: Any) -> Any:
        return self.conn.execute(self.sql[name], args).fetchone()

    def _run(self) -> None:
        while True:
            with self.cv:
                while not self.jobs:
                    self.cv.wait()
                batch, self.jobs = self.jobs, []
            now = datetime.now(UTC)
            stamp = now.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                out = [(job, _limit_rows(self._execute, job, now, stamp)) for job in batch]
                self.conn.execute("COMMIT")
            except Exception as exc:
                self.conn.execute("ROLLBACK")
                for job in batch:
                    job.loop.call_soon_threadsafe(_fail, job.done, exc)
                continue
            for job, text in out:
                job.loop.call_soon_threadsafe(_resolve, job.done, text)


def _resolve(future: asyncio.Future[str], text: str) -> None:
    if not future.done():
        future.set_result(text)


def _fail(future: asyncio.Future[str], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


class PostgresGroupWriter:
    """One asyncpg connection: the jobs queued while a commit runs share the next transaction."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        names = {"inbound": (_INSERT_INBOUND, 6), "member": (_MEMBER_UNIT, 1),
                 "submission": (_INSERT_SUBMISSION, 12), "audit": (_INSERT_AUDIT, 4),
                 "reply": (_STORE_REPLY, 3), "stored": (_STORED_REPLY, 1)}  # fmt: skip
        self.sql = {name: _sql(t, n, "numeric") for name, (t, n) in names.items()}
        self.jobs: list[_Job] = []
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def submit(self, job: _Job) -> asyncio.Future[str]:
        if self.task is None:
            self.task = asyncio.ensure_future(self._run())
        self.jobs.append(job)
        self.wake.set()
        return job.done

    async def _run(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.dsn)
        while True:
            await self.wake.wait()
            self.wake.clear()
            batch, self.jobs = self.jobs, []
            if not batch:
                continue
            now = datetime.now(UTC)
            try:
                async with conn.transaction():
                    out = []
                    for job in batch:
                        rows: list[Any] = []

                        async def step(name: str, *args: Any, _rows: list[Any] = rows) -> None:
                            if name in ("audit", "reply"):
                                await conn.execute(self.sql[name], *args)
                                _rows.append(None)
                            else:
                                _rows.append(await conn.fetchrow(self.sql[name], *args))

                        out.append((job, await self._one(step, rows, job, now)))
            except Exception as exc:
                for job in batch:
                    _fail(job.done, exc)
                continue
            for job, text in out:
                _resolve(job.done, text)

    @staticmethod
    async def _one(step: Any, rows: list[Any], job: _Job, now: datetime) -> str:
        await step("inbound", job.key, job.sender, "text", now, job.content, "wecom")
        if rows[-1] is None:
            await step("stored", job.key)
            return str(json.loads(rows[-1][0])["text"])
        inbound_id = rows[-1][0]
        await step("member", job.sender)
        unit_id = rows[-1][0]
        title = _title(job.text)
        await step("submission", unit_id, now.year, TARGET, f"{now:%Y-%m}", "info", title,
                   job.text, "[]", now, job.sender, job.key, now)  # fmt: skip
        sub_id = rows[-1][0]
        await step("audit", job.sender, "submission.add",
                   json.dumps({"submission": sub_id, "unit_id": unit_id}), now)  # fmt: skip
        text = _reply_text(sub_id, title)
        reply = json.dumps({"mode": "inline", "text": text}, ensure_ascii=False)
        await step("reply", reply, now, inbound_id)
        return text


def limit_app(database_url: str) -> web.Application:
    from sqlalchemy.engine import make_url

    from bot.wecom.callback import raw_query
    from bot.wecom.crypto import WeComCrypto
    from bot.wecom.messages import envelope_xml, parse_envelope, parse_message, text_reply_xml

    crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    url = make_url(database_url)
    writer: Any
    if url.get_backend_name() == "sqlite":
        writer = SqliteGroupWriter(url.database or "")
    else:
        writer = PostgresGroupWriter(url.set(drivername="postgresql").render_as_string(False))

    async def callback(request: web.Request) -> web.Response:
        params = raw_query(request)
        envelope = parse_envelope(await request.read())
        plain = crypto.verify_and_decrypt(
            params["msg_signature"], params["timestamp"], params["nonce"], envelope.encrypt
        )
        msg = parse_message(plain, corp_id=CORP_ID)
        text = await writer.submit(_Job(msg.key, msg.sender, plain, msg.content))
        now = int(time.time())
        reply = text_reply_xml(msg.sender, CORP_ID, now, text)
        timestamp, nonce = str(now), str(secrets.randbelow(10**10))
        encrypt, signature = crypto.encrypt_envelope(reply, timestamp, nonce)
        return web.Response(
            text=envelope_xml(encrypt, signature, timestamp, nonce), content_type="application/xml"
        )

    return _app(callback, None)


def _app(callback: Any, close: Any) -> web.Application:
    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/wecom/callback", callback)
    if close is not None:
        app.on_cleanup.append(close)
    return app
