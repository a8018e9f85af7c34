"""Click-through-rate prediction and ad ranking: features, models, calibration, evaluation."""

from lmrec.ctr.base import CTR_MODELS, CTRModel, create_ctr_model, get_ctr_class
from lmrec.ctr.features import FeatureEncoder, FeatureTable, join_events

__all__ = [
    "CTR_MODELS",
    "CTRModel",
    "FeatureEncoder",
    "FeatureTable",
    "create_ctr_model",
    "get_ctr_class",
    "join_events",
]
