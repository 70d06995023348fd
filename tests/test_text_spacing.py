"""Composed Chinese texts put no space between Chinese and numbers ("截止12月15日", "到期5项").

What users write is stored as sent and never checked here; command syntax shown to users (inside
「」, or the "· " lines of the help that list commands) keeps the spaces the commands need.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.chat_env import bench

ROOT = Path(__file__).parent.parent
CJK = "\u3400-\u9fff"
SPACED = re.compile(rf"[{CJK}] +[0-9]|[0-9] +[{CJK}]")
# In a template: a space between Chinese and a placeholder that is not a repr (!r, quoted).
SPACED_FIELD = re.compile(rf"[{CJK}] +\{{(?![^}}]*!r)|\}} +[{CJK}]")
TEXT_MODULES = [
    "handlers/texts.py",
    "handlers/review_texts.py",
    "handlers/method_texts.py",
    "handlers/corrections_text.py",
    "handlers/targets_text.py",
    "reminders/texts.py",
]


def _prose(text: str) -> str:
    """The text without command syntax: 「…」 quotes and the help's "· command" lines."""
    text = re.sub(r"「[^」]*」", "「」", text)
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("· "))


def _constants(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
    ]


def test_text_modules_write_numbers_and_fields_against_chinese() -> None:
    found = []
    for name in TEXT_MODULES:
        for line, value in _constants(ROOT / name):
            prose = _prose(value)
            if SPACED.search(prose) or SPACED_FIELD.search(prose):
                found.append(f"{name}:{line}: {value[:60]!r}")
    assert found == []


def _spaced(replies: list[str]) -> list[str]:
    return [r for r in replies if SPACED.search(_prose(r))]


async def test_a_scripted_conversation_has_no_space_between_chinese_and_numbers(
    database, tmp_path: Path
) -> None:
    async with bench(database, tmp_path) as b:
        replies: list[str] = []

        async def say(user: str, text: str) -> None:
            replies.append(await b.say(user, text))

        b.clock.set(2026, 3, 2)
        await say("admin1", "布置任务 全部 3月20日 报送大气污染防治进展")
        for day in (3, 4, 5):
            b.clock.set(2026, 3, day)
            await say("zhangsan", f"政务信息：3月第{day}条\n3月第{day}条的正文")
        await say("zhangsan", "政务信息：3月第5条\n3月第5条的正文")  # the same again
        await say("zhangsan", "本月还差几篇")
        await say("zhangsan", "进度")
        await say("zhangsan", "我的得分")
        await say("zhangsan", "扣分原因")
        await say("zhangsan", "得分明细")
        await say("zhangsan", "工作信息")
        await say("zhangsan", "记录")
        await say("zhangsan", "我的任务")
        await say("zhangsan", "截止是哪天")
        await say("zhangsan", "撤回")
        await say("zhangsan", "帮助")
        b.clock.set(2026, 4, 2)
        await say("admin1", "待审核")
        await say("admin1", "得分 椒江区")
        await say("admin1", "未报 3月")
        await say("admin1", "汇总")
        sent = [t for user in ("zhangsan", "admin1") for t in b.wecom.sent_texts(user)]
        assert len(replies) == 20 and all(replies)
        assert _spaced(replies + sent) == []
