"""生成通报 in chat (seed 000 第十条, 第十二条): the year's result as the official notice (Word).

Refused, naming the units, while any grade is unconfirmed; otherwise the admin gets the answer at
once and the .docx right after it (like the tally's workbook).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from handlers import method_texts as mt
from handlers.context import Ctx
from handlers.intents import Intent
from handlers.method_intents import MethodIntent
from handlers.router import ADMIN, Router
from tally.notice import NoticeError, notice_of, write_notice
from tally.service import load_tally

router = Router()


def default_year(ctx: Ctx) -> int:
    """The 通报 follows the assessment (第十一条: finished by mid-January): until March it is
    last year's."""
    return ctx.year - 1 if ctx.today.month <= 3 else ctx.year


@router.intent(MethodIntent.NOTICE, roles=ADMIN)
async def notice(ctx: Ctx, intent: Intent) -> str:
    year = int(intent.args.get("year") or default_year(ctx))
    tally = await load_tally(ctx.db, year, as_of=ctx.today)
    try:
        content = notice_of(tally, issued_on=ctx.today)
    except NoticeError as exc:
        return mt.NOTICE_REFUSED.format(why=exc)
    out = Path(ctx.deps.work_dir) / f"{year}年度考核结果通报.docx"
    userid = ctx.sender.userid

    async def send() -> None:
        path = await asyncio.to_thread(write_notice, content, out)
        await ctx.send_file(userid, path)

    ctx.later(send())
    return mt.NOTICE_DONE.format(title=content.title, counts=content.grade_counts())
