"""`kaohe serve` checks every setting before it starts: a setting that cannot work stops it with
one Chinese-and-English line naming the setting, and secrets are never printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import ASSESSMENT_TZ, Settings, get_settings

GOOD_AES = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 base64 characters
SECRET = "do-not-print-this-secret-7f3a"


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name in ("KAOHE_TIMEZONE", "KAOHE_PUBLIC_URL", "KAOHE_HANDLER", "WECOM_ENCODING_AES_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAOHE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WECOM_SECRET", SECRET)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def serve_refuses(capsys: pytest.CaptureFixture[str], name: str) -> str:
    code = main(["serve", "--port", "1"])
    err = capsys.readouterr().err
    assert code == 2, err
    line = next(line for line in err.splitlines() if name in line)
    assert line.startswith(f"设置错误 {name}：") and f"invalid setting {name}:" in line
    assert SECRET not in err
    assert not (Path("data") / "kaohe.db").exists()  # nothing was started or migrated
    return line


@pytest.mark.parametrize(
    "value",
    ["short", GOOD_AES[:-1] + "!", GOOD_AES + "A", GOOD_AES[:-1] + " "],
)
def test_aes_key_must_be_43_base64_characters(
    value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WECOM_ENCODING_AES_KEY", value)
    line = serve_refuses(capsys, "WECOM_ENCODING_AES_KEY")
    assert "43" in line and value not in line  # a secret: the value is not echoed


def test_unknown_time_zone(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KAOHE_TIMEZONE", "Mars/Olympus_Mons")
    assert "Mars/Olympus_Mons" in serve_refuses(capsys, "KAOHE_TIMEZONE")


def test_another_time_zone_is_refused_not_ignored(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KAOHE_TIMEZONE", "Europe/Berlin")
    assert ASSESSMENT_TZ in serve_refuses(capsys, "KAOHE_TIMEZONE")


@pytest.mark.parametrize("value", ["kaohe.example.cn", "ftp://x.cn", "https://", "https://a b.cn"])
def test_malformed_public_url(
    value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KAOHE_PUBLIC_URL", value)
    serve_refuses(capsys, "KAOHE_PUBLIC_URL")


@pytest.mark.parametrize(
    "value",
    ["no_such_module_here:make_handler", "handlers.app:no_such_factory", "handlers.app:log"],
)
def test_handler_that_does_not_import(
    value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KAOHE_HANDLER", value)
    serve_refuses(capsys, "KAOHE_HANDLER")


def test_a_value_of_the_wrong_type_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KAOHE_PORT", "eighty")
    serve_refuses(capsys, "KAOHE_PORT")
    monkeypatch.delenv("KAOHE_PORT")
    monkeypatch.setenv("KAOHE_LOG_FORMAT", "xml")
    get_settings.cache_clear()
    serve_refuses(capsys, "KAOHE_LOG_FORMAT")


def test_several_problems_are_all_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KAOHE_TIMEZONE", "Nowhere/Else")
    monkeypatch.setenv("KAOHE_PUBLIC_URL", "not a url")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "KAOHE_TIMEZONE" in err and "KAOHE_PUBLIC_URL" in err


def test_good_settings_have_no_problems(tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        WECOM_ENCODING_AES_KEY=GOOD_AES,
        KAOHE_TIMEZONE=ASSESSMENT_TZ,
        KAOHE_PUBLIC_URL="https://kaohe.example.gov.cn:8443/base",
        WECOM_SECRET=SECRET,
    )
    assert settings.problems() == []
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())
    assert settings.secret("wecom_secret") == SECRET


def test_every_writable_path_is_under_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, KAOHE_DATA_DIR=tmp_path / "d")  # type: ignore[call-arg]
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'd' / 'kaohe.db'}"
    assert settings.demo_database_url.endswith(f"{tmp_path / 'd' / 'kaohe-demo.db'}")
    for path in (settings.media_dir, settings.exports_dir):
        assert path.is_relative_to(tmp_path / "d")


def test_the_printed_next_step_works_as_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import cli

    monkeypatch.setattr(cli.sys, "argv", [".venv/bin/kaohe", "serve", "--demo"])
    monkeypatch.setattr(cli.shutil, "which", lambda name: None)  # .venv/bin is not on PATH
    assert cli.invoked_as() == ".venv/bin/kaohe"
    monkeypatch.setattr(cli.sys, "argv", ["/usr/local/bin/kaohe"])
    monkeypatch.setattr(cli.shutil, "which", lambda name: "/usr/local/bin/kaohe")
    assert cli.invoked_as() == "kaohe"
    monkeypatch.setattr(cli.sys, "argv", ["/src/bot/__main__.py"])
    assert cli.invoked_as().endswith(" -m bot")


def test_demo_reset_removes_the_demo_city(tmp_path: Path) -> None:
    from bot.commands.serve import reset_demo

    settings = Settings(_env_file=None, KAOHE_DATA_DIR=tmp_path)  # type: ignore[call-arg]
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"kaohe-demo.db{suffix}").write_bytes(b"x")
    (tmp_path / "kaohe.db").write_bytes(b"real data")
    assert reset_demo(settings) == tmp_path / "kaohe-demo.db"
    assert [p.name for p in tmp_path.iterdir()] == ["kaohe.db"]  # the real database is kept
    assert main(["serve", "--reset"]) == 2  # --reset alone would be a mistake


def test_files_of_an_earlier_version_are_not_silently_left_behind(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Before KAOHE_DATA_DIR the SQLite file and attachments were ./kaohe.db and ./media: a
    server started on the new default would begin with an empty database."""
    Path("kaohe.db").write_bytes(b"the city's year")
    line = serve_refuses(capsys, "KAOHE_DATA_DIR")
    assert "kaohe.db" in line and "KAOHE_DATABASE_URL" in line
    (tmp_path / "data").mkdir()
    Path("kaohe.db").rename(tmp_path / "data" / "kaohe.db")  # moved as told
    Path("media").mkdir()
    assert main(["serve", "--port", "1"]) == 2
    assert "设置错误 KAOHE_DATA_DIR：发现旧版本的 ./media" in capsys.readouterr().err
    monkeypatch.setenv("KAOHE_MEDIA_DIR", "media")  # or pointed at
    get_settings.cache_clear()
    assert get_settings().problems() == []


def test_the_demo_does_not_mind_old_files(tmp_path: Path) -> None:
    from bot.commands.serve import load_settings

    Path("kaohe.db").write_bytes(b"old")
    _, problems = load_settings(None)
    assert [p.name for p in problems] == ["KAOHE_DATA_DIR"]  # `serve --demo` drops exactly these


def test_a_dashboard_secret_without_the_public_address_is_warned_about(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The dashboard's links need KAOHE_PUBLIC_URL to open on a phone: `kaohe serve` says so at
    start-up (Settings.warnings, logged), without printing the secret."""
    monkeypatch.delenv("KAOHE_DASHBOARD_SECRET", raising=False)
    bare = Settings(_env_file=None, KAOHE_DASHBOARD_SECRET=SECRET)  # type: ignore[call-arg]
    (warning,) = bare.warnings()
    assert warning.startswith("设置提醒 KAOHE_PUBLIC_URL：") and SECRET not in warning
    assert bare.problems() == []  # it still starts
    full = Settings(  # type: ignore[call-arg]
        _env_file=None,
        KAOHE_DASHBOARD_SECRET=SECRET,
        KAOHE_PUBLIC_URL="https://kaohe.example.gov.cn",
    )
    assert full.warnings() == []
    assert Settings(_env_file=None).warnings() == []  # type: ignore[call-arg]
