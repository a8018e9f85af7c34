"""The session simulator: offline stand-in for user satisfaction (``lmrec simulate``)."""

from lmrec.simulate.run import simulate_split
from lmrec.simulate.session import SimConfig, simulate_sessions

__all__ = ["SimConfig", "simulate_sessions", "simulate_split"]
