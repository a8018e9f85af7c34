"""Online logic shared by the CLI and (later) the service: queries, blending, fallbacks."""

from lmrec.logic.query import blend_query, search

__all__ = ["blend_query", "search"]
