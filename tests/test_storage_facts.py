"""The ledger → scoring bridge: facts built from rows score exactly like the same facts file,
both in code and through `kaohe score --unit … --year …` vs `kaohe score --scheme … --facts …`."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from scoring import EntryKind, Facts, Status, load_builtin, load_facts_file, score, to_dict
from storage.db import Database
from storage.facts import build_all_facts, build_facts, collector_paused, unit_facts
from storage.ledger import (
    add_entry,
    add_submission,
    add_task,
    complete_task,
    review_submission,
    void_entry,
    withdraw_submission,
)
from storage.models import Unit
from tests.ledger_writer import write_facts

DATA = Path(__file__).parent / "data"
CASES = [
    ("facts-chuangmo-jiaojiang-2026.yaml", "chuangmo-taizhou", date(2027, 1, 15)),
    ("facts-epb-luqiao-2007.yaml", "epb-district-2007", date(2008, 1, 20)),
]


async def load_into_ledger(db: Database, facts: Facts, scheme_id: str) -> Facts:
    """Write `facts` as ledger rows; return the same facts with the ids the ledger gave them."""
    _, written = await write_facts(db, facts, scheme_id=scheme_id)
    return written


def _key(facts: Facts) -> tuple:  # type: ignore[type-arg]
    return (
        sorted(facts.submissions, key=lambda x: x.id),
        sorted(facts.tasks, key=lambda x: x.id),
        sorted(facts.entries, key=lambda x: x.id),
    )


def facts_to_yaml(facts: Facts) -> str:
    def clean(d: dict) -> dict:  # type: ignore[type-arg]
        out = {}
        for k, v in d.items():
            if v is None:
                continue
            if isinstance(v, datetime | date):
                v = v.isoformat()
            elif isinstance(v, Decimal):
                v = str(v)
            elif hasattr(v, "value"):
                v = v.value
            out[k] = v
        return out

    data = {
        "unit": facts.unit,
        "year": facts.year,
        "submissions": [clean(vars(x)) for x in facts.submissions],
        "tasks": [clean(vars(x)) for x in facts.tasks],
        "entries": [clean(vars(x)) for x in facts.entries],
    }
    return yaml.safe_dump(data, allow_unicode=True)


@pytest.mark.parametrize(("filename", "scheme_id", "as_of"), CASES)
async def test_ledger_facts_equal_file_facts(
    database: Database, filename: str, scheme_id: str, as_of: date
) -> None:
    expected = await load_into_ledger(database, load_facts_file(DATA / filename), scheme_id)
    found = await unit_facts(database, expected.unit, expected.year)
    assert found.scheme_id == scheme_id
    assert _key(found.facts) == _key(expected)
    scheme = load_builtin(scheme_id)
    for day in (as_of, date(expected.year, 7, 1)):
        assert to_dict(score(scheme, found.facts, day)) == to_dict(score(scheme, expected, day))


async def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()

    def run() -> int:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return main(list(argv))

    code = await asyncio.to_thread(run)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def use_database(database: Database, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from bot.settings import get_settings

    monkeypatch.setenv("KAOHE_DATABASE_URL", database.url)
    get_settings.cache_clear()
    yield database
    get_settings.cache_clear()


@pytest.mark.parametrize(("filename", "scheme_id", "as_of"), CASES)
async def test_cli_score_unit_agrees_with_facts_file(
    use_database: Database, tmp_path: Path, filename: str, scheme_id: str, as_of: date
) -> None:
    facts = await load_into_ledger(use_database, load_facts_file(DATA / filename), scheme_id)
    path = tmp_path / "facts.yaml"
    path.write_text(facts_to_yaml(facts), encoding="utf-8")
    for day in (as_of.isoformat(), f"{facts.year}-07-01"):
        code1, from_file, err1 = await _cli(
            "score", "--scheme", scheme_id, "--facts", str(path), "--as-of", day, "--json"
        )
        code2, from_db, err2 = await _cli(
            "score", "--unit", facts.unit, "--year", str(facts.year), "--as-of", day, "--json"
        )
        assert (code1, err1) == (0, "") and (code2, err2) == (0, "")
        assert json.loads(from_db) == json.loads(from_file)
    code, text, _ = await _cli("score", "--unit", facts.unit, "--year", str(facts.year))
    assert code == 0 and facts.unit in text
    code, _, err = await _cli("score", "--unit", "没有这个区", "--year", "2026")
    assert code == 1 and "没有这个区" in err


async def test_status_and_completion_follow_the_latest_row(database: Database) -> None:
    t = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    async with database.session() as s:
        unit = Unit(name="路桥区", kind="district", scheme_id="chuangmo-taizhou")
        s.add(unit)
        await s.flush()
        assert unit.id is not None
        a = await add_submission(s, unit_id=unit.id, target="C3b", period="2026-03", submitted_at=t)
        b = await add_submission(s, unit_id=unit.id, target="C3b", period="2026-03", submitted_at=t)
        c = await add_submission(s, unit_id=unit.id, target="C3b", period="2026-03", submitted_at=t)
        assert a.id and b.id and c.id
        await review_submission(s, a.id, accepted=False, actor="cmb", at=t.replace(day=2))
        await review_submission(s, a.id, accepted=True, actor="cmb", at=t.replace(day=5))
        await withdraw_submission(s, b.id, actor="li", at=t.replace(day=3))
        task = await add_task(
            s, unit_id=unit.id, kind="annual_target", due=date(2026, 12, 31), actor="cmb"
        )
        assert task.id is not None
        done = await complete_task(s, task.id, actor="cmb", at=t.replace(month=10))
        assert done.id is not None
        points = await add_entry(
            s,
            unit_id=unit.id,
            year=2026,
            kind="points",
            rule="C2.1",
            value="6.5",
            actor="cmb",
            at=t,
        )
        assert points.id is not None
        await s.commit()
    async with database.session() as s:
        facts = await build_facts(s, unit.id, 2026)
        status = {x.id: x.status for x in facts.submissions}
        assert status == {
            f"S{a.id}": Status.ACCEPTED,
            f"S{b.id}": Status.WITHDRAWN,
            f"S{c.id}": Status.SUBMITTED,
        }
        assert facts.tasks[0].id == f"K{task.id}" and facts.tasks[0].completed_at == t.replace(
            month=10
        )
        assert [(e.id, e.kind, e.value) for e in facts.entries] == [
            (f"E{points.id}", EntryKind.POINTS, Decimal("6.5"))
        ]
        # as known on 3 March: a still rejected, b withdrawn
        early = await build_facts(s, unit.id, 2026, known_at=t.replace(day=3, hour=12))
        assert {x.id: x.status for x in early.submissions}[f"S{a.id}"] == Status.REJECTED
        assert early.tasks[0].completed_at is None
    async with database.session() as s:
        await void_entry(s, done.id, actor="cmb", reason="验收未通过", at=t.replace(month=11))
        await s.commit()
    async with database.session() as s:
        facts = await build_facts(s, unit.id, 2026)
        assert facts.tasks[0].completed_at is None
        assert len(facts.entries) == 1  # task confirmations and their voids are not score entries
        every = await build_all_facts(s, 2026)
        assert [u.unit.name for u in every] == ["路桥区"]
        (other_year,) = await build_all_facts(s, 2025)  # every unit, with nothing that year
        assert other_year.facts == Facts(unit="路桥区", year=2025)


def test_collector_paused_restores_the_collector() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()


def test_collector_pauses_overlap() -> None:
    """Two pauses that overlap (two threads): the collector is back only after the last ends."""
    assert gc.isenabled()
    first, second = collector_paused(), collector_paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()  # the second is still in force
    second.__exit__(None, None, None)
    assert gc.isenabled()
