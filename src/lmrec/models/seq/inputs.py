"""What the sequence network reads: each user's time-ordered items, their times and event
codes, built from interactions, and kept flat with the fitted model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lmrec.data.interactions import Interactions
from lmrec.models.seq.train import event_codes

__all__ = ["StoredSequences", "user_event_codes", "user_sequences"]


def user_sequences(data: Interactions) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each user's item indices and timestamps, oldest first (``data`` is in time order)."""
    order = np.argsort(data.user_idx, kind="stable")
    users, items, stamps = data.user_idx[order], data.item_idx[order], data.timestamps[order]
    bounds = np.searchsorted(users, np.arange(data.n_users + 1))
    return (
        [items[bounds[u] : bounds[u + 1]] for u in range(data.n_users)],
        [stamps[bounds[u] : bounds[u + 1]] for u in range(data.n_users)],
    )


def user_event_codes(
    data: Interactions, seqs: list[np.ndarray], enabled: bool
) -> tuple[list[str], list[np.ndarray]]:
    """When ``enabled``, the event types of ``data`` and each user's actions' codes
    (:func:`~lmrec.models.seq.train.event_codes`), aligned with :func:`user_sequences`; else
    no types and zeros."""
    frame = data.frame
    if not enabled or "event" not in frame.columns:
        return [], [np.zeros(len(s), np.int64) for s in seqs]
    names = sorted(str(e) for e in frame["event"].drop_nulls().unique().to_list())
    values = (
        frame["value"].cast(float).fill_null(float("nan")).to_numpy()
        if "value" in frame.columns
        else np.full(len(frame), np.nan)
    )
    codes = event_codes(frame["event"].to_numpy(), values, names)
    order = np.argsort(data.user_idx, kind="stable")
    bounds = np.searchsorted(data.user_idx[order], np.arange(data.n_users + 1))
    return names, [codes[order[bounds[u] : bounds[u + 1]]] for u in range(data.n_users)]


@dataclass(frozen=True)
class StoredSequences:
    """Every training user's tokens (item index + 1), gap buckets, times and event codes,
    concatenated; user ``u``'s rows are ``offsets[u]:offsets[u + 1]``."""

    offsets: np.ndarray
    tokens: np.ndarray
    gaps: np.ndarray
    times: np.ndarray
    events: np.ndarray

    @classmethod
    def from_rows(
        cls,
        tokens: list[np.ndarray],
        gaps: list[np.ndarray],
        times: list[np.ndarray],
        events: list[np.ndarray],
    ) -> StoredSequences:
        lengths = np.array([len(t) for t in tokens], dtype=np.int64)

        def flat(rows: list[np.ndarray]) -> np.ndarray:
            return (np.concatenate(rows) if rows else np.zeros(0)).astype(np.int64)

        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        return cls(offsets, flat(tokens), flat(gaps), flat(times), flat(events))

    def span(self, user: int) -> slice:
        return slice(int(self.offsets[user]), int(self.offsets[user + 1]))

    def state(self) -> dict[str, np.ndarray]:
        return {"seq_offsets": self.offsets, "seq_tokens": self.tokens, "seq_gaps": self.gaps,
                "seq_times": self.times, "seq_events": self.events}  # fmt: skip

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> StoredSequences:
        gaps = state["seq_gaps"]
        return cls(
            state["seq_offsets"],
            state["seq_tokens"],
            gaps,
            state.get("seq_times", np.zeros_like(gaps)),
            state.get("seq_events", np.zeros_like(gaps)),
        )
