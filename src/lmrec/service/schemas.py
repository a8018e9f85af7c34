"""Request and response bodies of the HTTP API (validated by pydantic)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
)

from lmrec.rerank.config import (
    DEFAULT_STRENGTH,
    DiversityKind,
    ExposureKind,
    Objective,
    Relevance,
    RerankConfig,
)

#: field defaults of a request's re-ranking follow the library's (one place to change them)
_RR = RerankConfig()

__all__ = [
    "AdsRequest",
    "CartRequest",
    "EventIn",
    "EventsIn",
    "ExperimentIn",
    "ItemIn",
    "Personalisation",
    "ProfileEdit",
    "RecommendationRequest",
    "RecommendationResponse",
    "Token",
]

MAX_K = 100
MAX_BATCH = 1000
#: the latest event time accepted (the year 5138): later ones are typos or garbage
MAX_TIMESTAMP = 1e11

#: ids and context values hold no control characters; free text holds no NUL
NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
NO_NUL = r"^[^\x00]*$"

#: an item, user or category id
Id = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=NO_CONTROL)]
#: a request time: Unix seconds or an ISO 8601 / RFC 3339 date-time (UTC unless it says so)
RequestTime = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=NO_CONTROL),
    WithJsonSchema({"anyOf": [
        {"type": "string", "pattern": "^[0-9]{1,11}$"},
        # the features of a time need a year the calendar functions take: 1970 to 9999
        {"type": "string", "format": "date-time", "pattern": "^(19[7-9][0-9]|[2-9][0-9]{3})-"},
    ]}),
]  # fmt: skip

#: a ``recommendation_id``: 32 lowercase hex digits
RECOMMENDATION_ID = r"^[0-9a-f]{32}$"


def _whole(value: object) -> object:
    """A JSON number with no fraction (``10.0``) is an integer, as JSON Schema says."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: an integer in a (strict) request body: ``10`` or ``10.0``, never ``true`` or ``"10"``
Integer = Annotated[int, BeforeValidator(_whole)]

#: a user, item or version id in a path
PathId = Annotated[str, Path(min_length=1, max_length=256, pattern=NO_CONTROL)]
ContextKey = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_CONTROL)]
ContextValue = Annotated[str, StringConstraints(max_length=256, pattern=NO_CONTROL)]

#: free-form context (device, location, ...): at most 20 short keys with short values
ContextMap = Annotated[
    dict[ContextKey, ContextValue],
    Field(max_length=20),
    WithJsonSchema({
        "type": "object", "maxProperties": 20,
        "propertyNames": {"minLength": 1, "maxLength": 64, "pattern": NO_CONTROL},
        "additionalProperties": {"type": "string", "maxLength": 256, "pattern": NO_CONTROL},
    }),
]  # fmt: skip


class Context(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    device: str | None = Field(None, max_length=64, pattern=NO_CONTROL)
    location: str | None = Field(None, max_length=64, pattern=NO_CONTROL)
    time: RequestTime | None = None


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    #: only items in at least one of these categories
    categories: list[Id] | None = Field(None, min_length=1, max_length=100)


class Rerank(BaseModel):
    """Re-ranking for this request (see :class:`lmrec.rerank.RerankConfig`)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    strength: float = Field(DEFAULT_STRENGTH, ge=0.0, le=1.0)
    relevance: Relevance = _RR.relevance
    sharpness: float = Field(_RR.sharpness, gt=0.0, le=100.0)
    diversity: float = Field(_RR.diversity, ge=0.0, le=10.0)
    diversity_kind: DiversityKind = _RR.diversity_kind
    novelty: float = Field(_RR.novelty, ge=0.0, le=10.0)
    exposure: float = Field(_RR.exposure, ge=0.0, le=10.0)
    exposure_kind: ExposureKind = _RR.exposure_kind
    calibration: float = Field(_RR.calibration, ge=0.0, le=10.0)
    freshness: float = Field(_RR.freshness, ge=0.0, le=10.0)
    dedupe: float | None = Field(_RR.dedupe, gt=0.0, le=1.0)
    explore: float = Field(_RR.explore, ge=0.0, le=1.0)
    objective: Objective = _RR.objective
    pinned: list[Id] = Field(default_factory=list, max_length=20)


class RecommendationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    user_id: Id
    k: Integer = Field(10, ge=1, le=MAX_K)
    context: Context | None = None
    #: how strongly the context (part of day, weekday, device, location) shifts the ranking
    context_weight: float = Field(0.5, ge=0.0, le=5.0)
    #: a request in plain language, blended with the user's ranking (alone for a new user)
    query: str | None = Field(None, min_length=1, max_length=500, pattern=NO_NUL)
    query_weight: float = Field(0.5, ge=0.0, le=1.0)
    exclude: list[Id] = Field(default_factory=list, max_length=1000)
    filters: Filters | None = None
    #: diversity, exposure, calibration, exploration... (absent: the model's own order)
    rerank: Rerank | None = None
    #: compute a reason from the model's signals for every item (else a generic one)
    explain: StrictBool = True


class ProfileEdit(BaseModel):
    """Changes to a user's profile: mute categories, remove items from their interests."""

    model_config = ConfigDict(extra="forbid", strict=True)
    mute_categories: list[Id] = Field(default_factory=list, max_length=100)
    unmute_categories: list[Id] = Field(default_factory=list, max_length=100)
    remove_items: list[Id] = Field(default_factory=list, max_length=1000)
    restore_items: list[Id] = Field(default_factory=list, max_length=1000)
    #: how adventurous the user's lists are, 0 (the model's order) to 1; applied when a
    #: request sets no re-ranking of its own
    variety: float | None = Field(None, ge=0.0, le=1.0)


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    user_id: Id
    item_id: Id
    type: Literal["view", "click", "cart", "purchase", "rating", "not_interested"]
    value: float | None = Field(None, ge=-1e9, le=1e9, allow_inf_nan=False)
    timestamp: float | None = Field(None, ge=0, le=MAX_TIMESTAMP, allow_inf_nan=False)
    context: ContextMap | None = None
    event_id: str | None = Field(None, min_length=1, max_length=128, pattern=NO_CONTROL)
    #: the ``recommendation_id`` of the list this event answers (ties it to that list)
    recommendation_id: str | None = Field(None, pattern=RECOMMENDATION_ID)


class EventsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    events: list[EventIn] = Field(..., min_length=1, max_length=MAX_BATCH)


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    item_id: Id
    title: str = Field(..., min_length=1, max_length=1000, pattern=NO_NUL)
    text: str | None = Field(None, max_length=20_000, pattern=NO_NUL)
    categories: list[Id] = Field(default_factory=list, max_length=100)
    #: hidden items are never recommended (an operator's switch; the item stays in the data)
    hidden: StrictBool = False


class CartRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    items: list[Id] = Field(..., min_length=1, max_length=200)
    user_id: Id | None = None
    k: Integer = Field(10, ge=1, le=MAX_K)
    allow_substitutes: StrictBool = False


class AdsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    user_id: Id
    context: ContextMap = Field(default_factory=dict)
    candidates: list[Id] | None = Field(None, min_length=1, max_length=1000)
    k: Integer = Field(10, ge=1, le=MAX_K)
    min_pctr: float = Field(0.0, ge=0.0, le=1.0)
    frequency_cap: Annotated[int, Field(ge=1, le=10**6), BeforeValidator(_whole)] | None = None


class Personalisation(BaseModel):
    """Whether the user's lists use what they did (false: the same lists as for anyone)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    enabled: StrictBool


class Token(BaseModel):
    token: str
    user_id: str
    expires_at: float


class Explanation(BaseModel):
    kind: str  # history, collaborative, popular, query, new, model
    text: str
    item: str | None = None  # the history item cited
    effect: float | None = None  # how much removing it lowers the score


class RecommendedItem(BaseModel):
    item_id: str
    title: str | None
    categories: list[str] = []
    score: float
    reason: str
    explanation: Explanation


class RecommendationResponse(BaseModel):
    """The answer of ``POST /v1/recommendations`` (documented in the OpenAPI spec)."""

    user_id: str
    items: list[RecommendedItem]
    cold_start: bool
    model: str
    version: str
    fresh_events: int
    reranked: bool
    context_used: list[str]
    #: names this list: events that answer it carry it as their ``recommendation_id``
    recommendation_id: str
    #: the running experiment and the variant that served this list (null outside one)
    experiment: str | None
    variant: str | None


class VariantIn(BaseModel):
    """One arm of an experiment: a model version, optionally re-ranked, with its share of
    users (A/B; equal shares when none is given)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    name: Id
    version: Id
    rerank: Rerank | None = None
    share: float | None = Field(None, gt=0.0, le=1.0)


class ExperimentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: Id
    #: ab: each user sees one variant; interleaving: every list merges two variants' lists
    kind: Literal["ab", "interleaving"] = "ab"
    variants: list[VariantIn] = Field(..., min_length=2, max_length=10)
