"""The contract of click-through-rate models: fit on features and labels, predict probabilities.

A separate interface from the top-N recommenders: a CTR model answers "how likely is this
person to click this item here and now", one probability per row, and must be calibrated.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
from safetensors.numpy import load_file, save_file

from lmrec._types import FloatArray
from lmrec._version import __version__
from lmrec.ctr.features import FeatureEncoder, FeatureTable
from lmrec.errors import UsageError
from lmrec.fileformat import check_format
from lmrec.params import get_params
from lmrec.registry import registry

__all__ = ["CTR_MODELS", "CTRModel", "create_ctr_model", "get_ctr_class"]

CTR_MODELS = registry.names("ctr")
FORMAT_VERSION = 1


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))


class CTRModel(ABC):
    """Subclasses keep hyper-parameters in ``__init__``, learn in ``_fit`` and return raw
    scores (log-odds) in ``_logits``. Platt scaling fitted on validation rows
    (:meth:`calibrate`) maps those to calibrated probabilities in :meth:`predict_proba`."""

    name: ClassVar[str]
    #: Which of the registry's kinds this is.
    model_kind: ClassVar[str] = "ctr"

    def fit(
        self,
        x: FeatureTable,
        y: np.ndarray,
        encoder: FeatureEncoder,
        *,
        valid: tuple[FeatureTable, np.ndarray] | None = None,
    ) -> Self:
        y = np.asarray(y, dtype=np.float32)
        if len(y) != len(x):
            raise UsageError(f"{len(x)} feature rows but {len(y)} labels")
        if len(np.unique(y)) < 2:
            raise UsageError("training labels are all one class; a CTR model needs both")
        self.cardinalities_ = list(encoder.cardinalities)
        self.fields_ = list(encoder.fields)
        self.n_multi_ = x.multi.shape[1]
        self.n_dense_ = x.dense.shape[1]
        self.platt_ = np.array([1.0, 0.0])  # identity until calibrated
        self._fit(x, y, valid)
        return self

    @abstractmethod
    def _fit(
        self, x: FeatureTable, y: np.ndarray, valid: tuple[FeatureTable, np.ndarray] | None
    ) -> None: ...

    @abstractmethod
    def _logits(self, x: FeatureTable) -> FloatArray: ...

    def _check(self, x: FeatureTable) -> None:
        if not hasattr(self, "platt_"):
            raise UsageError(f"{type(self).__name__} is not fitted; call fit() first")
        shape = (x.cat.shape[1], x.multi.shape[1], x.dense.shape[1])
        want = (len(self.cardinalities_), self.n_multi_, self.n_dense_)
        if shape != want:
            raise UsageError(f"features have shape {shape} (fields, categories, dense), not {want}")

    def raw_logits(self, x: FeatureTable) -> FloatArray:
        """Uncalibrated log-odds of a click per row."""
        self._check(x)
        return self._logits(x)

    def predict_logit(self, x: FeatureTable) -> FloatArray:
        """Calibrated log-odds of a click per row."""
        self._check(x)
        a, b = self.platt_
        return (a * self._logits(x) + b).astype(np.float32)

    def predict_proba(self, x: FeatureTable, *, calibrated: bool = True) -> FloatArray:
        """Click probability per row (Platt-calibrated unless ``calibrated=False``)."""
        self._check(x)
        z = self.predict_logit(x) if calibrated else self._logits(x)
        return _sigmoid(z).astype(np.float32)

    def calibrate(self, x: FeatureTable, y: np.ndarray, method: str = "platt") -> Self:
        """Fit ``sigmoid(a * logit + b)`` on held-out rows (in time order) by maximum likelihood.

        ``platt`` fits both ``a`` and ``b``; ``temperature`` only the slope ``a`` (``b = 0``),
        which corrects over- or under-confidence but keeps the click rate the model learned
        from all its training rows, rather than the rate of the (small, recent) held-out slice;
        ``none`` keeps the raw scores; ``auto`` picks one of these three by fitting on the
        earlier half of the rows and scoring the later half (:mod:`lmrec.ctr.calibration`).
        The method used is in ``calibration_``.
        """
        from lmrec.ctr.calibration import fit_calibration

        self._check(x)
        fitted = fit_calibration(self._logits(x), y, method)
        self.platt_ = fitted.weights
        self.calibration_ = fitted
        return self

    # -- parameters and storage -----------------------------------------------------------------
    @staticmethod
    def search_space() -> list[dict[str, Any]]:
        return [{}]

    def refit(self, x: FeatureTable, y: np.ndarray, encoder: FeatureEncoder) -> CTRModel:
        """A new model of this kind fitted on ``x`` (typically these training rows and the
        validation rows together, encoded anew) with the amount of training chosen here, and
        this model's calibration."""
        new = create_ctr_model(self.name, **self.refit_params()).fit(x, y, encoder)
        new.platt_ = self.platt_.copy()
        return new

    def refit_params(self) -> dict[str, Any]:
        """Parameters that repeat this fit on more rows without validation rows: the amount of
        training (epochs, trees) that early stopping chose here, fixed."""
        return self.get_params()

    def get_params(self) -> dict[str, Any]:
        """The constructor's named parameters (see :func:`lmrec.params.get_params`)."""
        return get_params(self)

    def _state(self) -> dict[str, np.ndarray]:
        return {}

    def _set_state(self, state: dict[str, np.ndarray], folder: Path) -> None:  # noqa: B027
        """Restore what :meth:`_state` (and any files :meth:`_save_files` wrote) hold."""

    def _save_files(self, folder: Path) -> None:  # noqa: B027 - optional hook
        """Write state that is not arrays (override)."""

    def save(self, path: str | Path) -> Path:
        if not hasattr(self, "platt_"):
            raise UsageError(f"{type(self).__name__} is not fitted; nothing to save")
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        state = {"_platt": self.platt_.astype(np.float64), **self._state()}
        save_file(
            {k: np.ascontiguousarray(v) for k, v in state.items()}, str(out / "state.safetensors")
        )
        self._save_files(out)
        config = {
            "format": "lmrec-ctr-model",
            "version": FORMAT_VERSION,
            "lmrec_version": __version__,
            "model": self.name,
            "params": self.get_params(),
            "cardinalities": self.cardinalities_,
            "fields": self.fields_,
            "n_multi": self.n_multi_,
            "n_dense": self.n_dense_,
        }
        (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
        return out

    @classmethod
    def load(cls, path: str | Path) -> CTRModel:
        src = Path(path)
        if not (src / "config.json").is_file():
            raise UsageError(f"{src}: not a saved CTR model (no config.json)")
        config = json.loads((src / "config.json").read_text())
        check_format(config, "lmrec-ctr-model", FORMAT_VERSION, src / "config.json")
        model = create_ctr_model(config["model"], **config["params"])
        model.cardinalities_ = list(config["cardinalities"])
        model.fields_ = list(config["fields"])
        model.n_multi_ = int(config["n_multi"])
        model.n_dense_ = int(config["n_dense"])
        state = load_file(str(src / "state.safetensors"))
        model.platt_ = state.pop("_platt")
        model._set_state(state, src)
        return model


def get_ctr_class(name: str) -> type[CTRModel]:
    klass: type[CTRModel] = registry.get(name, "ctr")
    return klass


def create_ctr_model(name: str, **params: Any) -> CTRModel:
    model: CTRModel = registry.create(name, "ctr", **params)
    return model
