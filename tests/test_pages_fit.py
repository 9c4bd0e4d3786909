"""The run report and the validation report fit the browser window: no table or figure
wider than the page (issue 15). Screenshots are kept as test artefacts."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install '.[dev]')"
)
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium is not installed (.ci/run installs Debian's chromium)"
)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
WIDTH = 1200


@pytest.fixture(scope="module")
def pages(teaching_run_dir) -> dict[str, Path]:
    # the committed validation report, as readers see it (sektorsim validate-model)
    validation = ROOT / "results" / "validation" / "report.html"
    return {"run report": teaching_run_dir / "report.html", "validation report": validation}


@pytest.mark.parametrize("page", ["run report", "validation report"])
def test_page_fits_the_window(pages, page, tmp_path):
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        tab = browser.new_page(viewport={"width": WIDTH, "height": 900})
        tab.goto(pages[page].as_uri())
        tab.screenshot(path=str(tmp_path / f"{page.replace(' ', '_')}.png"), full_page=True)
        page_width = tab.evaluate("document.documentElement.scrollWidth")
        wide = tab.evaluate(
            """() => [...document.querySelectorAll('table, img, figure, pre')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                .map(e => e.tagName + ' ' + (e.alt || e.textContent.slice(0, 40)))"""
        )
        browser.close()
    assert page_width <= WIDTH, f"{page} is {page_width}px wide; wider than the window: {wide}"
    assert not wide, f"{page}: elements past the right edge: {wide}"
