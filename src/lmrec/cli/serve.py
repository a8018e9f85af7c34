"""``lmrec serve``: the HTTP API over trained artifacts and an embedded store."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from lmrec.cli._common import console


def serve(
    artifacts: Path = typer.Argument(
        ...,
        help="An artifacts folder (lmrec train), or a folder of them, one per model version.",
    ),
    store: str = typer.Option(
        "sqlite:///lmrec-store.db", "--store", help="Store URL: sqlite:///PATH."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    model: str | None = typer.Option(None, "--model", "-m", help="Which saved model to serve."),
    text_encoder: str = typer.Option(
        "all-MiniLM-L6-v2", "--text-encoder", help="Encoder that finds near-substitutes (carts)."
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
    ann: str = typer.Option(
        "auto",
        "--ann",
        help="Retrieve through an HNSW index over item vectors (content, sequential): on, off, "
        "or auto (catalogs of 100,000 items or more). Built once, saved as MODEL/ann.faiss.",
    ),
    reason_verb: str = typer.Option(
        "liked", "--reason-verb", help="Reasons read 'because you VERB X' (e.g. watched, bought)."
    ),
    reason_llm_url: str | None = typer.Option(
        None,
        "--reason-llm-url",
        help="OpenAI-compatible server (vLLM, llama.cpp, Ollama) that rewrites reasons in "
        "natural language; off by default (also $LMREC_REASON_LLM_URL).",
    ),
    reason_llm_model: str = typer.Option(
        "default", "--reason-llm-model", help="Model name for --reason-llm-url."
    ),
    reason_llm_timeout: float = typer.Option(
        0.5, "--reason-llm-timeout", help="Seconds to wait for it before keeping the templates."
    ),
    api_keys: Path | None = typer.Option(
        None,
        "--api-keys",
        help="File of API keys, key:scope,scope per line (also read: $LMREC_API_KEYS).",
    ),
) -> None:
    """Serve recommendations, events, items, profiles and model versions over HTTP.

    OpenAPI docs at /docs; Prometheus metrics at /metrics. Without API keys the API is open to
    anyone who can reach the address.
    """
    import torch
    import uvicorn

    from lmrec.errors import UsageError
    from lmrec.service import create_app
    from lmrec.service.auth import KeyRing
    from lmrec.service.engine import discover_versions
    from lmrec.service.store import open_store

    if not 0 < port < 65536:
        raise UsageError(f"--port must be 1..65535, not {port}")
    if torch_threads < 1:
        raise UsageError(f"--torch-threads must be at least 1, not {torch_threads}")
    torch.set_num_threads(torch_threads)
    versions = discover_versions(artifacts)
    open_store(store).close()  # a bad URL or unwritable path fails here, not in a worker
    keys = KeyRing.from_config(os.environ.get("LMREC_API_KEYS"), api_keys)
    if not keys.enabled:
        console.print("[yellow]no API keys configured: the API is open[/yellow]")
    console.print(f"serving {', '.join(versions)} from {artifacts} on http://{host}:{port}")
    if workers < 1:
        raise UsageError(f"--workers must be at least 1, not {workers}")
    if api_keys is not None:  # workers read keys from the environment only
        os.environ["LMREC_API_KEYS"] = ";".join(
            filter(None, [os.environ.get("LMREC_API_KEYS"), api_keys.read_text()])
        )
    if reason_llm_timeout <= 0:
        raise UsageError(f"--reason-llm-timeout must be > 0, not {reason_llm_timeout}")
    if ann not in ("auto", "on", "off"):
        raise UsageError(f"--ann must be auto, on or off, not '{ann}'")
    os.environ["LMREC_SERVE_REASON_VERB"] = reason_verb
    os.environ["LMREC_SERVE_ANN"] = ann
    if reason_llm_url:
        os.environ.update(
            LMREC_REASON_LLM_URL=reason_llm_url,
            LMREC_REASON_LLM_MODEL=reason_llm_model,
            LMREC_REASON_LLM_TIMEOUT=str(reason_llm_timeout),
        )
    if workers == 1:
        from lmrec.service.app import rewriter_from_env

        app = create_app(
            artifacts, store_url=store, keys=keys, model=model, text_encoder=text_encoder,
            reason_verb=reason_verb, rewriter=rewriter_from_env(), ann=ann,
        )  # fmt: skip
        uvicorn.run(app, host=host, port=port, log_level="warning")
        return
    os.environ.update(
        LMREC_SERVE_ARTIFACTS=str(artifacts),
        LMREC_SERVE_STORE=store,
        LMREC_SERVE_MODEL=model or "",
        LMREC_SERVE_TEXT_ENCODER=text_encoder,
        OMP_NUM_THREADS=str(torch_threads),
    )
    _run_workers(host, port, workers)


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
