"""``lmrec evaluate --task ctr``: temporal split, tuning on a validation slice, calibration, test.

The earlier ``1 - test_share`` of the events (by time) are for training, the rest for test.
The last ``valid_share`` of the training part is the validation slice: models early-stop and
are tuned on it, and Platt scaling is fitted on it. Features are learned from the rest.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl

from lmrec import metrics as M
from lmrec._version import __version__
from lmrec.ctr.base import CTRModel, create_ctr_model, get_ctr_class
from lmrec.ctr.calibration import fit_calibration
from lmrec.ctr.features import ORACLE_COLUMN, FeatureEncoder, FeatureTable, dataset_events
from lmrec.ctr.history import with_user_history
from lmrec.data.dataset import Dataset
from lmrec.errors import DataError, UsageError
from lmrec.progress import track

__all__ = ["CTRConfig", "evaluate_ctr", "labels"]

#: calibrations whose test ECE is reported beside the chosen one
ALTERNATIVES = ("temperature", "platt")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


@dataclass(frozen=True)
class CTRConfig:
    seed: int = 0
    tune: bool = True
    n_boot: int = 200
    test_share: float = 0.2
    valid_share: float = 0.1
    #: a positive is ``value >= label_threshold`` (None: the dataset's ``ctr_label_threshold``
    #: meta entry, else 4, i.e. "liked" on a 1-5 rating scale)
    label_threshold: float | None = None
    text_encoder: str | None = "all-MiniLM-L6-v2"
    #: fitted on the validation slice (lmrec.ctr.calibration): temperature (one slope, keeping
    #: the click rate learned from all training rows), platt (slope and intercept), none, or
    #: auto: whichever of these three, fitted on the slice's earlier half, gives the lowest
    #: log loss on its later half (ECE under each is reported)
    calibration: Literal["auto", "none", "temperature", "platt"] = "auto"
    #: add each user's count of earlier events and their smoothed click rate as features
    #: (:mod:`lmrec.ctr.history`): known at serving time, and the only personal signal for the
    #: many test users who were not in the training period
    user_history: bool = True
    #: after tuning and calibrating, fit each model again on the whole training part
    #: (validation slice included, features learned anew) with the epochs or trees chosen on
    #: the slice, keeping the calibration; as the ranking evaluation refits on train + valid
    refit: bool = True
    n_bins: int = 10
    progress: bool = True


def labels(events: pl.DataFrame, threshold: float) -> np.ndarray:
    """1 where ``value >= threshold``; events without a value are an error."""
    missing = events["value"].null_count()
    if missing:
        raise DataError(
            f"{missing} of {events.height} events have no value, so no click label; "
            "a CTR dataset needs a value per event (rating, or 1/0 for click/no click)"
        )
    return (events["value"].to_numpy() >= threshold).astype(np.float32)


def _metrics(
    y: np.ndarray, p: np.ndarray, p_raw: np.ndarray, p_alt: dict[str, np.ndarray], cfg: CTRConfig
) -> dict[str, dict[str, Any]]:
    rng = np.random.default_rng(cfg.seed)
    boots = []
    for _ in range(cfg.n_boot):
        idx = rng.integers(0, len(y), len(y))
        boots.append(M.auc(y[idx], p[idx]))
    value = M.auc(y, p)
    # bias-recentred percentile interval (as for the catalog metrics of the ranking reports)
    lo, hi = np.nanquantile(2 * value - np.array(boots), [0.025, 0.975])
    out: dict[str, dict[str, Any]] = {
        "AUC": {"mean": value, "ci95": [float(lo), float(hi)]},
        "LogLoss": {"mean": M.log_loss(y, p)},
        "ECE": {"mean": M.expected_calibration_error(y, p, cfg.n_bins)},
        "LogLoss_uncalibrated": {"mean": M.log_loss(y, p_raw)},
        "ECE_uncalibrated": {"mean": M.expected_calibration_error(y, p_raw, cfg.n_bins)},
    }
    for m, q in p_alt.items():
        out[f"ECE_{m}"] = {"mean": M.expected_calibration_error(y, q, cfg.n_bins)}
    return out


def _tune(
    name: str,
    parts: dict[str, tuple[FeatureTable, np.ndarray]],
    enc: FeatureEncoder,
    cfg: CTRConfig,
    fixed: dict[str, Any] | None,
) -> tuple[CTRModel, list[dict[str, Any]]]:
    space = [fixed] if fixed is not None else get_ctr_class(name).search_space()
    if not cfg.tune:
        space = space[:1]
    x, y = parts["fit"]
    best: tuple[float, CTRModel] | None = None
    trials = []
    for params in track(space, f"tune {name}", enabled=cfg.progress):
        start = time.perf_counter()
        model = create_ctr_model(name, **params).fit(x, y, enc, valid=parts["valid"])
        value = M.auc(parts["valid"][1], model.predict_proba(parts["valid"][0], calibrated=False))
        trials.append(
            {"params": params, "valid_AUC": value, "seconds": round(time.perf_counter() - start, 2)}
        )
        if best is None or value > best[0]:
            best = (value, model)
    assert best is not None
    return best[1], trials


def evaluate_ctr(
    data: Dataset,
    model_names: list[str],
    cfg: CTRConfig | None = None,
    *,
    out: str | Path | None = None,
    params: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    cfg = cfg or CTRConfig()
    for name in model_names:
        get_ctr_class(name)
    if not 0 < cfg.test_share < 1 or not 0 < cfg.valid_share < 1:
        raise UsageError("test and validation shares must be between 0 and 1")
    threshold = cfg.label_threshold
    if threshold is None:
        threshold = float(data.meta.get("ctr_label_threshold", 4.0))
    events = dataset_events(data).sort("timestamp", maintain_order=True)
    y_all = labels(events, threshold)
    n = events.height
    cut = round(n * (1 - cfg.test_share))
    vcut = round(cut * (1 - cfg.valid_share))
    if min(vcut, cut - vcut, n - cut) < 10:
        raise DataError(f"{n} events are too few for a temporal train/validation/test split")
    if cfg.user_history:
        events = with_user_history(events, y_all, prior=float(y_all[:vcut].mean()))
    frames = {"fit": events[:vcut], "valid": events[vcut:cut], "test": events[cut:]}
    enc = FeatureEncoder(text_encoder=cfg.text_encoder, progress=cfg.progress)
    enc.fit(frames["fit"], data.items)
    ys = {"fit": y_all[:vcut], "valid": y_all[vcut:cut], "test": y_all[cut:]}
    parts = {k: (enc.transform(f), ys[k]) for k, f in frames.items()}
    y_test = ys["test"]
    if cfg.refit:
        enc_all = FeatureEncoder(text_encoder=cfg.text_encoder, progress=cfg.progress)
        enc_all.fit(events[:cut], data.items)
        x_all, x_test = enc_all.transform(events[:cut]), enc_all.transform(frames["test"])
    results: dict[str, Any] = {}
    predictions: dict[str, np.ndarray] = {}
    for name in track(model_names, "models", enabled=cfg.progress):
        start = time.perf_counter()
        model, trials = _tune(name, parts, enc, cfg, (params or {}).get(name))
        fit_seconds = time.perf_counter() - start
        z_valid = model.raw_logits(parts["valid"][0])
        alt_w = {m: fit_calibration(z_valid, parts["valid"][1], m).weights for m in ALTERNATIVES}
        model.calibrate(*parts["valid"], method=cfg.calibration)
        chosen = model.calibration_
        final, x = model, parts["test"][0]
        extra: dict[str, dict[str, Any]] = {}
        if cfg.refit:
            start = time.perf_counter()
            final, x = model.refit(x_all, y_all[:cut], enc_all), x_test
            fit_seconds += time.perf_counter() - start
            before = model.predict_proba(parts["test"][0])
            extra["AUC_before_refit"] = {"mean": M.auc(y_test, before)}
            extra["ECE_before_refit"] = {
                "mean": M.expected_calibration_error(y_test, before, cfg.n_bins)
            }
        start = time.perf_counter()
        p = final.predict_proba(x)
        seconds = time.perf_counter() - start
        z_test = final.raw_logits(x).astype(np.float64)
        p_raw = _sigmoid(z_test)
        p_alt = {m: _sigmoid(w[0] * z_test + w[1]) for m, w in alt_w.items()}
        predictions[name] = p
        results[name] = {
            "metrics": _metrics(y_test, p, p_raw, p_alt, cfg) | extra,
            "calibration": {
                "method": chosen.method,
                "weights": [float(v) for v in chosen.weights],
                "later_half_log_loss": chosen.check,
                "later_half_gain_z": {m: round(v, 3) for m, v in chosen.gain_z.items()},
            },
            "fit_seconds": round(fit_seconds, 2),
            "rows_per_second": round(len(y_test) / max(seconds, 1e-9)),
            "reliability": dict(
                zip(
                    ("mean_predicted", "observed_rate", "count"),
                    M.reliability(y_test, p, cfg.n_bins),
                    strict=True,
                )
            ),
            "config": {
                "model": model.name,
                "params": model.get_params(),
                "tuning": trials,
                "refit_params": final.get_params() if cfg.refit else None,
            },
        }
    report: dict[str, Any] = {
        "format": "lmrec-report",
        "lmrec_version": __version__,
        "task": "ctr",
        "config": asdict(cfg),
        "label": f"value >= {threshold:g}",
        "counts": {
            "events": n,
            "fit": vcut,
            "valid": cut - vcut,
            "test": n - cut,
            "positive_rate_train": float(y_all[:cut].mean()),
            "positive_rate_test": float(y_test.mean()),
        },
        "features": {
            "fields": enc.fields,
            "categories": len(enc.categories_),
            "dense": enc.n_dense,
        },
        "models": results,
        "comparisons": _compare(y_test, predictions, cfg),
    }
    if ORACLE_COLUMN in events.columns:
        truth = events[cut:][ORACLE_COLUMN].cast(pl.Float64).to_numpy()
        report["oracle"] = {
            "AUC": M.auc(y_test, truth),
            "LogLoss": M.log_loss(y_test, truth),
            "ECE": M.expected_calibration_error(y_test, truth, cfg.n_bins),
        }
    if out is not None:
        _write(Path(out), report)
    return report


def _compare(
    y: np.ndarray, predictions: dict[str, np.ndarray], cfg: CTRConfig
) -> list[dict[str, Any]]:
    """The best model by test AUC against each other one: paired bootstrap of the difference."""
    if len(predictions) < 2:
        return []
    aucs = {n: M.auc(y, p) for n, p in predictions.items()}
    best = max(aucs, key=lambda n: aucs[n])
    rng = np.random.default_rng(cfg.seed)
    idx = [rng.integers(0, len(y), len(y)) for _ in range(cfg.n_boot)]
    out = []
    for name, p in predictions.items():
        if name == best:
            continue
        diffs = np.array([M.auc(y[i], predictions[best][i]) - M.auc(y[i], p[i]) for i in idx])
        out.append(
            {
                "a": best,
                "b": name,
                "metric": "AUC",
                "diff": aucs[best] - aucs[name],
                "ci95": [float(v) for v in np.nanquantile(diffs, [0.025, 0.975])],
                "p_value": min(1.0, 2 * float(np.mean(diffs <= 0))),
            }
        )
    return out


def _write(out: Path, report: dict[str, Any]) -> None:
    from lmrec.ctr.report import write_ctr_html

    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2, default=_plain) + "\n")
    write_ctr_html(out / "report.html", report)


def _plain(obj: object) -> object:
    if isinstance(obj, np.ndarray):
        return [None if not np.isfinite(v) else float(v) for v in obj.tolist()]
    if isinstance(obj, np.generic):
        return obj.item()
    return str(obj)
