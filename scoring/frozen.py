"""Frozen dataclasses built faster: `quick_init` gives one an `__init__` that fills the instance's
`__dict__` directly, instead of dataclasses' `object.__setattr__(self, name, value)` per field
(which a frozen class needs only to get around its own `__setattr__`).

A year's tally builds about 100,000 facts, result and card lines, and a unit's first 「我的得分」
about a hundred: the generated `__init__` took 2.7 µs for a submission of eight fields, this one
about a third. Equality, hashing, `repr`, `dataclasses.replace` and frozenness are the
dataclass's own, unchanged; `__dataclass_init__` keeps the generated one (tests compare them).
"""

from __future__ import annotations

from dataclasses import MISSING, fields, is_dataclass
from typing import Any, TypeVar

T = TypeVar("T")

_NO_VALUE: Any = object()  # a field with a default factory, given no value


def quick_init(cls: type[T]) -> type[T]:
    """Replace the `__init__` of frozen dataclass `cls` (positional or keyword, defaults and
    default factories as declared; no `__post_init__`, `InitVar`, `init=False` or keyword-only
    fields)."""
    if not is_dataclass(cls) or not getattr(cls, "__dataclass_params__").frozen:  # noqa: B009
        raise TypeError(f"{cls.__name__}: not a frozen dataclass")
    if hasattr(cls, "__post_init__") or "__slots__" in cls.__dict__:
        raise TypeError(f"{cls.__name__}: __post_init__ or slots")
    declared = fields(cls)
    if len(declared) != len(getattr(cls, "__dataclass_fields__")) or any(  # noqa: B009
        not f.init or f.kw_only for f in declared
    ):
        raise TypeError(f"{cls.__name__}: InitVar, init=False or keyword-only fields")
    scope: dict[str, Any] = {"_NO_VALUE": _NO_VALUE}
    params, lines = [], []
    for f in declared:
        if f.default is not MISSING:
            scope[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        elif f.default_factory is not MISSING:
            scope[f"_factory_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_NO_VALUE")
            lines.append(f"    if {f.name} is _NO_VALUE: {f.name} = _factory_{f.name}()")
        else:
            params.append(f.name)
    lines.append("    d = self.__dict__")
    lines.extend(f"    d[{f.name!r}] = {f.name}" for f in declared)
    source = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(lines) + "\n"
    exec(source, scope)
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    setattr(cls, "__dataclass_init__", cls.__init__)  # noqa: B010 - not a method mypy may see
    setattr(cls, "__init__", init)  # noqa: B010
    return cls
