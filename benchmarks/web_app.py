"""The web app in a real browser over ``lmrec serve`` (sequential model, MovieLens 100K): how long
the first page takes from a cold browser, how long a click on "Not interested" takes to show
the refreshed list, and screenshots of the main pages on a desktop and a 390 px phone.

    .venv/bin/python benchmarks/web_app.py [--artifacts DIR] [--clicks 40] [--screenshots docs/screenshots]

Without --artifacts it trains the sequential model on MovieLens 100K (60 s budget) first.
The browser is Debian's chromium (``/usr/bin/chromium``) driven by Playwright, on the same
2 cores as the server. Writes a section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from common import machine, write_section
from service_load import _free_port, start_server, train

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


def _signed_in(browser, base: str, user: str, viewport: dict):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=base, viewport=viewport)
    context.add_init_script(f"sessionStorage.setItem('lmrec.user', {user!r})")
    return context


def first_page(base: str, user: str) -> float:
    """Seconds from navigation to the list "For you" on screen, in a freshly started browser."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = _signed_in(browser, base, user, DESKTOP).new_page()
        start = time.perf_counter()
        page.goto("/")
        page.get_by_role("list", name="For you").get_by_role("listitem").first.wait_for()
        elapsed = time.perf_counter() - start
        browser.close()
    return elapsed


def not_interested(base: str, users: list[str], clicks: int) -> list[float]:
    """Seconds from each click on "Not interested" to the refreshed list without the item."""
    from playwright.sync_api import sync_playwright

    times: list[float] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for n in range(clicks):
            if n % 5 == 0:  # a new user every five clicks
                context = _signed_in(browser, base, users[n // 5], DESKTOP)
                page = context.new_page()
                page.goto("/")
            lst = page.get_by_role("list", name="For you")
            lst.get_by_role("listitem").first.wait_for()
            title = lst.get_by_role("link").first.inner_text().strip()
            start = time.perf_counter()
            lst.get_by_role("listitem").first.get_by_role("button", name="Not interested").click()
            page.wait_for_function(
                "t => { const a = Array.from(document.querySelectorAll("
                "'[aria-label=\"For you\"] a.title')).map(x => x.textContent.trim());"
                " return a.length === 10 && !a.includes(t); }", arg=title,
            )  # fmt: skip
            times.append(time.perf_counter() - start)
        browser.close()
    return times


def screenshots(base: str, user: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page = _signed_in(browser, base, user, viewport).new_page()
            page.goto("/")
            lst = page.get_by_role("list", name="For you")
            lst.get_by_role("listitem").first.wait_for()
            lst.get_by_role("listitem").first.get_by_role("button", name="Why?").click()
            shots.append(out / f"for-you-{label}.png")
            page.screenshot(path=shots[-1])
            page.goto("/#/search")
            page.get_by_role("searchbox", name="Search").fill("a light-hearted space adventure")
            page.get_by_role("button", name="Go").click()
            page.get_by_role("list", name="Results").get_by_role("listitem").first.wait_for()
            shots.append(out / f"search-{label}.png")
            page.screenshot(path=shots[-1])
            page.get_by_role("list", name="Results").get_by_role("link").first.click()
            page.get_by_role("list", name="Similar items").get_by_role("listitem").first.wait_for()
            shots.append(out / f"item-{label}.png")
            page.screenshot(path=shots[-1])
            page.goto("/#/profile")
            page.get_by_role("list", name="Interests").wait_for()
            shots.append(out / f"profile-{label}.png")
            page.screenshot(path=shots[-1])
            console = browser.new_context(base_url=base, viewport=viewport).new_page()
            console.goto("/console")
            console.get_by_role("button", name="Sign in").click()
            console.get_by_role("table", name="Model versions").wait_for()
            time.sleep(2.2)  # one traffic refresh
            shots.append(out / f"console-{label}.png")
            console.screenshot(path=shots[-1])
        browser.close()
    return shots


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--artifacts", type=Path, default=None)
    ap.add_argument("--ml100k", type=Path, default=HERE.parents[1] / "shared" / "data" / "ml-100k")
    ap.add_argument("--clicks", type=int, default=40)
    ap.add_argument("--screenshots", type=Path, default=HERE.parent / "docs" / "screenshots")
    ap.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lmrec-web-"))
    art = args.artifacts or train(work / "art", args.ml100k)
    port = _free_port()
    proc = start_server(art, work / "store.db", port, "--no-access-log")
    base = f"http://127.0.0.1:{port}"
    try:
        users = [str(u) for u in range(1, 200)]
        cold = [first_page(base, users[-1 - i]) for i in range(5)]
        clicks = not_interested(base, users, args.clicks)
        shots = screenshots(base, "1", args.screenshots)
    finally:
        proc.terminate()
        proc.wait(20)
    ms = sorted(t * 1000 for t in clicks)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    lines = [
        "## Web app in a browser (lmrec serve, sequential model, MovieLens 100K)",
        "",
        f"{dt.date.today().isoformat()}, {machine()}; Debian's chromium through Playwright on the "
        "same cores as the server (1 worker). Command: `.venv/bin/python benchmarks/web_app.py "
        f"{'--artifacts ART ' if args.artifacts else ''}--clicks {args.clicks}`.",
        "",
        f"- First page (For you, 10 items with reasons) from a freshly started browser: median "
        f"{statistics.median(cold) * 1000:.0f} ms, worst {max(cold) * 1000:.0f} ms over {len(cold)} "
        "starts (target: under 1 s).",
        f'- Click on "Not interested" to the refreshed list on screen (the event stored, the '
        f"model's new list fetched and drawn): p50 {statistics.median(ms):.0f} ms, p95 {p95:.0f} ms, "
        f"worst {ms[-1]:.0f} ms over {len(ms)} clicks by {len(ms) // 5} users (target: p95 under 300 ms).",
        f"- Screenshots ({len(shots)}): `docs/screenshots/`, desktop {DESKTOP['width']} px and phone "
        f"{PHONE['width']} px.",
    ]
    write_section(args.results, lines[0], "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
