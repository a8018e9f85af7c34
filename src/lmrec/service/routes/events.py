"""What people did: events, stored durably before they are acknowledged."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from lmrec.service.deps import Eng, require
from lmrec.service.schemas import EventsIn
from lmrec.service.store import Event

router = APIRouter()


@router.post("/v1/events", dependencies=[require("events")])
def events(body: EventsIn, eng: Eng, request: Request) -> dict[str, Any]:
    vocab = eng.active.artifacts.item_vocab
    unknown = sorted({e.item_id for e in body.events if e.item_id not in vocab})
    if unknown:  # perhaps added through the catalog API (read only when needed)
        added = eng.store.items()
        unknown = [i for i in unknown if i not in added]
    if unknown:
        raise HTTPException(404, f"unknown item id(s): {', '.join(unknown[:5])}")
    now = time.time()
    stored = eng.store.add_events(
        [
            Event(
                e.user_id,
                e.item_id,
                e.type,
                e.timestamp if e.timestamp is not None else now,
                e.value,
                e.context,
                e.event_id,
            )
            for e in body.events
        ]
    )
    request.app.state.telemetry.ingested.inc(stored)
    eng.record_events(body.events)
    return {"accepted": len(body.events), "stored": stored}
