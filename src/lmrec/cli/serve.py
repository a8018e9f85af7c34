"""``lmrec serve``: the HTTP API over trained artifacts and an embedded store."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

from lmrec.cli._common import AnnMode, Runtime, console


def serve(
    ctx: typer.Context,
    artifacts: Path | None = typer.Argument(
        None,
        help="An artifacts folder (lmrec train), or a folder of them, one per model version "
        "(default: 'artifacts' of the config file's [serve] table).",
    ),
    store: str | None = typer.Option(
        None,
        "--store",
        help="Store URL: sqlite:///PATH (default sqlite:///lmrec-store.db) or postgresql://...",
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    model: str | None = typer.Option(None, "--model", "-m", help="Which saved model to serve."),
    text_encoder: str | None = typer.Option(
        None,
        "--text-encoder",
        help="Encoder of queries, diversity and near-substitutes (default all-MiniLM-L6-v2).",
    ),
    workers: int = typer.Option(
        1,
        "--workers",
        help="Worker processes (they share the store; a version activated in "
        "one is picked up by the others within a second).",
    ),
    torch_threads: int = typer.Option(
        1, "--torch-threads", help="PyTorch threads per request (1 is fastest for one sequence)."
    ),
    ann: AnnMode | None = typer.Option(
        None,
        "--ann",
        help="Retrieve through an IVF index over item vectors (content, sequential): on, off, "
        "or auto (the default: catalogs of 100,000 items or more). Built once, saved as "
        "MODEL/ann.faiss.",
    ),
    runtime: Runtime | None = typer.Option(
        None,
        "--runtime",
        help="What scores a neural model: onnx (the graphs 'lmrec export' wrote), torch, or "
        "auto (the default: onnx where those graphs are there).",
    ),
    reason_verb: str | None = typer.Option(
        None, "--reason-verb", help="Reasons read 'because you VERB X' (default: liked)."
    ),
    reason_llm_url: str | None = typer.Option(
        None,
        "--reason-llm-url",
        help="OpenAI-compatible server (vLLM, llama.cpp, Ollama) that rewrites reasons in "
        "natural language; off by default (also $LMREC_REASON_LLM_URL).",
    ),
    reason_llm_model: str | None = typer.Option(
        None, "--reason-llm-model", help="Model name for --reason-llm-url."
    ),
    reason_llm_timeout: float | None = typer.Option(
        None,
        "--reason-llm-timeout",
        help="Seconds to wait for it before keeping the templates (default 0.5).",
    ),
    api_keys: Path | None = typer.Option(
        None,
        "--api-keys",
        help="File of API keys, key:scope,scope per line (also read: $LMREC_API_KEYS).",
    ),
    no_auth: bool = typer.Option(
        False,
        "--no-auth",
        help="Serve without API keys: anyone who reaches the address may do "
        "anything (for a laptop, never a network).",
    ),
    retention_days: float | None = typer.Option(
        None, "--retention-days", help="Purge events stored longer ago (default 365)."
    ),
    explore: float | None = typer.Option(
        None,
        "--explore",
        help="Exploration: the share of lists drawn at random from the best "
        "--explore-pool items, with their propensities recorded for off-policy estimates "
        "(lmrec evaluate --off-policy); default 0 (off).",
    ),
    explore_pool: int | None = typer.Option(
        None, "--explore-pool", help="How many of the best items exploration draws from (50)."
    ),
    impressions: bool = typer.Option(
        True,
        "--impressions/--no-impressions",
        help="Record every served list (online "
        "metrics, experiments and off-policy estimates need it).",
    ),
    access_log: bool = typer.Option(
        True,
        "--access-log/--no-access-log",
        help="One line per request on stderr: method, route, status, ms, request id.",
    ),
    config: Path | None = typer.Option(
        None,
        "--config",
        help="Config file (TOML) whose [serve] table sets these options "
        "(default: $LMREC_CONFIG, else ./lmrec.toml when it exists); flags override it.",
    ),
) -> None:
    """Serve recommendations, events, items, profiles and model versions over HTTP.

    OpenAPI docs at /docs; Prometheus metrics at /metrics. It refuses to start without API
    keys unless --no-auth is given. User ids are stored as keyed hashes and what people did is
    encrypted, with the secret in $LMREC_SECRET_KEY_FILE (else STORE.secret, made on first
    start).
    """
    import uvicorn
    from pydantic import ValidationError

    from lmrec.errors import UsageError
    from lmrec.service import create_app
    from lmrec.service.app import SETTINGS_ENV
    from lmrec.service.auth import KeyRing
    from lmrec.service.engine import discover_versions
    from lmrec.service.middleware import enable_access_log
    from lmrec.service.settings import CONFIG_ENV, ServiceSettings
    from lmrec.service.store import open_store

    if not 0 < port < 65536:
        raise UsageError(f"--port must be 1..65535, not {port}")
    if torch_threads < 1:
        raise UsageError(f"--torch-threads must be at least 1, not {torch_threads}")
    if workers < 1:
        raise UsageError(f"--workers must be at least 1, not {workers}")
    if config is None and isinstance(ctx.obj, dict):
        config = ctx.obj.get("config")  # lmrec --config FILE serve
    if config is not None:
        if not config.is_file():
            raise UsageError(f"--config: {config} not found")
        os.environ[CONFIG_ENV] = str(config)  # the settings (and any worker) read it
    given: dict[str, Any] = {
        "artifacts": artifacts, "store": store, "model": model, "text_encoder": text_encoder,
        "ann": None if ann is None else ann.value, "reason_verb": reason_verb,
        "runtime": None if runtime is None else runtime.value,
        "reason_llm_url": reason_llm_url, "reason_llm_model": reason_llm_model,
        "reason_llm_timeout": reason_llm_timeout, "retention_days": retention_days,
        "no_auth": True if no_auth else None, "access_log": None if access_log else False,
        "explore": explore, "explore_pool": explore_pool,
        "impressions": None if impressions else False,
    }  # fmt: skip
    try:
        settings = ServiceSettings(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise UsageError(f"serve settings: {problems}") from None
    if api_keys is not None:
        if not api_keys.is_file():
            raise UsageError(f"API key file {api_keys} not found")
        text = ";".join(filter(None, [settings.api_keys, api_keys.read_text()]))
        settings = settings.model_copy(update={"api_keys": text})
    _torch_threads(torch_threads)
    versions = discover_versions(settings.artifacts)
    open_store(settings.store).close()  # a bad URL or unwritable path fails here, not in a worker
    if not KeyRing.from_config(settings.api_keys).enabled:
        if not settings.no_auth:
            raise UsageError(
                "no API keys configured: give --api-keys FILE (or $LMREC_API_KEYS), "
                "or --no-auth to serve an open API"
            )
        console.print("[yellow]--no-auth: the API is open to anyone who reaches it[/yellow]")
    enable_access_log(settings.access_log)
    where = f"http://{host}:{port}"
    console.print(f"serving {', '.join(versions)} from {settings.artifacts} on {where}")
    if workers == 1:
        uvicorn.run(create_app(settings=settings), host=host, port=port, log_level="warning")
        return
    os.environ[SETTINGS_ENV] = settings.model_dump_json()
    os.environ["OMP_NUM_THREADS"] = str(torch_threads)
    _run_workers(host, port, workers)


def _torch_threads(n: int) -> None:
    """PyTorch's threads per process, where PyTorch is installed."""
    try:
        import torch
    except ModuleNotFoundError:
        return
    torch.set_num_threads(n)


def _run_workers(host: str, port: int, workers: int) -> None:
    """uvicorn's process supervisor over a listening socket made here. uvicorn's own socket
    has protocol 0, so asyncio leaves Nagle's algorithm on for its connections and a response
    written in two parts waits for the client's delayed ACK (~40 ms); with IPPROTO_TCP,
    asyncio sets TCP_NODELAY as it does for a single worker."""
    import socket

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    config = uvicorn.Config(
        "lmrec.service.app:app_from_env", factory=True, host=host, port=port,
        workers=workers, log_level="warning",
    )  # fmt: skip
    try:
        Multiprocess(config, sockets=[sock]).run()
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
