"""The generative sequence recommender: its hyper-parameters (config.py) and those derived
from the data (settings.py), the network (net.py), its training loop (train.py), its inputs
(inputs.py), the fitting procedure (fit.py) and the model (model.py)."""

from lmrec.models.seq.config import SequentialConfig
from lmrec.models.seq.model import SequentialRecommender
from lmrec.models.seq.net import SeqConfig, SeqNet

__all__ = ["SeqConfig", "SeqNet", "SequentialConfig", "SequentialRecommender"]
