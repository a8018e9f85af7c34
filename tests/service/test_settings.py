"""Service settings: the config file's [serve] table, then the environment, then flags."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from lmrec.config import read_config_table
from lmrec.errors import UsageError
from lmrec.service.settings import ServiceSettings


def test_file_then_environment_then_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "lmrec.toml"
    config.write_text(
        '[serve]\nartifacts = "art"\nstore = "sqlite:///from-file.db"\nann = "off"\n'
        'reason_verb = "watched"\n\n[train]\nmodels = "ease"\n'
    )
    monkeypatch.setenv("LMREC_CONFIG", str(config))
    monkeypatch.delenv("LMREC_API_KEYS", raising=False)
    s = ServiceSettings()
    assert (s.artifacts, s.store, s.ann, s.reason_verb) == (
        Path("art"), "sqlite:///from-file.db", "off", "watched",
    )  # fmt: skip
    assert s.text_encoder == "all-MiniLM-L6-v2"  # the default where nothing sets it
    monkeypatch.setenv("LMREC_SERVE_STORE", "sqlite:///from-env.db")
    monkeypatch.setenv("LMREC_API_KEYS", "k:read")
    s = ServiceSettings()
    assert s.store == "sqlite:///from-env.db"
    assert s.api_keys == "k:read"
    s = ServiceSettings(store="sqlite:///from-flag.db", ann="on")
    assert (s.store, s.ann, s.reason_verb) == ("sqlite:///from-flag.db", "on", "watched")
    assert "k:read" not in repr(s)  # secrets stay out of logs


def test_bad_settings_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LMREC_CONFIG", raising=False)
    assert read_config_table("serve") == {}  # no file: nothing configured
    with pytest.raises(ValidationError, match="ann"):
        ServiceSettings(artifacts="a", ann="sometimes")
    with pytest.raises(ValidationError, match="nosuch"):
        ServiceSettings(artifacts="a", nosuch=1)
    (tmp_path / "lmrec.toml").write_text("[serve\n")
    with pytest.raises(UsageError, match="not valid TOML"):
        read_config_table("serve")
    with pytest.raises(UsageError, match=r"config file .*missing\.toml not found"):
        read_config_table("serve", tmp_path / "missing.toml")
