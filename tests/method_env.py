"""The chat bench of tests/chat_env.py, plus what the method's later steps need: city departments
rated by the districts (chuangmo-taizhou has the `rating` rule C2b.1) and each district's leader."""

from __future__ import annotations

from typing import Any

from bot.app import PIPELINE_KEY
from storage.units import upsert_member, upsert_unit
from tests.chat_env import Bench

DEPARTMENTS = [("市生态环境局", "dept1", "孙一"), ("市住建局", "dept2", "周二")]
LEADERS = [("路桥区", "zhaoqi", "赵七")]  # 椒江区's leader is lisi (tests/chat_env.py)


async def add_city(b: Bench) -> dict[str, int]:
    ids: dict[str, int] = {}
    async with b.db.session() as s:
        for name, userid, person in DEPARTMENTS:
            unit, _ = await upsert_unit(s, name, "department", "chuangmo-taizhou", actor="test")
            assert unit.id is not None
            ids[name] = unit.id
            await upsert_member(s, userid, person, "liaison", unit.id, actor="test")
        for unit_name, userid, person in LEADERS:
            from storage.units import get_unit_by_name

            unit = await get_unit_by_name(s, unit_name)
            assert unit is not None
            await upsert_member(s, userid, person, "leader", unit.id, actor="test")
        await s.commit()
    return ids


async def flush_outbox(b: Bench) -> None:
    """Send what the turns queued (cards to raters, notices to units) to the fake WeCom."""
    dispatcher = b.app[PIPELINE_KEY].dispatcher  # type: ignore[index]
    await dispatcher.run_once()


def cards_to(b: Bench, user: str) -> list[dict[str, Any]]:
    return [
        m["template_card"] for m in b.wecom.sent_to(user) if m.get("msgtype") == "template_card"
    ]


async def click(b: Bench, user: str, task_id: str, key: str) -> str:
    """A click on a card button; the reply text (passive, or sent later)."""
    before = len(b.wecom.sent_texts(user))
    answer = await b.peer.click(b.client, user=user, task_id=task_id, key=key)
    assert answer.status == 200
    if answer.empty:
        await b.app[PIPELINE_KEY].drain()  # type: ignore[index]
        return "\n".join(b.wecom.sent_texts(user)[before:])
    return answer.content or ""
