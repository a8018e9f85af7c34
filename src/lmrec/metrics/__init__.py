"""Metrics: accuracy (ranking), beyond accuracy, and their uncertainty."""

from lmrec.metrics.beyond import (
    average_popularity,
    category_matrix,
    coverage,
    gini,
    intra_list_diversity,
    novelty,
    personalization,
)
from lmrec.metrics.probability import auc, expected_calibration_error, log_loss, reliability
from lmrec.metrics.ranking import (
    average_precision,
    hit_rate,
    hits_matrix,
    ndcg,
    precision,
    recall,
    reciprocal_rank,
)
from lmrec.metrics.stats import (
    bootstrap_ci,
    bootstrap_statistic_ci,
    paired_test,
    relative_change_ci,
)

__all__ = [
    "auc",
    "average_popularity",
    "average_precision",
    "bootstrap_ci",
    "bootstrap_statistic_ci",
    "category_matrix",
    "coverage",
    "expected_calibration_error",
    "gini",
    "hit_rate",
    "hits_matrix",
    "intra_list_diversity",
    "log_loss",
    "ndcg",
    "novelty",
    "paired_test",
    "personalization",
    "precision",
    "recall",
    "reciprocal_rank",
    "relative_change_ci",
    "reliability",
]
