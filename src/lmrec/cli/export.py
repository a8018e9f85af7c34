"""``lmrec export``: write saved models in a serving format beside the artifacts."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from lmrec.cli._common import console


class Format(StrEnum):
    onnx = "onnx"


class Precision(StrEnum):
    float32 = "float32"
    int8 = "int8"


def export(
    artifacts: Path = typer.Argument(..., help="An artifacts folder (lmrec train)."),
    format: Format = typer.Option(Format.onnx, "--format", help="What to write: onnx."),
    precision: Precision = typer.Option(
        Precision.float32,
        "--precision",
        help="int8: also write int8 graphs (weights in int8, activations quantized per call) "
        "and score with them by default; float32 graphs are always written.",
    ),
    model: str | None = typer.Option(
        None, "--model", "-m", help="Which saved model (default: every one that can be)."
    ),
    text_encoder: str = typer.Option(
        "all-MiniLM-L6-v2",
        "--text-encoder",
        help="Also export this sentence encoder (the service's encoder of queries and new "
        "items) into ARTIFACTS/text-encoder/; 'none': do not.",
    ),
) -> None:
    """Write each neural model's scoring path as ONNX graphs into its folder (MODEL/onnx/),
    and the text encoder into text-encoder/; 'lmrec recommend' and 'lmrec serve' then score
    and encode with ONNX Runtime (--runtime auto)."""
    from lmrec.artifacts import Artifacts
    from lmrec.errors import UsageError
    from lmrec.online.version import TEXT_ENCODER_DIR

    ranking = (artifacts / "manifest.json").is_file()
    ctr = (artifacts / "ctr" / "manifest.json").is_file()
    if not ranking and not ctr:
        Artifacts.open(artifacts)  # the error that names what is missing
    saved: dict[str, Path] = {}  # model name -> its folder
    if ranking:
        saved |= {n: artifacts / n for n in Artifacts.open(artifacts).manifest["models"]}
    if ctr:
        ctr_names = json.loads((artifacts / "ctr" / "manifest.json").read_text())["models"]
        saved |= {n: artifacts / "ctr" / "models" / n for n in ctr_names}
    if model is not None:
        if model not in saved:
            raise UsageError(f"no model '{model}' in {artifacts}; it has: {', '.join(saved)}")
        saved = {model: saved[model]}
    done = _export_each(saved, precision.value, asked=model is not None)
    if text_encoder != "none":
        from lmrec.text.onnx_encoder import export_text_encoder

        with console.status(f"exporting text encoder {text_encoder}"):
            manifest = export_text_encoder(
                text_encoder,
                artifacts / TEXT_ENCODER_DIR,
                precision=precision.value,
                calibration=_calibration_texts(artifacts) if ranking else (),
            )
        files = ", ".join(sorted(manifest["files"].values()))
        console.print(f"text encoder {text_encoder}: {files} in {artifacts / TEXT_ENCODER_DIR}")
        if "calibration" in manifest:
            c = manifest["calibration"]
            console.print(
                f"  int8 on {c['texts']} catalog texts: cosine to float32 at least "
                f"{c['min_cosine']:.4f}, {len(c['float_products'])} products kept in float32"
            )
    if not done and text_encoder == "none":
        raise UsageError(
            f"{artifacts}: none of its models has an ONNX export; sequential, deepfm and dcn do"
        )


def _calibration_texts(artifacts: Path) -> list[str]:
    """A sample of the catalog's item texts: what the int8 text encoder is checked against."""
    import polars as pl

    from lmrec.text.onnx_encoder import calibration_sample

    items = pl.read_parquet(artifacts / "items.parquet")
    return calibration_sample(items["text"].to_list()) if "text" in items.columns else []


def _export_each(saved: dict[str, Path], precision: str, *, asked: bool) -> list[str]:
    """Export every model saved in ``saved`` (name -> folder) that can be; an ``asked`` one
    must be."""
    from lmrec.ctr.base import CTRModel
    from lmrec.errors import UsageError
    from lmrec.models.base import Recommender

    done = []
    for name, folder in saved.items():
        ctr = folder.parent.name == "models" and folder.parent.parent.name == "ctr"
        loaded: Any = CTRModel.load(folder) if ctr else Recommender.load(folder)
        exporter = getattr(loaded, "export_onnx", None)
        if not callable(exporter):
            if asked:
                raise UsageError(f"model '{name}' ({loaded.name}) has no ONNX export")
            continue
        with console.status(f"exporting {name}"):
            graphs = exporter(precision=precision)
        written = sorted({f for part in graphs["files"].values() for f in part.values()})
        console.print(f"{name}: {', '.join(written)} in {folder / 'onnx'}")
        done.append(name)
        if isinstance(loaded, Recommender):
            _write_reason_states(name, loaded, folder)
    return done


def _write_reason_states(name: str, model: Any, folder: Path) -> None:
    """The occlusion states of every training user (:mod:`lmrec.explain.states`), with the
    runtime just exported, so that the service explains a user's first list without
    encoding their history again."""
    from lmrec.explain.states import has_reason_states, write_reason_states
    from lmrec.progress import task

    if not has_reason_states(model):
        return
    with task(f"reason states of {name}", model.n_users_) as row:
        done = [0]

        def advance(users: int, _: int) -> None:
            row.advance(users - done[0])
            done[0] = users

        path = write_reason_states(model, folder, progress=advance)
    console.print(f"{name}: {path.name} ({model.n_users_} users) in {folder}")
