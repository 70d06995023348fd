"""What the rule kinds work out once per scheme (and day), not once per unit."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from scoring.model import Scheme

T = TypeVar("T")
KEPT_PER_SCHEME = 4096  # worked-out plans kept per scheme (a few per rule and day asked about)


def per_scheme(scheme: Scheme, key: Hashable, make: Callable[[], T]) -> T:
    """What `make()` gives, worked out once per scheme and `key`: what a rule needs of the
    calendar on a day (its periods, which are due, their labels), the same for every unit of a
    tally and every unit asked about that day. Kept in the scheme's own `__dict__` (a scheme is
    immutable; `functools.cached_property` keeps its values there too); `key` must name
    everything `make` reads besides the scheme."""
    kept: dict[Hashable, Any] | None = scheme.__dict__.get("_per_scheme")
    if kept is None:
        kept = scheme.__dict__["_per_scheme"] = {}
    found = kept.get(key, kept)
    if found is kept:
        found = make()
        if len(kept) >= KEPT_PER_SCHEME:
            kept.clear()
        kept[key] = found
    return found
