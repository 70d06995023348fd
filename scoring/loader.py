"""Load and validate a scheme YAML file (docs/scheme.md, "Scheme file").

Every field is checked; all problems are collected and raised together as one `SchemeError` whose
lines name the file, the path inside it and what is wrong. Built-in schemes live beside this module
in `schemes/<id>.yaml`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from scoring import document
from scoring.errors import SchemeError
from scoring.kinds import kind_class
from scoring.kinds.base import options_of
from scoring.model import Alternatives, Grading, Item, Rule, Scheme, Target

SCHEMES_DIR = Path(__file__).with_name("schemes")
SCHEME_ID = document.SCHEME_ID


# ---- public API -------------------------------------------------------------------------------


def builtin_scheme_ids() -> list[str]:
    """Ids of the schemes shipped in `scoring/schemes/`, sorted."""
    if not SCHEMES_DIR.is_dir():
        return []
    return sorted(p.stem for p in SCHEMES_DIR.glob("*.yaml"))


@lru_cache(maxsize=32)
def load_builtin(scheme_id: str) -> Scheme:
    """A built-in scheme by id (cached: schemes are immutable)."""
    path = SCHEMES_DIR / f"{scheme_id}.yaml"
    if not SCHEME_ID.match(scheme_id) or not path.is_file():
        known = "、".join(builtin_scheme_ids()) or "无"
        raise SchemeError([f"没有内置考核方案 {scheme_id!r}（内置方案：{known}）"])
    return load_scheme_file(path)


def load_scheme(id_or_path: str | Path) -> Scheme:
    """A built-in scheme id, or the path of a scheme YAML file."""
    text = str(id_or_path)
    if SCHEME_ID.match(text) and not Path(text).is_file():
        return load_builtin(text)
    return load_scheme_file(Path(text))


def load_scheme_file(path: str | Path) -> Scheme:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SchemeError([f"{path}: 文件不存在"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemeError([f"{path}: 无法读取（{exc}）"]) from None
    return load_scheme_text(text, source=str(path))


def load_scheme_text(text: str, source: str = "<scheme>") -> Scheme:
    """Parse and validate scheme YAML; raise `SchemeError` listing every problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第{mark.line + 1}行第{mark.column + 1}列" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SchemeError([f"{source}: YAML 语法错误{where}：{problem}"]) from None
    return scheme_from_data(data, source)


def scheme_from_data(
    data: Any, source: str = "<scheme>", where: Callable[[str], str] | None = None
) -> Scheme:
    """Validate parsed scheme data (the models of `document.py` and the checks across the file)
    and build the scheme; raise `SchemeError` listing every problem. `where` turns a path inside
    the data into the words of its source (a spreadsheet's row and column)."""
    scheme_doc = document.documents()[0]
    found: list[tuple[str, str]] = []
    try:
        doc = scheme_doc.model_validate(data)
    except ValidationError as exc:
        doc, found = None, document.problems(exc)
    found += document.cross_problems(data)
    if found:
        place = where or (lambda path: path)
        raise SchemeError(
            [
                f"{source}: {place(path)}: {what}" if path else f"{source}: {what}"
                for path, what in found
            ]
        )
    assert doc is not None
    return _build(doc, source)


# ---- building ---------------------------------------------------------------------------------


def _build(doc: Any, source: str) -> Scheme:
    """The immutable scheme of a valid document: rule ids and offices filled in, params split off."""
    g = doc.grading
    grading = None
    if g is not None:
        grading = Grading(
            excellent=g.excellent,
            good=g.good,
            required_task_kinds=g.required_task_kinds,
            lines=g.lines,
            unfinished_allowed=g.unfinished_allowed,
            options=tuple(options_of(g)),
        )
    return Scheme(
        id=doc.id,
        name=doc.name,
        items=tuple(_item(i) for i in doc.items),
        source=doc.source,
        total=doc.total,
        grading=grading,
        path=source,
    )


def _item(doc: Any) -> Item:
    return Item(
        id=doc.id,
        name=doc.name,
        targets=tuple(_target(t, doc) for t in doc.targets),
        points=doc.points,
        office=doc.office,
        bonus=doc.bonus,
        shares=doc.shares,
    )


def _target(doc: Any, item: Any) -> Target:
    office = doc.office or item.office
    rules = tuple(_rule(r, n, doc.id, item.id, office) for n, r in enumerate(doc.rules, start=1))
    return Target(
        id=doc.id,
        name=doc.name,
        rules=rules,
        item=item.id,
        text=doc.text,
        points=doc.points,
        office=office,
        reading=_note(doc.reading),
        alternatives=_alternatives(doc.reading),
    )


def _rule(doc: Any, n: int, target_id: str, item_id: str, office: str) -> Rule:
    kind = kind_class(doc.kind)
    written = doc.model_fields_set  # so that a kind's options know what the file chose
    params = kind.model_validate({n: getattr(doc, n) for n in kind.model_fields if n in written})
    return Rule(
        id=doc.id if doc.id is not None else f"{target_id}.{n}",
        kind=doc.kind,
        params=params,
        target=target_id,
        item=item_id,
        text=doc.text,
        period=doc.period,
        deadline=doc.deadline,
        office=doc.office or office,
        reading=_note(doc.reading),
        alternatives=_alternatives(doc.reading),
    )


def _note(reading: Any) -> str:
    """The words of a `reading`: the text itself, or the note of one with choices."""
    return reading if isinstance(reading, str) else reading.note


def _alternatives(reading: Any) -> Alternatives | None:
    if isinstance(reading, str):
        return None
    return Alternatives(reading.about, reading.label, tuple(reading.choices.items()), reading.note)
