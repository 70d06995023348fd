"""Reminders to the raters of an open 测评 round who have not rated every department yet.

The round's due date is a deadline like any other: the same stages on working days (3 and 1
working days before, the day itself, the first working day after) and the same claim under the
reminder table's unique key, one per rater, round and stage — so nobody is reminded twice, across
restarts and instances. A rater who has finished gets nothing.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

from reminders import texts
from reminders.calendar import WorkCalendar
from reminders.deadlines import Deadline
from reminders.stages import StagePolicy, current_stage, stage_label
from scoring.periods import day_label
from storage.db import Database
from storage.rating import RoundView, list_rounds
from storage.units import list_units

if TYPE_CHECKING:
    from reminders.tick import Planned

RULE_MAX = 80  # reminder_send.rule


def task_id(text: str) -> str:
    """A WeCom card task id: only [0-9A-Za-z_-@], at most 128 bytes."""
    return re.sub(r"[^0-9A-Za-z_\-@]", "_", text)[:128]


def claim_rule(view: RoundView, userid: str) -> str:
    return f"rating:{view.ref}:{userid}"[:RULE_MAX]


async def rating_reminders(
    db: Database, today: date, calendar: WorkCalendar, policy: StagePolicy
) -> list[Planned]:
    """The reminders due `today` to raters with departments still to rate."""
    from reminders.tick import Planned  # the tick imports this module

    async with db.session() as session:
        rounds = [v for v in await list_rounds(session) if v.is_open]
        if not rounds:
            return []
        names = {u.id: u.name for u in await list_units(session)}
    out = []
    for view in rounds:
        due = view.round.due
        deadline = Deadline(
            key=view.ref,
            period=due.isoformat(),
            rule_id="",
            target_id="",
            kind="rating",
            label=f"测评{view.ref}",
            due=due,
            remind_on=calendar.workday_on_or_before(due),
            need=len(view.round.departments),
            have=0,
        )
        stage = current_stage(deadline, today, calendar, policy)
        if stage is None:
            continue
        name, _ = stage
        for userid in view.rater_ids:
            missing = view.missing_of(userid)
            unit_id = view.rater_unit(userid)
            if not missing or unit_id is None:
                continue
            left = "、".join(names.get(i, str(i)) for i in missing)
            card = {
                "title": texts.RATING_TITLE.format(count=len(missing)),
                "description": texts.RATING_BODY.format(
                    year=view.round.year,
                    ref=view.ref,
                    due=day_label(due),
                    count=len(missing),
                    names=left,
                ),
                "task_id": task_id(f"rating-{view.id}-{name}-{userid}"),
                "buttons": [],
            }
            out.append(
                Planned(
                    kind="reminder",
                    recipients=(userid,),
                    payload={"type": "card", "to": [userid], "card": card},
                    reason=texts.RATING_REASON.format(
                        ref=view.ref, count=len(missing), stage=stage_label(name)
                    ),
                    unit_id=unit_id,
                    unit_name=names.get(unit_id, ""),
                    rule=claim_rule(view, userid),
                    period=deadline.period,
                    stage=name,
                )
            )
    return out
