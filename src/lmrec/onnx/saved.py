"""ONNX graphs kept beside a saved model: ``MODEL/onnx/manifest.json`` says which graph files
each precision has, which precision scores by default, and the SHA-256 of the weights
(``MODEL/state.safetensors``) they were exported from, so that graphs of other weights are
never used; and the choice, per loaded model, of the runtime that scores it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

from lmrec.errors import UsageError

__all__ = [
    "PRECISIONS",
    "RUNTIMES",
    "ExportsOnnx",
    "RuntimeChoice",
    "exported_files",
    "state_digest",
    "write_manifest",
]

PRECISIONS = ("float32", "int8")
RUNTIMES = ("auto", "torch", "onnx")
S = TypeVar("S")


def state_digest(folder: Path) -> str:
    """SHA-256 of the model's saved weights (``folder/state.safetensors``)."""
    h = hashlib.sha256()
    with (folder / "state.safetensors").open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_precision(precision: str) -> None:
    if precision not in PRECISIONS:
        raise UsageError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")


def write_manifest(
    folder: Path, model: str, files: dict[str, dict[str, str]], default: str, **extra: Any
) -> dict[str, Any]:
    """Write ``folder/onnx/manifest.json`` for the model saved in ``folder``: ``files`` maps
    each precision to its graphs (part name -> file name in ``onnx/``)."""
    manifest = {
        "format": "lmrec-onnx",
        "model": model,
        "state_sha256": state_digest(folder),
        "files": files,
        "default": default,
        **extra,
    }
    (folder / "onnx" / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def exported_files(
    folder: Path, precision: str | None = None
) -> tuple[dict[str, Any], str, dict[str, Path]]:
    """The manifest, the precision chosen (``precision``, else the export's default) and the
    paths of that precision's graphs, for the model saved in ``folder``."""
    path = folder / "onnx" / "manifest.json"
    if not path.is_file():
        raise UsageError(
            f"{folder}: no ONNX export; write one with 'lmrec export ARTIFACTS --format onnx'"
        )
    manifest = json.loads(path.read_text())
    if manifest.get("state_sha256") != state_digest(folder):
        raise UsageError(
            f"{path.parent}: exported from other weights than {folder / 'state.safetensors'}; "
            "export again"
        )
    chosen = precision or str(manifest["default"])
    files = manifest["files"].get(chosen)
    if files is None:
        raise UsageError(
            f"{path.parent}: no {chosen} graphs (it has {', '.join(manifest['files'])}); "
            f"export with --precision {chosen}"
        )
    return manifest, chosen, {part: path.parent / name for part, name in files.items()}


class RuntimeChoice(Generic[S]):
    """Which runtime scores a model loaded from ``folder`` (None: fitted in this process, so
    PyTorch): ``torch``; ``onnx``, the exported graphs (an error when there are none of these
    weights); ``auto`` (the default), ONNX Runtime when such graphs are there and onnxruntime
    is installed, else PyTorch. ``open(folder, precision, threads)`` makes the sessions;
    resolved on first use, so loading stays cheap."""

    def __init__(self, folder: Path | None, open: Callable[[Path, str | None, int], S]) -> None:
        self.folder = folder
        self._open = open
        self.runtime, self.threads = "auto", 1
        self.precision: str | None = None
        self._sessions: S | None = None
        self._resolved = False

    def choose(self, runtime: str, precision: str | None = None, threads: int = 1) -> str:
        """Set the runtime (see the class); returns the one that will score."""
        if runtime not in RUNTIMES:
            raise UsageError(f"runtime must be one of {', '.join(RUNTIMES)}, not {runtime!r}")
        if precision is not None:
            check_precision(precision)
        self.runtime, self.precision, self.threads = runtime, precision, threads
        self._resolved = False
        return "torch" if self.sessions() is None else "onnx"

    def sessions(self) -> S | None:
        """The ONNX sessions to score with, or None for PyTorch."""
        if not self._resolved:
            self._sessions = self._resolve()
            self._resolved = True
        return self._sessions

    def _resolve(self) -> S | None:
        if self.runtime == "torch":
            return None
        if self.folder is None:
            if self.runtime == "onnx":
                raise UsageError("the onnx runtime scores saved models; save and export it first")
            return None
        if self.runtime == "onnx":
            return self._open(self.folder, self.precision, self.threads)
        if not (self.folder / "onnx" / "manifest.json").is_file():
            return None
        try:
            from lmrec.onnx.session import require_runtime

            require_runtime()
            return self._open(self.folder, self.precision, self.threads)
        except UsageError:
            return None  # a stale or partial export, or no onnxruntime: PyTorch scores


class ExportsOnnx:
    """What a model that can be exported and scored by ONNX Runtime adds: :meth:`use_runtime`,
    :meth:`export_onnx` (whose graphs :meth:`_write_onnx` writes) and the sessions to score
    with (:meth:`_onnx`). ``_runtime`` is set when the model is fitted or loaded."""

    _runtime: RuntimeChoice[Any]

    def _require_fitted(self) -> None:  # override
        """Raise a UsageError unless the model is fitted."""

    def _write_onnx(self, folder: Path, precision: str) -> dict[str, Any]:  # override
        """Write the graphs into ``folder/onnx`` (``folder``: where the model is saved) and
        return :func:`write_manifest`'s manifest."""
        raise NotImplementedError

    def _runtime_for(self, folder: Path | None) -> RuntimeChoice[Any]:  # override
        """The runtime choice of this model saved in ``folder`` (None: not saved)."""
        raise NotImplementedError

    def use_runtime(
        self, runtime: str = "auto", precision: str | None = None, *, threads: int = 1
    ) -> str:
        """Score with PyTorch (``torch``) or with ONNX Runtime on the graphs
        :meth:`export_onnx` wrote (``onnx``, in ``precision``: float32 or int8, by default the
        one exported last); ``auto``: ONNX when such graphs of these weights are there.
        Returns the runtime that scores."""
        self._require_fitted()
        if not hasattr(self, "_runtime"):
            self._runtime = self._runtime_for(None)
        return self._runtime.choose(runtime, precision, threads)

    def export_onnx(self, precision: str = "float32") -> dict[str, Any]:
        """Write the scoring path as ONNX graphs beside the saved model this one was loaded
        from; returns the export's manifest (see :mod:`lmrec.onnx.saved`)."""
        self._require_fitted()
        check_precision(precision)
        runtime = getattr(self, "_runtime", None)
        if runtime is None or runtime.folder is None:
            raise UsageError("save the model and load it from its folder before exporting it")
        manifest = self._write_onnx(runtime.folder, precision)
        self._runtime = self._runtime_for(runtime.folder)
        return manifest

    def _onnx(self) -> Any:
        """The ONNX sessions to score with, or None for PyTorch."""
        runtime = getattr(self, "_runtime", None)
        return None if runtime is None else runtime.sessions()
