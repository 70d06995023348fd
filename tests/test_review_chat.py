"""The office's review in chat: the queue (oldest first, paged, per unit / indicator), 查看 with the
body, history and attachments sent as files, batch approval (S1 S2, S1-S9, 本页), 退回 with a
reason and the 补正 chain, a decision sent twice recorded and announced once, an approved 佐证
completing its task (the 不合格 lifts), and the liaisons told once with the score change."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from sqlmodel import col, func, select

from handlers.review import expand_refs, parse_review
from storage import ledger
from storage.models import AdminEntry, Outbox, Submission, SubmissionEvent
from storage.units import get_unit_by_name
from tests.chat_env import bench


async def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    async with db.session() as s:
        return (await s.exec(select(func.count()).select_from(model))).one()


async def notices(db, user: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Texts queued in the outbox for `user` (what the dispatcher will send)."""
    async with db.session() as s:
        rows = (await s.exec(select(Outbox).order_by(col(Outbox.id)))).all()
    return [
        r.payload["text"]
        for r in rows
        if r.payload.get("type") == "text" and user in r.payload.get("to", [])
    ]


def test_refs_expand_and_phrases_parse() -> None:
    assert expand_refs("S1 S2, S5-S7") == [1, 2, 5, 6, 7]
    assert expand_refs("s3 至 s5 S4") == [3, 4, 5]
    assert parse_review("通过 本页").args["refs"] == "本页"
    assert parse_review("通过 S1-S9").args["refs"] == "S1-S9"
    assert parse_review("退回 S5 内容与创模无关").args == {"ref": "S5", "reason": "内容与创模无关"}
    assert parse_review("待审核 椒江区 第2页").args == {"scope": "椒江区", "page": "2"}
    assert parse_review("查看 S198").args == {"ref": "S198"}
    assert parse_review("补正 S5 已补充照片").args == {"ref": "S5", "body": "已补充照片"}
    assert parse_review("今天天气不错") is None


async def test_queue_show_batch_reject_and_correct(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 3)
        refs = []
        for n in range(12):
            reply = await b.say("zhangsan", f"政务信息：椒江第{n}篇\n正文{n}")
            refs.append(reply.split("编号")[1].split("，")[0])
            b.clock.now = b.clock.now.replace(minute=n + 1)
        reply = await b.say("wangwu", "政务信息：路桥第一篇\n路桥正文")
        luqiao = reply.split("编号")[1].split("，")[0]

        # the queue: oldest first, paged by 10, per unit and per indicator
        page1 = await b.say("admin1", "待审核")
        assert "待审核13项" in page1 and "第1/2页" in page1
        assert page1.index(refs[0]) < page1.index(refs[9]) and refs[10] not in page1
        assert "下一页" in page1
        # the day as every reply writes one (11月5日), not 11/5
        assert re.search(r"\d+月\d+日「", page1) and not re.search(r"\d+/\d+「", page1)
        page2 = await b.say("admin1", "下一页")
        assert refs[10] in page2 and luqiao in page2 and "第2/2页" in page2
        only = await b.say("admin1", "待审核 路桥区")
        assert "待审核1项（路桥区）" in only and luqiao in only and "椒江" not in only
        assert f"「通过 {luqiao}」" in only
        assert "待审核13项（指标C3b）" in await b.say("admin1", "待审核 C3b")
        assert "没有找到单位或指标" in await b.say("admin1", "待审核 火星区")

        # 查看: the whole item
        shown = await b.say("admin1", f"查看 {refs[0]}")
        assert "椒江第0篇" in shown and "正文0" in shown and "报送人：张三（zhangsan）" in shown
        assert "按时" in shown and "待审核" in shown and f"通过 {refs[0]}" in shown

        # 通过 本页 approves exactly the page listed last
        assert refs[11] in await b.say("admin1", "待审核 第2页")
        reply = await b.say("admin1", "通过 本页")
        assert "已通过3项" in reply and refs[10] in reply and luqiao in reply
        # a range
        first, ninth = refs[0], refs[8]
        reply = await b.say("admin1", f"通过 {first}-{ninth}")
        assert "已通过9项" in reply
        events = await _count(database, SubmissionEvent)
        assert events == 12
        # sent twice: recorded once, announced once
        told = len(await notices(database, "zhangsan"))
        reply = await b.say("admin1", f"通过 {first}-{ninth}")
        assert "未重复记录" in reply and "已通过9项" not in reply
        assert await _count(database, SubmissionEvent) == events
        assert len(await notices(database, "zhangsan")) == told

        # the liaison is told once per decision, with the score change
        texts = await notices(database, "zhangsan")
        assert len(texts) == 2 and all("【审核结果】" in t for t in texts)
        assert "当前基本分" in texts[-1] and refs[0] in texts[-1]
        assert len(await notices(database, "wangwu")) == 1

        # 退回 needs a reason; with one, the liaison is told how to 补正
        last = refs[9]
        assert "请写明原因" in await b.say("admin1", f"退回 {last}")
        reply = await b.say("admin1", f"退回 {last} 标题与内容不符")
        assert f"已退回{last}" in reply and "补正" in reply
        assert "未重复记录" in await b.say("admin1", f"退回 {last} 标题与内容不符")
        told = await notices(database, "zhangsan")
        assert sum("被退回" in t for t in told) == 1 and "标题与内容不符" in told[-1]

        # 补正 keeps the link; only a returned item of one's own unit can be corrected
        assert "未被退回" in await b.say("zhangsan", f"补正 {refs[0]} 新内容")
        assert "没有找到本单位" in await b.say("wangwu", f"补正 {last} 新内容")
        reply = await b.say("zhangsan", f"补正 {last} 已改正标题，补充了数据")
        assert f"已登记对{last}的补正" in reply
        new_ref = reply.split("新编号")[1].split("）")[0]
        async with database.session() as s:
            new = await s.get(Submission, int(new_ref[1:]))
        assert new.corrects_id == int(last[1:]) and new.text == "已改正标题，补充了数据"
        shown = await b.say("admin1", f"查看 {new_ref}")
        assert f"这是对{last}的补正" in shown
        shown = await b.say("admin1", f"查看 {last}")
        assert f"已补正：{new_ref}" in shown and "已退回" in shown and "标题与内容不符" in shown

        # only admins review
        assert "仅限市创模办管理员" in await b.say("zhangsan", "待审核")
        assert "仅限市创模办管理员" in await b.say("zhangsan", f"通过 {new_ref}")


async def test_show_sends_attachments_as_files(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 3)
        await b.say("zhangsan", "报送政务信息")
        await b.say("zhangsan", "河道整治简报\n本周完成三处排口整治。")
        media = b.wecom.add_media(b"%PDF-1.4 report body", "整治方案.pdf", "application/pdf")
        answer = await b.peer.send_media(b.client, user="zhangsan", msg_type="file", media_id=media)
        assert answer.status == 200
        reply = await b.say("zhangsan", "确认")
        ref = reply.split("编号")[1].split("，")[0]
        uploads = len(b.wecom.uploads)
        shown = await b.say("admin1", f"查看 {ref}")
        assert "附件1个：整治方案.pdf" in shown and "本周完成三处排口整治。" in shown
        assert len(b.wecom.uploads) == uploads + 1
        sent = [m for m in b.wecom.sent_to("admin1") if m.get("msgtype") == "file"]
        assert len(sent) == 1
        upload = next(reversed(b.wecom.uploads.values()))
        assert upload.content == b"%PDF-1.4 report body"


async def test_approved_evidence_completes_its_task(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 3)
        async with database.session() as s:
            unit = await get_unit_by_name(s, "椒江区")
            await ledger.add_task(
                s,
                unit_id=unit.id,
                kind="annual_target",
                due=date(2026, 10, 31),
                actor="admin1",
                title="建成区黑臭水体消除",
                target="W1",
                code="A3",
            )
            await s.commit()
        assert "不合格" in await b.say("admin1", "得分 椒江区")
        reply = await b.say("zhangsan", "佐证 A3 已全部消除，验收报告见附件")
        ref = reply.split("编号")[1].split("）")[0]
        reply = await b.say("admin1", f"通过 {ref}")
        assert "已同时确认椒江区任务A3「建成区黑臭水体消除」完成" in reply
        async with database.session() as s:
            tasks = await ledger.list_tasks(s, unit.id, 2026)
            entries = (await s.exec(select(AdminEntry))).all()
        assert tasks[0].completed_at is not None
        assert len(entries) == 1 and ref in entries[0].reason and entries[0].actor == "admin1"
        assert "不合格" not in await b.say("admin1", "得分 椒江区")
        told = await notices(database, "zhangsan")
        assert len(told) == 1 and "任务A3" in told[0] and "已确认完成" in told[0]
        assert "当前基本分" in told[0]  # W1 is scored at the year end: 不变 now
        # the same approval again: nothing new, the task is not completed twice
        assert "未重复记录" in await b.say("admin1", f"通过 {ref}")
        async with database.session() as s:
            assert len((await s.exec(select(AdminEntry))).all()) == 1


async def test_evidence_of_a_target_asks_and_a_short_yes_completes(
    database, tmp_path: Path
) -> None:
    """A 佐证 that names the indicator (W1), not the task: the approval asks 「同时确认…完成？」,
    「好」 completes the task (a confirmation row with who and why), the 不合格 lifts, and the
    liaison is told once; 「不用」 leaves it open."""
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 3)
        async with database.session() as s:
            unit = await get_unit_by_name(s, "椒江区")
            for code, title in (("A3", "建成区黑臭水体消除"), ("A4", "城市污水处理率达标")):
                await ledger.add_task(
                    s,
                    unit_id=unit.id,
                    kind="annual_target",
                    due=date(2026, 10, 31),
                    actor="admin1",
                    title=title,
                    target="W1",
                    code=code,
                )
            await s.commit()
        assert "不合格" in await b.say("admin1", "得分 椒江区")
        reply = await b.say("zhangsan", "佐证 W1a 黑臭水体已全部消除")
        ref = reply.split("编号")[-1].split("）")[0]
        assert ref.startswith("S"), reply
        reply = await b.say("admin1", f"通过 {ref}")
        assert "已通过1项" in reply
        assert (
            "同时确认椒江区A3「建成区黑臭水体消除」、椒江区A4「城市污水处理率达标」完成？" in reply
        )
        assert "回复「好」" in reply
        async with database.session() as s:
            assert (await s.exec(select(AdminEntry))).all() == []
        reply = await b.say("admin1", "好")
        assert "已确认椒江区A3「建成区黑臭水体消除」、椒江区A4「城市污水处理率达标」完成" in reply
        assert ref in reply
        async with database.session() as s:
            entries = (await s.exec(select(AdminEntry))).all()
            tasks = await ledger.list_tasks(s, unit.id, 2026)
        assert len(entries) == 2 and {e.actor for e in entries} == {"admin1"}
        assert all(ref in e.reason for e in entries)
        assert all(t.completed_at is not None for t in tasks)
        assert "不合格" not in await b.say("admin1", "得分 椒江区")
        told = await notices(database, "zhangsan")
        assert len(told) == 2 and "【审核结果】" in told[0]
        assert "任务A3「建成区黑臭水体消除」：已确认完成" in told[1] and "当前基本分" in told[1]
        # nothing waits now: 好 is only a 好
        assert "已确认" not in await b.say("admin1", "好")
        assert len(await notices(database, "zhangsan")) == 2

        # 不用: the 佐证 stays approved, the task open
        async with database.session() as s:
            await ledger.add_task(
                s,
                unit_id=unit.id,
                kind="key_project",
                due=date(2026, 12, 31),
                actor="admin1",
                title="污水管网改造",
                target="W2",
                code="B1",
            )
            await s.commit()
        reply = await b.say("zhangsan", "佐证 W2a 管网已改造")
        ref = reply.split("编号")[-1].split("）")[0]
        assert ref.startswith("S"), reply
        assert "同时确认椒江区B1「污水管网改造」完成？" in await b.say("admin1", f"通过 {ref}")
        assert "只通过" not in await b.say("admin1", "不用")
        async with database.session() as s:
            assert len((await s.exec(select(AdminEntry))).all()) == 2


async def test_office_actions_tell_the_liaison_once_with_the_score_change(
    database, tmp_path: Path
) -> None:
    """打分 / 扣分 / 加分 / 确认完成, task completion and the grade each reach the unit's liaisons
    once, through the outbox, with the base score before and after; a repeated command that
    records nothing new tells nobody."""
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 3)
        reply = await b.say("admin1", "打分 椒江区 C2 6.5 工作网络健全")
        assert "已记录" in reply or "打分" in reply
        told = await notices(database, "zhangsan")
        assert len(told) == 1
        assert (
            "【考核记录】" in told[0] and "· 工作网络建设（C2a） 打分6.5（工作网络健全）" in told[0]
        )
        before, after = told[0].split("当前基本分")[1].split(" → ")
        assert float(after) - float(before) == 6.5
        assert await notices(database, "lisi") == []  # the leader is not the liaison
        assert await notices(database, "wangwu") == []  # another unit hears nothing

        await b.say("admin1", "确认完成 椒江区 C1a 领导小组已成立")
        told = await notices(database, "zhangsan")
        assert len(told) == 2 and "· 领导机制（C1a） 确认完成（领导小组已成立）" in told[1]
        assert "当前基本分" in told[1]

        await b.say("admin1", "布置任务 椒江区 11月20日 报送大气污染防治进展")
        async with database.session() as s:
            unit = await get_unit_by_name(s, "椒江区")
            code = (await ledger.list_tasks(s, unit.id, 2026))[0].ref
        n = len(await notices(database, "zhangsan"))
        await b.say("admin1", f"任务完成 椒江区 {code} 已按时报送")
        told = await notices(database, "zhangsan")
        assert len(told) == n + 1 and f"任务{code}「报送大气污染防治进展」：已确认完成" in told[-1]
        assert "未重复记录" in await b.say("admin1", f"任务完成 椒江区 {code} 已按时报送")
        assert len(await notices(database, "zhangsan")) == n + 1

        b.clock.set(2027, 1, 10)
        reply = await b.say("admin1", "定级 椒江区 不合格 年度任务未完成")
        told = await notices(database, "zhangsan")
        assert len(told) == n + 2 and "2026年度等次：不合格（年度任务未完成）" in told[-1]
        await b.say("admin1", "定级 椒江区 不合格 年度任务未完成")
        assert len(await notices(database, "zhangsan")) == n + 2


async def test_the_queue_offers_a_range_only_when_it_is_exactly_the_page(
    database, tmp_path: Path
) -> None:
    """「通过 S3-S12」 approves every pending item numbered 3 to 12, shown or not: the queue offers
    it only when the page is exactly that run of numbers, else only 「通过 本页」."""
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 3)
        refs = []
        for n, user in enumerate(["zhangsan", "wangwu", "zhangsan"]):
            reply = await b.say(user, f"政务信息：第{n}篇\n正文{n}")
            refs.append(reply.split("编号")[1].split("，")[0])
            b.clock.now = b.clock.now.replace(minute=n + 1)
        everything = await b.say("admin1", "待审核")
        assert f"「通过 本页」「通过 {refs[0]}-{refs[2]}」" in everything
        jiaojiang = await b.say("admin1", "待审核 椒江区")  # S1 and S3: S2 is 路桥区's
        assert refs[0] in jiaojiang and refs[2] in jiaojiang and refs[1] not in jiaojiang
        assert "「通过 本页」" in jiaojiang and f"-{refs[2]}" not in jiaojiang
        reply = await b.say("admin1", "通过 本页")
        assert "已通过2项" in reply and refs[1] not in reply


async def test_withdrawing_an_approved_item_tells_its_reviewer(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 3)
        reply = await b.say("zhangsan", "政务信息：河道保洁进展\n本周完成清淤3公里。")
        ref = reply.split("编号")[1].split("，")[0]
        assert "已通过" in await b.say("admin1", f"通过 {ref}")
        before = len(await notices(database, "admin1"))
        reply = await b.say("zhangsan", f"撤回 {ref}")
        assert f"已撤回编号{ref}" in reply and "已告知审核人admin1" in reply
        told = await notices(database, "admin1")
        assert len(told) == before + 1
        assert told[-1].startswith(f"【撤回】椒江区的张三撤回了您已通过的{ref}「河道保洁进展」")
        # an item nobody approved: nobody to tell
        reply = await b.say("zhangsan", "政务信息：扬尘整治\n本周检查工地5处。")
        other = reply.split("编号")[1].split("，")[0]
        assert "告知审核人" not in await b.say("zhangsan", f"撤回 {other}")


async def test_a_correction_may_give_an_info_item_a_new_title(database, tmp_path: Path) -> None:
    """A 政务信息 item returned for its title is corrected with a new first line: 「补正 S7 新标题」
    then the text below it; a one-line 补正 keeps the title."""
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 3)
        reply = await b.say("zhangsan", "政务信息：河道清理专项行动\n本周清淤3公里。")
        ref = reply.split("编号")[1].split("，")[0]
        assert "已退回" in await b.say("admin1", f"退回 {ref} 标题与S1重复")
        reply = await b.say("zhangsan", f"补正 {ref} 椒江区河道巡查问题全部整改\n本周整改排口2处。")
        assert f"已登记对{ref}的补正" in reply and "标题改为「椒江区河道巡查问题全部整改」" in reply
        async with database.session() as s:
            newest = (await s.exec(select(Submission).order_by(col(Submission.id).desc()))).first()
        assert newest is not None
        assert (newest.title, newest.text) == ("椒江区河道巡查问题全部整改", "本周整改排口2处。")


async def test_a_mistyped_queue_command_still_shows_the_queue(database, tmp_path: Path) -> None:
    """「待审合」 (核 typed as its homophone) is the admin's 待审核: the same page. A liaison who
    types it gets what 待审核 gives a liaison, not the office's queue."""
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 3)
        reply = await b.say("zhangsan", "政务信息：第一篇\n正文")
        ref = reply.split("编号")[1].split("，")[0]
        typed = await b.say("admin1", "待审合")
        assert "待审核1项" in typed and ref in typed
        assert typed == await b.say("admin1", "待审核")
        assert await b.say("zhangsan", "待审合") == await b.say("zhangsan", "待审核")
        assert ref not in await b.say("zhangsan", "待审合")


async def test_mistyped_commands_and_short_unit_names(database, tmp_path: Path) -> None:
    """A command's first word typed as a homophone: shown at once when it only shows something
    (「得份 路桥」), asked back when it acts (「同过 S1」 approves nothing). A part of a unit's
    name that no other unit's name contains names the unit. A reason may follow the number
    without a blank. 「布置任务」 without its title says how to write it."""
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 3)
        reply = await b.say("wangwu", "政务信息：路桥第一篇\n路桥正文")
        ref = reply.split("编号")[1].split("，")[0]
        assert await b.say("admin1", "得份 路桥") == await b.say("admin1", "得分 路桥区")
        assert ref in await b.say("admin1", "待审和 路桥")
        asked = await b.say("admin1", f"同过 {ref}")
        assert "您是要发送「通过」吗？如是，请把开头的「同过」改为「通过」后重新发送" in asked
        assert ref in await b.say("admin1", "待审核")  # still waiting
        assert "没有找到单位「区」" in await b.say("admin1", "得分 区")  # two units have 区
        rejected = await b.say("admin1", f"退回{ref}标题前多了分号，请重新报送")
        assert "退回" in rejected and ref not in await b.say("admin1", "待审核")
        howto = await b.say("admin1", "布置任务 全部 12月20日")
        assert "请写明单位、截止日期和任务标题" in howto


async def test_a_returned_item_is_corrected_once(database, tmp_path: Path) -> None:
    """One 补正 at a time: a second 补正 of the same returned item, waiting, approved or returned
    itself, is refused and stores nothing, so a chain counts once in 进度; a withdrawn 补正 frees
    the item again; a withdrawn item is sent again as a new one, not corrected."""
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 3)

        def ref_of(reply: str) -> str:
            return re.findall(r"S\d+", reply.split("编号")[1])[0]

        first = ref_of(await b.say("zhangsan", "政务信息：椒江区河道清理\n本周清理河道12公里。"))
        await b.say("admin1", f"退回 {first} 缺少数据来源")
        fixed = await b.say("zhangsan", f"补正 {first} 已补充数据来源")
        second = ref_of(fixed.replace("新编号", "编号"))
        stored = await _count(database, Submission)

        again = await b.say("zhangsan", f"补正 {first} 再补一次")
        assert f"{first}已由{second}补正" in again and "等待审核" in again
        assert f"「撤回 {second}」" in again and "未重复登记" in again
        assert f"{first}已由{second}补正" in await b.say("zhangsan", f"补正　{first}　全角空格")
        assert await _count(database, Submission) == stored
        assert "已报1/4篇" in await b.say("zhangsan", "进度")

        # approved: nothing more to correct
        await b.say("admin1", f"通过 {second}")
        approved = await b.say("zhangsan", f"补正 {first} 再次补正")
        assert f"{first}已由{second}补正" in approved and "已审核通过" in approved
        assert await _count(database, Submission) == stored

        # a 补正 returned in turn: the next one corrects the 补正, not the first item
        third = ref_of(await b.say("zhangsan", "政务信息：椒江区扬尘整治\n检查工地20处。"))
        await b.say("admin1", f"退回 {third} 缺少照片")
        fourth = ref_of(
            (await b.say("zhangsan", f"补正 {third} 补了照片")).replace("新编号", "编号")
        )
        await b.say("admin1", f"退回 {fourth} 照片不清晰")
        stored = await _count(database, Submission)
        told = await b.say("zhangsan", f"补正 {third} 换了照片")
        assert f"{third}已由{fourth}补正" in told and f"「补正 {fourth} 修改后的内容」" in told
        assert await _count(database, Submission) == stored
        assert "已登记对" in await b.say("zhangsan", f"补正 {fourth} 换了清晰照片")

        # a withdrawn 补正 frees the returned item for a new one
        fifth = ref_of(await b.say("zhangsan", "政务信息：椒江区秸秆禁烧\n巡查12次。"))
        await b.say("admin1", f"退回 {fifth} 标题不准确")
        sixth = ref_of(
            (await b.say("zhangsan", f"补正 {fifth} 改了标题")).replace("新编号", "编号")
        )
        assert "已撤回" in await b.say("zhangsan", f"撤回 {sixth}")
        assert "已登记对" in await b.say("zhangsan", f"补正 {fifth} 重新改了标题")

        # a withdrawn item: send it again as a new one
        gone = ref_of(await b.say("zhangsan", "政务信息：椒江区噪声治理\n整治商铺8家。"))
        assert "已撤回" in await b.say("zhangsan", f"撤回 {gone}")
        stored = await _count(database, Submission)
        reply = await b.say("zhangsan", f"补正 {gone} 补充")
        assert (
            f"{gone}已撤回" in reply and "「政务信息：标题」" in reply and "无需补正" not in reply
        )
        assert await _count(database, Submission) == stored
