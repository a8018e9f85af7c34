"""The learning loop end to end over real HTTP: ``lmrec serve`` answers simulated users
(``lmrec simulate --url``), whose clicks the store keeps; ``lmrec retrain`` turns them into a
challenger, and the running service follows an activated version and ignores a kept one."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from lmrec.artifacts import save_artifacts
from lmrec.data import split_dataset, synthetic_dataset
from lmrec.evaluation import prepare
from lmrec.models.itemknn import ItemKNN
from lmrec.service.store import open_store
from lmrec.testing.server import free_port, start_server

Run = Callable[..., tuple[int, str, str]]


def _served_version(url: str, user: str) -> str:
    r = httpx.post(f"{url}/v1/recommendations", json={"user_id": user, "k": 3}, timeout=10)
    assert r.status_code == 200, r.text
    return str(r.json()["version"])


def test_simulated_traffic_retrains_and_the_service_follows_the_gate(
    cli: Run, tmp_path: Path
) -> None:
    split = split_dataset(synthetic_dataset(n_users=80, n_items=50, seed=4), "temporal")
    split.save(tmp_path / "split")
    train = prepare(split).train
    root = tmp_path / "versions"
    save_artifacts(root / "v1", {"itemknn": ItemKNN().fit(train)}, train)
    store = f"sqlite:///{tmp_path / 'store.db'}"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    user = train.user_vocab.raw(0)
    proc = start_server(root, store, port, tmp_path / "server.log")

    def play(seed: int) -> int:
        out = tmp_path / f"live{seed}.json"
        code, _, err = cli("simulate", "--split", tmp_path / "split", "--url", url,
                           "--rounds", "3", "--k", "5", "--concurrency", "1",
                           "--seed", str(seed), "--out", out, "--no-progress")  # fmt: skip
        assert code == 0, err + (tmp_path / "server.log").read_text()
        return int(json.loads(out.read_text())["variants"]["(none)"]["clicks"])

    try:
        clicks = play(0)
        assert clicks > 0
        code, out, err = cli("retrain", root, "--store", store, "--version", "v2", "--json")
        assert code == 0, err
        up = json.loads(out)
        assert up["activated"]
        assert up["challenger_ndcg"] >= up["champion_ndcg"]
        deadline = time.monotonic() + 10
        while _served_version(url, user) != "v2":  # it checks the store about once a second
            assert time.monotonic() < deadline, "the service did not follow the activation"
            time.sleep(0.3)

        time.sleep(1.1)  # times are whole seconds: v2 is judged on actions after its last
        play(1)
        code, out, err = cli("retrain", root, "--store", store, "--models", "pop",
                             "--version", "v3", "--json")  # fmt: skip
        assert code == 0, err
        down = json.loads(out)
        assert down["champion"] == "v2"
        assert not down["activated"]
        assert down["challenger_ndcg"] < down["champion_ndcg"]
        time.sleep(1.5)
        assert _served_version(url, user) == "v2"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    kept = open_store(store)
    try:
        assert kept.get_setting("active_version") == "v2"  # a restart serves v2, not v3
        clicked = [e for _, e in kept.all_events() if e.recommendation_id is not None]
        assert len(clicked) >= clicks  # every acknowledged click, tied to its list
    finally:
        kept.close()
