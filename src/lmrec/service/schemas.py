"""Request and response bodies of the HTTP API (validated by pydantic)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AdsRequest",
    "CartRequest",
    "EventIn",
    "EventsIn",
    "ItemIn",
    "RecommendationRequest",
    "RecommendationResponse",
]

MAX_K = 100
MAX_BATCH = 1000


class Context(BaseModel):
    model_config = ConfigDict(extra="forbid")
    device: str | None = Field(None, max_length=64)
    location: str | None = Field(None, max_length=64)
    time: str | None = Field(None, max_length=64)


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: only items in at least one of these categories
    categories: list[str] | None = Field(None, min_length=1, max_length=100)


class RecommendationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: str = Field(..., min_length=1, max_length=256)
    k: int = Field(10, ge=1, le=MAX_K)
    context: Context | None = None
    #: a request in plain language, blended with the user's ranking (alone for a new user)
    query: str | None = Field(None, min_length=1, max_length=500)
    query_weight: float = Field(0.5, ge=0.0, le=1.0)
    exclude: list[str] = Field(default_factory=list, max_length=1000)
    filters: Filters | None = None


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: str = Field(..., min_length=1, max_length=256)
    item_id: str = Field(..., min_length=1, max_length=256)
    type: Literal["view", "click", "cart", "purchase", "rating", "not_interested"]
    value: float | None = Field(None, allow_inf_nan=False)
    timestamp: float | None = Field(None, ge=0, allow_inf_nan=False)
    context: dict[str, str] | None = None
    event_id: str | None = Field(None, min_length=1, max_length=128)


class EventsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: list[EventIn] = Field(..., min_length=1, max_length=MAX_BATCH)


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item_id: str = Field(..., min_length=1, max_length=256)
    title: str = Field(..., min_length=1, max_length=1000)
    text: str | None = Field(None, max_length=20_000)
    categories: list[str] = Field(default_factory=list, max_length=100)


class CartRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[str] = Field(..., min_length=1, max_length=200)
    user_id: str | None = Field(None, min_length=1, max_length=256)
    k: int = Field(10, ge=1, le=MAX_K)
    allow_substitutes: bool = False


class AdsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: str = Field(..., min_length=1, max_length=256)
    context: dict[str, str] = Field(default_factory=dict, max_length=20)
    candidates: list[str] | None = Field(None, min_length=1, max_length=1000)
    k: int = Field(10, ge=1, le=MAX_K)
    min_pctr: float = Field(0.0, ge=0.0, le=1.0)
    frequency_cap: int | None = Field(None, ge=1)


class RecommendedItem(BaseModel):
    item_id: str
    title: str | None
    score: float
    reason: str


class RecommendationResponse(BaseModel):
    """The answer of ``POST /v1/recommendations`` (documented in the OpenAPI spec)."""

    user_id: str
    items: list[RecommendedItem]
    cold_start: bool
    model: str
    version: str
    fresh_events: int
