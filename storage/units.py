"""Units (districts, departments) and their members (liaisons, leaders, admins).

Units and members are registry data, not ledger data: an import may change a member's name, role
or unit (each change is audited). Nothing here scores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import bindparam, literal
from sqlalchemy.engine import Connection
from sqlalchemy.orm import joinedload, selectinload
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import scope
from storage.audit import audit
from storage.db import Database
from storage.models import AdminEntry, Member, Role, Submission, Task, Unit, UnitKind
from storage.types import utcnow


class RegistryError(ValueError):
    """A unit or member request that cannot be applied (unknown kind, role, unit...)."""


def _check(kind: str | None = None, role: str | None = None) -> None:
    if kind is not None and kind not in {k.value for k in UnitKind}:
        raise RegistryError(f"unknown unit kind {kind!r} (district, department)")
    if role is not None and role not in {r.value for r in Role}:
        raise RegistryError(f"unknown role {role!r} (liaison, leader, admin, inspector)")


async def get_unit(session: AsyncSession, unit_id: int) -> Unit | None:
    return await session.get(Unit, unit_id)


async def get_unit_by_name(session: AsyncSession, name: str) -> Unit | None:
    """The unit of this name in the current assessment (storage/scope.py)."""
    query = scope.filter_units(select(Unit).where(Unit.name == name), Unit)
    return (await session.exec(query)).first()


async def find_unit(session: AsyncSession, text: str) -> Unit | None:
    """The unit a person means by `text` in chat: its name, or a part of its name that no other
    unit's name contains ("椒江" → 椒江区, "生态环境局" → 市生态环境局). None when no unit or
    several match. (Imports and the command line name units exactly: `get_unit_by_name`.)"""
    name = text.strip()
    unit = await get_unit_by_name(session, name)
    if unit is not None or len(name) < 2:
        return unit
    found = [u for u in await list_units(session) if name in u.name]
    return found[0] if len(found) == 1 else None


async def list_units(session: AsyncSession, *, with_members: bool = False) -> list[Unit]:
    """All units by name; `with_members` loads `unit.members` (otherwise touching it raises)."""
    query = scope.filter_units(select(Unit).order_by(col(Unit.name)), Unit)
    if with_members:
        query = query.options(selectinload(Unit.members))  # type: ignore[arg-type]
    return list((await session.exec(query)).all())


class RosterMember(NamedTuple):
    userid: str
    role: str
    active: bool


class RosterUnit(NamedTuple):
    """A unit with its members (active or not), as the reminder tick reads them."""

    id: int
    name: str
    scheme_id: str
    assessment_id: int
    members: tuple[RosterMember, ...]


class Roster(NamedTuple):
    units: list[RosterUnit]  # by name, as `list_units`
    admins: list[str]  # active members with the role admin, as `list_members` finds them


_ROSTER_UNITS = (
    select(Unit.id, Unit.name, Unit.scheme_id, Unit.assessment_id)
    .where(col(Unit.assessment_id) == bindparam("assessment"))
    .order_by(col(Unit.name))
)
_ROSTER_ALL_UNITS = select(Unit.id, Unit.name, Unit.scheme_id, Unit.assessment_id).order_by(
    col(Unit.name)
)
_ROSTER_MEMBERS = select(Member.unit_id, Member.userid, Member.role, Member.active).order_by(
    col(Member.userid)
)


def _roster(conn: Connection, assessment: int | None) -> Roster:
    if assessment is None:
        unit_rows = conn.execute(_ROSTER_ALL_UNITS).all()
    else:
        unit_rows = conn.execute(_ROSTER_UNITS, {"assessment": assessment}).all()
    of_unit: dict[int | None, list[RosterMember]] = {}
    admins: list[str] = []
    ids = {row[0] for row in unit_rows}
    unitless = assessment is None or assessment == scope.DEFAULT_ASSESSMENT
    for unit_id, userid, role, active in conn.execute(_ROSTER_MEMBERS):
        of_unit.setdefault(unit_id, []).append(RosterMember(userid, role, bool(active)))
        if (
            active
            and role == Role.ADMIN.value
            and (unit_id in ids or (unit_id is None and unitless))
        ):
            admins.append(userid)
    units = [
        RosterUnit(uid, name, scheme_id, assessment_id, tuple(of_unit.get(uid, ())))
        for uid, name, scheme_id, assessment_id in unit_rows
    ]
    return Roster(units, admins)


async def roster(db: Database) -> Roster:
    """Every unit of the current assessment (storage/scope.py) with its members, and the admins:
    what `list_units(with_members=True)` and `list_members` give, in two plain statements and one
    unit of work (the reminder tick reads it every few minutes for every unit)."""
    return await db.run(_roster, scope.current())


async def get_member(session: AsyncSession, userid: str) -> Member | None:
    """The member with this WeCom user id, with `member.unit` loaded."""
    query = (
        select(Member).where(Member.userid == userid).options(joinedload(Member.unit))  # type: ignore[arg-type]
    )
    return (await session.exec(query)).first()


async def list_members(
    session: AsyncSession, unit_id: int | None = None, *, include_inactive: bool = False
) -> list[Member]:
    """Members (of a unit), by user id; deactivated ones only with `include_inactive` (nobody
    reminds, notifies or lets in a deactivated member)."""
    query = select(Member).options(selectinload(Member.unit))  # type: ignore[arg-type]
    clause = scope.in_scope(Member.unit_id)
    if clause is not None:  # a member without a unit belongs to the default assessment
        unitless = col(Member.unit_id).is_(None) & (
            literal(scope.current()) == scope.DEFAULT_ASSESSMENT
        )
        query = query.where(clause | unitless)
    if not include_inactive:
        query = query.where(col(Member.active).is_(True))
    if unit_id is not None:
        query = query.where(Member.unit_id == unit_id)
    return list((await session.exec(query.order_by(col(Member.userid)))).all())


async def upsert_unit(
    session: AsyncSession, name: str, kind: str, scheme_id: str, *, actor: str
) -> tuple[Unit, str]:
    """Create or update the unit by name. Returns (unit, "created" | "updated" | "unchanged")."""
    _check(kind=kind)
    unit = await get_unit_by_name(session, name)
    if unit is None and scope.current() is not None:
        elsewhere = (await session.exec(select(Unit).where(Unit.name == name))).first()
        if elsewhere is not None:  # names are unique across assessments
            raise RegistryError(f"单位 {name!r} 已属于另一个考核（编号{elsewhere.assessment_id}）")
    if unit is None:
        unit = Unit(
            name=name,
            kind=kind,
            scheme_id=scheme_id,
            assessment_id=scope.current() or scope.DEFAULT_ASSESSMENT,
        )
        session.add(unit)
        await session.flush()
        audit(session, actor, "unit.create", {"unit": name, "kind": kind, "scheme": scheme_id})
        return unit, "created"
    if (unit.kind, unit.scheme_id) == (kind, scheme_id):
        return unit, "unchanged"
    before = {"kind": unit.kind, "scheme": unit.scheme_id}
    unit.kind, unit.scheme_id, unit.updated_at = kind, scheme_id, utcnow()
    session.add(unit)
    await session.flush()
    audit(
        session,
        actor,
        "unit.update",
        {"unit": name, "before": before, "after": {"kind": kind, "scheme": scheme_id}},
    )
    return unit, "updated"


async def upsert_member(
    session: AsyncSession,
    userid: str,
    name: str,
    role: str,
    unit_id: int | None,
    *,
    actor: str,
    active: bool = True,
) -> tuple[Member, str]:
    """Create or update the member by WeCom user id. Returns (member, "created" | "updated" |
    "unchanged"). A deactivated member keeps their row: what they submitted still names them."""
    _check(role=role)
    member = (await session.exec(select(Member).where(Member.userid == userid))).first()
    after = {"name": name, "role": role, "unit_id": unit_id, "active": active}
    if member is None:
        member = Member(userid=userid, name=name, role=role, unit_id=unit_id, active=active)
        session.add(member)
        await session.flush()
        audit(session, actor, "member.create", {"userid": userid, **after})
        return member, "created"
    before = {
        "name": member.name,
        "role": member.role,
        "unit_id": member.unit_id,
        "active": member.active,
    }
    if before == after:
        return member, "unchanged"
    member.name, member.role, member.unit_id, member.updated_at = name, role, unit_id, utcnow()
    member.active = active
    session.add(member)
    await session.flush()
    audit(session, actor, "member.update", {"userid": userid, "before": before, "after": after})
    return member, "updated"


@dataclass
class UpsertCounts:
    units: dict[str, int] = field(
        default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0}
    )
    members: dict[str, int] = field(
        default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0}
    )

    @property
    def changed(self) -> bool:
        return any(self.units[k] or self.members[k] for k in ("created", "updated"))


async def has_records(session: AsyncSession, unit_id: int, year: int) -> bool:
    """Whether the unit has anything in the ledger for `year` (submissions, tasks, entries)."""
    for model in (Submission, Task, AdminEntry):
        query = select(model.id).where(model.unit_id == unit_id, model.year == year).limit(1)
        if (await session.exec(query)).first() is not None:
            return True
    return False


async def fill_names(
    session: AsyncSession, names: dict[str, str], *, actor: str
) -> list[tuple[str, str, str]]:
    """Set the names of registered members from `names` (user id → name, e.g. WeCom's
    contacts) where they differ; each change is audited. Returns (userid, old, new) changed."""
    changed: list[tuple[str, str, str]] = []
    members = await list_members(session, include_inactive=True)
    for member in members:
        new = names.get(member.userid, "").strip()
        if not new or new == member.name:
            continue
        old = member.name
        await upsert_member(
            session, member.userid, new, member.role, member.unit_id, actor=actor,
            active=member.active,
        )  # fmt: skip
        changed.append((member.userid, old, new))
    return changed
