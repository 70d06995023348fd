"""`kaohe scheme list|show|check` and `kaohe score`: output and exit codes, never a traceback."""

import json

import pytest

from bot.cli import main
from scoring import builtin_scheme_ids

SCHEME = """
id: mini
name: 迷你方案
total: 12
grading: {excellent: 90, good: 80, required_task_kinds: [annual_target]}
items:
  - id: C3
    name: 任务反馈和信息报送
    points: 12
    targets:
      - {id: C3a, name: 任务反馈, points: 6, rules: [{kind: on_time, task_kind: feedback, points: 6}]}
      - {id: C3b, name: 政务信息, points: 6, rules: [{kind: quota, per_period: 4, points: 6, period: monthly}]}
"""

FACTS = """
unit: 椒江区
year: 2026
submissions:
  - {id: S1, target: C3b, period: 2026-11, submitted_at: 2026-11-03T09:12:00}
  - {id: S2, target: C3a, task: K7, submitted_at: 2026-05-20T16:00:00}
tasks:
  - {id: K7, kind: feedback, due: 2026-05-20}
"""


@pytest.fixture
def files(tmp_path):
    scheme = tmp_path / "mini.yaml"
    scheme.write_text(SCHEME, encoding="utf-8")
    facts = tmp_path / "facts.yaml"
    facts.write_text(FACTS, encoding="utf-8")
    return scheme, facts


def test_scheme_list_shows_every_builtin(capsys):
    assert main(["scheme", "list"]) == 0
    out = capsys.readouterr().out
    for scheme_id in builtin_scheme_ids():
        assert scheme_id in out
    assert "满分" in out or not builtin_scheme_ids()


def test_scheme_show_file_as_text_and_json(files, capsys):
    scheme, _ = files
    assert main(["scheme", "show", str(scheme)]) == 0
    out = capsys.readouterr().out
    assert "mini  迷你方案" in out and "基本分满分12" in out
    assert "C3b 政务信息  6分" in out and "每月4篇" in out
    assert main(["scheme", "show", str(scheme), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["max"] == 12 and data["items"][0]["targets"][1]["rules"][0]["id"] == "C3b.1"
    assert data["items"][0]["targets"][1]["rules"][0]["params"] == {"per_period": 4, "points": 6}


def test_scheme_show_builtin(capsys):
    if "chuangmo-taizhou" not in builtin_scheme_ids():
        pytest.skip("built-in scheme not present")
    assert main(["scheme", "show", "chuangmo-taizhou"]) == 0
    out = capsys.readouterr().out
    for ident in ("C1a", "C3b", "W1", "W2"):
        assert ident in out
    assert "基本分满分100" in out


def test_scheme_show_unknown_id_fails_cleanly(capsys):
    assert main(["scheme", "show", "no-such-scheme"]) == 1
    err = capsys.readouterr().err
    assert "没有内置考核方案 'no-such-scheme'" in err


def test_scheme_check_invalid_file_lists_errors_and_exits_1(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        SCHEME.replace("per_period: 4", "per_period: -1").replace("points: 6}", "points: six}", 1),
        encoding="utf-8",
    )
    assert main(["scheme", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: items[0].targets[1].rules[0].per_period" in err
    assert (
        f"{bad}: items[0].targets[0].points" in err
        or f"{bad}: items[0].targets[0].rules[0].points" in err
    )


def test_scheme_check_prints_lint_warnings_and_exits_0(tmp_path, capsys):
    path = tmp_path / "warn.yaml"
    path.write_text(SCHEME.replace("total: 12", "total: 100"), encoding="utf-8")
    assert main(["scheme", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "格式正确" in out and "警告 mini: 项目分值合计12（C3(12)）与方案声明的总分100不符" in out


def test_scheme_check_clean_file(files, capsys):
    scheme, _ = files
    assert main(["scheme", "check", str(scheme)]) == 0
    assert "分值加总无误" in capsys.readouterr().out


def test_score_text(files, capsys):
    scheme, facts = files
    assert (
        main(["score", "--scheme", str(scheme), "--facts", str(facts), "--as-of", "2026-12-01"])
        == 0
    )
    out = capsys.readouterr().out
    assert "椒江区2026年度 · 迷你方案" in out
    assert "基本分6.63/12" in out  # 12 − 5 (ten empty months) − 0.375 (November 1/4)
    assert "12月政务信息：还差4篇，截止12月31日" in out
    assert "建议等次：合格（暂定）" in out


def test_score_json(files, capsys):
    scheme, facts = files
    assert (
        main(
            [
                "score",
                "--scheme",
                str(scheme),
                "--facts",
                str(facts),
                "--as-of",
                "2026-12-01",
                "--json",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["base_total"] == 6.63 and data["total"] == 6.63 and data["unit"] == "椒江区"
    assert data["grade"]["level"] == "合格" and data["grade"]["provisional"] is True


def test_score_requires_facts_with_a_clear_message(files, capsys):
    scheme, _ = files
    assert main(["score", "--scheme", str(scheme), "--as-of", "2026-12-01"]) == 1
    assert "--facts" in capsys.readouterr().err
    assert main(["score", "--facts", "x.yaml"]) == 1
    assert "--scheme" in capsys.readouterr().err


def test_score_bad_inputs_fail_cleanly(files, tmp_path, capsys):
    scheme, facts = files
    assert (
        main(["score", "--scheme", str(scheme), "--facts", str(facts), "--as-of", "2026-13-01"])
        == 1
    )
    assert "--as-of" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "unit: x\nyear: 2026\nsubmissions:\n  - {id: S1, target: C3b, submitted_at: nope}\n",
        encoding="utf-8",
    )
    assert (
        main(["score", "--scheme", str(scheme), "--facts", str(bad), "--as-of", "2026-12-01"]) == 1
    )
    assert f"{bad}: submissions[0].submitted_at" in capsys.readouterr().err
    assert main(["score", "--scheme", str(scheme), "--facts", str(tmp_path / "missing.yaml")]) == 1
    assert "文件不存在" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["scheme", "--help"],
        ["scheme", "show", "--help"],
        ["scheme", "check", "--help"],
        ["scheme", "list", "--help"],
        ["score", "--help"],
    ],
)
def test_every_command_has_help(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0
    assert "usage: kaohe" in capsys.readouterr().out


def test_scheme_without_subcommand_prints_usage(capsys):
    assert main(["scheme"]) == 2
    assert "list" in capsys.readouterr().err
