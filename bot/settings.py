"""All settings in one place: environment variables (and a `.env` file), as listed in README.md.

Every writable path lives under one data directory (`KAOHE_DATA_DIR`: the SQLite file, media,
exports), so a container needs one volume. Secrets are `SecretStr`: printed as '**********'.
`problems()` checks what types alone cannot (`kaohe serve` refuses to start on any of them).
"""

from __future__ import annotations

import base64
import binascii
import importlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from reminders.stages import StagePolicy
from scoring.periods import TZ

# The assessment time zone is fixed: periods, deadlines and the statutory holiday calendar are
# mainland China's. KAOHE_TIMEZONE is accepted only with this value (see `problems`).
ASSESSMENT_TZ = TZ.key
AES_KEY = re.compile(r"[A-Za-z0-9+/]{43}")


@dataclass(frozen=True)
class Problem:
    """A setting that cannot work, said in Chinese and in English."""

    name: str
    zh: str
    en: str

    def __str__(self) -> str:
        return f"设置错误 {self.name}：{self.zh} / invalid setting {self.name}: {self.en}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    data_dir: Path = Field(Path("data"), alias="KAOHE_DATA_DIR")
    database_url_raw: str | None = Field(None, alias="KAOHE_DATABASE_URL")
    host: str = Field("127.0.0.1", alias="KAOHE_HOST")
    port: int = Field(8080, alias="KAOHE_PORT")
    timezone_raw: str | None = Field(None, alias="KAOHE_TIMEZONE")
    admins_raw: str = Field("", alias="KAOHE_ADMINS")
    log_format: Literal["text", "json"] = Field("text", alias="KAOHE_LOG_FORMAT")
    retention_years: int = Field(2, ge=1, alias="KAOHE_RETENTION_YEARS")
    # an item this many working days overdue is also sent, once, to the unit's leaders; 0: never
    escalate_after_workdays: int = Field(3, ge=0, le=60, alias="KAOHE_ESCALATE_AFTER_WORKDAYS")

    wecom_corp_id: str | None = Field(None, alias="WECOM_CORP_ID")
    wecom_agent_id: int | None = Field(None, alias="WECOM_AGENT_ID")
    wecom_secret: SecretStr | None = Field(None, alias="WECOM_SECRET")
    wecom_token: SecretStr | None = Field(None, alias="WECOM_TOKEN")
    wecom_encoding_aes_key: SecretStr | None = Field(None, alias="WECOM_ENCODING_AES_KEY")
    wecom_api_base: str = Field("https://qyapi.weixin.qq.com", alias="WECOM_API_BASE")
    wecom_webhook_key: SecretStr | None = Field(None, alias="WECOM_WEBHOOK_KEY")

    # WeCom 智能机器人 over its long connection (no public IP needed)
    wecom_bot_id: str | None = Field(None, alias="WECOM_BOT_ID")
    wecom_bot_secret: SecretStr | None = Field(None, alias="WECOM_BOT_SECRET")
    wecom_bot_ws_url: str = Field("wss://openws.work.weixin.qq.com", alias="WECOM_BOT_WS_URL")

    # DingTalk (钉钉 / 浙政钉) robot over Stream mode (no public IP needed)
    dingtalk_client_id: str | None = Field(None, alias="DINGTALK_CLIENT_ID")
    dingtalk_client_secret: SecretStr | None = Field(None, alias="DINGTALK_CLIENT_SECRET")
    dingtalk_robot_code: str | None = Field(None, alias="DINGTALK_ROBOT_CODE")
    dingtalk_api_base: str = Field("https://api.dingtalk.com", alias="DINGTALK_API_BASE")
    dingtalk_oapi_base: str = Field("https://oapi.dingtalk.com", alias="DINGTALK_OAPI_BASE")

    dashboard_secret: SecretStr | None = Field(None, alias="KAOHE_DASHBOARD_SECRET")
    public_url: str | None = Field(None, alias="KAOHE_PUBLIC_URL")

    media_dir_raw: str | None = Field(None, alias="KAOHE_MEDIA_DIR")  # attachments users send
    reply_budget: float = Field(3.0, gt=0, alias="KAOHE_REPLY_BUDGET")  # seconds before send
    handler: str = Field("handlers.app:make_handler", alias="KAOHE_HANDLER")

    @property
    def database_url(self) -> str:
        """KAOHE_DATABASE_URL, or the SQLite file `kaohe.db` in the data directory."""
        return self.database_url_raw or sqlite_url(self.data_dir / "kaohe.db")

    @property
    def demo_database_url(self) -> str:
        return sqlite_url(self.data_dir / "kaohe-demo.db")

    @property
    def media_dir(self) -> Path:
        return Path(self.media_dir_raw) if self.media_dir_raw else self.data_dir / "media"

    @property
    def exports_dir(self) -> Path:
        """Tally workbooks and charts."""
        return self.data_dir / "exports"

    @property
    def timezone(self) -> str:
        return ASSESSMENT_TZ

    @property
    def admins(self) -> frozenset[str]:
        return frozenset(a.strip() for a in self.admins_raw.split(",") if a.strip())

    def secret(self, name: str) -> str | None:
        """The plain value of a secret setting (attribute name), for the code that uses it."""
        value = getattr(self, name)
        return value.get_secret_value() if value is not None else None

    @property
    def wecom_bot_enabled(self) -> bool:
        """The long connection runs when both the bot id and its secret are set."""
        return bool(self.wecom_bot_id and self.secret("wecom_bot_secret"))

    @property
    def dingtalk_enabled(self) -> bool:
        """The Stream channel runs when the app's client id and secret are set."""
        return bool(self.dingtalk_client_id and self.secret("dingtalk_client_secret"))

    def missing_wecom(self) -> list[str]:
        """Names of the WeCom settings that are not set (empty list: fully configured)."""
        names = {
            "WECOM_CORP_ID": self.wecom_corp_id,
            "WECOM_AGENT_ID": self.wecom_agent_id,
            "WECOM_SECRET": self.secret("wecom_secret"),
            "WECOM_TOKEN": self.secret("wecom_token"),
            "WECOM_ENCODING_AES_KEY": self.secret("wecom_encoding_aes_key"),
        }
        return [name for name, value in names.items() if value in (None, "")]

    def _left_behind(self) -> list[Problem]:
        """Files an earlier version wrote beside the process (./kaohe.db, ./media) while the data
        directory has none: starting would silently begin with an empty database."""
        found = []
        for old, (attr, new, name) in OLD_DEFAULTS.items():
            left = getattr(self, attr) is None and Path(old).exists()
            if left and not (self.data_dir / new).exists():
                found.append(
                    Problem(
                        "KAOHE_DATA_DIR",
                        f"发现旧版本的 ./{old}，而数据目录{self.data_dir}中没有；"
                        f"请把它移到{self.data_dir / new}，或设置{name}指向它",
                        f"./{old} from an earlier version exists but {self.data_dir} has none; "
                        f"move it to {self.data_dir / new} or point {name} at it",
                    )
                )
        return found

    def warnings(self) -> list[str]:
        """Settings that work but leave something out, said at start-up (Chinese and English)."""
        found = []
        if self.secret("dashboard_secret") and not self.public_url:
            found.append(
                "设置提醒 KAOHE_PUBLIC_URL：已设置 KAOHE_DASHBOARD_SECRET 但未设置对外访问地址，"
                "管理员在企业微信里收到的看板链接无法打开（应形如 https://kaohe.example.gov.cn） / "
                "warning KAOHE_PUBLIC_URL: KAOHE_DASHBOARD_SECRET is set without the public URL, "
                "so the dashboard links admins get cannot be opened"
            )
        return found

    def problems(self) -> list[Problem]:
        """Every setting that is set but cannot work (empty: all good)."""
        found: list[Problem] = []
        aes = self.secret("wecom_encoding_aes_key")
        if aes and not _aes_key_ok(aes):
            found.append(
                Problem(
                    "WECOM_ENCODING_AES_KEY",
                    "应为43个 base64 字符（企业微信后台“接收消息”页面的 EncodingAESKey）",
                    "must be 43 base64 characters (EncodingAESKey from the WeCom console)",
                )
            )
        if self.timezone_raw:
            found.extend(_timezone_problems(self.timezone_raw))
        for name, url in (
            ("KAOHE_PUBLIC_URL", self.public_url),
            ("WECOM_API_BASE", self.wecom_api_base),
        ):
            if url and not _url_ok(url):
                found.append(
                    Problem(
                        name,
                        f"不是有效的网址：{url!r}（应形如 https://kaohe.example.gov.cn）",
                        f"not a valid URL: {url!r} (expected like https://kaohe.example.gov.cn)",
                    )
                )
        found.extend(self._left_behind())
        handler_error = _import_error(self.handler)
        if handler_error:
            found.append(
                Problem(
                    "KAOHE_HANDLER",
                    f"无法加载消息处理器 {self.handler!r}（{handler_error}）",
                    f"cannot load the message handler {self.handler!r} ({handler_error})",
                )
            )
        return found


OLD_DEFAULTS = {  # where earlier versions kept their files by default (relative to the start dir)
    "kaohe.db": ("database_url_raw", "kaohe.db", "KAOHE_DATABASE_URL"),
    "media": ("media_dir_raw", "media", "KAOHE_MEDIA_DIR"),
}


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def _aes_key_ok(key: str) -> bool:
    if not AES_KEY.fullmatch(key):
        return False
    try:
        return len(base64.b64decode(key + "=", validate=True)) == 32
    except binascii.Error:
        return False


def _timezone_problems(name: str) -> list[Problem]:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return [
            Problem(
                "KAOHE_TIMEZONE",
                f"未知的时区 {name!r}；考核时区固定为{ASSESSMENT_TZ}，可不设置",
                f"unknown time zone {name!r}; the assessment zone is fixed at {ASSESSMENT_TZ}, "
                "leave it unset",
            )
        ]
    if name != ASSESSMENT_TZ:
        return [
            Problem(
                "KAOHE_TIMEZONE",
                f"考核时区固定为{ASSESSMENT_TZ}（期次、截止日和法定节假日均按北京时间），"
                f"不能设为{name}；请删除该设置",
                f"the assessment zone is fixed at {ASSESSMENT_TZ} (periods, deadlines and "
                f"China's holidays); {name} is not supported, remove the setting",
            )
        ]
    return []


def _url_ok(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in url


def _import_error(spec: str) -> str | None:
    """Why `module:factory` cannot be loaded, or None when it can."""
    module_name, _, attr = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attr or "make_handler")
    except Exception as exc:  # any import-time failure means the handler cannot run
        return f"{type(exc).__name__}: {exc}"
    if not callable(factory):
        return f"{attr} is not callable"
    return None


def load_factory(spec: str):  # type: ignore[no-untyped-def]
    """`module:attr` → the handler factory (checked by `problems` before serving)."""
    module_name, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module_name), attr or "make_handler")

    @property
    def wecom_bot_enabled(self) -> bool:
        """The long connection runs when both the bot id and its secret are set."""
        return bool(self.wecom_bot_id and self.wecom_bot_secret)

    @property
    def dingtalk_enabled(self) -> bool:
        """The Stream channel runs when the app's client id and secret are set."""
        return bool(self.dingtalk_client_id and self.dingtalk_client_secret)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reminder_policy(settings: Settings) -> StagePolicy:
    """When reminders go out, with the settings that change it (escalation to leaders)."""
    return StagePolicy(escalate_after=settings.escalate_after_workdays)
