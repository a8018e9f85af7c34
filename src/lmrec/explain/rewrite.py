"""Optional: a chat model rewrites template reasons in natural language.

Any OpenAI-compatible server works (vLLM, llama.cpp server, Ollama): ``POST {url}/v1/chat/
completions``. One request rewrites all reasons of a list; on a timeout, an error or an answer
that is not one sentence per reason, the template reasons are kept, so a slow or absent model
never slows a request beyond ``timeout_s`` nor breaks it.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass

__all__ = ["ReasonRewriter"]

log = logging.getLogger(__name__)

PROMPT = (
    "Rewrite each numbered reason for a recommendation as one short, friendly sentence addressed "
    "to the user. Keep every fact (titles, requests); add none. Answer with a JSON list of "
    "strings, one per reason, in order, and nothing else."
)


@dataclass(frozen=True)
class ReasonRewriter:
    url: str
    model: str
    timeout_s: float = 0.5
    api_key: str | None = None

    def rewrite(self, items: list[str], reasons: list[str]) -> list[str]:
        """``reasons`` in natural language, or unchanged when the model does not answer well
        within the time budget."""
        if not reasons:
            return reasons
        numbered = "\n".join(
            f"{n + 1}. item '{item}': {reason}"
            for n, (item, reason) in enumerate(zip(items, reasons, strict=True))
        )
        body = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": PROMPT},
                {"role": "user", "content": numbered},
            ],
            "temperature": 0.2,
            "max_tokens": 40 * len(reasons),
        }
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(
            self.url.rstrip("/") + "/v1/chat/completions",
            data=json.dumps(body).encode(),
            headers=headers,
            method="POST",
        )
        text = ""
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                answer = json.loads(response.read())
            text = answer["choices"][0]["message"]["content"]
            out = json.loads(text)
        except urllib.error.HTTPError as exc:
            exc.close()
            log.warning("reason rewriter answered HTTP %s; keeping template reasons", exc.code)
            return reasons
        except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
            log.warning("reason rewriter failed (%s); keeping template reasons", exc)
            return reasons
        if (
            not isinstance(out, list)
            or len(out) != len(reasons)
            or not all(isinstance(s, str) and 0 < len(s) <= 300 for s in out)
        ):
            log.warning("reason rewriter answered %r; keeping template reasons", text[:200])
            return reasons
        return [s.strip() for s in out]
