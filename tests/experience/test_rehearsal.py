"""An experiment rehearsed end to end over real HTTP: ``lmrec serve`` with two versions and
exploration on, an A/B test started through the API, ``lmrec simulate --url`` playing users
against it, then the results, ``lmrec report online`` and ``lmrec evaluate --off-policy``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx

from lmrec.artifacts import save_artifacts
from lmrec.data import split_dataset, synthetic_dataset
from lmrec.evaluation import prepare
from lmrec.models.itemknn import ItemKNN
from lmrec.models.popularity import Popularity
from lmrec.testing.server import free_port, start_server


def test_an_ab_test_rehearsed_against_a_live_server(
    cli: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    split = split_dataset(synthetic_dataset(n_users=50, n_items=40, seed=4), "temporal")
    split.save(tmp_path / "split")
    train = prepare(split).train
    for name, model in (("v1", Popularity()), ("v2", ItemKNN(k=10))):
        save_artifacts(tmp_path / "art" / name, {model.name: model.fit(train)}, train)
    keys = tmp_path / "keys.txt"
    keys.write_text("boss:admin,read,events\n")
    store = f"sqlite:///{tmp_path / 'store.db'}"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    proc = start_server(tmp_path / "art", store, port, log, "--api-keys", str(keys),
                        "--explore", "0.5", "--explore-pool", "20")  # fmt: skip
    boss = {"X-API-Key": "boss"}
    try:
        body = {"name": "rehearsal", "variants": [
            {"name": "pop", "version": "v1"}, {"name": "knn", "version": "v2"}]}  # fmt: skip
        r = httpx.post(f"{url}/v1/experiments", json=body, headers=boss, timeout=10)
        assert r.status_code == 201, r.text
        out = tmp_path / "live.json"
        code, stdout, err = cli(
            "simulate", "--split", tmp_path / "split", "--url", url, "--key", "boss",
            "--rounds", "3", "--k", "5", "--out", out, "--no-progress",
        )  # fmt: skip
        assert code == 0, err + log.read_text()
        played = json.loads(out.read_text())
        assert set(played["variants"]) == {"pop", "knn"}
        assert "knn" in stdout
        res = httpx.get(f"{url}/v1/experiments/rehearsal", headers=boss, timeout=10).json()
        by_name = {v["name"]: v for v in res["variants"]}
        for name, client_side in played["variants"].items():
            # every click the simulated users posted is tied to the list it answered
            assert by_name[name]["users"] == client_side["users"]
            assert by_name[name]["impressions"] == client_side["impressions"]
            assert by_name[name]["clicks"] == client_side["clicks"]
        assert res["comparisons"][0]["variant"] == "knn"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    code, stdout, err = cli("report", "online", "--store", store, "--out", tmp_path / "rep",
                            "--artifacts", tmp_path / "art" / "v1")  # fmt: skip
    assert code == 0, err
    report = json.loads((tmp_path / "rep" / "online.json").read_text())
    assert {g["variant"] for g in report["groups"]} == {"pop", "knn"}
    assert "<img" in (tmp_path / "rep" / "online.html").read_text()
    code, stdout, err = cli("evaluate", "--off-policy", "--store", store,
                            "--artifacts", tmp_path / "art" / "v2", "--out", tmp_path / "op")  # fmt: skip
    assert code == 0, err
    est = json.loads((tmp_path / "op" / "off_policy.json").read_text())
    assert est["model"] == "itemknn"
    assert est["lists"] == sum(v["lists"] for v in played["variants"].values())
    assert 0.0 <= est["estimate"]["mean"] <= 1.0
    assert 0.0 < est["support"] <= 1.0


def test_live_simulation_errors_are_one_line(
    cli: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    split = split_dataset(synthetic_dataset(n_users=20, n_items=20, seed=1), "temporal")
    split.save(tmp_path / "split")
    url = f"http://127.0.0.1:{free_port()}"
    code, _, err = cli("simulate", "--split", tmp_path / "split", "--url", url,
                       "--out", tmp_path / "o.json")  # fmt: skip
    assert code == 2
    assert "cannot reach the service" in err
    assert "Traceback" not in err
    code, _, err = cli("simulate", "--split", tmp_path / "split", "--url", url, "--model", "pop",
                       "--out", tmp_path / "o.json")  # fmt: skip
    assert code == 2
    assert "drop --model" in err
    code, _, err = cli("evaluate", "--off-policy", "--out", tmp_path / "x")
    assert code == 2
    assert "--store" in err
