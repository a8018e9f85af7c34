"""A sentence encoder exported to ONNX (float32, and int8 when asked), run by ONNX Runtime
with the ``tokenizers`` library: no PyTorch needed to encode.

``export_text_encoder(name, folder)`` writes ``folder/model.onnx`` (token ids and attention
mask -> the pooled, L2-normalised sentence embedding), optionally ``model.int8.onnx``, the
tokenizer (``tokenizer.json``) and ``text-encoder.json`` (what it was exported from, which
precision encodes by default). :func:`lmrec.text.get_encoder` opens such a folder as this
module's :class:`OnnxTextEncoder`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lmrec._types import FloatArray
from lmrec.errors import UsageError
from lmrec.progress import track

__all__ = [
    "MANIFEST",
    "OnnxTextEncoder",
    "calibration_sample",
    "export_text_encoder",
    "exported_from",
    "is_exported",
]

MANIFEST = "text-encoder.json"
POOLINGS = ("mean", "cls")


def is_exported(folder: str | Path) -> bool:
    """Whether ``folder`` holds an encoder this module wrote."""
    return (Path(folder) / MANIFEST).is_file()


def exported_from(folder: str | Path) -> str | None:
    """The name of the encoder exported into ``folder`` (None: no export there)."""
    if not is_exported(folder):
        return None
    try:
        source = json.loads((Path(folder) / MANIFEST).read_text()).get("source")
    except (OSError, ValueError):
        return None
    return source if isinstance(source, str) else None


def _pooled(transformer: Any, pooling: str) -> Any:
    """The transformer, its pooling and normalisation as one module (for export)."""
    import torch
    from torch import nn

    class Pooled(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor | None = None,
        ) -> torch.Tensor:
            extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
            h = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, **extra
            ).last_hidden_state  # (B, T, D)
            if pooling == "cls":
                v = h[:, 0]
            else:
                mask = attention_mask.unsqueeze(-1).to(h.dtype)
                v = (h * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return nn.functional.normalize(v, dim=1)

    return Pooled().eval()


def export_text_encoder(
    name: str,
    folder: str | Path,
    *,
    precision: str = "float32",
    calibration: Sequence[str] = (),
    min_cosine: float = 0.99,
) -> dict[str, Any]:
    """Export the sentence-transformers encoder ``name`` (a name or a local folder; the
    default MiniLM from its package) into ``folder``; returns the manifest. In int8, given
    ``calibration`` texts (the catalog's, say), the products whose int8 inputs lose the most
    stay float32 until those texts' embeddings reach ``min_cosine`` to the float32 ones (see
    :func:`_calibrate_int8`; the manifest's ``calibration`` says what was kept)."""
    import logging
    import warnings

    from lmrec.onnx import export_module, quantize_int8
    from lmrec.text.encoder import get_encoder

    if precision not in ("float32", "int8"):
        raise UsageError(f"precision must be float32 or int8, not {precision!r}")
    if not 0.0 < min_cosine <= 1.0:
        raise UsageError(f"min_cosine must be in (0, 1], not {min_cosine}")
    encoder = get_encoder(name)
    st = getattr(encoder, "_model", None)
    if st is None:
        raise UsageError(f"text encoder '{name}' is not a sentence-transformers model")
    kinds = [type(m).__name__ for m in st]
    pooling = st[1].get_config_dict().get("pooling_mode") if len(st) > 1 else None
    if kinds[:2] != ["Transformer", "Pooling"] or pooling not in POOLINGS:
        raise UsageError(
            f"text encoder '{name}' ({' + '.join(kinds)}, pooling {pooling}) cannot be "
            f"exported: only a transformer with {' or '.join(POOLINGS)} pooling can"
        )
    tokenizer = st[0].tokenizer
    inputs = ["input_ids", "attention_mask"]
    if "token_type_ids" in tokenizer.model_input_names:
        inputs.append("token_type_ids")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    example = tokenizer(["an example text", "two"], padding=True, return_tensors="pt")
    module = _pooled(st[0].auto_model.cpu(), pooling)
    logging.getLogger("transformers").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export_module(
            module, [example[n] for n in inputs], out / "model.onnx", inputs,
            ["sentence_embedding"], dynamic_dims=(0, 1),
        )  # fmt: skip
    files = {"float32": "model.onnx"}
    if precision == "int8":
        quantize_int8(out / "model.onnx", out / "model.int8.onnx")
        files["int8"] = "model.int8.onnx"
    tokenizer.backend_tokenizer.save(str(out / "tokenizer.json"))
    manifest = {
        "format": "lmrec-text-onnx",
        "source": name,
        "dim": encoder.dim,
        "max_tokens": int(st.max_seq_length or 512),
        "pooling": pooling,
        "inputs": inputs,
        "files": files,
        "default": precision,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    if precision == "int8" and len(calibration):
        manifest["calibration"] = _calibrate_int8(out, manifest, calibration, min_cosine)
        (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


class OnnxTextEncoder:
    """The encoder exported into ``folder``, in ``precision`` (default: the one the export
    chose), on ``threads`` threads; texts are encoded ``batch_size`` at a time, longest
    first, each batch padded to its longest text."""

    def __init__(
        self,
        folder: str | Path,
        precision: str | None = None,
        *,
        batch_size: int = 64,
        threads: int = 1,
    ) -> None:
        from tokenizers import Tokenizer

        from lmrec.onnx import Session

        root = Path(folder)
        if not is_exported(root):
            raise UsageError(f"{root}: no exported text encoder ({MANIFEST} missing)")
        self.manifest = json.loads((root / MANIFEST).read_text())
        self.precision = precision or self.manifest["default"]
        file = self.manifest["files"].get(self.precision)
        if file is None:
            raise UsageError(f"{root}: no {self.precision} graph; export with that precision")
        self.name = f"{self.manifest['source']}@onnx-{self.precision}"
        self.dim = int(self.manifest["dim"])
        self.batch_size = batch_size
        self._session = Session(root / file, threads=threads)
        self._tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
        self._tokenizer.enable_truncation(int(self.manifest["max_tokens"]))
        self._tokenizer.no_padding()

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> FloatArray:
        return self.run(self.batches(texts), len(texts), progress=progress)

    def run(
        self,
        batches: list[tuple[np.ndarray, dict[str, np.ndarray]]],
        n: int,
        *,
        progress: bool = False,
    ) -> FloatArray:
        """The embeddings (n, dim) of the ``n`` texts that :meth:`batches` made ``batches``
        of (the same tokenizer's, so another precision's encoder can run them)."""
        out = np.zeros((n, self.dim), dtype=np.float32)
        for rows, feeds in track(batches, "encode texts (ONNX batches)", enabled=progress):
            (out[rows],) = self._session.run(**feeds)
        return out

    def batches(self, texts: Sequence[str]) -> list[tuple[np.ndarray, dict[str, np.ndarray]]]:
        """The graph's inputs for ``texts``, ``batch_size`` at a time, longest first: (the
        texts' positions, the feeds) per batch, each padded to its longest text."""
        encoded = self._tokenizer.encode_batch(list(texts))
        order = np.argsort([-len(e.ids) for e in encoded], kind="stable")
        out = []
        for start in range(0, len(encoded), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = max(len(encoded[r].ids) for r in rows)
            feeds = {n: np.zeros((len(rows), width), dtype=np.int64) for n in ("input_ids",
                     "attention_mask", "token_type_ids")}  # fmt: skip
            for i, r in enumerate(rows):
                e = encoded[r]
                n = len(e.ids)
                feeds["input_ids"][i, :n] = e.ids
                feeds["attention_mask"][i, :n] = e.attention_mask
                feeds["token_type_ids"][i, :n] = e.type_ids
            out.append((rows, {k: v for k, v in feeds.items() if k in self._session.inputs}))
        return out


def calibration_sample(texts: Sequence[object], n: int = 512, seed: int = 0) -> list[str]:
    """Up to ``n`` of the non-empty strings among ``texts``, drawn at random (seeded), in
    their order: calibration texts for :func:`export_text_encoder`."""
    kept = [t for t in texts if isinstance(t, str) and t]
    if len(kept) <= n:
        return kept
    pick = np.sort(np.random.default_rng(seed).choice(len(kept), n, replace=False))
    return [kept[i] for i in pick]


def _calibrate_int8(
    folder: Path, manifest: dict[str, Any], texts: Sequence[str], min_cosine: float
) -> dict[str, Any]:
    """Rewrite ``folder``'s int8 graph keeping in float32 the fewest products, those whose
    inputs :func:`lmrec.onnx.input_outliers` ranks worst on ``texts``, until every text's int8
    embedding has at least ``min_cosine`` to its float32 one (at most a quarter of the
    products are kept); returns what was kept and reached, for the manifest."""
    from lmrec.onnx import input_outliers, quantize_int8

    reference = OnnxTextEncoder(folder, "float32")
    batches = reference.batches(texts)  # tokenized once, run by both precisions
    ref = reference.run(batches, len(texts))
    ratios = input_outliers(folder / "model.onnx", (f for _, f in batches))
    ranked = sorted(ratios, key=lambda n: -ratios[n])
    kept: list[str] = []
    while True:
        int8 = OnnxTextEncoder(folder, "int8").run(batches, len(texts))
        cosine = float((int8 * ref).sum(axis=1).min())
        if cosine >= min_cosine or len(kept) >= len(ranked) // 4:
            break
        kept.append(ranked[len(kept)])
        quantize_int8(folder / "model.onnx", folder / manifest["files"]["int8"], keep_nodes=kept)
    return {"texts": len(texts), "min_cosine": round(cosine, 4), "float_products": kept}
