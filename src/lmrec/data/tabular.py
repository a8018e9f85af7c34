"""Import interactions from CSV/TSV, Parquet and JSON Lines with a column mapping."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from lmrec.data.dataset import Dataset
from lmrec.data.issues import OnError, RowIssues
from lmrec.errors import DataError, UsageError

__all__ = [
    "ColumnMapping",
    "import_table",
    "read_interactions",
    "read_table",
    "read_text",
    "resolve_columns",
]

TabularFormat = Literal["csv", "tsv", "parquet", "jsonl"]

_AUTO_USER = ("user_id", "user", "userId", "userid", "customer_id", "session_id")
_AUTO_ITEM = ("item_id", "item", "itemId", "itemid", "movieId", "product_id", "sku")
_AUTO_TIME = ("timestamp", "time", "ts", "datetime", "date", "event_time")
_AUTO_VALUE = ("value", "rating", "score", "weight")
_AUTO_EVENT = ("event", "event_type", "type", "action")


@dataclass(frozen=True)
class ColumnMapping:
    """Which column of a file holds what. ``None`` means: look for a usual name.

    Without a header, columns are named by position: ``"0"``, ``"1"``, ... and the defaults are
    user = column 0, item = column 1. When no time column is found, file order is time order.
    """

    user: str | None = None
    item: str | None = None
    time: str | None = None
    value: str | None = None
    event: str | None = None
    sep: str = ","
    header: bool = True
    encoding: str = "utf-8"
    quoting: bool = True
    default_event: str = "view"


def read_text(path: Path, encoding: str) -> str:
    """The file decoded; a wrong encoding is an error naming the line."""
    if not path.is_file():
        raise DataError("no such file", path=path)
    raw = path.read_bytes()
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(
            f"not valid {encoding} (byte 0x{raw[exc.start]:02x}); "
            "give the file's encoding with --encoding, e.g. --encoding latin-1",
            path=path,
            line=line,
        ) from None
    except LookupError:
        raise UsageError(f"unknown encoding '{encoding}'") from None


#: What a separator of several characters becomes before parsing (the ASCII unit separator).
_UNIT_SEP = "\x1f"


def read_table(
    path: Path,
    fmt: TabularFormat,
    *,
    sep: str = ",",
    header: bool = True,
    encoding: str = "utf-8",
    quoting: bool = True,
    issues: RowIssues,
) -> tuple[pl.DataFrame, Literal["line", "row"]]:
    """Every cell as a string, plus ``_line`` (1-based line of the file, or row of a Parquet file)."""
    if fmt == "parquet":
        return _read_parquet(path), "row"
    text = read_text(path, encoding)
    if not text.strip():
        raise DataError("the file is empty", path=path)
    if fmt == "jsonl":
        return _read_jsonl(path, text, issues), "line"
    delimiter = "\t" if fmt == "tsv" else sep
    if len(delimiter) > 1 and not quoting:  # e.g. MovieLens 1M's "::": one rare character
        if _UNIT_SEP in text:
            raise DataError(f"cannot split on {delimiter!r}: the file holds \\x1f", path=path)
        text, delimiter = text.replace(delimiter, _UNIT_SEP), _UNIT_SEP
    return _read_delimited(path, text, delimiter, header, quoting, issues), "line"


def _read_delimited(
    path: Path, text: str, sep: str, header: bool, quoting: bool, issues: RowIssues
) -> pl.DataFrame:
    if len(sep) != 1:
        raise UsageError(f"--sep must be one character (or several with quoting off), not {sep!r}")
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=sep,
        quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE,
    )
    names: list[str] | None = None
    columns: list[list[str]] = []
    lines: list[int] = []
    start = 1
    try:
        for fields in reader:
            line = start
            start = reader.line_num + 1
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # blank line: not data
            if names is None:
                if header:
                    names = [f.strip() for f in fields]
                    _check_header(path, names)
                    columns = [[] for _ in names]
                    continue
                names = [str(i) for i in range(len(fields))]
                columns = [[] for _ in names]
            if len(fields) != len(names):
                issues.row(
                    "wrong number of fields",
                    path=path,
                    line=line,
                    detail=f"expected {len(names)}, found {len(fields)}",
                )
                continue
            for col, value in zip(columns, fields, strict=True):
                col.append(value)
            lines.append(line)
    except csv.Error as exc:
        raise DataError(f"malformed CSV ({exc})", path=path, line=reader.line_num) from None
    if names is None:
        raise DataError("the file is empty", path=path)
    data: dict[str, list[str] | list[int]] = dict(zip(names, columns, strict=True))
    data["_line"] = lines
    schema = {n: pl.String for n in names} | {"_line": pl.Int64}
    frame = pl.DataFrame(data, schema=schema)
    if frame.height == 0 and issues.total == 0:
        raise DataError("no data rows (only a header)", path=path)
    return frame


def _check_header(path: Path, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if not name:
            raise DataError("the header has an empty column name", path=path, line=1)
        if name in seen:
            raise DataError(f"the header names column '{name}' twice", path=path, line=1)
        seen.add(name)


def _read_jsonl(path: Path, text: str, issues: RowIssues) -> pl.DataFrame:
    records: list[dict[str, str | None]] = []
    lines: list[int] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            issues.row("malformed JSON", path=path, line=lineno, detail=exc.msg)
            continue
        if not isinstance(obj, dict):
            issues.row("not a JSON object", path=path, line=lineno)
            continue
        records.append({str(k): _json_cell(v) for k, v in obj.items()})
        lines.append(lineno)
    names: list[str] = []
    for rec in records:
        for key in rec:
            if key not in names:
                names.append(key)
    data: dict[str, list[str | None] | list[int]] = {n: [r.get(n) for r in records] for n in names}
    data["_line"] = lines
    frame = pl.DataFrame(data, schema={n: pl.String for n in names} | {"_line": pl.Int64})
    if frame.height == 0 and issues.total == 0:
        raise DataError("no records", path=path)
    return frame


def _json_cell(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value)


def _read_parquet(path: Path) -> pl.DataFrame:
    if not path.is_file():
        raise DataError("no such file", path=path)
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # polars raises several kinds for a broken file
        raise DataError(f"not a readable Parquet file ({type(exc).__name__})", path=path) from None
    if frame.height == 0:
        raise DataError("no rows", path=path)
    frame = frame.with_columns(
        pl.col(c).cast(pl.String) for c in frame.columns if frame.schema[c] != pl.String
    )
    return frame.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("_line"))


def _resolve(
    path: Path,
    frame: pl.DataFrame,
    given: str | None,
    auto: tuple[str, ...],
    what: str,
    *,
    required: bool,
    unit: str,
) -> str | None:
    cols = [c for c in frame.columns if c != "_line"]
    if given is not None:
        if given not in cols:
            raise DataError(
                f"no column '{given}' for the {what} (the file has: {', '.join(cols)})",
                path=path,
                line=1 if unit == "line" else None,
                column=given,
            )
        return given
    for name in auto:
        if name in cols:
            return name
    if required:
        raise DataError(
            f"no {what} column found (looked for {', '.join(auto)}; the file has: "
            f"{', '.join(cols)}); name it with --{what.split()[0]}",
            path=path,
            line=1 if unit == "line" else None,
        )
    return None


def resolve_columns(
    path: Path,
    frame: pl.DataFrame,
    mapping: ColumnMapping,
    *,
    positional: bool,
    unit: Literal["line", "row"] = "line",
) -> dict[str, str | None]:
    """Which of ``frame``'s columns hold the user, item, time, value and event: the mapping's
    names, else the usual ones (without a header: user = column 0, item = column 1, no
    others); the user and item must be found."""
    found = {
        "user": _resolve(path, frame, mapping.user or ("0" if positional else None), _AUTO_USER,
                         "user id", required=True, unit=unit),
        "item": _resolve(path, frame, mapping.item or ("1" if positional else None), _AUTO_ITEM,
                         "item id", required=True, unit=unit),
    }  # fmt: skip
    for key, given, auto in (
        ("time", mapping.time, _AUTO_TIME),
        ("value", mapping.value, _AUTO_VALUE),
        ("event", mapping.event, _AUTO_EVENT),
    ):
        found[key] = _resolve(path, frame, given, () if positional else auto, key,
                              required=False, unit=unit)  # fmt: skip
    return found


def read_interactions(
    path: str | Path,
    fmt: TabularFormat,
    mapping: ColumnMapping | None = None,
    *,
    on_error: OnError = "fail",
    catalog: set[str] | None = None,
    issues: RowIssues | None = None,
) -> tuple[pl.DataFrame, bool]:
    """Interactions with the lmrec schema, and whether time is file order (no time column).

    Bad rows fail or are skipped and counted in ``issues``. When ``catalog`` is given, an item id
    outside it is a bad row.
    """
    src = Path(path)
    mapping = mapping or ColumnMapping()
    issues = issues if issues is not None else RowIssues(on_error)
    frame, unit = read_table(
        src,
        fmt,
        sep=mapping.sep,
        header=mapping.header,
        encoding=mapping.encoding,
        quoting=mapping.quoting,
        issues=issues,
    )
    positional = fmt in ("csv", "tsv") and not mapping.header
    cols = resolve_columns(src, frame, mapping, positional=positional, unit=unit)
    user, item, time, value, event = (cols[k] for k in ("user", "item", "time", "value", "event"))
    assert user is not None
    assert item is not None

    def check(bad: pl.Series, reason: str, column: str) -> None:
        nonlocal frame
        frame = issues.check(
            frame, bad, reason, path=src, column=column, detail_col=column, unit=unit
        )

    check(frame[user].is_null() | (frame[user].str.strip_chars() == ""), "missing user id", user)
    check(frame[item].is_null() | (frame[item].str.strip_chars() == ""), "missing item id", item)
    if time is not None:
        parsed = parse_timestamps(frame[time])
        check(parsed.is_null(), "timestamp is not a number or an ISO-8601 date-time", time)
        frame = frame.with_columns(parse_timestamps(frame[time]).alias("_ts"))
    if value is not None:
        num = frame[value].str.strip_chars().cast(pl.Float64, strict=False)
        bad = num.is_null() & frame[value].is_not_null() & (frame[value].str.strip_chars() != "")
        check(bad | num.is_nan() | num.is_infinite(), "value is not a number", value)
    if catalog is not None:
        known = frame[item].str.strip_chars().is_in(list(catalog))
        check(~known, "item id is not in the item catalog", item)

    exprs = [
        pl.col(user).str.strip_chars().alias("user_id"),
        pl.col(item).str.strip_chars().alias("item_id"),
        (pl.col("_ts") if time is not None else pl.col("_line").cast(pl.Int64)).alias("timestamp"),
        (
            pl.col(event).fill_null(mapping.default_event)
            if event is not None
            else pl.lit(mapping.default_event)
        ).alias("event"),
        (
            pl.col(value).str.strip_chars().cast(pl.Float64, strict=False)
            if value is not None
            else pl.lit(None, dtype=pl.Float64)
        ).alias("value"),
    ]
    used = {user, item, time, value, event, "_line", "_ts"}
    context = [c for c in frame.columns if c not in used]
    exprs.extend(pl.col(c).alias(c) for c in context)
    return frame.select(exprs), time is None


def parse_timestamps(values: pl.Series) -> pl.Series:
    """Unix seconds from integers, decimals or ISO-8601 strings; null where none of them parses."""
    text = values.str.strip_chars()
    as_int = text.cast(pl.Int64, strict=False)
    as_float = text.cast(pl.Float64, strict=False)
    as_float = pl.Series(as_float).set(as_float.is_nan() | as_float.is_infinite(), None)
    as_date = text.str.to_datetime(strict=False, time_unit="us", time_zone="UTC")
    date_seconds = (as_date.dt.epoch("s")).cast(pl.Int64)
    out = as_int.fill_null(as_float.floor().cast(pl.Int64, strict=False)).fill_null(date_seconds)
    return out.alias(values.name)


def import_table(
    path: str | Path,
    fmt: TabularFormat,
    mapping: ColumnMapping | None = None,
    *,
    on_error: OnError = "fail",
    items: pl.DataFrame | None = None,
    users: pl.DataFrame | None = None,
) -> Dataset:
    """A Dataset from one interactions file (and an optional catalog and user table)."""
    mapping = mapping or ColumnMapping()
    issues = RowIssues(on_error)
    catalog = None if items is None else set(items["item_id"].cast(pl.String).to_list())
    inter, time_is_order = read_interactions(path, fmt, mapping, catalog=catalog, issues=issues)
    meta = issues.import_meta(path, fmt, time_is_order=time_is_order)
    return Dataset.build(inter, items, users, meta)
