"""Load on ``lmrec serve`` over loopback: recommendation latency at fixed request rates, and
durable event ingestion (batches of 100, and single events).

    .venv/bin/python benchmarks/service_load.py [--artifacts DIR] [--seconds 10]

Without --artifacts it trains the sequential model on MovieLens 100K (60 s budget) first and
exports it (``lmrec export``: ONNX graphs, the text encoder, each training user's reasons).
The load generator (asyncio streams over 64 keep-alive connections, open loop: requests are due
on schedule whether or not the earlier ones have finished, and latency counts from when they
were due) runs on the same machine as the server; event ingestion uses the same client, each event with a new id. Writes the "Service"
section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

HERE = Path(__file__).resolve().parent
from common import machine, write_section  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def train(out: Path, ml100k: Path) -> Path:
    """The sequential model on MovieLens 100K (60 s budget), saved and exported as a user
    serving it would: ``lmrec export`` (ONNX graphs, the text encoder, reasons ahead)."""
    from lmrec.artifacts import save_artifacts
    from lmrec.data import read_movielens_100k, split_loo
    from lmrec.evaluation import prepare
    from lmrec.models.seq.model import SequentialRecommender

    data = prepare(split_loo(read_movielens_100k(ml100k))).train_valid
    model = SequentialRecommender(time_budget_s=60).fit(data)
    art = save_artifacts(out, {"sequential": model}, data)
    export = [sys.executable, "-c", "from lmrec.cli import main; main()", "export", str(art)]
    subprocess.run(export, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    return art


def start_server(
    art: Path, store: Path, port: int, *extra: str, workers: int = 1
) -> subprocess.Popen[bytes]:
    """``lmrec serve`` without API keys, once ``workers`` distinct worker processes answer
    /readyz (at most 2 minutes): connections opened earlier would all go to the first."""
    cmd = [sys.executable, "-c", "from lmrec.cli import main; main()", "serve", str(art),
           "--store", f"sqlite:///{store}", "--port", str(port), "--no-auth",
           "--workers", str(workers), *extra]  # fmt: skip
    env = {**os.environ, "LMREC_API_KEYS": ""}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ready: set[int] = set()
    deadline = time.monotonic() + 120
    while len(ready) < workers and time.monotonic() < deadline:
        try:  # a new connection each time, so that any worker may answer
            answer = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
            if answer.status_code == 200:
                ready.add(answer.json().get("worker", 0))  # older servers: one
            else:
                time.sleep(0.2)
        except httpx.TransportError:
            time.sleep(0.2)
    return proc


class Server:
    """``lmrec serve`` over ``art`` with a store of its own at ``store`` (emptied first)."""

    def __init__(self, art: Path, store: Path, workers: int, extra: list[str]) -> None:
        self.art, self.store, self.workers, self.extra = art, store, workers, extra
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.store}{suffix}").unlink(missing_ok=True)
        self.port = _free_port()
        self.proc = start_server(self.art, self.store, self.port, *self.extra, workers=self.workers)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


class _Conn:
    """One keep-alive HTTP/1.1 connection over asyncio streams: a client far cheaper than
    httpx, so that on a shared 2-core machine the measurement is of the server."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> _Conn:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def post(self, path: str, body: bytes) -> int:
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        await self.reader.readexactly(length)
        return status


async def fixed_rate(
    port: int, rate: int, seconds: float, users: list[str], *, interactions: bool = False
) -> dict[str, Any]:
    """Open loop: request i is due at t0 + i / rate and its latency counts from then, also
    when it had to wait for a free connection. With ``interactions``, each is a real-time
    interaction: an event of the user (a new item id each time), then a fresh list for them,
    the latency running until the list has come."""
    pool: asyncio.Queue[_Conn] = asyncio.Queue()
    for _ in range(64):
        pool.put_nowait(await _Conn.open(port))
    latencies: list[float] = []
    errors = 0

    async def one(i: int, due: float) -> None:
        nonlocal errors
        conn = await pool.get()
        user = users[i % len(users)]
        body = json.dumps({"user_id": user, "k": 10}).encode()
        try:
            if interactions:
                event = {"user_id": user, "item_id": f"{(i * 7) % 1682 + 1}", "type": "view",
                         "event_id": f"rt-{rate}-{i}"}  # fmt: skip
                if await conn.post("/v1/events", json.dumps({"events": [event]}).encode()) != 200:
                    errors += 1
            if await conn.post("/v1/recommendations", body) != 200:
                errors += 1
            pool.put_nowait(conn)
        except (OSError, asyncio.IncompleteReadError):
            errors += 1
            pool.put_nowait(await _Conn.open(port))
        latencies.append(time.perf_counter() - due)

    tasks = []
    t0 = time.perf_counter()
    n = int(rate * seconds)
    for i in range(n):
        due = t0 + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - t0
    while not pool.empty():
        pool.get_nowait().writer.close()
    ms = np.array(latencies) * 1000
    return {
        "rate": rate,
        "achieved_rps": round(n / wall, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "errors": errors,
    }


async def ingest(port: int, batch: int, seconds: float, workers: int) -> dict[str, Any]:
    """``workers`` clients post batches of ``batch`` new events (ids unique across runs) as
    fast as the server acknowledges them."""
    sent = 0
    errors = 0
    stop = time.perf_counter() + seconds

    async def worker(w: int) -> None:
        nonlocal sent, errors
        conn = await _Conn.open(port)
        n = 0
        while time.perf_counter() < stop:
            events = [
                {"user_id": f"{(w * 7 + n + j) % 943 + 1}", "item_id": f"{(n + j) % 1682 + 1}",
                 "type": "view", "event_id": f"b{batch}-w{w}-{n + j}"}
                for j in range(batch)
            ]  # fmt: skip
            status = await conn.post("/v1/events", json.dumps({"events": events}).encode())
            if status == 200:
                sent += batch
            else:
                errors += 1
            n += batch
        conn.writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(workers)))
    wall = time.perf_counter() - start
    return {
        "batch": batch,
        "workers": workers,
        "events_per_second": round(sent / wall),
        "requests_per_second": round(sent / batch / wall),
        "errors": errors,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--artifacts", type=Path, default=None)
    ap.add_argument("--ml100k", type=Path, default=Path("../shared/data/ml-100k"))
    ap.add_argument("--out", type=Path, default=HERE / "out" / "service")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rates", default="100,200,300,400,500")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--runtime", choices=["auto", "torch", "onnx"], default="auto")
    ap.add_argument(
        "--no-warmup",
        action="store_true",
        help="measure from a fresh start: no warm-up pass, each user's first list counts",
    )
    ap.add_argument(
        "--interaction-rates",
        default="",
        help="also offer real-time interactions (an event, then a fresh list) at these rates",
    )
    ap.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = ap.parse_args()
    art = args.artifacts or train(args.out / "artifacts", args.ml100k)
    store = args.out / "store.db"
    server = Server(art, store, args.workers, ["--runtime", args.runtime])
    users = [str(u) for u in range(1, 944)]
    rec_rows, interaction_rows = [], []
    try:
        server.start()
        if not args.no_warmup:  # the code paths loaded, every worker, one user only
            for _ in range(200 * args.workers):
                httpx.post(f"{server.base}/v1/recommendations", json={"user_id": "1", "k": 10})
        plan = [(int(r), False) for r in args.rates.split(",")]
        plan += [(int(r), True) for r in args.interaction_rates.split(",") if r]
        for i, (rate, interactions) in enumerate(plan):
            if args.no_warmup and i > 0:  # each rate from a fresh start: a new server and store
                server.restart()
            row = asyncio.run(
                fixed_rate(server.port, rate, args.seconds, users, interactions=interactions)
            )
            print("interactions" if interactions else "lists", row, flush=True)
            (interaction_rows if interactions else rec_rows).append(row)
        batches = asyncio.run(ingest(server.port, 100, args.seconds, 4))
        print(batches, flush=True)
        singles = asyncio.run(ingest(server.port, 1, args.seconds, 16))
        print(singles, flush=True)
    finally:
        server.stop()
    held = [
        r
        for r in rec_rows
        if r["errors"] == 0 and r["achieved_rps"] >= 0.95 * r["rate"] and r["p99_ms"] <= 20
    ]
    held_rt = [
        r
        for r in interaction_rows
        if r["errors"] == 0 and r["achieved_rps"] >= 0.95 * r["rate"] and r["p99_ms"] <= 30
    ]
    start_note = (
        "from a fresh start (no warm-up: each user's first list, which computes its reasons, "
        "counts)" + ", a new server and store for each rate"
        if args.no_warmup
        else "after a warm-up of 200 requests for one user per worker"
    )
    lines = [
        f"## Service under load{', fresh start' if args.no_warmup else ''}, {args.workers} "
        f"worker{'s' if args.workers > 1 else ''}, runtime {args.runtime} "
        "(lmrec serve, sequential model, MovieLens 100K)",
        "",
        f"Date: {dt.date.today().isoformat()}. Machine: {machine()}. {args.workers} uvicorn "
        "worker(s); the "
        "load generator (asyncio streams, 64 keep-alive connections, open loop: latency counts "
        "from when a request was due) runs on the same 2 cores.",
        f"Command: `.venv/bin/python benchmarks/service_load.py {' '.join(sys.argv[1:])}`"
        " (artifacts: the sequential model this script trains without --artifacts, 60 s "
        f"budget, and `lmrec export`s); `lmrec serve --runtime {args.runtime}`, measured "
        f"{start_note}.",
        "",
        "`POST /v1/recommendations` (k = 10, users cycling over all 943; each request reads the "
        "user's events and profile edits from SQLite, re-encodes the sequence, and gives every "
        "item a reason measured on the model: the drop in its score without each of the 5 "
        "latest items, from the states `lmrec export` computed for each training history, or "
        "re-encoded on request for a history that changed since training); reasons are cached "
        "per user history"
        + (
            ", and every rate starts with an empty cache:"
            if args.no_warmup
            else ", so the first rate, the first pass over the users, pays for them and later "
            "rates reuse them):"
        ),
        "",
        "| offered req/s | achieved req/s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|",
        *(
            f"| {r['rate']} | {r['achieved_rps']} | {r['p50_ms']} | {r['p95_ms']} | "
            f"{r['p99_ms']} | {r['errors']} |"
            for r in rec_rows
        ),
        "",
        f"- highest offered rate held with no error and p99 <= 20 ms: "
        f"{max((r['rate'] for r in held), default=0)} req/s (target: 900 req/s).",
        *(
            [
                "",
                "Real-time interactions (`POST /v1/events` with one new event of the user, then "
                "`POST /v1/recommendations` for them on the same connection; latency until the "
                "list has come):",
                "",
                "| offered interactions/s | achieved | p50 ms | p95 ms | p99 ms | errors |",
                "|---|---|---|---|---|---|",
                *(
                    f"| {r['rate']} | {r['achieved_rps']} | {r['p50_ms']} | {r['p95_ms']} | "
                    f"{r['p99_ms']} | {r['errors']} |"
                    for r in interaction_rows
                ),
                "",
                f"- highest interaction rate held with no error and p99 <= 30 ms: "
                f"{max((r['rate'] for r in held_rt), default=0)}/s (target: 450/s).",
            ]
            if interaction_rows
            else []
        ),
        f"- events acknowledged durably (SQLite WAL, synchronous=FULL, group commit): "
        f"{batches['events_per_second']:,} events/s in batches of 100 (4 clients; target 5,000), "
        f"{singles['requests_per_second']:,} single-event requests/s (16 clients; target 500).",
        "",
    ]
    heading = lines[0].split(" (")[0]
    write_section(args.results, heading, "\n".join(lines))


if __name__ == "__main__":
    main()
