"""The web app in a real browser (Debian's chromium driven by Playwright) against a real
``lmrec serve``: sign-in, the list with reasons, feedback that the model answers, search,
profile edits, the cart, and an automated accessibility check (axe-core) on every page."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lmrec.artifacts import save_artifacts
from lmrec.data import split_loo, synthetic_dataset
from lmrec.evaluation import prepare
from lmrec.models.ease import EASE
from lmrec.models.itemknn import ItemKNN

CHROMIUM = "/usr/bin/chromium"

playwright = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("web")
    data = prepare(split_loo(synthetic_dataset(n_users=60, n_items=80, seed=3))).train_valid
    art = root / "versions"
    save_artifacts(art / "v1", {"ease": EASE(reg=20.0).fit(data)}, data)
    (art / "v1" / "evaluation.json").write_text(
        json.dumps({"ease": {"NDCG@10": 0.1234, "HR@10": 0.25}})
    )
    save_artifacts(art / "v2", {"itemknn": ItemKNN(k=20).fit(data)}, data)
    port = _free_port()
    cmd = [sys.executable, "-c", "from lmrec.cli import main; main()", "serve", str(art),
           "--store", f"sqlite:///{root / 'store.db'}", "--port", str(port), "--no-auth",
           "--text-encoder", "hashing", "--no-access-log"]  # fmt: skip
    log = (root / "server.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise AssertionError((root / "server.log").read_text())
    yield url
    proc.terminate()
    proc.wait(10)
    log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).is_file():
        if os.environ.get("LMREC_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser, server: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=server)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert errors == [], errors  # no script error on any page


def _accessible(pg) -> None:  # type: ignore[no-untyped-def]
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(pg)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert bad == [], [(v["id"], v["help"], len(v["nodes"])) for v in bad]


def _expect(locator):  # type: ignore[no-untyped-def]
    """Playwright's waiting assertions (they poll in the page without ``eval``, which the
    app's Content-Security-Policy forbids), with the same patience as the locators."""
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)
    return expect(locator)


def _sign_in(pg, user: str) -> None:  # type: ignore[no-untyped-def]
    pg.goto("/")
    _accessible(pg)
    pg.get_by_label("User id").fill(user)
    pg.get_by_role("button", name="Sign in").click()
    pg.get_by_role("list", name="For you").wait_for()


def _titles(pg, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    lst = pg.get_by_role("list", name=name)
    return [t.strip() for t in lst.get_by_role("listitem").get_by_role("link").all_inner_texts()]


def test_sign_in_list_with_reasons_and_why(page) -> None:  # type: ignore[no-untyped-def]
    _sign_in(page, "u1")
    items = page.get_by_role("list", name="For you").get_by_role("listitem")
    assert items.count() == 10
    first = items.first
    assert first.get_by_role("link").get_attribute("href").startswith("#/item/")
    assert first.locator(".reason").inner_text().strip()
    first.get_by_role("button", name="Why?").click()
    assert first.locator(".why").is_visible()
    for name in ("Like", "Not interested", "Add to cart"):
        assert first.get_by_role("button", name=name).is_visible()
    _accessible(page)
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("User id").wait_for()


def test_not_interested_removes_the_item_and_refills_the_list(page) -> None:  # type: ignore[no-untyped-def]
    _sign_in(page, "u2")
    before = _titles(page, "For you")
    first = page.get_by_role("list", name="For you").get_by_role("listitem").first
    first.get_by_role("button", name="Not interested").click()
    gone = page.get_by_role("list", name="For you").get_by_role("link", name=before[0], exact=True)
    _expect(gone).to_have_count(0)
    after = _titles(page, "For you")
    assert before[0] not in after
    assert len(after) == 10  # refilled by the model, not a client-side hide


def test_search_profile_mute_and_cart(page) -> None:  # type: ignore[no-untyped-def]
    _sign_in(page, "u3")
    page.get_by_role("list", name="For you").get_by_role("listitem").first.get_by_role(
        "button", name="Add to cart"
    ).click()
    page.get_by_role("status").filter(has_text="Added to cart").wait_for()
    page.get_by_role("link", name="Search").click()
    page.get_by_role("searchbox", name="Search").fill("a science fiction documentary")
    page.get_by_role("button", name="Go").click()
    page.get_by_role("list", name="Results").wait_for()
    assert len(_titles(page, "Results")) == 10
    _accessible(page)

    page.get_by_role("link", name="Profile").click()
    page.get_by_role("list", name="Interests").wait_for()
    _accessible(page)
    interest = page.get_by_role("list", name="Interests").get_by_role("listitem").first
    interest.get_by_role("button", name="Mute").click()
    page.get_by_role("list", name="Muted").get_by_role("button", name="Unmute").wait_for()
    for name in ("Download my data", "Delete my data"):
        assert page.get_by_role("button", name=name).is_visible()
    assert page.get_by_role("button", name="Remove").count() > 0

    page.get_by_role("link", name="Cart").click()
    page.get_by_role("list", name="Cart").wait_for()
    assert page.get_by_role("list", name="Cart").get_by_role("listitem").count() == 1
    page.get_by_role("list", name="Goes well with").wait_for()
    _accessible(page)


def test_item_page_and_a_phone_screen(browser, server: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=server, viewport={"width": 390, "height": 844})
    pg = context.new_page()
    _sign_in(pg, "u4")
    assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    pg.get_by_role("list", name="For you").get_by_role("listitem").first.get_by_role("link").click()
    pg.get_by_role("list", name="Similar items").wait_for()
    assert pg.get_by_role("list", name="This item").get_by_role("button", name="Like").is_visible()
    assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    _accessible(pg)
    context.close()


def test_delete_my_data_signs_out_and_the_user_starts_cold(page, server: str) -> None:  # type: ignore[no-untyped-def]
    _sign_in(page, "u5")
    page.get_by_role("link", name="Profile").click()
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Delete my data").click()
    page.get_by_label("User id").wait_for()
    recs = httpx.post(f"{server}/v1/recommendations", json={"user_id": "u5"}).json()
    assert recs["cold_start"] is True


def test_variety_is_remembered_in_the_profile(page, server: str) -> None:  # type: ignore[no-untyped-def]
    _sign_in(page, "u6")
    before = _titles(page, "For you")
    page.get_by_label("Variety").fill("1")
    page.get_by_role("status").filter(has_text="Variety: 1").wait_for()
    prof = httpx.get(f"{server}/v1/users/u6/profile").json()
    assert prof["edits"]["variety"] == 1.0
    page.reload()
    page.get_by_role("list", name="For you").wait_for()
    assert page.get_by_label("Variety").input_value() == "1"
    assert _titles(page, "For you") != before  # re-ranked for variety and exploration


def test_console_versions_rollback_traffic_and_catalog(page, server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/console")
    _accessible(page)
    page.get_by_role("button", name="Sign in").click()  # --no-auth: no key needed
    table = page.get_by_role("table", name="Model versions")
    table.wait_for()
    assert "0.1234" in table.inner_text()  # v1's test numbers, from its evaluation.json
    assert page.get_by_text("Active: v2").is_visible()
    _accessible(page)
    page.get_by_role("button", name="Activate v1").click()
    page.get_by_text("Active: v1").wait_for()
    assert httpx.get(f"{server}/v1/models").json()["active"]["version"] == "v1"
    page.get_by_role("button", name="Roll back").click()
    page.get_by_text("Active: v2").wait_for()
    traffic = page.get_by_label("Traffic")
    assert "Requests per second" in traffic.inner_text()
    _expect(traffic).not_to_contain_text("measuring")

    page.get_by_label("Item id").fill("new1")
    page.get_by_label("Title", exact=True).fill("A brand new documentary")
    page.get_by_label("Categories (comma-separated)").fill("documentary")
    page.get_by_role("button", name="Save item").click()
    added = page.get_by_role("list", name="Added items")
    added.get_by_text("new1: A brand new documentary").wait_for()
    page.get_by_role("button", name="Hide new1").click()
    page.get_by_role("button", name="Show new1").wait_for()
    _accessible(page)


def test_a_hidden_item_is_never_recommended(server: str) -> None:
    before = httpx.post(f"{server}/v1/recommendations", json={"user_id": "u9"}).json()["items"]
    top = before[0]
    hide = [{"item_id": top["item_id"], "title": top["title"], "hidden": True}]
    assert httpx.put(f"{server}/v1/items", json=hide).status_code == 200
    time.sleep(1.1)  # other workers re-read the catalog additions within a second
    after = httpx.post(f"{server}/v1/recommendations", json={"user_id": "u9"}).json()["items"]
    assert top["item_id"] not in [i["item_id"] for i in after]
    similar = httpx.get(f"{server}/v1/items/{after[0]['item_id']}/similar?k=20").json()["items"]
    assert top["item_id"] not in [i["item_id"] for i in similar]


def test_a_newcomer_is_asked_what_they_like_and_the_list_answers(page) -> None:  # type: ignore[no-untyped-def]
    _sign_in(page, "someone-new")
    page.get_by_text("Tell us what you like").wait_for()
    before = _titles(page, "For you")
    first = page.get_by_role("list", name="For you").get_by_role("listitem").first
    first.get_by_role("button", name="Like").click()
    page.get_by_role("status").filter(has_text="Liked").wait_for()
    _expect(page.get_by_text("Tell us what you like")).to_have_count(0)
    assert _titles(page, "For you") != before  # personal now: the model read the Like


def test_ratings_where_the_data_has_them(page, server: str) -> None:  # type: ignore[no-untyped-def]
    _sign_in(page, "u8")
    first = page.get_by_role("list", name="For you").get_by_role("listitem").first
    title = first.get_by_role("link").inner_text().strip()
    first.get_by_role("combobox", name="Rating").select_option("5")
    page.get_by_role("status").filter(has_text=f"Rated 5: {title}").wait_for()
    prof = httpx.get(f"{server}/v1/users/u8/profile").json()
    assert prof["activity"]["by_type"].get("rating") == 1


def test_every_page_fits_a_phone(browser, server: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=server, viewport={"width": 390, "height": 844})
    pg = context.new_page()
    _sign_in(pg, "u10")
    for path, ready in (("/#/search", "searchbox"), ("/#/profile", "list"), ("/#/cart", "heading"),
                        ("/console", "button")):  # fmt: skip
        pg.goto(path)
        pg.get_by_role(ready).first.wait_for()
        assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
    pg.get_by_role("button", name="Sign in").click()
    pg.get_by_role("table", name="Model versions").wait_for()
    assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()


def test_console_starts_an_experiment_and_shows_its_results(page, server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/console")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Experiment name").fill("v1-vs-v2")
    page.get_by_label("Control version").select_option("v1")
    page.get_by_label("Treatment version").select_option("v2")
    page.get_by_role("button", name="Start experiment").click()
    variants = page.get_by_role("table", name="Variants of v1-vs-v2")
    variants.wait_for()
    _accessible(page)
    # people use the app: each gets a sticky variant; a like on the list is tied to it (the
    # salt is random: with 30 users both variants get some, but for a chance of 2 in 2^30)
    for n in range(30):
        user = f"u{n}"
        rec = httpx.post(f"{server}/v1/recommendations", json={"user_id": user, "k": 5}).json()
        assert rec["experiment"] == "v1-vs-v2"
        item = rec["items"][0]["item_id"]
        httpx.post(f"{server}/v1/events", json={"events": [{
            "user_id": user, "item_id": item, "type": "click",
            "recommendation_id": rec["recommendation_id"]}]})  # fmt: skip
    page.reload()
    page.get_by_role("button", name="Sign in").click()  # --no-auth: no key to remember
    variants = page.get_by_role("table", name="Variants of v1-vs-v2")
    variants.wait_for()
    text = variants.inner_text()
    assert "v1" in text
    assert "v2" in text
    assert page.get_by_role("table", name="Comparisons of v1-vs-v2").is_visible()
    assert "v2 /" in page.get_by_role("table", name="Online metrics").inner_text()
    page.get_by_role("button", name="Stop v1-vs-v2").click()
    page.get_by_text("v1-vs-v2 (A/B, stopped)").wait_for()
    assert httpx.get(f"{server}/v1/experiments").json()["experiments"][0]["running"] is False


def test_feedback_in_the_app_is_tied_to_the_list_it_came_from(page, server: str) -> None:  # type: ignore[no-untyped-def]
    _sign_in(page, "u7")
    first = page.get_by_role("list", name="For you").get_by_role("listitem").first
    first.get_by_role("button", name="Like").click()
    page.get_by_role("status").filter(has_text="Liked").wait_for()
    metrics = httpx.get(f"{server}/v1/metrics/online").json()
    assert sum(g["clicks"] for g in metrics["groups"]) >= 1
