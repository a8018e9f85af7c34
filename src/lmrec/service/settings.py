"""How ``lmrec serve`` is configured: the ``[serve]`` table of the config file, then
``LMREC_SERVE_*`` environment variables, then command-line flags (each overrides the one
before)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from lmrec.config import CONFIG_ENV, read_config_table

__all__ = ["CONFIG_ENV", "ServiceSettings"]


class _ConfigTable(PydanticBaseSettingsSource):
    """The ``[serve]`` table of the config file."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # everything is read at once in __call__

    def __call__(self) -> dict[str, Any]:
        return read_config_table("serve")


class ServiceSettings(BaseSettings):
    """Everything ``lmrec serve`` needs to start (see ``lmrec serve --help``)."""

    model_config = SettingsConfigDict(env_prefix="LMREC_SERVE_", extra="forbid")

    artifacts: Path
    store: str = "sqlite:///lmrec-store.db"
    model: str | None = None
    text_encoder: str = "all-MiniLM-L6-v2"
    reason_verb: str = "liked"
    ann: Literal["auto", "on", "off"] = "auto"
    #: what scores a neural model: ONNX Runtime on graphs 'lmrec export' wrote, or PyTorch
    runtime: Literal["auto", "torch", "onnx"] = "auto"
    #: serve without keys: anyone who reaches the address may do anything
    no_auth: bool = False
    #: one line per request on stderr (lmrec serve)
    access_log: bool = True
    #: requests per caller (key, user token, or client address when open), per worker
    rate_limit: str = "2000/second"
    user_rate_limit: str = "20/second"
    #: how long a user token lasts
    token_ttl_s: float = Field(86400.0, gt=0, le=366 * 86400)
    #: record every served list (for online metrics, experiments and off-policy estimates)
    impressions: bool = True
    #: exploration: the share of lists drawn at random from the pool of the best items, with
    #: their propensities recorded (for off-policy estimates); 0 is off
    explore: float = Field(0.0, ge=0.0, le=1.0)
    explore_pool: int = Field(50, ge=1, le=1000)
    #: events stored longer ago than this are purged (none: kept until deleted)
    retention_days: float | None = Field(365.0, gt=0)
    api_keys: str | None = Field(
        None, validation_alias=AliasChoices("LMREC_API_KEYS", "api_keys"), repr=False
    )
    reason_llm_url: str | None = Field(
        None, validation_alias=AliasChoices("LMREC_REASON_LLM_URL", "reason_llm_url")
    )
    reason_llm_model: str = Field(
        "default", validation_alias=AliasChoices("LMREC_REASON_LLM_MODEL", "reason_llm_model")
    )
    reason_llm_timeout: float = Field(
        0.5,
        gt=0,
        validation_alias=AliasChoices("LMREC_REASON_LLM_TIMEOUT", "reason_llm_timeout"),
    )
    reason_llm_api_key: str | None = Field(
        None,
        validation_alias=AliasChoices("LMREC_REASON_LLM_API_KEY", "reason_llm_api_key"),
        repr=False,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, _ConfigTable(settings_cls)
