"""Users' profiles and their data rights: what the recommender thinks they like and their
edits to it; export, deletion, opting out of personalisation, and user tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from lmrec.errors import UsageError
from lmrec.service.deps import ERRORS, Eng, Who, caller_for_user, require
from lmrec.service.schemas import PathId, Personalisation, ProfileEdit, Token
from lmrec.service.strict import StrictRoute

router = APIRouter(route_class=StrictRoute, responses=ERRORS)


@router.get("/v1/users/{user_id}/profile")
def profile(user_id: PathId, eng: Eng, caller: Who) -> dict[str, Any]:
    caller_for_user(caller, "read", user_id)
    return eng.profile(user_id)


@router.patch("/v1/users/{user_id}/profile")
def edit_profile(user_id: PathId, body: ProfileEdit, eng: Eng, caller: Who) -> dict[str, Any]:
    caller_for_user(caller, "events", user_id)
    vocab = eng.active.artifacts.item_vocab
    added = eng.added_items()
    unknown = [i for i in body.remove_items if i not in vocab and i not in added]
    if unknown:
        raise HTTPException(404, f"unknown item id(s): {', '.join(unknown[:5])}")
    try:
        return eng.edit_profile(
            user_id,
            mute=body.mute_categories,
            unmute=body.unmute_categories,
            remove=body.remove_items,
            restore=body.restore_items,
            variety=body.variety,
        )
    except UsageError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/v1/users/{user_id}/export")
def export(user_id: PathId, eng: Eng, caller: Who) -> dict[str, Any]:
    """Everything the store keeps about the user, as JSON (admin, or the user's own token)."""
    caller_for_user(caller, "admin", user_id)
    data = eng.export_user(user_id)
    eng.store.audit(caller.actor, "export", data["stored_as"])
    return data


@router.delete("/v1/users/{user_id}")
def delete(user_id: PathId, eng: Eng, caller: Who) -> dict[str, Any]:
    """Remove the user's events and edits from the store (and its files) and from serving:
    their next lists are cold-start (admin, or the user's own token)."""
    caller_for_user(caller, "admin", user_id)
    removed = eng.delete_user(user_id)
    eng.store.audit(
        caller.actor, "delete", eng.store.vault.pseudonym(user_id),
        f"{removed['events']} events, {removed['profile_edits']} profile edits",
    )  # fmt: skip
    return {"user_id": user_id, "deleted": removed}


@router.put("/v1/users/{user_id}/personalisation")
def personalisation(
    user_id: PathId, body: Personalisation, eng: Eng, caller: Who
) -> dict[str, Any]:
    """Opt the user out of personalised lists (``enabled: false``) or back in."""
    caller_for_user(caller, "events", user_id)
    eng.set_personalise(user_id, body.enabled)
    eng.store.audit(
        caller.actor, "personalisation", eng.store.vault.pseudonym(user_id),
        "on" if body.enabled else "off",
    )  # fmt: skip
    return {"user_id": user_id, "personalised": body.enabled}


@router.post("/v1/users/{user_id}/token", dependencies=[require("admin")])
def token(user_id: PathId, eng: Eng, caller: Who, request: Request) -> Token:
    """A signed token that lets its bearer read and change this user's recommendations,
    profile and data only, until it expires."""
    if len(user_id) > 256:
        raise HTTPException(422, "user id over 256 characters")
    access = request.app.state.access
    if access.tokens is None:
        raise HTTPException(409, "user tokens need a store secret")
    text, expires = access.tokens.issue(user_id, request.app.state.settings.token_ttl_s)
    eng.store.audit(caller.actor, "token", eng.store.vault.pseudonym(user_id))
    return Token(token=text, user_id=user_id, expires_at=expires)
