"""The dependency rule of DESIGN.md, checked on every import statement of the tree (module level,
inside functions and under TYPE_CHECKING alike):

- scoring/ imports nothing of ours, and no database, web or messaging library;
- storage/ may import scoring/, never bot/ or handlers/;
- handlers/ and reminders/ never import bot/.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = ("bot", "handlers", "reminders", "scoring", "storage", "tally")

# package: the top-level names it must not import
FORBIDDEN = {
    "scoring": {
        *(p for p in OURS if p != "scoring"),
        *("sqlalchemy", "sqlmodel", "alembic", "aiohttp", "asyncpg", "aiosqlite", "wechatpy"),
    },
    "storage": {"bot", "handlers"},
    "handlers": {"bot"},
    "reminders": {"bot"},
}


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in the file."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def offenders(package: str, forbidden: set[str]) -> list[str]:
    out = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, module in imported(path):
            if module.split(".")[0] in forbidden:
                out.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return out


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_the_dependency_rule_holds(package: str) -> None:
    assert offenders(package, FORBIDDEN[package]) == []


def test_the_check_sees_what_it_must(tmp_path: Path) -> None:
    """The walk finds imports in functions and under TYPE_CHECKING, and skips relative ones."""
    source = tmp_path / "m.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from storage.db import Database\n"
        "def f():\n    import handlers.texts as t\n    from . import sibling\n",
        encoding="utf-8",
    )
    modules = [m for _line, m in imported(source)]
    assert modules == ["typing", "storage.db", "handlers.texts"]
