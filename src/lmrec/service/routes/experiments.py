"""Experiments (A/B tests and interleavings) and the online metrics of what was served."""

from __future__ import annotations

import contextlib
import re
import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from lmrec.errors import UsageError
from lmrec.experiments import Experiment, Variant
from lmrec.service.deps import ERRORS, Eng, Who, require
from lmrec.service.schemas import ExperimentIn, PathId, RequestTime
from lmrec.service.strict import StrictRoute

router = APIRouter(route_class=StrictRoute, responses=ERRORS)

#: the window of ``GET /v1/metrics/online`` when ``since`` is not given
DEFAULT_WINDOW_S = 86400.0
Time = Annotated[RequestTime | None, Query()]


def _time(value: str | None, name: str, default: float) -> float:
    """Unix seconds (digits) or an ISO 8601 date-time from 1970 on (UTC unless it says so)."""
    if value is None:
        return default
    if re.fullmatch(r"[0-9]{1,11}", value):
        return float(value)
    d = None
    if re.match(r"(19[7-9][0-9]|[2-9][0-9]{3})-", value):
        with contextlib.suppress(ValueError):
            d = datetime.fromisoformat(value.upper())
    if d is None:
        raise HTTPException(422, f"{name}: not Unix seconds or an ISO 8601 date-time from 1970")
    t = (d if d.tzinfo else d.replace(tzinfo=UTC)).timestamp()
    return min(max(t, 0.0), 1e11)


@router.get("/v1/metrics/online", dependencies=[require("admin")])
def online(
    eng: Eng,
    since: Time = None,
    until: Time = None,
    k: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    """CTR@k, per-position CTR, conversion, coverage, diversity and latency of the lists
    served in ``[since, until)`` (default: the last day), per model version and variant."""
    now = time.time()
    end = _time(until, "until", now + 1.0)
    start = _time(since, "since", end - DEFAULT_WINDOW_S)
    return eng.online_metrics(start, max(start, end), k)


@router.post(
    "/v1/experiments", dependencies=[require("admin")], status_code=201,
    responses={409: {"description": "The name is taken, or another experiment is running"}},
)  # fmt: skip
def start(body: ExperimentIn, eng: Eng, caller: Who) -> dict[str, Any]:
    """Start an experiment: users are assigned to variants by a salted hash of their id (A/B)
    or see both variants' lists merged (interleaving), from now until it is stopped."""
    if eng.log is None:
        raise HTTPException(409, "experiments read the record of served lists, which this "
                                 "service does not keep (started with --no-impressions)")  # fmt: skip
    given = [v.share for v in body.variants]
    if body.kind == "ab" and any(s is None for s in given) and any(s is not None for s in given):
        raise HTTPException(422, "give every variant a share, or none (equal shares)")
    even = 1.0 / len(body.variants)
    try:
        exp = Experiment(body.name, tuple(
            Variant(v.name, v.version,
                    None if v.rerank is None else v.rerank.model_dump(exclude={"pinned"}),
                    even if v.share is None else v.share)
            for v in body.variants
        ), kind=body.kind)  # fmt: skip
    except UsageError as exc:
        raise HTTPException(422, str(exc)) from None
    if any(v.rerank is not None and v.rerank.pinned for v in body.variants):
        raise HTTPException(422, "a variant's re-ranking cannot pin items")
    try:
        eng.start_experiment(exp)
    except KeyError as exc:
        raise HTTPException(404, f"unknown model version {exc}") from None
    except ValueError as exc:
        raise HTTPException(409, str(exc)) from None
    eng.store.audit(caller.actor, "start experiment", None, exp.name)
    return _describe(exp)


@router.get("/v1/experiments", dependencies=[require("admin")])
def experiments(eng: Eng) -> dict[str, Any]:
    return {"experiments": [_describe(e) for e in eng.experiments().values()]}


@router.get("/v1/experiments/{name}", dependencies=[require("admin")])
def results(name: PathId, eng: Eng) -> dict[str, Any]:
    """The experiment's results so far: ``variants`` (users, impressions, clicks, ``ctr``),
    ``srm_p``, and ``comparisons`` against the first variant (``lift`` with ``p_value`` and
    ``always_valid_p``; an interleaving's ``preference`` for the second)."""
    try:
        return eng.experiment_results(name)
    except KeyError:
        raise HTTPException(404, f"unknown experiment '{name}'") from None


@router.post("/v1/experiments/{name}/stop", dependencies=[require("admin")])
def stop(name: PathId, eng: Eng, caller: Who) -> dict[str, Any]:
    try:
        exp = eng.stop_experiment(name)
    except KeyError:
        raise HTTPException(404, f"unknown experiment '{name}'") from None
    eng.store.audit(caller.actor, "stop experiment", None, name)
    return _describe(exp)


def _describe(exp: Experiment) -> dict[str, Any]:
    return {
        "name": exp.name, "kind": exp.kind, "running": exp.running,
        "started_at": exp.started_at, "stopped_at": exp.stopped_at,
        "variants": [{"name": v.name, "version": v.version, "rerank": v.rerank,
                      "share": v.share if exp.kind == "ab" else None} for v in exp.variants],
    }  # fmt: skip
