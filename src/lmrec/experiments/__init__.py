"""Online experiments: sticky assignment of users to variants, the statistics of A/B tests
(delta-method intervals over users, sample-ratio mismatch, always-valid p-values), team-draft
interleaving, and off-policy estimates from logged lists with exploration."""

from lmrec.experiments.assignment import Experiment, Variant
from lmrec.experiments.interleave import team_draft
from lmrec.experiments.offpolicy import explore, snips
from lmrec.experiments.stats import (
    Estimate,
    always_valid_p,
    compare,
    msprt_p,
    preference,
    ratio,
    srm_p,
)

__all__ = [
    "Estimate",
    "Experiment",
    "Variant",
    "always_valid_p",
    "compare",
    "explore",
    "msprt_p",
    "preference",
    "ratio",
    "snips",
    "srm_p",
    "team_draft",
]
