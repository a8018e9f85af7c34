"""Offline evaluation: full-ranking protocol, metrics with intervals, reports."""

from lmrec.evaluation.protocol import EvalData, prepare
from lmrec.evaluation.runner import EvalConfig, evaluate, tune

__all__ = ["EvalConfig", "EvalData", "evaluate", "prepare", "tune"]
