"""The lmrec command: the documented synopsis works, and user errors exit 2 with one line."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from lmrec.data import synthetic_dataset


@pytest.fixture
def run(cli):  # type: ignore[no-untyped-def]
    return cli


@pytest.fixture
def events_csv(tmp_path: Path) -> Path:
    data = synthetic_dataset(n_users=60, n_items=50, seed=2)
    path = tmp_path / "events.csv"
    data.interactions.rename(
        {"user_id": "customer", "item_id": "sku", "timestamp": "ts"}
    ).write_csv(path)
    return path


def test_full_synopsis(run, events_csv: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ds, sp, rep, art = (tmp_path / n for n in ("ds", "split", "rep", "art"))
    code, out, err = run(
        "data",
        "import",
        events_csv,
        "--format",
        "csv",
        "--user",
        "customer",
        "--item",
        "sku",
        "--time",
        "ts",
        "--value",
        "value",
        "--out",
        ds,
    )
    assert code == 0, err
    assert "imported" in out
    code, out, _ = run("data", "stats", ds, "--json")
    assert code == 0
    assert json.loads(out)["users"] == 60
    code, out, _ = run(
        "data", "clean", ds, "--out", tmp_path / "clean", "--min-user", "3", "--min-item", "2"
    )
    assert code == 0
    assert "kcore_removed" in out
    code, _, err = run("data", "split", ds, "--protocol", "loo", "--out", sp)
    assert code == 0, err
    assert {p.name for p in sp.iterdir()} >= {"train.parquet", "valid.parquet", "test.parquet"}
    code, out, err = run(
        "evaluate",
        "--split",
        sp,
        "--models",
        "pop,itemknn",
        "--k",
        "10",
        "--out",
        rep,
        "--no-progress",
        "--n-boot",
        "100",
    )
    assert code == 0, err
    report = json.loads((rep / "report.json").read_text())
    assert report["models"]["itemknn"]["metrics"]["NDCG@10"]["mean"] > 0
    assert (rep / "recs" / "pop.parquet").is_file()
    assert (rep / "report.html").is_file()
    code, out, err = run(
        "train", sp, "--models", "itemknn", "--out", art, "--param", "itemknn.k=30"
    )
    assert code == 0, err
    # trained on train + validation: its test numbers go with the version (the console shows them)
    evaluation = json.loads((art / "evaluation.json").read_text())
    assert 0 < evaluation["itemknn"]["NDCG@10"] <= evaluation["itemknn"]["HR@10"] <= 1
    itemknn = report["models"]["itemknn"]
    if itemknn["config"]["params"].get("k") == 30:
        assert evaluation["itemknn"]["NDCG@10"] == pytest.approx(
            itemknn["metrics"]["NDCG@10"]["mean"], abs=1e-4
        )
    code, out, err = run("recommend", art, "--user", "u1", "--k", "5", "--json")
    assert code == 0, err
    rec = json.loads(out)
    assert len(rec["items"]) == 5
    assert rec["fallback"] is None
    code, out, _ = run("recommend", art, "--user", "stranger", "--json")
    assert code == 0
    assert json.loads(out)["fallback"] == "popularity"


def test_evaluate_on_a_dataset_with_protocol(run, events_csv: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run(
        "data",
        "import",
        events_csv,
        "--format",
        "csv",
        "--user",
        "customer",
        "--item",
        "sku",
        "--time",
        "ts",
        "--out",
        tmp_path / "ds",
    )
    code, _, err = run(
        "evaluate",
        "--dataset",
        tmp_path / "ds",
        "--protocol",
        "temporal",
        "--models",
        "pop",
        "--out",
        tmp_path / "r",
        "--no-progress",
    )
    assert code == 0, err
    assert (
        json.loads((tmp_path / "r" / "report.json").read_text())["split"]["protocol"] == "temporal"
    )
    code, out, err = run(
        "evaluate", "--dataset", tmp_path / "ds", "--models", "itemknn", "--no-tune",
        "--rerank-sweep", "--out", tmp_path / "s", "--no-progress",
    )  # fmt: skip
    assert code == 0, err
    sweep = json.loads((tmp_path / "s" / "report.json").read_text())["rerank_sweep"]["itemknn"]
    assert "[95% CI]" in out  # the console table has the change column, and its values
    assert f"{sweep[-1]['NDCG@10 change']:+.1%}" in out
    assert sweep[0]["NDCG@10 change"] == 0.0
    assert all(len(r["NDCG@10 change ci95"]) == 2 for r in sweep)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["evaluate", "--split", "{tmp}", "--models", "pop", "--out", "{tmp}/r"],
            "not an lmrec split",
        ),
        (
            ["evaluate", "--split", "{split}", "--models", "nosuch", "--out", "{tmp}/r"],
            "unknown model 'nosuch'",
        ),
        (
            ["evaluate", "--split", "{split}", "--models", "pop", "--k", "0", "--out", "{tmp}/r"],
            "--k must be",
        ),
        (
            [
                "evaluate",
                "--split",
                "{split}",
                "--models",
                "pop",
                "--param",
                "pop.nope=1",
                "--out",
                "{tmp}/r",
            ],
            "bad parameters for model 'pop'",
        ),
        (
            [
                "evaluate",
                "--split",
                "{split}",
                "--models",
                "pop",
                "--param",
                "oops",
                "--out",
                "{tmp}/r",
            ],
            "--param must look like",
        ),
        (
            ["data", "import", "{tmp}/bad.csv", "--format", "csv", "--out", "{tmp}/d"],
            "line 3: wrong number of fields",
        ),
        (
            ["data", "import", "{tmp}/bad.csv", "--format", "excel", "--out", "{tmp}/d"],
            "Invalid value for '--format'",
        ),
        (["data", "split", "{tmp}", "--out", "{tmp}/s"], "not an lmrec dataset"),
        (
            ["data", "split", "{ds}", "--protocol", "weird", "--out", "{tmp}/s"],
            "Invalid value for '--protocol'",
        ),
        (["recommend", "{tmp}", "--user", "1"], "not an lmrec artifacts folder"),
    ],
)
def test_user_errors_exit_2_with_one_line(
    run, tmp_path: Path, args: list[str], message: str
) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "bad.csv").write_text("user_id,item_id\n1,2\n3\n")
    data = synthetic_dataset(n_users=20, n_items=20)
    data.save(tmp_path / "ds")
    from lmrec.data import split_loo

    split_loo(data).save(tmp_path / "split")
    filled = [a.format(tmp=tmp_path, split=tmp_path / "split", ds=tmp_path / "ds") for a in args]
    code, _, err = run(*filled)
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


def test_skip_mode_reports_counts(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "bad.csv").write_text("user_id,item_id,timestamp\n1,2,5\n3\n4,5,x\n")
    code, out, _ = run(
        "data",
        "import",
        tmp_path / "bad.csv",
        "--format",
        "csv",
        "--on-error",
        "skip",
        "--out",
        tmp_path / "d",
    )
    assert code == 0
    assert "skipped 1 rows: wrong number of fields" in out
    assert "skipped 1 rows: timestamp is not a number" in out


def test_help_explains_options(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("evaluate", "--help")
    assert code == 0
    for option in ("--split", "--models", "--k", "--out", "--tune", "--param", "--n-boot"):
        assert option in out


def test_console_script_runs() -> None:
    exe = Path(sys.executable).parent / "lmrec"
    result = subprocess.run(
        [str(exe), "data", "split", "/nonexistent", "--out", "/tmp/x"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr


def test_movielens_latest_folder_end_to_end(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "ml-latest"
    folder.mkdir()
    data = synthetic_dataset(n_users=40, n_items=30, seed=4)
    movies = ["movieId,title,genres"] + [
        f'{i.removeprefix("i")},"{t}",{"|".join(c)}'
        for i, t, c in data.items.select("item_id", "title", "categories").iter_rows()
    ]
    (folder / "movies.csv").write_text("\n".join(movies) + "\n")
    ratings = ["userId,movieId,rating,timestamp"] + [
        f"{u.removeprefix('u')},{i.removeprefix('i')},{v},{t}"
        for u, i, v, t in data.interactions.select(
            "user_id", "item_id", "value", "timestamp"
        ).iter_rows()
    ]
    (folder / "ratings.csv").write_text("\n".join(ratings) + "\n")
    code, _, err = run("data", "import", folder, "--format", "movielens", "--out", tmp_path / "ds")
    assert code == 0, err
    code, _, err = run(
        "evaluate",
        "--dataset",
        tmp_path / "ds",
        "--models",
        "pop,ease",
        "--out",
        tmp_path / "r",
        "--no-progress",
        "--n-boot",
        "50",
    )
    assert code == 0, err
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["counts"]["test_users"] == 40


def test_version(cli: Callable[..., tuple[int, str, str]]) -> None:
    import lmrec

    code, out, _ = cli("--version")
    assert code == 0
    assert out.strip() == f"lmrec {lmrec.__version__}"


def test_the_metrics_table_fits_100_columns() -> None:
    import io

    from rich.console import Console

    from lmrec.cli._common import metrics_table

    metric = {"mean": 0.12345, "ci95": [0.1061, 0.1392]}
    report = {
        "k": 10,
        "models": {
            name: {"metrics": {m: metric for m in ("NDCG@10", "HR@10", "Recall@10", "Coverage@10")},
                   "fit_seconds": 1047.7}
            for name in ("pop", "sequential", "hybrid")
        },
    }  # fmt: skip
    buf = io.StringIO()
    Console(file=buf, width=100).print(
        metrics_table(report, ["NDCG@10", "HR@10", "Recall@10", "Coverage@10"])
    )
    lines = buf.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 100
    row = next(line for line in lines if "sequential" in line)
    assert "0.1235" in row
    assert "0.106-0.139" in row  # the interval on one line, not wrapped
    assert "1047.7" in row


def test_choices_are_listed_by_help_and_match_the_library() -> None:
    from lmrec.cli._common import DataFormat, Protocol
    from lmrec.data import FORMATS
    from lmrec.data.split import PROTOCOLS

    assert [f.value for f in DataFormat] == list(FORMATS)
    assert [p.value for p in Protocol] == list(PROTOCOLS)
    out = subprocess.run(
        [sys.executable, "-c", "from lmrec.cli import main; main()", "data", "split", "--help"],
        capture_output=True, text=True, check=True, env={"COLUMNS": "200", "PATH": "/usr/bin"},
    ).stdout  # fmt: skip
    assert "loo" in out
    assert "temporal" in out
    assert "random" in out
