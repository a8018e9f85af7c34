"""The Spark path's data steps give the single-machine files row for row: import, clean and
split (with ties in time broken by file order)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from lmrec.data import ColumnMapping, Dataset, Split, import_dataset, split_dataset
from lmrec.errors import DataError
from lmrec.spark.clean import clean_on_spark
from lmrec.spark.importer import import_on_spark
from lmrec.spark.split import split_on_spark

pytestmark = pytest.mark.spark
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Interactions with repeated pairs, equal timestamps (ties), values and one bot user."""
    rng = np.random.default_rng(4)
    rows = []
    for u in range(60):
        n = int(rng.integers(1, 25))
        t = int(rng.integers(0, 10_000))
        for _ in range(n):
            t += int(rng.choice([0, 0, 5, 3600]))  # many ties
            rows.append((f"u{u}", f"i{int(rng.zipf(1.6)) % 50}", t, float(rng.integers(1, 6))))
    rows += [("bot", f"i{j}", 50_000 + j // 2, 5.0) for j in range(80)]  # 80 items in 40 s
    order = rng.permutation(len(rows))  # file order is not time order
    frame = pl.DataFrame(
        [rows[i] for i in order], schema=["user_id", "item_id", "timestamp", "value"], orient="row"
    )
    return Dataset.build(frame, meta={"source": "test"}).save(tmp_path_factory.mktemp("d") / "ds")


@pytest.mark.parametrize("protocol", ["loo", "temporal", "random"])
def test_split_equals_the_single_machine_split(
    spark: Any, dataset: Path, tmp_path: Path, protocol: str
) -> None:
    counts = split_on_spark(spark, dataset, tmp_path / "s", protocol, seed=7)
    got = Split.load(tmp_path / "s")
    want = split_dataset(Dataset.load(dataset), protocol, seed=7)
    for name in ("train", "valid", "test"):
        assert getattr(got, name).equals(getattr(want, name)), name
        assert counts[name] == getattr(want, name).height
    assert got.items.equals(want.items)
    assert got.meta["protocol"] == protocol


def test_clean_equals_the_single_machine_rules(
    spark: Any, cli: Run, dataset: Path, tmp_path: Path
) -> None:
    flags = ["--min-value", "2", "--min-user", "3", "--min-item", "3", "--drop-bots"]
    code, _, err = cli("data", "clean", dataset, "--out", tmp_path / "local", *flags)
    assert code == 0, err
    report = clean_on_spark(spark, dataset, tmp_path / "spark", min_value=2, min_user=3,
                            min_item=3, drop_bots=True)  # fmt: skip
    got = Dataset.load(tmp_path / "spark")
    want = Dataset.load(tmp_path / "local")
    assert got.interactions.equals(want.interactions)
    assert report == want.meta["cleaning"]
    assert report["duplicates_removed"] > 0
    assert report["bot_users_removed"] == 1
    assert report["kcore_removed"] > 0


@pytest.fixture
def messy_csv(tmp_path: Path) -> Path:
    path = tmp_path / "events.csv"
    path.write_text(
        "user,item,rating,time,device\n"
        "u1, i1 ,4,2026-11-28T20:00:00Z,mobile\n"
        "u2,i2,x,2026-11-28T20:00:01Z,web\n"
        "u3,,3,5,web\n"
        "u1,i3,2,1700000000.7,\n"
        "u2,i1,5,  17 ,tv\n"
        "u4,i4,1,notatime,web\n"
    )
    return path


def test_import_skips_and_counts_the_bad_rows_as_one_machine_does(
    spark: Any, messy_csv: Path, tmp_path: Path
) -> None:
    summary = import_on_spark(spark, messy_csv, "csv", tmp_path / "spark", on_error="skip")
    import_dataset(messy_csv, "csv", ColumnMapping(), on_error="skip").save(tmp_path / "local")
    got, want = Dataset.load(tmp_path / "spark"), Dataset.load(tmp_path / "local")
    assert got.interactions.equals(want.interactions)
    assert got.items.equals(want.items)
    assert (
        summary["skipped_rows"]
        == want.meta["skipped_rows"]
        == {
            "missing item id": 1,
            "timestamp is not a number or an ISO-8601 date-time": 1,
            "value is not a number": 1,
        }
    )
    assert got.interactions["timestamp"].to_list() == [1795896000, 1700000000, 17]


def test_import_fails_at_the_first_bad_row_naming_it(
    spark: Any, messy_csv: Path, tmp_path: Path
) -> None:
    # the checks run in one order over the whole file: ids first, then time, then value
    with pytest.raises(DataError) as local:
        import_dataset(messy_csv, "csv", ColumnMapping(time="time"))
    with pytest.raises(DataError, match=r"line 4, column 'item': missing item id: ''") as got:
        import_on_spark(spark, messy_csv, "csv", tmp_path / "x", ColumnMapping(time="time"))
    assert str(got.value) == str(local.value)
    assert not (tmp_path / "x" / "dataset.json").exists()


def test_import_of_parquet_without_time_keeps_file_order(spark: Any, tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    pl.DataFrame({"customer_id": [3, 1, 3, 2], "sku": ["b", "a", "a", "c"]}).write_parquet(src)
    import_on_spark(spark, src, "parquet", tmp_path / "spark")
    import_dataset(src, "parquet").save(tmp_path / "local")
    got, want = Dataset.load(tmp_path / "spark"), Dataset.load(tmp_path / "local")
    assert got.interactions.equals(want.interactions)
    assert got.items.equals(want.items)
    assert got.meta["time_is_order"] is True


def test_the_cli_runs_split_on_spark_and_refuses_master_alone(
    spark: Any, cli: Run, dataset: Path, tmp_path: Path
) -> None:
    code, out, err = cli("data", "split", dataset, "--engine", "spark", "--out", tmp_path / "s")
    assert code == 0, err
    assert "(Spark)" in out
    assert Split.load(tmp_path / "s").test.equals(split_dataset(Dataset.load(dataset), "loo").test)
    code, _, err = cli("data", "split", dataset, "--master", "local[1]", "--out", tmp_path / "t")
    assert code == 2
    assert "--master needs --engine spark" in err
