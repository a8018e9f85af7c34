"""Context of an action or a request: part of the day, weekday or weekend, device, location."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl

from lmrec.errors import UsageError

__all__ = [
    "CONTEXT_FIELDS",
    "DAYPARTS",
    "context_of_request",
    "context_table",
    "daypart",
    "parse_time",
    "request_time",
]

#: the latest time a request may name (the last second of the year 9999)
MAX_TIME = 253402300799
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)

CONTEXT_FIELDS = ("daypart", "daytype", "device", "location")
#: the parts of a day by UTC hour: 0-5, 6-11, 12-17, 18-23
DAYPARTS = ("night", "morning", "afternoon", "evening")


def daypart(hour: int) -> str:
    return DAYPARTS[int(hour) // 6]


def context_table(frame: pl.DataFrame, *, real_time: bool = True) -> pl.DataFrame:
    """One row per interaction: ``daypart`` and ``daytype`` (weekday/weekend) from real Unix
    timestamps (null when ``real_time`` is false: the times are only an order), ``device`` and
    ``location`` from those columns when the data has them (else null)."""
    cols: list[pl.Expr] = []
    if real_time and "timestamp" in frame.columns:
        stamp = pl.from_epoch(pl.col("timestamp").cast(pl.Int64), time_unit="s")
        cols += [
            (stamp.dt.hour() // 6).replace_strict(
                list(range(4)), list(DAYPARTS), return_dtype=pl.String
            ).alias("daypart"),
            pl.when(stamp.dt.weekday() >= 6).then(pl.lit("weekend")).otherwise(pl.lit("weekday"))
            .alias("daytype"),
        ]  # fmt: skip
    else:
        cols += [pl.lit(None, pl.String).alias("daypart"), pl.lit(None, pl.String).alias("daytype")]
    for name in ("device", "location"):
        col = pl.col(name).cast(pl.String) if name in frame.columns else pl.lit(None, pl.String)
        cols.append(col.alias(name))
    return frame.select(cols)


def context_of_request(context: dict[str, str | None] | None) -> dict[str, str]:
    """A request's context (``time`` as Unix seconds or ISO 8601, ``device``, ``location``) as
    context fields. Without a time, none is assumed (the request's own clock is not the
    user's)."""
    out: dict[str, str] = {}
    if not context:
        return out
    raw = context.get("time")
    if raw:
        stamp = _parse_time(str(raw))
        out["daypart"] = daypart(stamp.hour)
        out["daytype"] = "weekend" if stamp.isoweekday() >= 6 else "weekday"
    for name in ("device", "location"):
        value = context.get(name)
        if value:
            out[name] = str(value)
    return out


def request_time(context: dict[str, str | None] | None) -> int | None:
    """The request's ``time`` (Unix seconds or ISO 8601) as Unix seconds; None without one."""
    raw = (context or {}).get("time")
    return int(_parse_time(str(raw)).timestamp()) if raw else None


def parse_time(raw: str) -> int:
    """A time given as Unix seconds or ISO 8601 (UTC unless it says otherwise) as Unix
    seconds; a :class:`UsageError` for anything else or outside 1970 to 9999."""
    return int(_parse_time(raw).timestamp())


def _parse_time(raw: str) -> dt.datetime:
    text = raw.strip()
    if _NUMBER.fullmatch(text):
        value = float(text)
        if not 0 <= value <= MAX_TIME:
            raise UsageError(f"context time '{raw}' is outside 1970 to 9999")
        return dt.datetime.fromtimestamp(value, dt.UTC)
    try:
        stamp = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"context time '{raw}' is neither Unix seconds nor ISO 8601") from None
    stamp = stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=dt.UTC)
    if stamp.timestamp() < 0:
        raise UsageError(f"context time '{raw}' is outside 1970 to 9999")
    return stamp
