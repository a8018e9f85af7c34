"""Importers for the formats users bring: MovieLens 1M/10M, RecBole atomic files, sequences."""

from __future__ import annotations

from pathlib import Path

import pytest

from lmrec.data import import_dataset
from lmrec.errors import DataError


def test_movielens_dat_latin1_with_users(tmp_path: Path) -> None:
    (tmp_path / "movies.dat").write_bytes(
        "1::Toy Story (1995)::Animation|Children's|Comedy\n2::Amélie (2001)::Comedy|Romance\n".encode(
            "latin-1"
        )
    )
    (tmp_path / "ratings.dat").write_text(
        "1::1::5::978300760\n1::2::3::978302109\n2::2::4::978301968\n"
    )
    (tmp_path / "users.dat").write_text("1::F::1::10::48067\n2::M::56::16::70072\n")
    ds = import_dataset(tmp_path, "movielens-dat")
    inter = ds.interactions.sort(["user_id", "timestamp"])
    assert inter["item_id"].to_list() == ["1", "2", "2"]
    assert inter["value"].to_list() == [5.0, 3.0, 4.0]
    items = ds.items.sort("item_id")
    assert items["title"].to_list() == ["Toy Story (1995)", "Amélie (2001)"]
    assert items["categories"].to_list()[1] == ["Comedy", "Romance"]
    assert items["year"].to_list() == [1995, 2001]
    assert ds.users.sort("user_id")["gender"].to_list() == ["F", "M"]


def test_movielens_dat_bad_rows_name_the_line(tmp_path: Path) -> None:
    (tmp_path / "movies.dat").write_text("1::A (1999)::Drama\n")
    (tmp_path / "ratings.dat").write_text("1::1::5::978300760\n1::9::3::978302109\n")
    with pytest.raises(DataError, match=r"ratings\.dat, line 2"):
        import_dataset(tmp_path, "movielens-dat")
    ds = import_dataset(tmp_path, "movielens-dat", on_error="skip")
    assert ds.interactions.height == 1


def test_recbole_atomic_files(tmp_path: Path) -> None:
    (tmp_path / "ml.inter").write_text(
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
        "u1\ti1\t4\t100\nu1\ti2\t2\t50\nu2\ti1\t5\t70\n"
    )
    (tmp_path / "ml.item").write_text(
        "item_id:token\tmovie_title:token_seq\tgenre:token_seq\n"
        "i1\tSpace Robots\tSci-Fi Action\ni2\tQuiet Garden\tDrama\n"
    )
    ds = import_dataset(tmp_path, "recbole")
    u1 = ds.interactions.filter(ds.interactions["user_id"] == "u1").sort("timestamp")
    assert u1["item_id"].to_list() == ["i2", "i1"]  # ordered by time, not by line
    assert u1["value"].to_list() == [2.0, 4.0]
    items = ds.items.sort("item_id")
    assert items["title"].to_list() == ["Space Robots", "Quiet Garden"]
    assert items["categories"].to_list()[0] == ["Sci-Fi", "Action"]
    assert "Space Robots" in items["text"].to_list()[0]
    (tmp_path / "bad.inter").write_text("user\titem\n")
    with pytest.raises(DataError, match="name:type"):
        import_dataset(tmp_path / "bad.inter", "recbole")


def test_sequences_keep_file_order(tmp_path: Path) -> None:
    path = tmp_path / "Video.txt"
    path.write_text("1 10\n1 11\n2 10\n\n2 12\n")
    ds = import_dataset(path, "sequences")
    assert ds.meta["time_is_order"] is True
    assert ds.interactions["item_id"].to_list() == ["10", "11", "10", "12"]
    assert sorted(ds.items["item_id"].to_list()) == ["10", "11", "12"]
    path.write_text("1 10\n1 11 3\n")
    with pytest.raises(DataError, match=r"Video\.txt, line 2: expected 'user item'"):
        import_dataset(path, "sequences")


@pytest.mark.realdata
def test_the_amazon_video_games_sequences() -> None:
    from tests.conftest import SHARED

    path = SHARED / "sasrec-video" / "Video.txt"
    if not path.is_file():
        pytest.skip("the Video Games sequences are not in ../shared/data")
    ds = import_dataset(path, "sequences")
    assert ds.interactions.height == 287_107
    assert ds.interactions["user_id"].n_unique() == 31_013
    assert ds.items.height == 23_715
