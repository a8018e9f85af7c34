"""The network's inputs for carts: each cart after its user's own training sequence (when the
user is known), with the event and next-action context codes aligned to those tokens."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lmrec._types import IntArray
from lmrec.models.seq.inputs import StoredSequences
from lmrec.models.seq.net import SeqConfig
from lmrec.models.seq.train import next_context_codes

__all__ = ["CartInputs", "cart_inputs"]


@dataclass(frozen=True)
class CartInputs:
    tokens: list[np.ndarray]  # item index + 1
    contexts: list[np.ndarray] | None  # None: the network reads no context
    events: list[np.ndarray] | None  # None: the network reads no event codes


def cart_inputs(
    seqs: StoredSequences,
    cfg: SeqConfig,
    carts: Sequence[IntArray],
    users: IntArray,
    when: IntArray | None,
    added: Sequence[IntArray] | None,
) -> CartInputs:
    """Inputs for ``carts`` after the training sequences of ``users`` (-1: none). Event codes
    are the user's, then unknown (0) for the cart items. Contexts come from the user's training
    times, the cart items' times ``added`` and the request times ``when`` (-1: unknown) where
    given; unknown (0) where a time is missing (the gap to an item added at an unknown time is
    unknown)."""
    empty = np.zeros(0, dtype=np.int64)
    spans = [seqs.span(int(x)) if x >= 0 else slice(0, 0) for x in users]
    tokens = [
        np.concatenate([seqs.tokens[s], np.asarray(c, np.int64) + 1])
        for s, c in zip(spans, carts, strict=True)
    ]
    events = None
    if cfg.n_event_types:
        events = [
            np.concatenate([seqs.events[s], np.zeros(len(c), np.int64)])
            for s, c in zip(spans, carts, strict=True)
        ]
    contexts = None
    if cfg.n_context:
        contexts = []
        for i, (s, c) in enumerate(zip(spans, carts, strict=True)):
            request = None if when is None or when[i] < 0 else int(when[i])
            own = seqs.times[s] if s.stop > s.start else empty
            if added is not None:
                contexts.append(next_context_codes(np.concatenate([own, added[i]]), request))
            elif len(c) == 0:
                contexts.append(next_context_codes(own, request))
            else:
                contexts.append(
                    np.concatenate([next_context_codes(own), np.zeros(len(c), np.int64)])
                )
    return CartInputs(tokens, contexts, events)
