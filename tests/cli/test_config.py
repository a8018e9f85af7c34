"""One config file for every command: its tables set options, flags override them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from lmrec.data import split_loo, synthetic_dataset

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def split_dir(tmp_path: Path) -> Path:
    return split_loo(synthetic_dataset(n_users=60, n_items=40, seed=6)).save(tmp_path / "split")


def test_config_tables_set_options_and_flags_win(
    cli: Cli, split_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LMREC_CONFIG", raising=False)
    config = tmp_path / "lmrec.toml"
    config.write_text(
        f'[evaluate]\nsplit = "{split_dir}"\nmodels = ["pop", "ease"]\nk = 5\n'
        f'tune = false\nout = "{tmp_path / "r1"}"\n'
    )
    code, _, err = cli("--config", config, "evaluate")
    assert code == 0, err
    report = json.loads((tmp_path / "r1" / "report.json").read_text())
    assert (report["k"], list(report["models"])) == (5, ["pop", "ease"])
    code, _, err = cli("--config", config, "evaluate", "--k", "3", "--out", tmp_path / "r2")
    assert code == 0, err
    assert json.loads((tmp_path / "r2" / "report.json").read_text())["k"] == 3
    monkeypatch.chdir(tmp_path)  # ./lmrec.toml is read without --config
    code, _, err = cli("evaluate", "--models", "pop", "--out", tmp_path / "r3")
    assert code == 0, err
    assert json.loads((tmp_path / "r3" / "report.json").read_text())["k"] == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[evaluate]\nkk = 5\n", "[evaluate] has no option kk; it takes"),
        ("[nosuch]\nx = 1\n", "no command 'nosuch'"),
        ("[data.split]\nprotocl = 'loo'\n", "[split] has no option protocl"),
        ("[evaluate\n", "not valid TOML"),
    ],
)
def test_a_bad_config_is_one_line(cli: Cli, tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text)
    code, _, err = cli("--config", config, "evaluate", "--help")
    assert code == 2
    assert message in err
    assert "Traceback" not in err
