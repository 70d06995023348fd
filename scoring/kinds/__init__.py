"""The rule kinds: one module each in this package, one registry that everything reads.

`register` adds a `RuleKind` subclass under its `kind` name; every module of this package is
imported once so that its kind registers itself. The loader builds its discriminated union from
`all_kinds()`; the engine, lint, the tally, reminders and the chat handlers ask `kind_class()` and
the kinds' class attributes. A new kind is one new module here (and its test).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import get_args

from scoring.facts import EntryKind
from scoring.kinds.base import (
    ANY_DUE,
    ConfirmedKind,
    Delivered,
    Delivery,
    Family,
    OpenCategory,
    Option,
    Owed,
    RateKind,
    RuleKind,
    RuleResult,
    Verb,
)

_KINDS: dict[str, type[RuleKind]] = {}
_listeners: list = []  # called when the registry changes (the loader rebuilds its union)


def kind_name(cls: type[RuleKind]) -> str:
    """The name a kind is written with in a scheme: its `kind` literal."""
    names = get_args(cls.model_fields["kind"].annotation)
    if len(names) != 1 or not isinstance(names[0], str):
        raise TypeError(f"{cls.__name__}.kind must be a Literal of one name")
    return names[0]


def register(cls: type[RuleKind]) -> type[RuleKind]:
    """Class decorator: make a kind known by its `kind` name."""
    name = kind_name(cls)
    if name in _KINDS and _KINDS[name] is not cls:
        raise ValueError(f"rule kind {name!r} is registered twice")
    _KINDS[name] = cls
    for listener in _listeners:
        listener()
    return cls


def unregister(name: str) -> None:
    """Forget a kind (tests that register one of their own)."""
    if _KINDS.pop(name, None) is not None:
        for listener in _listeners:
            listener()


@contextmanager
def registered(cls: type[RuleKind]) -> Iterator[type[RuleKind]]:
    """A kind known for the duration of a `with` block."""
    register(cls)
    try:
        yield cls
    finally:
        unregister(kind_name(cls))


def on_change(listener) -> None:
    _listeners.append(listener)


def all_kinds() -> dict[str, type[RuleKind]]:
    """Every known kind by name, by name."""
    return dict(sorted(_KINDS.items()))


def kind_class(name: str) -> type[RuleKind]:
    return _KINDS[name]


def accepting(entry: EntryKind) -> tuple[str, ...]:
    """Names of the kinds that take admin entries of `entry`."""
    return tuple(name for name, cls in _KINDS.items() if cls.accepts == entry)


def verbs() -> dict[str, tuple[EntryKind, tuple[str, ...], Verb]]:
    """Admin chat verb → (the entry it records, the kinds it may name, the verb)."""
    out: dict[str, tuple[EntryKind, tuple[str, ...], Verb]] = {}
    for name, cls in _KINDS.items():
        for verb in cls.verbs:
            assert cls.accepts is not None, f"{name} has verbs but takes no entries"
            entry, kinds, _ = out.get(verb.word, (cls.accepts, (), verb))
            if entry != cls.accepts:
                raise ValueError(f"verb {verb.word!r} records both {entry} and {cls.accepts}")
            out[verb.word] = (entry, (*kinds, name), verb)
    return out


def _load_builtin_kinds() -> None:
    """Import every kind module of this package once (each registers its kind)."""
    for module in pkgutil.iter_modules(__path__):
        if module.name not in ("base", "fields"):
            importlib.import_module(f"{__name__}.{module.name}")


_load_builtin_kinds()

__all__ = [
    "ANY_DUE",
    "ConfirmedKind",
    "Delivered",
    "Delivery",
    "Family",
    "OpenCategory",
    "Option",
    "Owed",
    "RateKind",
    "RuleKind",
    "RuleResult",
    "Verb",
    "accepting",
    "all_kinds",
    "kind_class",
    "kind_name",
    "on_change",
    "register",
    "registered",
    "unregister",
    "verbs",
]
