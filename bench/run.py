"""Run every benchmark, print the table, write docs/benchmarks.md (`make bench`, `python -m bench`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import callback_bench, reminder_bench, score_bench, tally_bench
from bench.common import machine, postgres_available, postgres_url

ROOT = Path(__file__).resolve().parent.parent
NOTES = Path(__file__).resolve().parent / "notes.md"


@dataclass
class Row:
    what: str
    figure: str
    target: str
    status: str  # PASS | MISS | info | not measured


def _check(ok: bool) -> str:
    return "PASS" if ok else "MISS"


NAMES = {"bare": "bare", "crypto": "crypto", "limit": "limit", "peer": "peer", "real": "kaohe"}


def _total(figures: dict[str, Any]) -> float:
    """CPU per request: the server process, and on PostgreSQL the database's backends too."""
    return float(figures.get("total_cpu_ms_per_request", figures["cpu_ms_per_request"]))


def _cpu(figures: dict[str, Any]) -> str:
    """CPU per request with the spread of the rounds (max − min)."""
    spread = figures.get("cpu_ms_spread")
    return f"{_total(figures):.3f} ms" + (f" (±{spread / 2:.3f})" if spread is not None else "")


# the issue's own measurements on the machine its targets were set on (SQLite): our crypto alone
# and the durable limit with group commit; its 0.5 ms target is 3.85× the one and 2.5× the other
ISSUE_CRYPTO_MS, ISSUE_LIMIT_MS, ISSUE_TARGET_MS = 0.13, 0.20, 0.5


def _machine_row(crypto: float, limit: float, kaohe: float) -> Row:
    """How fast this machine ran the references against the issue's, and kaohe against the
    target scaled by that: read the absolute ms above with it (the same code runs ~2.5× slower
    on some days' machines than on others)."""
    by_crypto = ISSUE_TARGET_MS * crypto / ISSUE_CRYPTO_MS
    by_limit = ISSUE_TARGET_MS * limit / ISSUE_LIMIT_MS
    return Row(
        "this machine against the issue's (SQLite): references' CPU, crypto / limit",
        f"×{crypto / ISSUE_CRYPTO_MS:.1f} / ×{limit / ISSUE_LIMIT_MS:.1f}: the 0.5 ms target scaled "
        f"by them is {by_crypto:.2f} / {by_limit:.2f} ms; kaohe {kaohe:.3f} ms is "
        f"{kaohe / crypto:.2f}× crypto (issue: {ISSUE_TARGET_MS / ISSUE_CRYPTO_MS:.2f}×), "
        f"{kaohe / limit:.2f}× limit (issue: {ISSUE_TARGET_MS / ISSUE_LIMIT_MS:.2f}×)",
        "",
        "info",
    )


def rows_of(results: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for kind in ("sqlite", "postgres"):
        cb = results.get(f"callback_{kind}")
        label = "SQLite" if kind == "sqlite" else "PostgreSQL"
        if cb is None:
            rows.append(Row(f"callback pipeline, {label}", "—", "", "not measured"))
            continue
        if "skipped" in cb:
            rows.append(Row(f"callback pipeline, {label}", cb["skipped"], "", "not measured"))
            continue
        real, bare = cb["real"], cb["bare"]
        target = "≤ 0.5 ms" if kind == "sqlite" else "≤ 1.0 ms (client + server)"
        limit_ms = 0.5 if kind == "sqlite" else 1.0
        where = "server, all threads" if kind == "sqlite" else "server + database backends"
        rows.append(
            Row(
                f"callback pipeline, {label}, CPU per 政务信息 message ({where})",
                _cpu(real),
                target,
                _check(_total(real) <= limit_ms),
            )
        )
        if "db_cpu_ms_per_request" in real:
            rows.append(
                Row(
                    f"kaohe on {label}: server process + database backends, CPU per message",
                    f"{real['cpu_ms_per_request']:.3f} + {real['db_cpu_ms_per_request']:.3f} ms",
                    "",
                    "info",
                )
            )
        refs = [n for n in ("bare", "crypto", "limit", "peer", "real") if n in cb]
        rows.append(
            Row(
                f"CPU per message, {label} ({where}): " + " / ".join(NAMES[n] for n in refs),
                " / ".join(_cpu(cb[n]) for n in refs),
                "",
                "info",
            )
        )
        for ref in ("peer", "limit"):
            if f"kaohe_over_{ref}" in cb:
                rows.append(
                    Row(
                        f"kaohe ÷ {ref}, {label}, CPU per message",
                        f"{cb[f'kaohe_over_{ref}']:.2f}×",
                        "",
                        "info",
                    )
                )
        if kind == "sqlite" and "crypto" in cb and "limit" in cb:
            rows.append(_machine_row(_total(cb["crypto"]), _total(cb["limit"]), _total(real)))
        rows.append(
            Row(
                f"callback throughput, {label}: kaohe ÷ bare",
                f"{cb['ratio'] * 100:.2f} % ({real['rps']:.0f} ÷ {bare['rps']:.0f} req/s)",
                "",
                "info",
            )
        )
        rows.append(
            Row(
                f"callback latency, {label}, {cb['concurrency']} senders sending back to back",
                f"p50 {real['p50_ms']:.0f} ms, p99 {real['p99_ms']:.0f} ms",
                "p99 < 50 ms" if kind == "sqlite" else "",
                _check(real["p99_ms"] < 50) if kind == "sqlite" else "info",
            )
        )
        paced = cb.get("paced")
        if paced:
            rows.append(
                Row(
                    f"callback latency, {label}, {cb['concurrency']} senders at "
                    f"{paced['rate']:.0f} req/s (half the saturated rate)",
                    f"p50 {paced['p50_ms']:.0f} ms, p99 {paced['p99_ms']:.0f} ms",
                    "",
                    "info",
                )
            )
        rows.append(
            Row(
                f"RSS of the serving process after the load, {label}",
                f"{real['rss_mb']:.0f} MB (peak {real['hwm_mb']:.0f} MB)",
                "< 100 MB",
                _check(real["hwm_mb"] < 100),
            )
        )
    sc = results.get("score")
    if sc:
        rows.append(
            Row(
                f"「我的得分」, {sc['units']} units × a full year "
                f"({sc['submissions_per_unit']:.0f} submissions/unit), {sc['calls']} calls",
                f"CPU {sc.get('cpu_ms_per_call', 0):.2f} ms per call ("
                + (
                    f"a unit's first ask {sc['cpu_ms_first']:.2f} ms, asked again "
                    f"{sc['cpu_ms_again']:.2f} ms; "
                    if "cpu_ms_first" in sc
                    else ""
                )
                + f"p50 {sc['p50_ms']:.1f} ms, p99 {sc['p99_ms']:.1f} ms)",
                "≤ 1 ms CPU per call",
                _check(sc.get("cpu_ms_per_call", 99) <= 1),
            )
        )
    ta = results.get("tally")
    if ta:
        sizes = {r["units"]: r for r in ta["sizes"]}
        for r in ta["sizes"]:
            files = (
                f"; + chart {r['chart_s']:.1f} s + workbook {r['workbook_s']:.1f} s"
                if r.get("files")
                else "; files not written at this size"
            )
            target = r["units"] == 1000
            rows.append(
                Row(
                    f"year-end tally, {r['units']} units ({r['submissions']} submissions): "
                    "facts + score + ranks",
                    f"{r['load_tally_s']:.2f} s (facts {r['facts_s']:.2f} s, score "
                    f"{r['score_s']:.2f} s){files}",
                    "",
                    "info",
                )
            )
        if 1000 in sizes and sizes[1000].get("files"):
            r = sizes[1000]
            rows.append(
                Row(
                    "year-end tally, 1000 units, with the workbook and the chart",
                    f"{r['total_s']:.2f} s",
                    "< 3 s",
                    _check(r["total_s"] < 3),
                )
            )
        per_unit = [(r["units"], r["load_ms_per_unit"]) for r in ta["sizes"]]
        if len(per_unit) >= 2:
            (_, small), (_, big) = per_unit[-2], per_unit[-1]
            growth = big / small if small else 0.0
            rows.append(
                Row(
                    "tally cost per unit (facts + score) at "
                    + " / ".join(str(u) for u, _ in per_unit)
                    + " units",
                    " / ".join(f"{ms:.2f}" for _, ms in per_unit)
                    + f" ms (largest ÷ next: {growth:.2f})",
                    "linear (ratio ≤ 1.25)",
                    _check(growth <= 1.25),
                )
            )
    rm = results.get("reminders")
    if rm is not None:
        if not rm.get("measured"):
            rows.append(Row("reminder tick", rm.get("reason", ""), "< 0.3 s", "not measured"))
        else:
            rows.append(
                Row(
                    f"reminder tick (plan, dry run), {rm['units']} units, "
                    f"{rm['planned_sends']} sends planned",
                    f"{rm['tick_s']:.2f} s (first tick {rm['first_s']:.2f} s)",
                    "< 0.3 s of compute",
                    _check(rm["tick_s"] < 0.3),
                )
            )
    return rows + _scaled_rows(results)


def _scaled_rows(results: dict[str, Any]) -> list[Row]:
    """Every target set in time, scaled to this machine by the limit reference (this run's
    SQLite limit ÷ the issue's 0.20 ms): the issue's targets were set on a machine that ran
    the same code 1.5–4× faster than some days' machines here. Read with the absolute rows
    above, never instead of them."""
    cb = results.get("callback_sqlite") or {}
    if "limit" not in cb:
        return []
    factor = _total(cb["limit"]) / ISSUE_LIMIT_MS
    found: list[tuple[str, float, float, str]] = []  # what, measured, target, unit
    real = cb.get("real")
    if real:
        found.append(("callback, SQLite, CPU per message", _total(real), 0.5, "ms"))
        found.append(("callback, SQLite, p99 with 50 senders", real["p99_ms"], 50, "ms"))
    pg = (results.get("callback_postgres") or {}).get("real")
    if pg:
        found.append(("callback, PostgreSQL, CPU per message", _total(pg), 1.0, "ms"))
    sc = results.get("score")
    if sc and "cpu_ms_per_call" in sc:
        found.append(("「我的得分」, CPU per call", sc["cpu_ms_per_call"], 1.0, "ms"))
    ta = results.get("tally")
    if ta:
        big = next((r for r in ta["sizes"] if r["units"] == 1000 and r.get("files")), None)
        if big:
            found.append(("tally of 1000 units with its files", big["total_s"], 3.0, "s"))
    rm = results.get("reminders")
    if rm and rm.get("measured"):
        found.append(("reminder tick, 1000 units", rm["tick_s"], 0.3, "s"))
    return [
        Row(
            f"{what}: the target scaled to this machine (×{factor:.1f}, by the limit reference)",
            f"{measured:.3g} {unit}",
            f"{target:g} {unit} × {factor:.1f} = {target * factor:.3g} {unit}",
            _check(measured <= target * factor) + " (scaled)",
        )
        for what, measured, target, unit in found
    ]


def _load(results: dict[str, Any]) -> str:
    start, end = results.get("load_start"), results.get("load_end")
    if start is None or end is None:
        return "not recorded"
    return f"{start[0]:.2f} / {end[0]:.2f}"


def table(rows: list[Row]) -> str:
    lines = ["| what | measured | target | |", "| --- | --- | --- | --- |"]
    lines += [f"| {r.what} | {r.figure} | {r.target} | {r.status} |" for r in rows]
    return "\n".join(lines)


def document(results: dict[str, Any], rows: list[Row]) -> str:
    m = results["machine"]
    head = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`python -m bench`); the analysis below the table is kept in",
        "`bench/notes.md`. Figures are from one run on one machine; the targets are issue 13's",
        '(they replace DESIGN.md\'s "≥ 40 % of bare"). CPU figures count every thread of the',
        "server process (on PostgreSQL also the backends serving the bench's database: client",
        "+ server); ± is half the spread of three interleaved rounds.",
        "",
        f"- date: {results['date']}",
        f"- load average (1 min) at the start and the end: {_load(results)}",
        f"- machine: {m['nproc']} CPUs ({m['cpu']}), {m['platform']}, Python {m['python']}",
        f"- databases: SQLite (a temporary file), PostgreSQL ({results.get('postgres', '—')})",
        f"- bench run time: {results['seconds']:.0f} s",
        *(
            [
                "- kept from earlier runs (not measured in this one): "
                + ", ".join(f"{name} ({date})" for name, date in results["kept"].items())
            ]
            if results.get("kept")
            else []
        ),
        "",
        table(rows),
        "",
    ]
    notes = NOTES.read_text(encoding="utf-8") if NOTES.exists() else ""
    raw = json.dumps(results, ensure_ascii=False, indent=1)
    return (
        "\n".join(head)
        + "\n"
        + notes
        + "\n\n## Raw figures of this run\n\n```json\n"
        + raw
        + "\n```\n"
    )


PARTS = frozenset({"callback", "score", "tally", "reminders"})


def _raw(out: Path) -> dict[str, Any]:
    """The raw figures a written document holds."""
    raw = out.read_text(encoding="utf-8").split("```json\n", 1)[1].rsplit("\n```", 1)[0]
    found: dict[str, Any] = json.loads(raw)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--requests", type=int, default=4000, help="callback: real app requests")
    parser.add_argument("--seconds", type=float, default=10.0, help="callback: time cap per phase")
    parser.add_argument("--rounds", type=int, default=3, help="callback: interleaved rounds")
    parser.add_argument("--tally-sizes", default="100,1000,5000")
    parser.add_argument(
        "--rerender",
        action="store_true",
        help="measure nothing: rewrite --out from the raw figures it holds (after editing notes)",
    )
    parser.add_argument(
        "--only",
        default="",
        help="measure only these parts (comma-separated: callback, score, tally, reminders); "
        "the others keep the figures --out holds, marked with the date of their run",
    )
    args = parser.parse_args(argv)
    if args.rerender:
        out = Path(args.out)
        results = _raw(out)
        rows = rows_of(results)
        out.write_text(document(results, rows), encoding="utf-8")
        print(table(rows))
        return 0

    started = time.perf_counter()
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "load_start": [round(x, 2) for x in os.getloadavg()],
    }

    only = {part.strip() for part in args.only.split(",") if part.strip()}
    unknown = only - PARTS
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    previous = _raw(Path(args.out)) if only and Path(args.out).exists() else {}

    def step(name: str, fn: Any, *a: Any, **kw: Any) -> None:
        part = name.split("_", 1)[0]
        if only and part not in only:
            if name in previous:
                results[name] = previous[name]
                results.setdefault("kept", {})[name] = previous.get("date", "?")
            return
        t = time.perf_counter()
        print(f"… {name}", flush=True)
        results[name] = fn(*a, **kw)
        print(f"  {name} done in {time.perf_counter() - t:.0f} s", flush=True)

    step("callback_sqlite", callback_bench.run, "sqlite", requests=args.requests,
         max_seconds=args.seconds, rounds=args.rounds)  # fmt: skip
    if args.no_postgres:
        results["callback_postgres"] = {"skipped": "--no-postgres"}
    elif only and "callback" not in only:
        step("callback_postgres", None)
        results["postgres"] = previous.get("postgres", "—")
    elif asyncio.run(postgres_available()):
        results["postgres"] = postgres_url().rsplit("@", 1)[-1]
        step("callback_postgres", callback_bench.run, "postgres", requests=args.requests,
             max_seconds=args.seconds, rounds=args.rounds)  # fmt: skip
    else:
        results["callback_postgres"] = {"skipped": f"PostgreSQL not reachable at {postgres_url()}"}
    step("score", score_bench.run, "sqlite")
    sizes = tuple(int(s) for s in args.tally_sizes.split(",") if s)
    step("tally", tally_bench.run, "sqlite", sizes=sizes)
    step("reminders", reminder_bench.run, "sqlite")
    results["seconds"] = time.perf_counter() - started
    results["load_end"] = [round(x, 2) for x in os.getloadavg()]

    rows = rows_of(results)
    print()
    print(table(rows))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(document(results, rows), encoding="utf-8")
    print(f"\nwritten to {out}")
    return 0
