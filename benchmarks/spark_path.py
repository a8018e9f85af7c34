"""The Spark path against the single-machine path.

    .venv/bin/python benchmarks/spark_path.py --only ml100k
    .venv/bin/python benchmarks/spark_path.py --only scale --sizes 1000000,10000000
    sudo .venv/bin/python benchmarks/spark_path.py --only scale --sizes 10000000 --memory-cap 2500

ml100k: MovieLens 100K through ``lmrec data split`` on both engines (compared row for row),
ALS trained by ``implicit`` and by Spark MLlib (NDCG@10 with its standard error, on the test
actions), and every user's top 10 scored on Spark against one machine for ``ease`` and the
sequential model (share of users whose lists are identical).

scale: synthetic interactions (``lmrec.data.skewed``: power-law popularity, sessions) at each
size; split (leave-one-out), ALS and batch scoring of every user, each step as its ``lmrec``
command in a process of its own, timed, with the peak memory of its process tree (the JVM
included) sampled every 0.2 s; a plot of time and memory against size. With
``--memory-cap MB`` every step runs in a memory cgroup of that size (a smaller machine: Linux
kills the step when its processes need more; it needs the right to create cgroups), and the
section says which path completes.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import machine, write_section  # noqa: E402

ROOT = HERE.parent
ML100K = ROOT.parent / "shared" / "data" / "ml-100k"
LMREC = [sys.executable, "-c", "from lmrec.cli import main; main()"]


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
        todo.extend(children.get(p, []))
    return total


class MemoryCap:
    """A memory cgroup (v1 ``memory`` or v2 ``memory.max``, no swap) that each step's process
    joins before it starts; its processes are killed when together they need more."""

    def __init__(self, mb: int) -> None:
        v1, v2 = Path("/sys/fs/cgroup/memory"), Path("/sys/fs/cgroup")
        name = f"lmrec-bench-{os.getpid()}"
        limit = str(mb * 2**20)
        self.mb = mb
        try:
            if (v2 / "cgroup.controllers").is_file():
                self.group = v2 / name
                self.group.mkdir(exist_ok=True)
                (self.group / "memory.max").write_text(limit)
                (self.group / "memory.swap.max").write_text("0")
                self.events = self.group / "memory.events"
            else:
                self.group = v1 / name
                self.group.mkdir(exist_ok=True)
                (self.group / "memory.limit_in_bytes").write_text(limit)
                swap = self.group / "memory.memsw.limit_in_bytes"
                if swap.is_file():
                    swap.write_text(limit)
                self.events = self.group / "memory.oom_control"
        except OSError as exc:
            sys.exit(f"--memory-cap needs a memory cgroup it may create ({exc})")

    def join(self) -> None:
        """Run in the child before it executes the step: move it into the group."""
        (self.group / "cgroup.procs").write_text(str(os.getpid()))

    def kills(self) -> int:
        for line in self.events.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def close(self) -> None:
        with contextlib.suppress(OSError):  # a process still in it: left for the system
            self.group.rmdir()


def run_step(args: list[str], timeout: float, cap: MemoryCap | None = None) -> dict[str, Any]:
    """One ``lmrec`` command: seconds, peak MB of its process tree, exit code."""
    start = time.perf_counter()
    killed = cap.kills() if cap is not None else 0
    proc = subprocess.Popen([*LMREC, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=cap.join if cap is not None else None)  # fmt: skip
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            time.sleep(0.2)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    try:
        _, err = proc.communicate(timeout=timeout)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        code = "timeout"
    watcher.join()
    tail = err.decode(errors="replace").strip().splitlines()[-1:] if code != 0 else []
    if code == "timeout":
        tail = [f"over the {timeout:.0f} s step limit"]
    elif cap is not None and cap.kills() > killed:
        tail = [f"killed at the {cap.mb:,} MB memory cap"]
    return {"s": round(time.perf_counter() - start, 1), "peak_mb": round(peak[0] / 2**20),
            "code": code, "error": tail[0] if tail else ""}  # fmt: skip


def ml100k(out: Path) -> str:
    from lmrec.artifacts import Artifacts, save_artifacts
    from lmrec.batch import batch_recommend
    from lmrec.data import Dataset, Split, read_movielens_100k, split_dataset
    from lmrec.evaluation import prepare
    from lmrec.evaluation.collect import accuracy_per_user
    from lmrec.models.registry import create_model
    from lmrec.spark import recommend_on_spark, spark_session, train_on_spark
    from lmrec.spark.split import split_on_spark

    out.mkdir(parents=True, exist_ok=True)
    read_movielens_100k(ML100K).save(out / "ml100k")
    spark = spark_session()
    lines = []
    t = time.perf_counter()
    split_on_spark(spark, out / "ml100k", out / "split-spark", "loo")
    spark_split_s = time.perf_counter() - t
    t = time.perf_counter()
    local = split_dataset(Dataset.load(out / "ml100k"), "loo")
    local_split_s = time.perf_counter() - t
    local.save(out / "split-local")
    got = Split.load(out / "split-spark")
    same = {n: getattr(got, n).equals(getattr(local, n)) for n in ("train", "valid", "test")}
    lines.append(
        f"- split (leave-one-out): train/valid/test identical row for row: {same} "
        f"({local.train.height:,} / {local.valid.height:,} / {local.test.height:,} rows); "
        f"{spark_split_s:.1f} s on Spark, {local_split_s:.2f} s on one machine."
    )
    data = prepare(local)
    rows = []
    params = {"embedding_size": 64, "reg": 0.05, "alpha": 1.0, "epochs": 15}
    for engine in ("implicit", "spark"):
        t = time.perf_counter()
        model = (
            create_model("als", **params).fit(data.train_valid) if engine == "implicit"
            else train_on_spark(spark, "als", params, data.train_valid)
        )  # fmt: skip
        fit_s = time.perf_counter() - t
        recs, _ = model.recommend(data.test_users, 10)
        nd = accuracy_per_user(recs, data.test_truth, 10)["NDCG@10"]
        rows.append((engine, float(nd.mean()), float(nd.std(ddof=1) / np.sqrt(len(nd))), fit_s))
    lines += ["", "| ALS | NDCG@10 ± SE | fit s |", "|---|---|---|"]
    lines += [f"| {e} | {m:.4f} ± {se:.4f} | {s:.1f} |" for e, m, se, s in rows]
    gap = rows[1][1] - rows[0][1]
    lines.append(f"\n- Spark - implicit = {gap:+.4f} NDCG@10 ({gap / rows[0][2]:+.1f} standard errors "
                 f"of the implicit line); settings {json.dumps(params)} on both.")  # fmt: skip
    # batch lists: ease trained here, sequential from the ONNX benchmark's artifacts
    art = save_artifacts(out / "art-ease", {"ease": create_model("ease").fit(data.train_valid)},
                         data.train_valid)  # fmt: skip
    seq = HERE / "out" / "onnx" / "artifacts"
    lines += ["", "| model | users | identical top-10 lists | Spark s | one machine s |",
              "|---|---|---|---|---|"]  # fmt: skip
    for name, folder in (("ease", art), ("sequential", seq)):
        if not (folder / "manifest.json").is_file():
            lines.append(f"| {name} | not run: no artifacts at {folder} | | | |")
            continue
        t = time.perf_counter()
        recommend_on_spark(spark, folder, out / f"spark-{name}.parquet", model=name, k=10,
                           reasons=False, runtime="torch")  # fmt: skip
        spark_s = time.perf_counter() - t
        t = time.perf_counter()
        batch_recommend(folder, out / f"local-{name}.parquet", model=name, k=10, reasons=False,
                        runtime="torch", progress=False)  # fmt: skip
        local_s = time.perf_counter() - t
        a = (
            pl.read_parquet(out / f"spark-{name}.parquet")
            .group_by("user_id")
            .agg(pl.col("item_id").sort_by("rank"))
        )
        b = pl.read_parquet(out / f"local-{name}.parquet").group_by("user_id").agg(
            pl.col("item_id").sort_by("rank"))  # fmt: skip
        joined = a.join(b, on="user_id", suffix="_local")
        equal = (joined["item_id"] == joined["item_id_local"]).mean()
        n = len(Artifacts.open(folder).user_vocab)
        lines.append(f"| {name} | {n:,} | {equal:.1%} | {spark_s:.1f} | {local_s:.1f} |")
    return "\n".join(lines)


def scale(
    out: Path, sizes: list[int], engines: list[str], timeout: float, cap: MemoryCap | None = None
) -> str:
    from lmrec.data.skewed import skewed_dataset

    saved = out / ("scale.json" if cap is None else f"scale-cap{cap.mb}.json")
    # rows measured before stay unless this run measures the same size on the same engine
    results: list[dict[str, Any]] = [
        r
        for r in (json.loads(saved.read_text()) if saved.is_file() else [])
        if r["size"] not in sizes or r["engine"] not in engines
    ]
    for size in sizes:
        folder = out / f"d{size}"
        if not (folder / "dataset.json").is_file():
            skewed_dataset(size, seed=0).save(folder)
        stats = json.loads((folder / "dataset.json").read_text())
        for engine in engines:
            base = out / (f"{engine}-{size}" if cap is None else f"{engine}-{size}-cap{cap.mb}")
            extra = ["--engine", engine]
            steps = [
                ("split", ["data", "split", str(folder), "--protocol", "loo", "--out", str(base / "split"), *extra]),
                ("als", ["train", str(base / "split"), "--models", "als", "--out", str(base / "art"), *extra]),
                ("score", ["recommend", str(base / "art"), "--model", "als", "--users", "all", "--k", "10",
                           "--no-reasons", "--out", str(base / "recs.parquet"), *extra]),
            ]  # fmt: skip
            row: dict[str, Any] = {"size": size, "engine": engine}
            for name, args in steps:
                r = run_step(args, timeout, cap)
                row[name] = r
                print(size, engine, name, r, flush=True)
                if r["code"] != 0:
                    break
            results.append(row)
        del stats
    results.sort(key=lambda r: (r["size"], r["engine"]))
    saved.write_text(json.dumps(results, indent=2) + "\n")
    return report(results, plot=cap is None)


def report(results: list[dict[str, Any]], *, plot: bool = True) -> str:
    """The table of every size and engine measured (and the plot)."""
    if plot:
        _plot(results, HERE / "plots" / "spark_scale.png")
    lines = ["| interactions | engine | split s | split peak MB | ALS s | ALS peak MB | score s | score peak MB | done |",
             "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for row in results:
        cells = []
        for step in ("split", "als", "score"):
            r = row.get(step)
            cells += [str(r["s"]), str(r["peak_mb"])] if r else ["", ""]
        failed = [f"{s}: {row[s]['code']} {row[s]['error']}".strip() for s in ("split", "als", "score")
                  if s in row and row[s]["code"] != 0]  # fmt: skip
        done = "yes" if not failed and "score" in row else ("no (" + "; ".join(failed) + ")")
        lines.append(f"| {row['size']:,} | {row['engine']} | " + " | ".join(cells) + f" | {done} |")
    if plot:
        lines.append("\n![cost against size](plots/spark_scale.png)")
    return "\n".join(lines)


def _plot(results: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for engine in sorted({r["engine"] for r in results}):
        rows = [
            r for r in results if r["engine"] == engine and "score" in r and r["score"]["code"] == 0
        ]
        if not rows:
            continue
        x = [r["size"] for r in rows]
        left.plot(
            x, [sum(r[s]["s"] for s in ("split", "als", "score")) for r in rows], "o-", label=engine
        )
        right.plot(
            x,
            [max(r[s]["peak_mb"] for s in ("split", "als", "score")) for r in rows],
            "o-",
            label=engine,
        )
    for ax, label in ((left, "split + ALS + scoring, s"), (right, "peak memory of a step, MB")):
        ax.set_xscale("log")
        ax.set_xlabel("interactions")
        ax.set_ylabel(label)
        ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["ml100k", "scale"], required=True)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "spark")
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--engines", default="local,spark")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds a step may take")
    parser.add_argument("--memory-cap", type=int, help="MB: run each step in a cgroup this size")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    date = dt.date.today().isoformat()
    if args.only == "ml100k":
        body = ml100k(args.out / "ml100k")
        heading = "## Spark path on MovieLens 100K"
        command = "`.venv/bin/python benchmarks/spark_path.py --only ml100k`"
    else:
        sizes = [int(s) for s in args.sizes.split(",")]
        cap = MemoryCap(args.memory_cap) if args.memory_cap else None
        try:
            body = scale(args.out / "scale", sizes, args.engines.split(","), args.timeout, cap)
        finally:
            if cap is not None:
                cap.close()
        heading = "## Spark path at scale" if cap is None else "## Spark path under a memory cap"
        command = f"`.venv/bin/python benchmarks/spark_path.py --only scale --sizes {args.sizes}"
        command += f" --memory-cap {cap.mb}`" if cap is not None else "`"
    spark_mem = os.environ.get("LMREC_SPARK_DRIVER_MEMORY", "4g")
    section = (
        f"{heading}\n\nDate: {date}. Machine: {machine()}; Spark local[2], driver memory "
        f"{spark_mem}.\nCommand: {command}\n\n{body}\n"
    )
    write_section(args.results, heading, section)


if __name__ == "__main__":
    main()
