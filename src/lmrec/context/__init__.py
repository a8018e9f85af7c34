"""Context-aware scoring: time of day, weekday, device and location."""

from lmrec.context.features import CONTEXT_FIELDS, context_of_request, context_table, daypart
from lmrec.context.prior import ContextPrior, apply_context

__all__ = [
    "CONTEXT_FIELDS",
    "ContextPrior",
    "apply_context",
    "context_of_request",
    "context_table",
    "daypart",
]
