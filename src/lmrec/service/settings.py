"""How ``lmrec serve`` is configured: the ``[serve]`` table of the config file, then
``LMREC_SERVE_*`` environment variables, then command-line flags (each overrides the one
before)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from lmrec.errors import UsageError

__all__ = ["CONFIG_ENV", "ServiceSettings", "read_config_table"]

#: The environment variable naming the config file (``lmrec.toml`` in the working folder
#: is read when it exists and nothing names another).
CONFIG_ENV = "LMREC_CONFIG"


def read_config_table(table: str, path: str | Path | None = None) -> dict[str, Any]:
    """The ``[table]`` of the config file (``path``, else ``$LMREC_CONFIG``, else
    ``./lmrec.toml`` when it exists); empty without a file."""
    given = path or os.environ.get(CONFIG_ENV)
    file = Path(given) if given else Path("lmrec.toml")
    if not file.is_file():
        if given:
            raise UsageError(f"config file {file} not found")
        return {}
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{file}: not valid TOML ({exc})") from None
    found = data.get(table, {})
    if not isinstance(found, dict):
        raise UsageError(f"{file}: [{table}] must be a table")
    return found


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
