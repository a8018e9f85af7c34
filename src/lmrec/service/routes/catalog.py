"""The catalog: its items, items added through the API, and similar items."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from lmrec.service.deps import Eng, require
from lmrec.service.schemas import MAX_K, ItemIn

router = APIRouter()


@router.get("/v1/items/{item_id}/similar", dependencies=[require("read")])
def similar(
    item_id: str, eng: Eng, k: Annotated[int, Query(ge=1, le=MAX_K)] = 10
) -> dict[str, Any]:
    if item_id not in eng.active.artifacts.item_vocab:
        raise HTTPException(404, f"unknown item id '{item_id}'")
    return {"item_id": item_id, "items": eng.similar(item_id, k)}


@router.get("/v1/items", dependencies=[require("read")])
def items(
    eng: Eng,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    catalog = eng.active.artifacts.items.select("item_id", "title")
    page = catalog.slice(offset, limit).to_dicts()
    return {"total": catalog.height, "items": page, "added": list(eng.store.items().values())}


@router.put("/v1/items", dependencies=[require("admin")])
def put_items(body: list[ItemIn], eng: Eng) -> dict[str, Any]:
    if len(body) > 1000:
        raise HTTPException(422, "at most 1000 items per request")
    eng.upsert_items([i.model_dump() for i in body])
    return {"upserted": len(body)}
