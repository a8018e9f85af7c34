"""Faithful explanations: each reason names the signal the model's score actually depends on."""

from lmrec.explain.occlusion import (
    MAX_HISTORY,
    can_cite_history,
    history_effects,
    user_history,
)
from lmrec.explain.reasons import Reason, explain, query_reason

__all__ = [
    "MAX_HISTORY",
    "Reason",
    "can_cite_history",
    "explain",
    "history_effects",
    "query_reason",
    "user_history",
]
