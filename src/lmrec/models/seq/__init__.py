"""The generative sequence recommender: network (net.py), training (train.py), model.py."""

from lmrec.models.seq.model import SequentialRecommender
from lmrec.models.seq.net import SeqConfig, SeqNet

__all__ = ["SeqConfig", "SeqNet", "SequentialRecommender"]
