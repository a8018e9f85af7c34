"""Every CTR model: learns the synthetic log's signal, calibrates, saves and loads."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from lmrec import metrics as M
from lmrec.ctr import CTRModel, FeatureEncoder, create_ctr_model
from lmrec.ctr.evaluation import CTRConfig, evaluate_ctr, labels
from lmrec.ctr.features import dataset_events
from lmrec.ctr.synthetic import synthetic_ad_log
from lmrec.errors import DataError, UsageError

FAST = {
    "logreg": {},
    "lightgbm": {"n_estimators": 200},
    "deepfm": {"epochs": 8, "n_seeds": 2},
    "dcn": {"epochs": 8, "n_seeds": 2},
}


@pytest.fixture(scope="module")
def log():  # type: ignore[no-untyped-def]
    data = synthetic_ad_log(n_users=300, n_ads=60, n_events=20_000, seed=1)
    ev = dataset_events(data).sort("timestamp", maintain_order=True)
    y = labels(ev, 1.0)
    enc = FeatureEncoder(text_encoder="hashing", text_dims=4).fit(ev[:14_000], data.items)
    parts = [(enc.transform(f), y[s]) for f, s in (
        (ev[:14_000], slice(0, 14_000)),
        (ev[14_000:16_000], slice(14_000, 16_000)),
        (ev[16_000:], slice(16_000, None)),
    )]  # fmt: skip
    truth = ev[16_000:]["p_true"].cast(pl.Float64).to_numpy()
    return enc, parts, truth


@pytest.mark.parametrize("name", list(FAST))
def test_model_learns_and_round_trips(name: str, log, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    enc, (fit, valid, test), truth = log
    model = create_ctr_model(name, **FAST[name]).fit(*fit, enc, valid=valid)
    model.calibrate(*valid)
    p = model.predict_proba(test[0])
    assert p.shape == (len(test[1]),)
    assert ((p > 0) & (p < 1)).all()
    oracle = M.auc(test[1], truth)
    value = M.auc(test[1], p)
    assert value > 0.6, value  # random is 0.5
    assert value < oracle + 0.02  # nothing beats the truth by much (sampling noise only)
    assert M.expected_calibration_error(test[1], p) < 0.05
    model.save(tmp_path / name)
    loaded = CTRModel.load(tmp_path / name)
    np.testing.assert_allclose(loaded.predict_proba(test[0]), p, rtol=1e-5, atol=1e-6)
    assert not list((tmp_path / name).rglob("*.pkl"))


def test_platt_scaling_fixes_overconfidence(log) -> None:  # type: ignore[no-untyped-def]
    enc, (fit, valid, test), _ = log
    model = create_ctr_model("logreg").fit(*fit, enc)
    model.coef_ = model.coef_ * 4  # make it overconfident
    model.intercept_ *= 4
    raw = model.predict_proba(test[0], calibrated=False)
    model.calibrate(*valid)
    assert model.platt_[0] < 0.5  # the slope undoes most of the factor 4
    cal = model.predict_proba(test[0])
    assert M.expected_calibration_error(test[1], cal) < M.expected_calibration_error(test[1], raw)
    assert M.log_loss(test[1], cal) < M.log_loss(test[1], raw)


def test_model_errors(log) -> None:  # type: ignore[no-untyped-def]
    enc, (fit, _, test), _ = log
    with pytest.raises(UsageError, match="not fitted"):
        create_ctr_model("logreg").predict_proba(test[0])
    with pytest.raises(UsageError, match="one class"):
        create_ctr_model("logreg").fit(fit[0], np.zeros(len(fit[1])), enc)
    with pytest.raises(UsageError, match="labels"):
        create_ctr_model("logreg").fit(fit[0], fit[1][:5], enc)
    model = create_ctr_model("logreg").fit(*fit, enc)
    with pytest.raises(UsageError, match="features have shape"):
        model.predict_proba(
            test[0].rows(slice(None)).__class__(test[0].cat[:, :2], test[0].multi, test[0].dense)
        )
    with pytest.raises(UsageError, match="unknown CTR model 'nosuch'"):
        create_ctr_model("nosuch")
    with pytest.raises(UsageError, match="bad parameters"):
        create_ctr_model("deepfm", depth=3)


def test_evaluate_ctr_report(tmp_path: Path) -> None:
    data = synthetic_ad_log(n_users=200, n_ads=40, n_events=8_000, seed=2)
    cfg = CTRConfig(tune=False, n_boot=50, progress=False, text_encoder="hashing")
    report = evaluate_ctr(data, ["logreg", "lightgbm"], cfg, out=tmp_path)
    assert report["task"] == "ctr"
    assert report["label"] == "value >= 1"
    assert report["counts"]["test"] == 1_600
    assert report["counts"]["fit"] + report["counts"]["valid"] == 6_400
    for entry in report["models"].values():
        m = entry["metrics"]
        assert m["AUC"]["ci95"][0] <= m["AUC"]["mean"] <= m["AUC"]["ci95"][1]
        assert {"LogLoss", "ECE", "ECE_uncalibrated", "ECE_temperature", "ECE_platt"} <= set(m)
        cal = entry["calibration"]  # auto: a method is used only when its later-half gain is clear
        assert set(cal["later_half_gain_z"]) == {"temperature", "platt"}
        if cal["method"] != "none":
            assert cal["later_half_gain_z"][cal["method"]] >= 2.0
        if cal["method"] == "none":
            assert m["ECE"]["mean"] == pytest.approx(m["ECE_uncalibrated"]["mean"])
        else:
            assert m["ECE"]["mean"] == pytest.approx(m[f"ECE_{cal['method']}"]["mean"], abs=1e-4)
    assert report["oracle"]["AUC"] > 0.6
    (comparison,) = report["comparisons"]
    assert comparison["metric"] == "AUC"
    assert comparison["diff"] >= 0
    assert (tmp_path / "report.json").is_file()
    assert "Reliability" in (tmp_path / "report.html").read_text()


def test_labels_need_values() -> None:
    data = synthetic_ad_log(n_users=10, n_ads=5, n_events=100)
    ev = dataset_events(data).with_columns(pl.lit(None, dtype=pl.Float64).alias("value"))
    with pytest.raises(DataError, match="no value"):
        labels(ev, 1.0)


def test_temperature_scaling_keeps_the_base_rate(log) -> None:  # type: ignore[no-untyped-def]
    enc, (fit, valid, _), _ = log
    model = create_ctr_model("logreg").fit(*fit, enc)
    model.calibrate(*valid, method="temperature")
    assert model.platt_[1] == 0.0
    assert model.platt_[0] > 0
    with pytest.raises(UsageError, match="calibration must be one of auto, none"):
        model.calibrate(*valid, method="isotonic")


def test_refit_repeats_the_chosen_training_on_more_rows(log) -> None:  # type: ignore[no-untyped-def]
    enc, (fit, valid, test), _ = log
    deepfm = create_ctr_model("deepfm", epochs=6, n_seeds=2, patience=2).fit(*fit, enc, valid=valid)
    deepfm.calibrate(*valid, method="temperature")
    best = {}  # per seed: the epoch with the lowest validation loss, as early stopping kept
    for row in deepfm.history_:  # type: ignore[attr-defined]
        s = row["seed"]
        if s not in best or row["valid_loss"] < best[s][0] - 1e-5:
            best[s] = (row["valid_loss"], row["epoch"])
    params = deepfm.refit_params()
    assert params["patience"] == 0
    assert params["epochs"] == int(np.median([e for _, e in best.values()]))
    again = deepfm.refit(fit[0].rows(slice(0, 3_000)), fit[1][:3_000], enc)
    # every row trains (no rows carved out for validation), for exactly the chosen epochs
    assert len(again.history_) == 2 * params["epochs"]  # type: ignore[attr-defined]
    assert all("valid_loss" not in r for r in again.history_)  # type: ignore[attr-defined]
    np.testing.assert_array_equal(again.platt_, deepfm.platt_)
    assert again.predict_proba(test[0]).shape == (len(test[1]),)

    gbdt = create_ctr_model("lightgbm", n_estimators=300).fit(*fit, enc, valid=valid)
    trees = gbdt.booster_.best_iteration  # type: ignore[attr-defined]
    assert 0 < trees < 300
    assert gbdt.refit_params()["n_estimators"] == trees
    assert gbdt.refit(*fit, enc).booster_.num_trees() == trees  # type: ignore[attr-defined]


def test_evaluate_ctr_refits_on_the_whole_training_part(tmp_path: Path) -> None:
    data = synthetic_ad_log(n_users=200, n_ads=40, n_events=8_000, seed=2)
    base = CTRConfig(tune=False, n_boot=20, progress=False, text_encoder="hashing")
    on = evaluate_ctr(data, ["logreg"], base)["models"]["logreg"]
    off = evaluate_ctr(data, ["logreg"], replace(base, refit=False))["models"]["logreg"]
    # the refit model differs from the one fitted without the validation slice, whose test
    # AUC the report keeps beside it
    assert on["metrics"]["AUC_before_refit"]["mean"] == pytest.approx(off["metrics"]["AUC"]["mean"])
    assert on["metrics"]["AUC"]["mean"] != pytest.approx(off["metrics"]["AUC"]["mean"], abs=1e-9)
    assert on["config"]["refit_params"] == {"c": 0.1, "max_iter": 1000}
    assert off["config"]["refit_params"] is None
    assert "AUC_before_refit" not in off["metrics"]
