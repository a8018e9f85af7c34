from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from lmrec.data import ColumnMapping, Dataset, fetch, import_dataset
from lmrec.data.fetch import SOURCES
from lmrec.errors import DataError


def test_csv_with_mapping_and_context(tmp_path: Path) -> None:
    p = tmp_path / "e.csv"
    p.write_text("who;what;when;stars;device\nu1;i1;10;5;mobile\nu2;i1;5;3;tv\n")
    data = import_dataset(
        p, "csv", ColumnMapping(user="who", item="what", time="when", value="stars", sep=";")
    )
    inter = data.interactions
    assert inter.columns == ["user_id", "item_id", "timestamp", "event", "value", "device"]
    assert inter["timestamp"].to_list() == [10, 5]  # file order kept; sorting is the split's job
    assert inter["value"].to_list() == [5.0, 3.0]
    assert inter["device"].to_list() == ["mobile", "tv"]
    assert data.meta["time_is_order"] is False
    assert data.items["item_id"].to_list() == ["i1"]  # catalog made from interactions


def test_no_header_positions_and_file_order(tmp_path: Path) -> None:
    p = tmp_path / "e.tsv"
    p.write_text("a\tx\nb\ty\na\tz\n")
    data = import_dataset(p, "tsv", ColumnMapping(header=False))
    assert data.interactions["user_id"].to_list() == ["a", "b", "a"]
    assert data.interactions["timestamp"].to_list() == [1, 2, 3]  # line numbers
    assert data.meta["time_is_order"] is True


def test_jsonl_and_parquet(tmp_path: Path) -> None:
    p = tmp_path / "e.jsonl"
    p.write_text(
        '{"user_id": 1, "item_id": 2, "timestamp": 3, "event": "click"}\n\n'
        '{"user_id": 1, "item_id": 4, "timestamp": 5}\n'
    )
    data = import_dataset(p, "jsonl")
    assert data.interactions["event"].to_list() == ["click", "view"]
    q = tmp_path / "e.parquet"
    pl.DataFrame({"user": [1, 2], "item": [3, 4], "ts": [7, 8]}).write_parquet(q)
    data = import_dataset(q, "parquet")
    assert data.interactions["user_id"].to_list() == ["1", "2"]
    assert data.interactions["timestamp"].to_list() == [7, 8]


def make_ml100k(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "u.data").write_text("1\t1\t5\t100\n1\t2\t3\t200\n2\t1\t4\t150\n")
    genres = "|".join(["0"] * 19)
    comedy = "|".join("1" if i == 5 else "0" for i in range(19))
    (folder / "u.item").write_bytes(
        (
            f"1|Amélie (2001)|01-Jan-2001||http://x|{comedy}\n"
            f'2|Mr. Holland\'s "Opus" (1995)|01-Jan-1995||http://y|{genres}\n'
        ).encode("latin-1")
    )
    (folder / "u.user").write_text("1|24|M|technician|85711\n2|53|F|other|94043\n")
    return folder


def test_movielens_100k_folder(tmp_path: Path) -> None:
    data = import_dataset(make_ml100k(tmp_path / "ml"), "movielens-100k")
    assert data.interactions.height == 3
    assert data.interactions["event"].unique().to_list() == ["rating"]
    items = data.items
    assert items["title"].to_list() == ["Amélie (2001)", 'Mr. Holland\'s "Opus" (1995)']
    assert items["categories"].to_list() == [["Comedy"], []]
    assert items["year"].to_list() == [2001, 1995]
    assert data.users["age"].to_list() == [24, 53]


def test_movielens_100k_unknown_item(tmp_path: Path) -> None:
    folder = make_ml100k(tmp_path / "ml")
    (folder / "u.data").write_text("1\t1\t5\t100\n1\t99\t3\t200\n")
    with pytest.raises(
        DataError, match=r"u.data, line 2, column '1': item id is not in the item catalog"
    ):
        import_dataset(folder, "movielens-100k")


def test_movielens_100k_missing_file(tmp_path: Path) -> None:
    folder = make_ml100k(tmp_path / "ml")
    (folder / "u.item").unlink()
    with pytest.raises(DataError, match=r"missing u\.item"):
        import_dataset(folder, "movielens-100k")


@pytest.mark.realdata
def test_real_movielens_100k(ml100k: Path) -> None:
    data = import_dataset(ml100k, "movielens-100k")
    s = data.stats()
    assert (s["interactions"], s["users"], s["items_in_catalog"]) == (100_000, 943, 1682)
    assert data.items.filter(pl.col("item_id") == "1")["title"].item() == "Toy Story (1995)"


def test_movielens_latest_folder(tmp_path: Path) -> None:
    folder = tmp_path / "latest"
    folder.mkdir()
    (folder / "movies.csv").write_text(
        'movieId,title,genres\n1,"Heat, The (1995)",Action|Crime\n2,Nothing (2000),(no genres listed)\n'
    )
    (folder / "ratings.csv").write_text("userId,movieId,rating,timestamp\n7,1,4.0,10\n7,2,2.5,20\n")
    (folder / "tags.csv").write_text("userId,movieId,tag,timestamp\n7,1,Heist,11\n7,1,heist,12\n")
    data = import_dataset(folder, "movielens")
    assert data.items["title"].to_list() == ["Heat, The (1995)", "Nothing (2000)"]
    assert data.items["categories"].to_list() == [["Action", "Crime"], []]
    assert "Tags: heist." in data.items["text"][0]
    assert data.interactions["value"].to_list() == [4.0, 2.5]


def test_baskets(tmp_path: Path) -> None:
    p = tmp_path / "b.csv"
    p.write_text("milk,bread \nbeer\n\nmilk,eggs,milk\n")
    data = import_dataset(p, "baskets")
    inter = data.interactions
    assert inter["user_id"].to_list() == ["basket1", "basket1", "basket2", "basket4", "basket4"]
    assert inter["item_id"].to_list() == ["milk", "bread", "beer", "milk", "eggs"]
    assert sorted(data.items["item_id"].to_list()) == ["beer", "bread", "eggs", "milk"]
    bad = tmp_path / "bad.csv"
    bad.write_text("milk,,bread\nbeer\n")
    with pytest.raises(DataError, match=r"bad.csv, line 1: empty item name"):
        import_dataset(bad, "baskets")
    assert import_dataset(bad, "baskets", on_error="skip").interactions.height == 1


@pytest.mark.realdata
def test_real_groceries(groceries: Path) -> None:
    data = import_dataset(groceries, "baskets")
    assert data.interactions["user_id"].n_unique() == 9835
    assert data.items.height == 169
    assert data.interactions.height == 43_367
    assert not any(name != name.strip() for name in data.items["item_id"].to_list())


def test_dataset_round_trip(tmp_path: Path) -> None:
    data = import_dataset(make_ml100k(tmp_path / "ml"), "movielens-100k")
    data.save(tmp_path / "ds")
    back = Dataset.load(tmp_path / "ds")
    assert back.interactions.equals(data.interactions)
    assert back.items.equals(data.items)
    assert back.users.equals(data.users)
    assert back.meta["format"] == "lmrec-dataset"


# -- fetch against a local HTTP server -----------------------------------------------------------
@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    httpd.shutdown()
    httpd.server_close()


def zip_folder(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


def test_fetch_unpacks_and_verifies(
    server: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, root = server
    u_data = b"1\t1\t5\t100\n"
    source = SOURCES["movielens-100k"]
    monkeypatch.setitem(
        SOURCES,
        "movielens-100k",
        type(source)(source.url, source.folder, {"u.data": hashlib.sha256(u_data).hexdigest()}),
    )
    (root / "ml-100k.zip").write_bytes(
        zip_folder(
            {
                "ml-100k/u.data": u_data,
                "ml-100k/u.item": b"1|A (1999)|x||y|" + b"|".join([b"0"] * 19) + b"\n",
            }
        )
    )
    folder = fetch("movielens-100k", tmp_path / "dl", url=f"{url}/ml-100k.zip")
    assert (folder / "u.data").read_bytes() == u_data
    assert import_dataset(folder, "movielens-100k").interactions.height == 1


def test_fetch_checksum_mismatch(server: tuple[str, Path], tmp_path: Path) -> None:
    url, root = server
    (root / "ml-100k.zip").write_bytes(zip_folder({"ml-100k/u.data": b"tampered\n"}))
    with pytest.raises(DataError, match=r"checksum mismatch for u\.data"):
        fetch("movielens-100k", tmp_path / "dl", url=f"{url}/ml-100k.zip")
    assert not (tmp_path / "dl" / "ml-100k").exists()
    folder = fetch("movielens-100k", tmp_path / "dl", url=f"{url}/ml-100k.zip", verify=False)
    assert (folder / "u.data").read_bytes() == b"tampered\n"


def test_fetch_errors(server: tuple[str, Path], tmp_path: Path) -> None:
    url, root = server
    with pytest.raises(DataError, match="download failed"):
        fetch("movielens-100k", tmp_path / "dl", url=f"{url}/missing.zip")
    (root / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a zip archive"):
        fetch("movielens-100k", tmp_path / "dl", url=f"{url}/junk.zip")
    (root / "other.zip").write_bytes(zip_folder({"other/u.data": b""}))
    with pytest.raises(DataError, match="no folder 'ml-100k'"):
        fetch("movielens-100k", tmp_path / "dl", url=f"{url}/other.zip")


@pytest.mark.realdata
def test_fetch_real_zip_built_from_shared_data(
    server: tuple[str, Path], ml100k: Path, tmp_path: Path
) -> None:
    url, root = server
    files = {f"ml-100k/{n}": (ml100k / n).read_bytes() for n in ("u.data", "u.item", "u.user")}
    (root / "ml-100k.zip").write_bytes(zip_folder(files))
    folder = fetch("movielens-100k", tmp_path / "dl", url=f"{url}/ml-100k.zip")
    assert import_dataset(folder, "movielens-100k").interactions.height == 100_000
