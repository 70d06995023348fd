"""`kaohe chat`: the same handlers in a terminal, on the demo city."""

from __future__ import annotations

import io
import time
from datetime import timedelta
from pathlib import Path

from bot.commands.chat import run_chat


async def test_local_chat_on_the_demo_city(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # exported files go to ./out
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    out = io.StringIO()
    stdin = io.StringIO("我的得分\n进度\n政务信息：本地测试信息\\\n正文\n得分 黄岩区\n\n")
    assert await run_chat("zhangsan", url, demo=True, stdin=stdin, stdout=out) == 0
    text = out.getvalue()
    assert "椒江区" in text and "年度得分" in text and "基本分" in text
    assert "11月进度" in text or "月进度" in text
    assert "篇政务信息" in text
    assert "仅限市创模办管理员" in text  # a liaison cannot look at another unit

    out = io.StringIO()
    stdin = io.StringIO("汇总\n")
    await run_chat("admin", url, demo=True, stdin=stdin, stdout=out)
    summary = out.getvalue()
    assert "年度考核汇总" in summary and "5个单位" in summary
    assert summary.count("(file)") == 2 and ".xlsx" in summary and ".png" in summary


class _Pauses(io.StringIO):
    """A terminal whose user types the given lines, then waits (up to 20 s) until `until` has
    been printed before ending the input, like someone who walked away from the prompt."""

    def __init__(self, text: str, out: io.StringIO, until: str) -> None:
        super().__init__(text)
        self.out, self.until = out, until

    def readline(self, *args: object) -> str:  # type: ignore[override]
        line = super().readline()
        if line:
            return line
        deadline = time.monotonic() + 20
        while self.until not in self.out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.05)
        return ""


async def test_an_expired_draft_is_announced_while_the_user_is_away(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    out = io.StringIO()
    stdin = _Pauses("报送政务信息\n河道清理\n", out, until="已自动取消")
    await run_chat(
        "zhangsan",
        url,
        demo=True,
        stdin=stdin,
        stdout=out,
        sweep_seconds=0.1,
        conversation_ttl=timedelta(seconds=1),
    )
    text = out.getvalue()
    # announced by the sweep without a further message from the user
    assert "已记下标题：河道清理" in text and "已自动取消，没有登记" in text
    assert text.index("已自动取消") > text.index("已记下标题")
