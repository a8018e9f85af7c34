"""Every kind of bad input gives one error naming file, line and column (or is skipped and
counted with --on-error skip)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from lmrec.data import ColumnMapping, import_dataset
from lmrec.errors import DataError, UsageError


def write(tmp_path: Path, text: str, name: str = "events.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_wrong_number_of_fields(tmp_path: Path) -> None:
    p = write(tmp_path, "user_id,item_id,timestamp\n1,2,3\n4,5\n6,7,8\n")
    with pytest.raises(DataError) as exc:
        import_dataset(p, "csv")
    assert str(exc.value) == f"{p}, line 3: wrong number of fields: expected 3, found 2"
    data = import_dataset(p, "csv", on_error="skip")
    assert data.interactions.height == 2
    assert data.meta["skipped_rows"] == {"wrong number of fields": 1}


def test_misnamed_column(tmp_path: Path) -> None:
    p = write(tmp_path, "uid,item_id\n1,2\n")
    with pytest.raises(DataError, match=r"line 1: no user id column found .*uid.*--user"):
        import_dataset(p, "csv")
    with pytest.raises(DataError, match=r"line 1, column 'who': no column 'who' for the user id"):
        import_dataset(p, "csv", ColumnMapping(user="who"))
    assert import_dataset(p, "csv", ColumnMapping(user="uid")).interactions.height == 1


def test_non_numeric_timestamp(tmp_path: Path) -> None:
    p = write(tmp_path, "user_id,item_id,timestamp\n1,2,100\n1,3,yesterday\n")
    with pytest.raises(DataError) as exc:
        import_dataset(p, "csv")
    msg = str(exc.value)
    assert "line 3" in msg
    assert "column 'timestamp'" in msg
    assert "'yesterday'" in msg
    skipped = import_dataset(p, "csv", on_error="skip")
    assert skipped.meta["skipped_rows"] == {"timestamp is not a number or an ISO-8601 date-time": 1}


def test_iso_and_decimal_timestamps_parse(tmp_path: Path) -> None:
    p = write(tmp_path, "user_id,item_id,timestamp\n1,2,2024-01-02T00:00:00Z\n1,3,1704153600.7\n")
    ts = import_dataset(p, "csv").interactions["timestamp"].to_list()
    assert ts == [1704153600, 1704153600]


def test_wrong_encoding(tmp_path: Path) -> None:
    p = tmp_path / "latin.csv"
    p.write_bytes("user_id,item_id\n1,caf\xe9\n2,b\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"line 2: not valid utf-8 \(byte 0xe9\).*--encoding"):
        import_dataset(p, "csv")
    data = import_dataset(p, "csv", ColumnMapping(encoding="latin-1"))
    assert data.interactions["item_id"].to_list() == ["café", "b"]


def test_unknown_encoding_name(tmp_path: Path) -> None:
    p = write(tmp_path, "user_id,item_id\n1,2\n")
    with pytest.raises(UsageError, match="unknown encoding 'klingon'"):
        import_dataset(p, "csv", ColumnMapping(encoding="klingon"))


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="the file is empty"):
        import_dataset(write(tmp_path, ""), "csv")
    with pytest.raises(DataError, match="no data rows"):
        import_dataset(write(tmp_path, "user_id,item_id\n", "h.csv"), "csv")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        import_dataset(tmp_path / "nope.csv", "csv")


def test_item_not_in_catalog(tmp_path: Path) -> None:
    items = write(tmp_path, "item_id,title\n1,One\n2,Two\n", "items.csv")
    p = write(tmp_path, "user_id,item_id\na,1\na,7\nb,2\n")
    with pytest.raises(DataError) as exc:
        import_dataset(p, "csv", items_path=items)
    assert str(exc.value) == (
        f"{p}, line 3, column 'item_id': item id is not in the item catalog: '7'"
    )
    data = import_dataset(p, "csv", items_path=items, on_error="skip")
    assert data.interactions["item_id"].to_list() == ["1", "2"]
    assert data.meta["skipped_rows"] == {"item id is not in the item catalog": 1}


def test_value_not_a_number(tmp_path: Path) -> None:
    p = write(tmp_path, "user_id,item_id,rating\n1,2,4.5\n1,3,five\n1,4,\n")
    with pytest.raises(DataError, match=r"line 3, column 'rating': value is not a number: 'five'"):
        import_dataset(p, "csv")
    data = import_dataset(p, "csv", on_error="skip")
    assert data.interactions["value"].to_list() == [4.5, None]  # empty = no value, kept


def test_missing_ids(tmp_path: Path) -> None:
    p = write(tmp_path, "user_id,item_id\n1,2\n ,3\n4,\n")
    with pytest.raises(DataError, match=r"line 3, column 'user_id': missing user id"):
        import_dataset(p, "csv")
    data = import_dataset(p, "csv", on_error="skip")
    assert data.meta["skipped_rows"] == {"missing user id": 1, "missing item id": 1}
    assert data.interactions.height == 1


def test_duplicate_header_names(tmp_path: Path) -> None:
    p = write(tmp_path, "user_id,item_id,item_id\n1,2,3\n")
    with pytest.raises(DataError, match="line 1: the header names column 'item_id' twice"):
        import_dataset(p, "csv")


def test_malformed_jsonl(tmp_path: Path) -> None:
    p = write(tmp_path, '{"user_id": 1, "item_id": "a"}\n{"user_id": 2, item\n[1, 2]\n', "e.jsonl")
    with pytest.raises(DataError, match=r"e.jsonl, line 2: malformed JSON"):
        import_dataset(p, "jsonl")
    data = import_dataset(p, "jsonl", on_error="skip")
    assert data.meta["skipped_rows"] == {"malformed JSON": 1, "not a JSON object": 1}
    assert data.interactions["user_id"].to_list() == ["1"]


def test_parquet_rows_named_by_row(tmp_path: Path) -> None:
    p = tmp_path / "e.parquet"
    pl.DataFrame(
        {"user_id": ["a", "b"], "item_id": ["x", "y"], "timestamp": ["5", "soon"]}
    ).write_parquet(p)
    with pytest.raises(DataError, match=r"e.parquet, row 2, column 'timestamp'"):
        import_dataset(p, "parquet")
    broken = write(tmp_path, "not parquet", "broken.parquet")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        import_dataset(broken, "parquet")


def test_unknown_format_and_on_error(tmp_path: Path) -> None:
    p = write(tmp_path, "user_id,item_id\n1,2\n")
    with pytest.raises(UsageError, match="unknown format 'xlsx'"):
        import_dataset(p, "xlsx")
    with pytest.raises(UsageError, match="--on-error must be"):
        import_dataset(p, "csv", on_error="ignore")  # type: ignore[arg-type]


def test_catalog_without_key(tmp_path: Path) -> None:
    items = write(tmp_path, "id,title\n1,x\n", "items.csv")
    p = write(tmp_path, "user_id,item_id\n1,1\n")
    with pytest.raises(
        DataError, match=r"items.csv, line 1, column 'item_id': no column 'item_id'"
    ):
        import_dataset(p, "csv", items_path=items)


def test_skip_report_is_saved(tmp_path: Path) -> None:
    p = write(tmp_path, "user_id,item_id\n1,2\n3\n")
    data = import_dataset(p, "csv", on_error="skip")
    data.save(tmp_path / "ds")
    meta = json.loads((tmp_path / "ds" / "dataset.json").read_text())
    assert meta["skipped_rows"] == {"wrong number of fields": 1}
