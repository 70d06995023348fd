"""A small router: one intent → one function, with the roles allowed declared beside it.

Modelled on aiogram's routers: permissions are data on the route, checked in one place, so an intent
function never has to ask who the sender is allowed to be.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from handlers.intents import Intent
from storage.models import Role

LIAISON = frozenset({Role.LIAISON, Role.LEADER})  # see their unit's score, progress, records
REPORTERS = frozenset({Role.LIAISON})  # also submit and withdraw in the unit's name (not leaders)
ADMIN = frozenset({Role.ADMIN})
MEMBERS = LIAISON | ADMIN
INSPECTOR = frozenset({Role.INSPECTOR})  # logs and reads 检查考评 findings; never scores
EVERYONE = MEMBERS | INSPECTOR

IntentFunc = Callable[[Any, Intent], Awaitable[Any]]


@dataclass(frozen=True)
class Route:
    name: StrEnum  # an IntentName, OfficeIntent or ReviewIntent member
    func: IntentFunc
    roles: frozenset[Role]


class Router:
    def __init__(self) -> None:
        self._routes: dict[StrEnum, Route] = {}

    def intent(self, *names: StrEnum, roles: frozenset[Role]) -> Callable[[IntentFunc], IntentFunc]:
        """Register `func` for the intents `names`, callable only by senders with one of `roles`."""

        def decorate(func: IntentFunc) -> IntentFunc:
            for name in names:
                if name in self._routes:
                    raise ValueError(f"intent {name!r} is routed twice")
                self._routes[name] = Route(name, func, roles)
            return func

        return decorate

    def include(self, other: Router) -> None:
        for route in other._routes.values():
            if route.name in self._routes:
                raise ValueError(f"intent {route.name!r} is routed twice")
            self._routes[route.name] = route

    def route(self, name: StrEnum) -> Route | None:
        return self._routes.get(name)

    @property
    def names(self) -> frozenset[StrEnum]:
        return frozenset(self._routes)
