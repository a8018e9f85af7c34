"""Top-N recommenders behind one interface (:class:`Recommender`)."""

from lmrec.models.base import Recommender, top_n
from lmrec.models.registry import MODEL_NAMES, create_model, get_model_class, search_space

__all__ = ["MODEL_NAMES", "Recommender", "create_model", "get_model_class", "search_space", "top_n"]
