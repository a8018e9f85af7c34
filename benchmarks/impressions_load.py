"""What recording every served list costs under load: `lmrec serve` with `--no-impressions`
against the default (each list queued in memory, written by a background thread in batches),
alternating, the same artifacts and load generator as service_load.py.

    .venv/bin/python benchmarks/impressions_load.py --artifacts DIR [--runs 3]

Without --artifacts it trains the sequential model on MovieLens 100K (60 s budget) first.
Writes the "Service: what recording served lists costs" section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import signal
import statistics
import sys
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
from common import machine, write_section  # noqa: E402
from service_load import _free_port, fixed_rate, start_server, train  # noqa: E402

HEADING = "## Service: what recording served lists costs"


def one_run(art: Path, out: Path, rates: list[int], seconds: float, *flags: str) -> dict[str, Any]:
    store = out / "store.db"
    for suffix in ("", "-wal", "-shm", ".writelock"):
        Path(f"{store}{suffix}").unlink(missing_ok=True)
    port = _free_port()
    proc = start_server(art, store, port, "--no-access-log", *flags)
    try:
        for _ in range(300):  # warm-up: every user's reasons cached once
            httpx.post(
                f"http://127.0.0.1:{port}/v1/recommendations", json={"user_id": "1", "k": 10}
            )
        users = [str(u) for u in range(1, 944)]
        asyncio.run(fixed_rate(port, 50, seconds, users))  # the first pass over the users
        rows = [asyncio.run(fixed_rate(port, r, seconds, users)) for r in rates]
        lists = None
        if not flags:
            m = httpx.get(f"http://127.0.0.1:{port}/v1/metrics/online").json()
            lists = m["lists"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    held = [r["rate"] for r in rows
            if r["errors"] == 0 and r["achieved_rps"] >= 0.95 * r["rate"] and r["p99_ms"] <= 20]  # fmt: skip
    return {"rows": rows, "held": max(held) if held else 0,
            "top": max(r["achieved_rps"] for r in rows), "lists": lists}  # fmt: skip


def in_process(art: Path, out: Path, blocks: int = 8, per_block: int = 500) -> dict[str, float]:
    """Median microseconds of one ``Engine.serve`` with and without the record of served
    lists, in alternating blocks over the same users (reasons cached first)."""
    import time

    import torch

    from lmrec.online import Request, ServingOptions
    from lmrec.service.engine import Engine
    from lmrec.service.impressions import ImpressionLog
    from lmrec.service.store import open_store

    torch.set_num_threads(1)
    store = open_store(f"sqlite:///{out / 'inproc.db'}")
    log = ImpressionLog(store)
    engines = {
        "off": Engine(art, store, options=ServingOptions(text_encoder=None)),
        "on": Engine(art, store, options=ServingOptions(text_encoder=None), log=log),
    }
    users = [str(u) for u in range(1, per_block + 1)]
    for e in engines.values():
        for u in users:
            e.serve(Request(u, 10))
    times: dict[str, list[float]] = {"off": [], "on": []}
    for b in range(blocks):
        order = list(engines.items())
        for name, e in order if b % 2 == 0 else order[::-1]:  # ABBA: neither always first
            for u in users:
                t0 = time.perf_counter()
                e.serve(Request(u, 10))
                times[name].append((time.perf_counter() - t0) * 1e6)
    log.close()
    store.close()
    return {name: statistics.median(v) for name, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--artifacts", type=Path, default=None)
    ap.add_argument("--ml100k", type=Path, default=Path("../shared/data/ml-100k"))
    ap.add_argument("--out", type=Path, default=HERE / "out" / "impressions")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rates", default="40,60,80,100,150,200")
    ap.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    art = args.artifacts or train(args.out / "artifacts", args.ml100k)
    rates = [int(r) for r in args.rates.split(",")]
    results: dict[str, list[dict[str, Any]]] = {"off": [], "on": []}
    for run in range(args.runs):
        for name, flags in (("off", ("--no-impressions",)), ("on", ())):
            res = one_run(art, args.out, rates, args.seconds, *flags)
            print(run, name, res["held"], res["top"], res["lists"], flush=True)
            results[name].append(res)
    micro = in_process(art, args.out)
    print(micro, flush=True)
    med = {n: (statistics.median(r["held"] for r in rs), statistics.median(r["top"] for r in rs))
           for n, rs in results.items()}  # fmt: skip
    lines = [
        HEADING, "",
        f"Date: {dt.date.today().isoformat()}. Machine: {machine()}. One uvicorn worker; the "
        "load generator of service_load.py on the same 2 cores; sequential model, MovieLens 100K.",
        f"Command: `.venv/bin/python benchmarks/impressions_load.py {' '.join(sys.argv[1:])}` "
        "(artifacts: the sequential model this script, like service_load.py, trains without "
        "--artifacts, 60 s budget).",
        "",
        f"{args.runs} runs each, alternating; {args.seconds:g} s per offered rate. Held: the "
        "highest offered rate with no error, >= 95% of it achieved and p99 <= 20 ms.",
        "",
        "| served lists | held req/s, per run | median held | top achieved req/s, per run | "
        "median top |",
        "|---|---|---|---|---|",
    ]  # fmt: skip
    for name, label in (("off", "not recorded (`--no-impressions`)"), ("on", "recorded (default)")):
        rs = results[name]
        lines.append(
            f"| {label} | {', '.join(str(r['held']) for r in rs)} | {med[name][0]:g} | "
            f"{', '.join(str(r['top']) for r in rs)} | {med[name][1]:g} |"
        )
    change_held = med["on"][0] / med["off"][0] - 1 if med["off"][0] else float("nan")
    change_top = med["on"][1] / med["off"][1] - 1
    recorded = [r["lists"] for r in results["on"]]
    sent = 300 + int(50 * args.seconds) + sum(int(r * args.seconds) for r in rates)
    lines += [
        "",
        f"Recording served lists changes the held rate by {change_held:+.0%} and the top "
        f"throughput by {change_top:+.0%} (target: at most -10%). Lists recorded per run, read "
        f"back from `GET /v1/metrics/online`: {recorded}, of {sent} requests sent.",
        "",
        f"In process (`Engine.serve`, one thread, alternating blocks of 500 users): median "
        f"{micro['off']:.0f} us without the record, {micro['on']:.0f} us with it "
        f"({micro['on'] / micro['off'] - 1:+.1%}); the writes happen on the log's own thread.",
        "",
    ]
    write_section(args.results, HEADING, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
