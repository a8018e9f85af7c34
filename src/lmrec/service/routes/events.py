"""What people did: events, stored durably before they are acknowledged."""

from __future__ import annotations

import json
import time

import anyio
from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel

from lmrec.service.deps import ERRORS, Eng, Who, caller_for_user
from lmrec.service.schemas import EventsIn
from lmrec.service.store import Event
from lmrec.service.strict import StrictRoute

router = APIRouter(route_class=StrictRoute, responses=ERRORS)


class EventsOut(BaseModel):
    accepted: int
    stored: int


@router.post("/v1/events", response_model=EventsOut)
async def events(body: EventsIn, eng: Eng, caller: Who, request: Request) -> Response:
    """Store the events (an application key with the ``events`` scope, or a user token for
    its own events). ``stored`` counts the new ones: a retried ``event_id`` is stored once.
    An event with a ``recommendation_id`` is tied to that served list (and the item's place
    in it) when it is the same user's and the item was in the list.
    503 means nothing of the batch was stored.

    Checked on the event loop; only the store's work (the commit) goes to a thread, and the
    answer is written without re-validation (a hop to a thread and back costs more than the
    rest of the request)."""
    for user in {e.user_id for e in body.events}:
        caller_for_user(caller, "events", user)
    vocab = eng.active.artifacts.item_vocab
    unknown = sorted({e.item_id for e in body.events if e.item_id not in vocab})
    if unknown:  # perhaps added through the catalog API (read only when needed)
        added = await anyio.to_thread.run_sync(eng.added_items)
        unknown = [i for i in unknown if i not in added]
    if unknown:
        raise HTTPException(404, f"unknown item id(s): {', '.join(unknown[:5])}")
    now = time.time()
    rows = [
        Event(
            e.user_id,
            e.item_id,
            e.type,
            e.timestamp if e.timestamp is not None else now,
            e.value,
            e.context,
            e.event_id,
            e.recommendation_id,
        )
        for e in body.events
    ]
    stored = await anyio.to_thread.run_sync(
        eng.store.add_events, rows, limiter=request.app.state.writes
    )
    request.app.state.telemetry.ingested.inc(stored)
    eng.record_events(body.events)
    answer = {"accepted": len(body.events), "stored": stored}
    return Response(json.dumps(answer), media_type="application/json")
