"""Phrase matching: forgiving about punctuation and synonyms, strict about arguments."""

from datetime import date

import pytest

from handlers.intents import normalize, parse, parse_date, parse_month, parse_quarter, split_title


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("我的得分", "my_score"),
        ("得分", "my_score"),
        ("查分", "my_score"),
        ("我的得分 2025", "my_score"),
        ("我的得分：2025年度", "my_score"),
        ("帮助", "help"),
        ("？", "help"),
        ("进度", "progress"),
        ("本月进度", "progress"),
        ("记录", "records"),
        ("报送政务信息", "start_info"),
        ("我要报送政务信息", "start_info"),
        ("确认", "confirm"),
        ("取消", "cancel"),
        ("今天天气不错", "unknown"),
        ("", "unknown"),
    ],
)
def test_simple_phrases(text: str, name: str) -> None:
    assert parse(text).name == name


@pytest.mark.parametrize(
    "text",
    [
        "政务信息：椒江区开展河道清理",
        "政务信息:椒江区开展河道清理",
        "政务信息 椒江区开展河道清理",
        "政务信息，椒江区开展河道清理",
        "工作信息：椒江区开展河道清理",
        "报送政务信息：椒江区开展河道清理",
    ],
)
def test_submit_info_full_and_half_width(text: str) -> None:
    intent = parse(text)
    assert intent.name == "submit_info"
    assert intent.args["body"] == "椒江区开展河道清理"


def test_multiline_info_keeps_body_and_splits_title() -> None:
    intent = parse("政务信息：椒江区开展河道清理\n本周共清理河道 12 公里。")
    title, body = split_title(intent.args["body"])
    assert title == "椒江区开展河道清理"
    assert body == "本周共清理河道 12 公里。"


@pytest.mark.parametrize(
    ("text", "args"),
    [
        ("反馈 K7 已完成排查", {"task": "K7", "body": "已完成排查"}),
        ("反馈：K7，已完成排查", {"task": "K7", "body": "已完成排查"}),
        ("任务反馈 12 已完成", {"task": "12", "body": "已完成"}),
    ],
)
def test_feedback(text: str, args: dict[str, str]) -> None:
    intent = parse(text)
    assert intent.name == "feedback"
    assert intent.args == args


def test_withdraw_and_review_refs() -> None:
    assert parse("撤回 12").args == {"ref": "12"}
    assert parse("撤销＃12").args == {"ref": "12"}
    assert parse("退回 12 内容不全").args == {"ref": "12", "reason": "内容不全"}
    assert parse("通过 12").name == "accept"


def test_admin_entry_with_value_and_reason() -> None:
    intent = parse("扣分　椒江区　T20.5　0.1　逾期上报")
    assert intent.name == "admin_entry"
    assert intent.args == {
        "verb": "扣分",
        "unit": "椒江区",
        "rule": "T20.5",
        "value": "0.1",
        "reason": "逾期上报",
    }


def test_my_score_takes_a_year() -> None:
    assert parse("我的得分 2025").args == {"year": "2025"}
    assert parse("得分：2025年").args == {"year": "2025"}
    assert parse("我的得分").args == {}


def test_unit_score_is_not_my_score() -> None:
    intent = parse("得分 椒江区")
    assert intent.name == "unit_score"
    assert intent.args == {"unit": "椒江区"}


def test_normalize_full_width_and_blanks() -> None:
    assert normalize("  政务信息：ＡＢＣ　１２ \n\n 正文 ") == "政务信息:ABC 12\n正文"


def test_the_quick_normalisation_agrees_with_the_character_walk() -> None:
    """Tidy messages take a quick path (fold, check, identity map); 20,000 random messages of
    awkward characters give exactly what the character-by-character walk gives, map included."""
    import random

    from handlers.intents import _normalized, _normalized_slowly

    alphabet = [
        *"政务信息河道abcAB12 ：:，,。\n\r\t",
        "\u3000",
        "\u00a0",
        "①",
        "㈱",
        "ﬁ",
        "Ａ",
        "１",
    ]
    rng = random.Random(20261130)
    quick = 0
    for _ in range(20_000):
        text = "".join(rng.choices(alphabet, k=rng.randint(0, 24)))
        got = _normalized.__wrapped__(text)  # type: ignore[attr-defined]
        assert got == _normalized_slowly(text), repr(text)
        quick += got[0] == text
    tidy = "政务信息:河道保洁\n本周完成 3 公里"
    assert _normalized.__wrapped__(tidy) == _normalized_slowly(tidy)  # type: ignore[attr-defined]
    assert quick > 0  # and some come out as typed


def test_period_and_date_parsing() -> None:
    assert parse_month("11月", 2026) == "2026-11"
    assert parse_month("2025年3月", 2026) == "2025-03"
    assert parse_month("13月", 2026) is None
    assert parse_quarter("三季度", 2026) == "2026-Q3"
    assert parse_quarter("2026-Q4", 2026) == "2026-Q4"
    assert parse_quarter("五季度", 2026) is None
    assert parse_date("12月10日", date(2026, 1, 5)) == date(2026, 12, 10)
    assert parse_date("2027-01-15", date(2026, 1, 5)) == date(2027, 1, 15)
    assert parse_date("2月30日", date(2026, 1, 5)) is None


def test_every_admin_verb_of_the_rule_kinds_parses() -> None:
    from scoring import kinds

    for verb in kinds.verbs():
        intent = parse(f"{verb} 黄岩区 T20 0.1 理由")
        assert intent.name == "admin_entry" and intent.args["verb"] == verb, verb


def test_month_words_and_a_typed_score_ask() -> None:
    """「10月份」 is October wherever a month is asked for (未报, 月报); 「我的的分」 (得 typed as
    的) asks for the score."""
    from handlers.intents import IntentName, parse, parse_month

    assert parse_month("10月份", 2026) == "2026-10"
    assert parse_month("2025年12月份", 2026) == "2025-12"
    assert parse_month("份", 2026) is None
    assert parse("我的的分").name == IntentName.MY_SCORE
    assert parse("我的分").name == IntentName.MY_SCORE
