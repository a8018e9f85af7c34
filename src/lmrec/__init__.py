"""lmrec: a recommender engine in which large models improve recommendations.

Heavy libraries (implicit, torch) load only inside the models that use them, so ``import lmrec``
and ``lmrec --help`` stay fast.
"""

from lmrec._version import __version__
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
from lmrec.registry import register_model

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
    "__version__",
    "create_model",
    "evaluate",
    "import_dataset",
    "register_model",
    "split_dataset",
    "synthetic_dataset",
]
