"""All settings in one place: environment variables (and a `.env` file), as listed in DESIGN.md."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field("sqlite+aiosqlite:///./kaohe.db", alias="KAOHE_DATABASE_URL")
    host: str = Field("127.0.0.1", alias="KAOHE_HOST")
    port: int = Field(8080, alias="KAOHE_PORT")
    timezone: str = Field("Asia/Shanghai", alias="KAOHE_TIMEZONE")
    admins_raw: str = Field("", alias="KAOHE_ADMINS")

    wecom_corp_id: str | None = Field(None, alias="WECOM_CORP_ID")
    wecom_agent_id: int | None = Field(None, alias="WECOM_AGENT_ID")
    wecom_secret: str | None = Field(None, alias="WECOM_SECRET")
    wecom_token: str | None = Field(None, alias="WECOM_TOKEN")
    wecom_encoding_aes_key: str | None = Field(None, alias="WECOM_ENCODING_AES_KEY")
    wecom_api_base: str = Field("https://qyapi.weixin.qq.com", alias="WECOM_API_BASE")
    wecom_webhook_key: str | None = Field(None, alias="WECOM_WEBHOOK_KEY")

    dashboard_secret: str | None = Field(None, alias="KAOHE_DASHBOARD_SECRET")
    public_url: str | None = Field(None, alias="KAOHE_PUBLIC_URL")

    media_dir: str = Field("media", alias="KAOHE_MEDIA_DIR")  # attachments users send, kept
    reply_budget: float = Field(3.0, alias="KAOHE_REPLY_BUDGET")  # seconds before message/send
    handler: str = Field("handlers.app:make_handler", alias="KAOHE_HANDLER")

    @property
    def admins(self) -> frozenset[str]:
        return frozenset(a.strip() for a in self.admins_raw.split(",") if a.strip())

    def missing_wecom(self) -> list[str]:
        """Names of the WeCom settings that are not set (empty list: fully configured)."""
        names = {
            "WECOM_CORP_ID": self.wecom_corp_id,
            "WECOM_AGENT_ID": self.wecom_agent_id,
            "WECOM_SECRET": self.wecom_secret,
            "WECOM_TOKEN": self.wecom_token,
            "WECOM_ENCODING_AES_KEY": self.wecom_encoding_aes_key,
        }
        return [name for name, value in names.items() if value in (None, "")]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
