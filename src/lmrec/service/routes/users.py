"""Users' profiles: what the recommender thinks they like, and their edits to it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from lmrec.service.deps import Eng, require
from lmrec.service.schemas import ProfileEdit

router = APIRouter()


@router.get("/v1/users/{user_id}/profile", dependencies=[require("read")])
def profile(user_id: str, eng: Eng) -> dict[str, Any]:
    return eng.profile(user_id)


@router.patch("/v1/users/{user_id}/profile", dependencies=[require("events")])
def edit_profile(user_id: str, body: ProfileEdit, eng: Eng) -> dict[str, Any]:
    vocab = eng.active.artifacts.item_vocab
    added = eng.store.items()
    unknown = [i for i in body.remove_items if i not in vocab and i not in added]
    if unknown:
        raise HTTPException(404, f"unknown item id(s): {', '.join(unknown[:5])}")
    return eng.edit_profile(
        user_id,
        mute=body.mute_categories,
        unmute=body.unmute_categories,
        remove=body.remove_items,
        restore=body.restore_items,
    )
