"""The optional reason rewriter against a real local HTTP server speaking the OpenAI chat API."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from lmrec.explain.rewrite import ReasonRewriter


class _Chat(BaseHTTPRequestHandler):
    mode = "ok"
    seen: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append(
            {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
        )
        if self.mode == "slow":
            time.sleep(1.0)
        if self.mode == "error":
            self.send_response(500)
            self.end_headers()
            return
        n = body["messages"][1]["content"].count("\n") + 1
        content = json.dumps([f"Sentence {j + 1}." for j in range(n)])
        if self.mode == "wrong":
            content = "Sure! Here you go."
        payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Chat)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


REASONS = ["because you liked Alien", "popular with everyone"]


@pytest.mark.parametrize("mode", ["ok", "slow", "error", "wrong"])
def test_rewriter_falls_back_within_its_budget(server: str, mode: str) -> None:
    _Chat.mode, _Chat.seen = mode, []
    rw = ReasonRewriter(server, "tiny", timeout_s=0.3, api_key="k1")
    start = time.perf_counter()
    out = rw.rewrite(["Aliens", "Titanic"], REASONS)
    elapsed = time.perf_counter() - start
    assert elapsed < 0.9  # never waits much past the budget
    if mode == "ok":
        assert out == ["Sentence 1.", "Sentence 2."]
        sent = _Chat.seen[0]
        assert sent["path"] == "/v1/chat/completions"
        assert sent["body"]["model"] == "tiny"
        assert "because you liked Alien" in sent["body"]["messages"][1]["content"]
        assert sent["auth"] == "Bearer k1"
    else:
        assert out == REASONS


def test_unreachable_server_keeps_templates() -> None:
    rw = ReasonRewriter("http://127.0.0.1:9", "tiny", timeout_s=0.2)
    assert rw.rewrite(["x"], ["because you liked Y"]) == ["because you liked Y"]
