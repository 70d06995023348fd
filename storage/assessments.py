"""Assessments (分级考核, seed 000 第一条) and their admins: the registry behind storage/scope.py.

The default assessment (id 1) exists from the migration on; others are added by the operator
(`kaohe assessments add`). Registry data like units: changed in place, every change audited.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.audit import audit
from storage.models import Assessment, AssessmentAdmin, Unit
from storage.scope import DEFAULT_ASSESSMENT


class AssessmentError(ValueError):
    """An assessment request that cannot be applied (unknown organiser, name taken...)."""


async def list_assessments(session: AsyncSession) -> list[Assessment]:
    return list(await session.exec(select(Assessment).order_by(col(Assessment.id))))


async def get_assessment(session: AsyncSession, ref: str | int) -> Assessment | None:
    """An assessment by id or name."""
    if isinstance(ref, int) or str(ref).isdigit():
        return await session.get(Assessment, int(ref))
    return (await session.exec(select(Assessment).where(Assessment.name == ref))).first()


async def names_of(session: AsyncSession, ids: Sequence[int]) -> dict[int, str]:
    rows = await session.exec(select(Assessment).where(col(Assessment.id).in_(list(ids))))
    return {a.id: a.name for a in rows if a.id is not None}


async def organiser_name(session: AsyncSession, assessment_id: int) -> str | None:
    """The name of the unit that runs the assessment (路桥区); None for the default one and for
    an assessment without an organiser."""
    found = await session.exec(
        select(Unit.name)
        .join(Assessment, col(Assessment.organiser_unit_id) == col(Unit.id))
        .where(Assessment.id == assessment_id)
    )
    return found.first()


async def add_assessment(
    session: AsyncSession,
    name: str,
    *,
    actor: str,
    organiser: str | None = None,
    scheme_id: str | None = None,
    year: int | None = None,
    admins: Sequence[str] = (),
) -> Assessment:
    """Add an assessment run by the unit `organiser` (its name), with its admins (user ids)."""
    if await get_assessment(session, name) is not None:
        raise AssessmentError(f"已有名为 {name!r} 的考核")
    organiser_id = None
    if organiser:
        unit = (await session.exec(select(Unit).where(Unit.name == organiser))).first()
        if unit is None:
            raise AssessmentError(f"没有名为 {organiser!r} 的单位（组织单位须已登记）")
        organiser_id = unit.id
    row = Assessment(
        name=name, organiser_unit_id=organiser_id, scheme_id=scheme_id, year=year, actor=actor
    )
    session.add(row)
    await session.flush()
    assert row.id is not None
    audit(session, actor, "assessment.create", {"assessment": row.id, "name": name})
    for userid in admins:
        await add_admin(session, row.id, userid, actor=actor)
    return row


async def add_admin(session: AsyncSession, assessment_id: int, userid: str, *, actor: str) -> bool:
    """Make `userid` an admin of the assessment; False when they already are."""
    found = await session.exec(
        select(AssessmentAdmin).where(
            AssessmentAdmin.assessment_id == assessment_id, AssessmentAdmin.userid == userid
        )
    )
    if found.first() is not None:
        return False
    session.add(AssessmentAdmin(assessment_id=assessment_id, userid=userid, actor=actor))
    await session.flush()
    audit(session, actor, "assessment.admin", {"assessment": assessment_id, "userid": userid})
    return True


async def admin_of(session: AsyncSession, userid: str) -> list[int]:
    """The assessments `userid` is an admin of through `assessment_admin` (the default one's
    admins are the members with the role admin and KAOHE_ADMINS, as before assessments)."""
    rows = await session.exec(
        select(AssessmentAdmin.assessment_id).where(AssessmentAdmin.userid == userid)
    )
    return sorted(set(rows))


__all__ = [
    "DEFAULT_ASSESSMENT",
    "AssessmentError",
    "add_admin",
    "add_assessment",
    "admin_of",
    "get_assessment",
    "list_assessments",
    "names_of",
]
