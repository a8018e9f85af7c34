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


def test_tuning_tables_replace_a_models_search_space(
    cli: Cli, split_dir: Path, tmp_path: Path
) -> None:
    config = tmp_path / "lmrec.toml"
    config.write_text(
        '[evaluate]\nsearch = "tpe"\ntrials = 4\n'
        "[tuning.ease]\nreg = {low = 120.0, high = 130.0}\n"
        "[tuning.itemknn]\nk = [7, 9]\nshrink = 0.0\n"
    )
    code, _, err = cli("--config", config, "evaluate", "--split", split_dir,
                       "--models", "ease,itemknn", "--n-boot", "20", "--out", tmp_path / "r")  # fmt: skip
    assert code == 0, err
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    ease = report["models"]["ease"]["config"]["tuning"]
    assert len(ease) == 4
    # the default (250) lies outside the table's range: not tried
    assert all(120.0 <= t["params"]["reg"] <= 130.0 for t in ease)
    knn = report["models"]["itemknn"]["config"]["tuning"]
    assert {t["params"]["k"] for t in knn[1:]} <= {7, 9}
    assert {t["params"]["shrink"] for t in knn[1:]} == {0.0}
    assert report["config"]["spaces"]["ease"]["reg"] == {"low": 120.0, "high": 130.0, "log": False}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[tuning.nosuch]\nx = 1\n", "[tuning.nosuch]: no model 'nosuch'"),
        ("[tuning.ease]\nregg = 5\n", "ease has no parameter regg; it takes"),
        ("[tuning.ease]\nreg = {low = 5}\n", "reg must be {low = N, high = N, log = true|false}"),
        ("[tuning.ease]\nreg = {low = 9, high = 1}\n", "reg needs low <= high"),
        ("[tuning.ease]\nreg = {low = 0, high = 1, log = true}\n", "and low > 0 with log"),
        ("[tuning.ease]\nreg = []\n", "reg lists no choices"),
    ],
)
def test_a_bad_tuning_table_is_one_line(
    cli: Cli, split_dir: Path, tmp_path: Path, text: str, message: str
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text)
    code, _, err = cli("--config", config, "evaluate", "--split", split_dir, "--models", "ease",
                       "--search", "tpe", "--out", tmp_path / "r")  # fmt: skip
    assert code == 2
    assert message in err
    assert "Traceback" not in err
