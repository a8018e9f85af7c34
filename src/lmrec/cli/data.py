"""``lmrec data``: import, fetch, stats, clean, split."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from lmrec.cli._common import (
    DataFormat,
    EngineName,
    OnError,
    Protocol,
    console,
    engine_option,
    master_option,
    spark_for,
)

app = typer.Typer(help="Import, inspect, clean and split datasets.", no_args_is_help=True)


@app.command("import")
def import_(
    src: Path = typer.Argument(
        ..., help="A file, or a folder for the MovieLens and RecBole formats."
    ),
    fmt: DataFormat = typer.Option(
        ...,
        "--format",
        "-f",
        help="movielens-100k, movielens (a 'latest' folder of CSV files), movielens-dat "
        "(a 1M or 10M folder of '::' files), recbole (a .inter file or its folder), sequences "
        "('user item' per line in time order), csv, tsv, parquet, jsonl or baskets (one basket "
        "per line).",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write the dataset to."),
    user: str | None = typer.Option(
        None,
        "--user",
        help="Column with the user id (a name, or a "
        "position 0, 1, ... with --no-header). Default: user_id, user, userId, ...",
    ),
    item: str | None = typer.Option(
        None, "--item", help="Column with the item id. Default: item_id, item, movieId, ..."
    ),
    time: str | None = typer.Option(
        None,
        "--time",
        help="Column with the time (Unix seconds or "
        "ISO-8601). Without one, file order is time order.",
    ),
    value: str | None = typer.Option(None, "--value", help="Column with a value such as a rating."),
    event: str | None = typer.Option(
        None,
        "--event",
        help="Column with the event type (view, click, cart, purchase, rating, ...).",
    ),
    default_event: str = typer.Option(
        "view", "--default-event", help="Event type when there is no event column."
    ),
    sep: str = typer.Option(",", "--sep", help="Field separator for csv (use '\\t' for tabs)."),
    no_header: bool = typer.Option(False, "--no-header", help="The file has no header line."),
    encoding: str = typer.Option("utf-8", "--encoding", help="Text encoding, e.g. latin-1."),
    items: Path | None = typer.Option(
        None,
        "--items",
        help="Item catalog file (csv/tsv/parquet/"
        "jsonl) with item_id and optional title, text, categories ('|'-separated).",
    ),
    users: Path | None = typer.Option(None, "--users", help="User attributes file with user_id."),
    on_error: OnError = typer.Option(
        OnError.fail,
        "--on-error",
        help="fail: stop at the first bad row "
        "(exit 2); skip: drop bad rows and report a count per reason.",
    ),
    engine: EngineName = engine_option(),
    master: str | None = master_option(),
) -> None:
    """Import interactions (and a catalog) into an lmrec dataset folder."""
    from lmrec.data import ColumnMapping, import_dataset

    mapping = ColumnMapping(
        user=user,
        item=item,
        time=time,
        value=value,
        event=event,
        sep="\t" if sep in ("\\t", "tab") else sep,
        header=not no_header,
        encoding=encoding,
        default_event=default_event,
    )
    spark = spark_for(engine, master)
    if spark is not None:
        from lmrec.spark.importer import import_on_spark

        s = import_on_spark(
            spark, src, fmt.value, out, mapping, on_error="skip" if on_error is OnError.skip
            else "fail", items_path=items, users_path=users,
        )  # fmt: skip
        console.print(
            f"imported {s['interactions']:,} interactions, {s['users']:,} users, "
            f"{s['items_in_catalog']:,} items -> {out} (Spark)"
        )
        for reason, count in s["skipped_rows"].items():
            console.print(f"  skipped {count:,} rows: {reason}")
        return
    data = import_dataset(
        src,
        fmt.value,
        mapping,
        on_error="skip" if on_error is OnError.skip else "fail",
        items_path=items,
        users_path=users,
    )
    data.save(out)
    s = data.stats()
    console.print(
        f"imported {s['interactions']:,} interactions, {s['users']:,} users, "
        f"{s['items_in_catalog']:,} items -> {out}"
    )
    skipped = data.meta.get("skipped_rows") or {}
    for reason, count in skipped.items():
        console.print(f"  skipped {count:,} rows: {reason}")


@app.command()
def fetch(
    name: str = typer.Argument("movielens-100k", help="movielens-100k or movielens-latest-small."),
    dest: Path = typer.Option(Path("data"), "--dest", help="Folder to unpack into."),
    url: str | None = typer.Option(
        None, "--url", help="Download from this address instead (a mirror)."
    ),
    verify: bool = typer.Option(True, "--verify/--no-verify", help="Check the files' sha256."),
) -> None:
    """Download a public dataset and unpack it (then: lmrec data import)."""
    from lmrec.data import fetch as do_fetch

    folder = do_fetch(name, dest, url=url, verify=verify)
    console.print(f"{name} -> {folder}")


@app.command()
def stats(
    dataset: Path = typer.Argument(..., help="A dataset folder."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Counts, sparsity, per-user and per-item activity, event types."""
    from lmrec.data import Dataset

    s = Dataset.load(dataset).stats()
    if as_json:
        typer.echo(json.dumps(s, indent=2))
        return
    for key, val in s.items():
        console.print(f"{key:>26}: {val}")


@app.command()
def clean(
    dataset: Path = typer.Argument(..., help="A dataset folder."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the cleaned dataset."),
    dedupe: bool = typer.Option(
        True, "--dedupe/--no-dedupe", help="Keep one interaction per (user, item): the last."
    ),
    min_value: float | None = typer.Option(
        None, "--min-value", help="Keep interactions with value >= this (e.g. 4 for ratings)."
    ),
    min_user: int = typer.Option(
        1, "--min-user", help="k-core: users need at least this many interactions."
    ),
    min_item: int = typer.Option(
        1, "--min-item", help="k-core: items need at least this many interactions."
    ),
    drop_bots: bool = typer.Option(
        False, "--drop-bots", help="Drop users with implausible event rates."
    ),
    max_per_minute: int = typer.Option(
        60, "--max-per-minute", help="Bot rule: most events in any minute."
    ),
    engine: EngineName = engine_option(),
    master: str | None = master_option(),
) -> None:
    """Deduplicate, threshold, drop bots, k-core filter (in that order)."""
    from lmrec.data import Dataset, binarize, drop_duplicates, kcore
    from lmrec.data import drop_bots as bots

    spark = spark_for(engine, master)
    if spark is not None:
        from lmrec.spark.clean import clean_on_spark

        counts = clean_on_spark(
            spark, dataset, out, dedupe=dedupe, min_value=min_value, min_user=min_user,
            min_item=min_item, drop_bots=drop_bots, max_per_minute=max_per_minute,
        )  # fmt: skip
        for key, val in counts.items():
            console.print(f"{key:>26}: {val:,}")
        return

    data = Dataset.load(dataset)
    report: dict[str, int] = {"before": data.interactions.height}
    if dedupe:
        data, r = drop_duplicates(data)
        report |= r
    if min_value is not None:
        data, r = binarize(data, threshold=min_value)
        report |= r
    if drop_bots:
        data, r = bots(data, max_per_minute=max_per_minute)
        report |= r
    if min_user > 1 or min_item > 1:
        data, r = kcore(data, min_user=min_user, min_item=min_item)
        report |= r
    report["after"] = data.interactions.height
    data.with_interactions(data.interactions, cleaning=report).save(out)
    for key, val in report.items():
        console.print(f"{key:>26}: {val:,}")


@app.command()
def forget(
    dataset: Path = typer.Argument(..., help="A dataset folder (the next training data)."),
    store: str = typer.Option(
        ..., "--store", help="The service's store URL: its deleted users are left out."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the dataset without them."),
) -> None:
    """Leave out of a dataset every user whose data was deleted through the service
    (DELETE /v1/users/{id}), so the next model is trained without them. The store knows them
    only by pseudonym; its secret ($LMREC_SECRET_KEY_FILE) matches the dataset's ids to them."""
    from dataclasses import replace

    import polars as pl

    from lmrec.data import Dataset
    from lmrec.service.store import open_store

    data = Dataset.load(dataset)
    db = open_store(store, create=False)
    try:
        gone = db.forgotten()
        users = data.interactions["user_id"].unique().to_list()
        drop = [u for u in users if db.vault.pseudonym(str(u)) in gone]
    finally:
        db.close()
    kept = data.interactions.filter(~pl.col("user_id").is_in(drop))
    report = {
        "users_forgotten": len(drop),
        "interactions_removed": data.interactions.height - kept.height,
    }
    result = data.with_interactions(kept, forgotten=report)
    replace(result, users=result.users.filter(~pl.col("user_id").is_in(drop))).save(out)
    for key, val in report.items():
        console.print(f"{key:>22}: {val:,}")


@app.command()
def split(
    dataset: Path = typer.Argument(..., help="A dataset folder."),
    protocol: Protocol = typer.Option(
        Protocol.loo,
        "--protocol",
        "-p",
        help="loo (last interaction per user "
        "= test, second last = validation), temporal (global time cut) or random.",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for train/valid/test.parquet."),
    seed: int = typer.Option(0, "--seed", help="Seed for the random protocol."),
    valid_frac: float = typer.Option(
        0.1, "--valid-frac", help="temporal/random: validation share."
    ),
    test_frac: float = typer.Option(0.1, "--test-frac", help="temporal/random: test share."),
    engine: EngineName = engine_option(),
    master: str | None = master_option(),
) -> None:
    """Split into train / validation / test (ties in time keep file order)."""
    from lmrec.data import Dataset, split_dataset

    spark = spark_for(engine, master)
    if spark is not None:
        from lmrec.spark import split_on_spark

        counts = split_on_spark(spark, dataset, out, protocol.value, seed=seed,
                                valid_frac=valid_frac, test_frac=test_frac)  # fmt: skip
        console.print(
            f"train {counts['train']:,}, valid {counts['valid']:,}, test {counts['test']:,} "
            f"-> {out} (Spark)"
        )
        return
    data = Dataset.load(dataset)
    s = split_dataset(data, protocol.value, seed=seed, valid_frac=valid_frac, test_frac=test_frac)
    s = type(s)(
        s.train,
        s.valid,
        s.test,
        s.items,
        s.users,
        {**s.meta, "dataset": str(dataset), "time_is_order": bool(data.meta.get("time_is_order"))},
    )
    s.save(out)
    console.print(
        f"train {s.train.height:,}, valid {s.valid.height:,}, test {s.test.height:,} -> {out}"
    )


@app.command("synthetic-ads")
def synthetic_ads(
    out: Path = typer.Option(..., "--out", "-o", help="Dataset folder to write."),
    events: int = typer.Option(200_000, "--events", help="Ad impressions."),
    users: int = typer.Option(2000, "--users", help="Users."),
    ads: int = typer.Option(300, "--ads", help="Ads."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
) -> None:
    """Write a synthetic ad log with known click probabilities (column p_true), for checking
    CTR models against the truth: lmrec evaluate --task ctr --dataset OUT ..."""
    from lmrec.ctr.synthetic import synthetic_ad_log
    from lmrec.errors import UsageError

    if min(events, users, ads) < 1:
        raise UsageError("--events, --users and --ads must be at least 1")
    data = synthetic_ad_log(n_users=users, n_ads=ads, n_events=events, seed=seed)
    data.save(out)
    console.print(f"{events:,} impressions of {ads} ads to {users} users -> {out}")
