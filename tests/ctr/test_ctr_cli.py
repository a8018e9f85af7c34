"""CTR from the command line: synthetic log, evaluate --task ctr, train --task ctr, --ads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture
def ad_log(cli, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    ds = tmp_path / "ads"
    code, out, err = cli("data", "synthetic-ads", "--out", ds, "--events", "5000",
                         "--users", "100", "--ads", "20")  # fmt: skip
    assert code == 0, err
    assert "5,000 impressions" in out
    return ds


def test_evaluate_ctr(cli, ad_log: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "r"
    code, stdout, err = cli("evaluate", "--task", "ctr", "--dataset", ad_log, "--models",
                            "logreg,lightgbm", "--out", out, "--no-progress", "--no-tune",
                            "--n-boot", "50", "--text-encoder", "hashing")  # fmt: skip
    assert code == 0, err
    assert "oracle" in stdout
    report = json.loads((out / "report.json").read_text())
    for name in ("logreg", "lightgbm"):
        assert {"AUC", "LogLoss", "ECE"} <= set(report["models"][name]["metrics"])
    assert (out / "report.html").is_file()
    assert "user_events_before:bucket" in report["features"]["fields"]
    bare = tmp_path / "bare"
    code, _, err = cli("evaluate", "--task", "ctr", "--dataset", ad_log, "--models", "logreg",
                       "--out", bare, "--no-progress", "--no-tune", "--n-boot", "10",
                       "--text-encoder", "hashing", "--no-user-history")  # fmt: skip
    assert code == 0, err
    fields = json.loads((bare / "report.json").read_text())["features"]["fields"]
    assert "user_events_before:bucket" not in fields


def test_train_ctr_and_rank_ads(cli, ad_log: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    art = tmp_path / "art"
    code, _, err = cli("train", ad_log, "--task", "ctr", "--models", "logreg",
                       "--out", art, "--text-encoder", "hashing")  # fmt: skip
    assert code == 0, err
    code, out, err = cli("recommend", art, "--ads", "--user", "user3", "--context",
                         "device=mobile,time=2026-11-28T20:00", "--k", "3", "--json")  # fmt: skip
    assert code == 0, err
    rec = json.loads(out)
    assert rec["known_user"] is True
    assert rec["context"] == {"device": "mobile", "time": "2026-11-28T20:00"}
    assert len(rec["ads"]) == 3
    values = [a["expected_value"] for a in rec["ads"]]
    assert values == sorted(values, reverse=True)
    code, out, err = cli("recommend", art, "--ads", "--user", "nobody", "--min-pctr", "0.99")
    assert code == 0, err
    assert "unknown user" in out
    for args, message in [
        (["--ads"], "--ads needs --user"),
        (["--ads", "--user", "u", "--context", "mobile"], "key=value"),
        (["--ads", "--user", "u", "--candidates", "ad1,zzz"], "unknown ad id(s): 'zzz'"),
        (["--ads", "--user", "u", "--frequency-cap", "0"], "--frequency-cap"),
        (["--ads", "--user", "u", "--cart", "ad1"], "not --query or --cart"),
    ]:
        code, _, err = cli("recommend", art, *args)
        assert code == 2, args
        assert message in err, (args, err)


def test_ctr_errors(cli, ad_log: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, err = cli("evaluate", "--task", "ctr", "--dataset", ad_log, "--models", "xgb",
                       "--out", tmp_path / "r", "--no-progress")  # fmt: skip
    assert code == 2
    assert "unknown CTR model 'xgb'" in err
    code, _, err = cli("recommend", tmp_path, "--ads", "--user", "u")
    assert code == 2
    assert "no CTR model here" in err
    code, _, err = cli("train", ad_log, "--task", "nosuch", "--models", "logreg", "--out", tmp_path)
    assert code == 2
    assert "Invalid value for '--task'" in err
