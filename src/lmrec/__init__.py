"""lmrec: a recommender engine in which large models improve recommendations.

Heavy libraries (implicit, torch) load only inside the models that use them, so ``import lmrec``
and ``lmrec --help`` stay fast.
"""

from lmrec.data import (
    ColumnMapping,
    Dataset,
    Split,
    Vocabulary,
    import_dataset,
    split_dataset,
    synthetic_dataset,
)
from lmrec.data.interactions import Interactions
from lmrec.errors import DataError, LmrecError, UsageError
from lmrec.evaluation import EvalConfig, evaluate
from lmrec.models import Recommender, create_model

__version__ = "0.1.0"

__all__ = [
    "ColumnMapping",
    "DataError",
    "Dataset",
    "EvalConfig",
    "Interactions",
    "LmrecError",
    "Recommender",
    "Split",
    "UsageError",
    "Vocabulary",
    "create_model",
    "evaluate",
    "import_dataset",
    "split_dataset",
    "synthetic_dataset",
]
