"""People who change: 「更换联络员 椒江区 旧账号 新账号 [姓名]」 and 「停用联络员 账号 原因」.

The old liaison is deactivated, never deleted: their submissions keep naming them, and 记录 still
shows who sent what. The new one is registered (or re-activated) for the unit. Each change is an
audit row with the admin, the time and the reason.
"""

from __future__ import annotations

from handlers.context import Ctx, office_name
from handlers.intents import Intent
from handlers.office_intents import OfficeIntent
from handlers.router import ADMIN, Router
from storage.audit import audit
from storage.models import Role
from storage.units import find_unit, get_member, upsert_member

router = Router()

REPLACED = "已更换{unit}的联络员：{old}（{old_name}）停用，{new}（{new_name}）启用。{old}此前的报送记录保留不变。"
WELCOME = "您好，{name}！{office}已将您登记为{unit}的创模考核联络员。发送「帮助」可查看报送和查询方法，发送「我的任务」查看本单位责任书。"
NOT_MEMBER = (
    "{userid}不是{unit}的人员，请核对账号（可发送「责任书 {unit}」或运行 kaohe units list 查看）。"
)
NEW_ELSEWHERE = (
    "{userid}已登记在{unit}，不能同时担任两个单位的联络员。如需调动，请先在其原单位停用。"
)
SAME = "旧账号和新账号相同，未作改动。"
DEACTIVATED = "已停用{userid}（{name}，{unit}）：不再接收提醒，也不能报送；此前的报送记录保留不变。"
ALREADY_INACTIVE = "{userid}已经是停用状态，未重复记录。"
UNKNOWN_USER = "没有找到账号{userid}。"
NEED_REASON = "请写明原因，例如「停用联络员 {userid} 工作调动」。"


@router.intent(OfficeIntent.REPLACE_LIAISON, roles=ADMIN)
async def replace_liaison(ctx: Ctx, intent: Intent) -> str:
    name, old_id, new_id = intent.args["unit"], intent.args["old"], intent.args["new"]
    if old_id == new_id:
        return SAME
    async with ctx.db.session() as session:
        unit = await find_unit(session, name)
        if unit is None:
            return f"没有找到单位「{name}」，请核对名称。"
        old = await get_member(session, old_id)
        if old is None or old.unit_id != unit.id:
            return NOT_MEMBER.format(userid=old_id, unit=unit.name)
        new = await get_member(session, new_id)
        if new is not None and new.unit_id not in (None, unit.id) and new.active:
            other = new.unit.name if new.unit else ""
            return NEW_ELSEWHERE.format(userid=new_id, unit=other)
        new_name = intent.args.get("name") or (new.name if new is not None else new_id)
        await upsert_member(
            session, old.userid, old.name, old.role, old.unit_id, actor=ctx.sender.userid,
            active=False,
        )  # fmt: skip
        await upsert_member(
            session, new_id, new_name, Role.LIAISON.value, unit.id, actor=ctx.sender.userid
        )
        audit(
            session,
            ctx.sender.userid,
            "member.replace",
            {"unit": unit.name, "old": old_id, "new": new_id},
            at=ctx.now,
        )
        old_name = old.name
        await session.commit()
    await ctx.tell(new_id, WELCOME.format(name=new_name, unit=unit.name, office=office_name()))
    return REPLACED.format(
        unit=unit.name, old=old_id, old_name=old_name, new=new_id, new_name=new_name
    )


@router.intent(OfficeIntent.DEACTIVATE, roles=ADMIN)
async def deactivate(ctx: Ctx, intent: Intent) -> str:
    userid = intent.args["userid"]
    reason = intent.args.get("reason", "")
    if not reason:
        return NEED_REASON.format(userid=userid)
    async with ctx.db.session() as session:
        member = await get_member(session, userid)
        if member is None:
            return UNKNOWN_USER.format(userid=userid)
        if not member.active:
            return ALREADY_INACTIVE.format(userid=userid)
        unit = member.unit.name if member.unit else ""
        await upsert_member(
            session, member.userid, member.name, member.role, member.unit_id,
            actor=ctx.sender.userid, active=False,
        )  # fmt: skip
        audit(
            session,
            ctx.sender.userid,
            "member.deactivate",
            {"userid": userid, "reason": reason},
            at=ctx.now,
        )
        name = member.name
        await session.commit()
    return DEACTIVATED.format(userid=userid, name=name, unit=unit)
