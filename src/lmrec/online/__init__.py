"""The online path shared by the service, ``lmrec recommend`` and ``lmrec profile``: a loaded
model version with its caches, and small steps from a request to the items a person sees."""

from lmrec.online.items import complete_cart, similar_items
from lmrec.online.pipeline import history_of, recommend
from lmrec.online.profile import user_profile
from lmrec.online.request import ENGAGED, FreshEvent, NewItems, Request, UserState, user_state
from lmrec.online.version import (
    ModelVersion,
    ReasonCache,
    ServingOptions,
    discover_versions,
    load_version,
)

__all__ = [
    "ENGAGED",
    "FreshEvent",
    "ModelVersion",
    "NewItems",
    "ReasonCache",
    "Request",
    "ServingOptions",
    "UserState",
    "complete_cart",
    "discover_versions",
    "history_of",
    "load_version",
    "recommend",
    "similar_items",
    "user_profile",
    "user_state",
]
