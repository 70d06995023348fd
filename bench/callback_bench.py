"""The callback pipeline under load: encrypted 政务信息 submissions from many registered senders
through `POST /wecom/callback` of the real app, against a bare aiohttp handler, in one run.

The servers run in their own process (`python -m bench.server`); this process is the load
generator. Request bodies are encrypted and signed beforehand (bot/wecom/crypto.py), and the client
is a minimal HTTP/1.1 keep-alive client on asyncio streams, so it costs little CPU per request.

Two phases per server:
* saturated (closed loop): `concurrency` senders, each sending its next message as soon as the
  previous one is answered — gives the throughput, and the latency when everyone sends at once;
* paced (open loop): the same senders at half the real app's saturated throughput, latency measured
  from each request's scheduled start — the latency of a busy but not overloaded server.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench import seed
from bench.common import (
    BackendsCPU,
    cpu_seconds,
    percentile,
    rss_mb,
    scratch_database,
)
from bench.server import AES_KEY, AGENT_ID, CORP_ID, TOKEN
from bot.wecom.crypto import WeComCrypto

ROOT = Path(__file__).resolve().parent.parent
PATH = "/wecom/callback"


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_requests(count: int, senders: int, port: int, tag: str) -> list[bytes]:
    """`count` complete HTTP requests, each a new text message "政务信息：…" with its own MsgId
    (a random 63-bit number, as WeCom's are numbers), sender i % senders; encrypted and signed
    as WeCom does."""
    crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    now = int(time.time())
    out: list[bytes] = []
    for i in range(count):
        user = seed.liaison_id(i % senders + 1)
        content = (
            f"政务信息：{tag}第{i}号 河道保洁专项行动进展\n本周完成河道清淤 3 公里，整改排口 2 处。"
        )
        plain = (
            f"<xml><ToUserName>{_cdata(CORP_ID)}</ToUserName>"
            f"<FromUserName>{_cdata(user)}</FromUserName><CreateTime>{now}</CreateTime>"
            f"<MsgType>{_cdata('text')}</MsgType><Content>{_cdata(content)}</Content>"
            f"<MsgId>{secrets.randbits(63)}</MsgId><AgentID>{AGENT_ID}</AgentID></xml>"
        )
        timestamp, nonce = str(now), str(secrets.randbelow(10**9))
        encrypt, signature = crypto.encrypt_envelope(plain, timestamp, nonce)
        body = (
            f"<xml><ToUserName>{_cdata(CORP_ID)}</ToUserName><Encrypt>{_cdata(encrypt)}</Encrypt>"
            f"<AgentID>{_cdata(str(AGENT_ID))}</AgentID></xml>"
        ).encode()
        head = (
            f"POST {PATH}?msg_signature={signature}&timestamp={timestamp}&nonce={nonce} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\nContent-Type: text/xml\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        out.append(head + body)
    return out


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    body = await reader.readexactly(length) if length else b""
    return status, body


@dataclass
class Phase:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    sample: list[bytes] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, float]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "rps": round(self.throughput, 1),
            "p50_ms": round(percentile(self.latencies_ms, 50), 2),
            "p99_ms": round(percentile(self.latencies_ms, 99), 2),
        }


async def load(
    port: int,
    requests: list[bytes],
    *,
    concurrency: int,
    max_seconds: float,
    rate: float | None = None,
) -> Phase:
    """Send `requests` over `concurrency` keep-alive connections; closed loop, or open loop at
    `rate` requests/s. Stops early after `max_seconds`."""
    phase = Phase()
    queue = iter(enumerate(requests))
    start = time.perf_counter()
    deadline = start + max_seconds

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for i, request in queue:
                scheduled = start + i / rate if rate else None
                if scheduled is not None:
                    delay = scheduled - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                t0 = time.perf_counter()
                if t0 > deadline:
                    return
                status, body = await _exchange(reader, writer, request)
                t1 = time.perf_counter()
                phase.requests += 1
                if status != 200:
                    phase.errors += 1
                elif len(phase.sample) < 5 and body:  # (a late reply goes out actively)
                    phase.sample.append(body)
                phase.latencies_ms.append((t1 - (scheduled or t0)) * 1000)
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    phase.seconds = time.perf_counter() - start
    return phase


class Server:
    """`python -m bench.server` in a subprocess."""

    def __init__(self, app: str, database: str = "", profile: str = "", pool_size: int = 0) -> None:
        self.app = app
        self.pool_size = pool_size
        self.database = database
        self.profile = profile
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    async def __aenter__(self) -> Server:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        cmd = [sys.executable, "-m", "bench.server", "--app", self.app, "--port", str(self.port)]
        if self.database:
            cmd += ["--database", self.database]
        if self.profile:
            cmd += ["--profile", self.profile]
        if self.pool_size:
            cmd += ["--pool-size", str(self.pool_size)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
        for _ in range(300):
            if self.proc.poll() is not None:
                raise RuntimeError(f"bench server {self.app} exited with {self.proc.returncode}")
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            status, _ = await _exchange(
                reader, writer, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            )
            writer.close()
            if status == 200:
                return self
        raise RuntimeError(f"bench server {self.app} did not start")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def __aexit__(self, *exc: object) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            await asyncio.to_thread(self.proc.wait, 15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _check_replies(sample: list[bytes]) -> bool:
    """The real app's replies decrypt to a logged submission (it did the real work)."""
    import xml.etree.ElementTree as ET

    crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    if not sample:
        return False
    for body in sample:
        root = ET.fromstring(body)
        plain = crypto.verify_and_decrypt(
            root.findtext("MsgSignature") or "",
            root.findtext("TimeStamp") or "",
            root.findtext("Nonce") or "",
            root.findtext("Encrypt") or "",
        )
        if "已登记" not in plain:
            return False
    return True


APPS = ("bare", "crypto", "limit", "peer", "real")  # "real" is kaohe
STORING = frozenset({"limit", "peer", "real"})


async def _phase(
    app: str,
    url: str,
    *,
    requests: int,
    concurrency: int,
    senders: int,
    max_seconds: float,
    warmup: int,
    tag: str,
    paced: bool,
    profile: str = "",
    pool_size: int = 0,
) -> dict[str, Any]:
    """One server: warm it up, then a saturated phase (throughput, latency, CPU per request of
    the server process, all its threads) and, when `paced`, a phase at half that rate."""
    real = app == "real"
    out: dict[str, Any] = {}
    async with Server(
        app, url if app in STORING else "", profile if real else "", pool_size if real else 0
    ) as server:
        warm = build_requests(warmup, senders, server.port, f"w{tag}")
        await load(server.port, warm, concurrency=concurrency, max_seconds=max_seconds)
        # the fast servers get more requests, for a phase of a measurable length
        count = requests if app in STORING else requests * 5
        reqs = build_requests(count, senders, server.port, f"s{tag}")
        dbname = make_url(url).database if url.startswith("postgresql") and app in STORING else None
        async with contextlib.AsyncExitStack() as stack:
            # the backends read through the phase: those that end during it count too
            backends = await stack.enter_async_context(BackendsCPU(dbname)) if dbname else None
            cpu0 = cpu_seconds(server.pid)
            sat = await load(server.port, reqs, concurrency=concurrency, max_seconds=max_seconds)
            cpu = cpu_seconds(server.pid) - cpu0
        out = sat.summary()
        out["cpu_ms_per_request"] = round(cpu / sat.requests * 1000, 3) if sat.requests else 0.0
        if url.startswith("postgresql"):  # client + server: the database's backends too
            db_cpu = backends.seconds if backends is not None else 0.0
            if backends is not None:
                out["backends_ended"] = backends.ended
            ms = db_cpu / sat.requests * 1000 if sat.requests else 0.0
            out["db_cpu_ms_per_request"] = round(ms, 3)
            out["total_cpu_ms_per_request"] = round(out["cpu_ms_per_request"] + ms, 3)
        if app in STORING:
            out["replies_ok"] = _check_replies(sat.sample)
        if paced and sat.throughput > 0:
            rate = sat.throughput / 2
            n = max(concurrency, min(requests, int(rate * max_seconds / 2)))
            reqs = build_requests(n, senders, server.port, f"p{tag}")
            slow = await load(
                server.port, reqs, concurrency=concurrency, max_seconds=max_seconds, rate=rate
            )
            out["paced"] = {"rate": round(rate, 1), **slow.summary()}
        rss, hwm = rss_mb(server.pid)
        out["rss_mb"], out["hwm_mb"] = round(rss, 1), round(hwm, 1)
    return out


async def measure(
    kind: str,
    *,
    requests: int = 4000,
    concurrency: int = 50,
    senders: int = 200,
    max_seconds: float = 10.0,
    warmup: int = 100,
    paced: bool = True,
    profile: str = "",
    pool_size: int = 0,
    rounds: int = 3,
    apps: tuple[str, ...] = APPS,
) -> dict[str, Any]:
    """Every server of `apps` on `kind` ("sqlite" | "postgres"), in `rounds` interleaved rounds
    (bare, crypto, limit, peer, kaohe, then again): each figure is the round of median CPU per
    request, with the spread of the rounds; throughputs, ratios, latencies, RSS."""
    from contextlib import AsyncExitStack

    from storage.db import Database

    result: dict[str, Any] = {"database": kind, "concurrency": concurrency, "senders": senders}
    runs: dict[str, list[dict[str, Any]]] = {app: [] for app in apps}
    async with AsyncExitStack() as stack:
        urls: dict[str, str] = {}
        for app in apps:  # each storing server its own database: the same rows, no interference
            if app not in STORING:
                continue
            urls[app] = await stack.enter_async_context(scratch_database(kind))
            db = Database(urls[app])
            try:
                await db.upgrade()
                await seed.register_units(db, 1, senders)
            finally:
                await db.dispose()
        for n in range(rounds):
            for app in apps:
                runs[app].append(
                    await _phase(
                        app,
                        urls.get(app, ""),
                        requests=requests,
                        concurrency=concurrency,
                        senders=senders,
                        max_seconds=max_seconds,
                        warmup=warmup,
                        tag=f"{app[0]}{n}",
                        paced=paced and app == "real" and n == rounds - 1,
                        profile=profile if n == 0 else "",
                        pool_size=pool_size,
                    )
                )
    for app, found in runs.items():
        # client + server on PostgreSQL (the database's backends too), the server process alone
        # on SQLite; the storing-nothing servers have no database
        for r in found:
            r.setdefault("total_cpu_ms_per_request", r["cpu_ms_per_request"])
        cpus = sorted(r["total_cpu_ms_per_request"] for r in found)
        median = sorted(found, key=lambda r: r["total_cpu_ms_per_request"])[len(found) // 2]
        result[app] = {
            **{k: v for k, v in median.items() if k != "paced"},
            "cpu_ms_rounds": [r["cpu_ms_per_request"] for r in found],
            "total_cpu_ms_rounds": [r["total_cpu_ms_per_request"] for r in found],
            "cpu_ms_spread": round(cpus[-1] - cpus[0], 3),
        }
        if app == "real":
            result["replies_ok"] = all(r.get("replies_ok") for r in found)
            paced_run = next((r["paced"] for r in found if "paced" in r), None)
            if paced_run:
                result["paced"] = paced_run
    bare = result.get("bare", {}).get("rps", 0.0)
    if "real" in result and bare:
        result["ratio"] = round(result["real"]["rps"] / bare, 4)
    if "crypto" in result and bare:
        result["crypto_ratio"] = round(result["crypto"]["rps"] / bare, 3)
    real_cpu = result.get("real", {}).get("total_cpu_ms_per_request", 0.0)
    for ref in ("peer", "limit"):
        ref_cpu = result.get(ref, {}).get("total_cpu_ms_per_request", 0.0)
        if real_cpu and ref_cpu:
            result[f"kaohe_over_{ref}"] = round(real_cpu / ref_cpu, 2)
    return result


def run(kind: str = "sqlite", **kw: Any) -> dict[str, Any]:
    return asyncio.run(measure(kind, **kw))


if __name__ == "__main__":
    import json

    print(json.dumps(run(sys.argv[1] if len(sys.argv) > 1 else "sqlite"), indent=2))
