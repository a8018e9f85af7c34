"""Reusable test helpers: the model contract and toy data."""

from lmrec.testing.contract import RecommenderContract
from lmrec.testing.toy import checkerboard, cycle, toy_interactions

__all__ = ["RecommenderContract", "checkerboard", "cycle", "toy_interactions"]
