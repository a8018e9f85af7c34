"""Reusable test helpers: the model contract and toy data."""

from lmrec.testing.contract import RecommenderContract
from lmrec.testing.toy import checkerboard, toy_interactions

__all__ = ["RecommenderContract", "checkerboard", "toy_interactions"]
