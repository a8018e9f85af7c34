"""The generative sequence recommender: the network (net.py), its training loop (train.py),
its inputs (inputs.py), the fitting procedure (fit.py) and the model (model.py)."""

from lmrec.models.seq.model import SequentialConfig, SequentialRecommender
from lmrec.models.seq.net import SeqConfig, SeqNet

__all__ = ["SeqConfig", "SeqNet", "SequentialConfig", "SequentialRecommender"]
