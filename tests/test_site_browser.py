"""The built site in a real headless Chromium (Debian's `chromium` package, driven by Playwright).

Screenshots of each page type land in build/screenshots/ for people to look at.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from site_program import NOW, write_program

# KCDATA_CHROMIUM overrides; else the `chromium` on PATH (Debian installs it in /usr/bin).
CHROMIUM = Path(os.environ.get("KCDATA_CHROMIUM") or shutil.which("chromium") or "chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots"
REPO = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _require_chromium() -> None:
    if CHROMIUM.is_file():
        return
    message = "chromium is not on PATH: install it with `apt-get install -y chromium` (or set KCDATA_CHROMIUM)"
    if os.environ.get("CI"):
        pytest.fail(f"browser tests must run in CI: {message}")
    pytest.skip(message)


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site of the repository's sample inventory when present, else of the small test program."""
    from kcdata.site import build_site

    base = tmp_path_factory.mktemp("browser")
    if (REPO / "inventory").is_dir() and any((REPO / "inventory").glob("*.yaml")):
        root = base / "program"
        shutil.copytree(REPO / "inventory", root / "inventory")
        if (REPO / "kcdata.yaml").exists():
            shutil.copy(REPO / "kcdata.yaml", root / "kcdata.yaml")
    else:
        root = write_program(base / "program", broken=True)
    build_site(root=root, out_dir=base / "site", now=NOW)
    return base / "site"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server(built_site: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


class PageWatch:
    """A page that records console errors, page errors and failed requests."""

    def __init__(self, browser: object, **context_args: object) -> None:
        self.context = browser.new_context(**context_args)  # type: ignore[attr-defined]
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} {r.failure}"))
        self.page.on("response", lambda r: r.status >= 400 and self.problems.append(f"http {r.status}: {r.url}"))

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watch(browser: object) -> Iterator[PageWatch]:
    w = PageWatch(browser, viewport={"width": 1200, "height": 900})
    yield w
    w.close()


def _visible_cards(page: object) -> int:
    return page.locator("#catalog-list li.card:visible").count()  # type: ignore[attr-defined]


def test_catalog_loads_clean_and_search_narrows(server: str, watch: PageWatch) -> None:
    page = watch.page
    page.goto(server + "index.html")
    page.wait_for_selector("#filters:not([hidden])")
    total = page.locator("#catalog-list li.card").count()
    assert total > 3
    assert _visible_cards(page) == total
    page.screenshot(path=str(SHOTS / "catalog.png"))
    page.screenshot(path=str(SHOTS / "catalog-full.png"), full_page=True)
    first_title = page.locator("#catalog-list li.card h3").first.inner_text()
    word = max(first_title.split(), key=len)
    page.fill("#q", word)
    narrowed = _visible_cards(page)
    assert 0 < narrowed < total
    assert all(word.lower() in t.lower() for t in
               page.locator("#catalog-list li.card:visible").all_inner_texts()) or narrowed >= 1
    assert f"of {total}" in page.inner_text("#result-count")
    page.fill("#q", "zzzz-no-such-dataset-qqq")
    assert _visible_cards(page) == 0
    assert page.locator("#no-results").is_visible()
    page.screenshot(path=str(SHOTS / "catalog-no-results.png"))
    assert watch.problems == []


def test_status_filter_shows_only_that_status(server: str, watch: PageWatch) -> None:
    page = watch.page
    page.goto(server + "index.html")
    page.select_option("#f-status", "published")
    cards = page.locator("#catalog-list li.card:visible")
    n = cards.count()
    assert n > 0
    assert n < page.locator("#catalog-list li.card").count()
    badges = page.locator("#catalog-list li.card:visible .badge").all_inner_texts()
    assert badges and set(badges) == {"Published"}
    assert "status=published" in page.url, "the filter state is kept in the address"
    page.reload()
    assert page.locator("#catalog-list li.card:visible").count() == n, "a shared filtered address restores the view"
    page.click("#reset")
    page.wait_for_function("document.querySelectorAll('#catalog-list li.card[hidden]').length === 0")
    assert watch.problems == []


def test_dataset_page_opens_from_list(server: str, watch: PageWatch) -> None:
    page = watch.page
    page.goto(server + "index.html")
    link = page.locator("#catalog-list li.card h3 a").first
    title = link.inner_text()
    link.click()
    page.wait_for_load_state()
    assert "/datasets/" in page.url
    assert page.locator("h1").inner_text() == title
    assert page.locator("#history").count() == 1
    department = page.locator(".breadcrumb a").nth(1)
    name = department.inner_text()
    department.click()
    page.wait_for_selector("#filters:not([hidden])")
    assert page.locator("#f-department option:checked").inner_text() == name
    shown = page.locator("#catalog-list li.card:visible .meta").all_inner_texts()
    assert shown and all(name in m for m in shown), "the breadcrumb opens the catalog filtered to the department"
    page.go_back()
    page.screenshot(path=str(SHOTS / "dataset.png"), full_page=True)
    assert watch.problems == []


def test_unpublished_dataset_has_a_request_link(server: str, watch: PageWatch) -> None:
    page = watch.page
    page.goto(server + "index.html")
    page.select_option("#f-status", "approved")
    card = page.locator("#catalog-list li.card:visible").first
    card.locator("h3 a").click()
    page.wait_for_load_state()
    dataset_id = page.url.rsplit("/", 1)[-1].removesuffix(".html")
    request = page.get_by_role("link", name=re.compile("Request this dataset"))
    assert request.count() == 1
    assert dataset_id in (request.get_attribute("href") or "")
    assert page.get_by_role("link", name=re.compile("Open on the data portal")).count() == 0
    assert page.locator("#priority").is_visible()
    page.screenshot(path=str(SHOTS / "dataset-unpublished.png"), full_page=True)
    assert watch.problems == []


def test_program_charts_render(server: str, watch: PageWatch) -> None:
    page = watch.page
    page.goto(server + "program.html")
    charts = page.locator("svg.chart")
    assert charts.count() >= 3
    for i in range(charts.count()):
        chart = charts.nth(i)
        box = chart.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 20, chart.get_attribute("id")
        assert chart.get_attribute("role") == "img"
        assert chart.locator("title").count() >= 1
    bars = page.locator("#chart-departments rect.bar")
    assert bars.count() > 0
    bar_box = bars.first.bounding_box()
    assert bar_box and bar_box["width"] > 0 and bar_box["height"] > 0
    page.screenshot(path=str(SHOTS / "program.png"), full_page=True)
    assert watch.problems == []


def test_keyboard_tab_reaches_search_and_skip_link(server: str, watch: PageWatch) -> None:
    page = watch.page
    page.goto(server + "index.html")
    page.wait_for_selector("#filters:not([hidden])")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "q":
            break
    else:
        pytest.fail("Tab never reached the search box")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none"), "the focused search box has no visible focus ring"
    page.keyboard.type("water")
    assert _visible_cards(page) < page.locator("#catalog-list li.card").count()


def test_phone_viewport_has_no_horizontal_scroll(server: str, browser: object) -> None:
    w = PageWatch(browser, viewport={"width": 375, "height": 740}, is_mobile=True, device_scale_factor=2)
    try:
        for name in ("index.html", "program.html"):
            w.page.goto(server + name)
            overflow = w.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{name} scrolls sideways by {overflow}px on a phone"
        w.page.goto(server + "index.html")
        w.page.screenshot(path=str(SHOTS / "catalog-phone.png"), full_page=False)
        w.page.locator("#catalog-list li.card h3 a").first.click()
        w.page.wait_for_load_state()
        overflow = w.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"dataset page scrolls sideways by {overflow}px on a phone"
        w.page.screenshot(path=str(SHOTS / "dataset-phone.png"), full_page=True)
        assert w.problems == []
    finally:
        w.close()


def test_catalog_without_javascript_lists_everything(server: str, browser: object) -> None:
    w = PageWatch(browser, java_script_enabled=False)
    try:
        w.page.goto(server + "index.html")
        cards = w.page.locator("#catalog-list li.card")
        assert cards.count() > 3
        assert w.page.locator("#catalog-list li.card:visible").count() == cards.count()
        assert not w.page.locator("#filters").is_visible(), "controls that cannot work without JS stay hidden"
        assert w.problems == []
    finally:
        w.close()


def test_works_from_file_url(built_site: Path, watch: PageWatch) -> None:
    page = watch.page
    page.goto((built_site / "index.html").as_uri())
    page.wait_for_selector("#filters:not([hidden])")
    total = page.locator("#catalog-list li.card").count()
    page.fill("#q", "a")
    assert _visible_cards(page) <= total
    assert page.evaluate("getComputedStyle(document.querySelector('.site-header')).backgroundColor") \
        != "rgba(0, 0, 0, 0)", "the stylesheet did not load from file://"
    assert watch.problems == []


@pytest.fixture(autouse=True, scope="module")
def _shots_dir() -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
