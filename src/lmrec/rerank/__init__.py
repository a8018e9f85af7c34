"""Re-ranking for experience: diversity (MMR), calibration, novelty, freshness, near-duplicate
removal, pinned items and exploration, traded against the model's relevance."""

from lmrec.rerank.config import DEFAULT_STRENGTH, RerankConfig
from lmrec.rerank.explore import ThompsonExplorer
from lmrec.rerank.features import ItemFeatures, category_mix
from lmrec.rerank.greedy import rerank, rerank_lists

__all__ = [
    "DEFAULT_STRENGTH",
    "ItemFeatures",
    "RerankConfig",
    "ThompsonExplorer",
    "category_mix",
    "rerank",
    "rerank_lists",
]
