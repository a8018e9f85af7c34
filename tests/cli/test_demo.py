"""``lmrec demo`` ends with the best model saved for ``lmrec serve`` and the command to start it."""

from __future__ import annotations

import json
from pathlib import Path

from lmrec.artifacts import Artifacts


def test_demo_saves_the_best_model_for_the_app(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "demo"
    code, stdout, err = cli("demo", "--ml100k", tmp_path / "none", "--no-download",
                            "--models", "pop,ease", "--out", out)  # fmt: skip
    assert code == 0, err
    report = json.loads((out / "report" / "report.json").read_text())
    best = max(report["models"], key=lambda n: report["models"][n]["metrics"]["NDCG@10"]["mean"])
    art = Artifacts.open(out / "artifacts")
    assert art.manifest["models"] == [best]
    numbers = json.loads((out / "artifacts" / "evaluation.json").read_text())
    assert numbers[best]["NDCG@10"] == round(
        report["models"][best]["metrics"]["NDCG@10"]["mean"], 4
    )
    assert f"lmrec serve {out / 'artifacts'} --no-auth" in " ".join(stdout.split())
