"""The HTML report in headless Debian Chromium (selenium + /usr/bin/chromedriver).

Loads with no console errors, the radar and tables render, the sample filters work, the XSS
payloads in model text are shown as text and never run, and a screenshot is not blank.
Skipped (with the reason) only when chromium, chromedriver or selenium is missing.
"""

from __future__ import annotations

import base64
import json
import time

import pytest

from chromium_helper import MARKS, chromium

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:  # pragma: no cover
    pass

pytestmark = MARKS


@pytest.fixture(scope="module")
def driver():
    with chromium() as d:
        yield d


@pytest.fixture(scope="module")
def loaded(driver, run_a):
    from trustbench.report import render_html

    path = render_html(run_a)
    driver.get(path.resolve().as_uri())
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-browser-ready") == "1")
    return driver


def _count(d) -> int:
    return int(d.find_element(By.ID, "tb-count").get_attribute("data-count"))


def _wait_count(d, expected: int) -> None:
    WebDriverWait(d, 10).until(lambda d: d.find_element(By.ID, "tb-count").get_attribute("data-count") == str(expected))


def _visible_rows(d) -> int:
    return len(d.find_elements(By.CSS_SELECTOR, "#tb-rows details.tb-row"))


def test_loads_without_console_errors(loaded):
    logs = loaded.get_log("browser")
    assert [entry for entry in logs if entry["level"] in ("SEVERE", "WARNING")] == [], logs
    assert loaded.execute_script("return typeof window.__pwned") == "undefined"


def test_radar_and_tables_render(loaded):
    radar = loaded.find_element(By.CSS_SELECTOR, "svg.radar")
    assert radar.size["width"] > 200 and radar.size["height"] > 200
    assert len(radar.find_elements(By.CSS_SELECTOR, "circle.pt")) == 6
    assert len(loaded.find_elements(By.CSS_SELECTOR, "#dimension-table tbody tr")) == 6
    assert len(loaded.find_elements(By.CSS_SELECTOR, "table.metrics")) == 24
    assert loaded.find_element(By.CSS_SELECTOR, "svg.frontier circle").is_displayed()


def test_filters_and_search(loaded, run_a, payloads):
    d = loaded
    _wait_count(d, 600)
    assert _visible_rows(d) == 50  # rendered lazily, one page at a time
    search = d.find_element(By.ID, "tb-search")
    search.send_keys("__pwned")
    _wait_count(d, 3)  # two XSS responses + the tricky prompt
    assert _visible_rows(d) == 3
    # the payloads are shown as text
    rows = d.find_elements(By.CSS_SELECTOR, "#tb-rows details.tb-row")
    for r in rows:
        r.find_element(By.TAG_NAME, "summary").click()
    # the body of a row is built on its (asynchronous) toggle event
    WebDriverWait(d, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#tb-rows pre.resp")) == 3)
    texts = [e.get_attribute("textContent") for e in d.find_elements(By.CSS_SELECTOR, "#tb-rows pre.resp, #tb-rows pre.msg")]
    for p in payloads:
        assert any(p in t for t in texts)
    assert d.find_elements(By.CSS_SELECTOR, "#tb-rows img") == []
    assert d.execute_script("return typeof window.__pwned") == "undefined"
    search.clear()
    search.send_keys("x")  # clear() fires no input event; type and delete
    search.send_keys("\b")
    _wait_count(d, 600)
    d.find_element(By.ID, "tb-next").click()  # pagination
    assert "page 2 of 12" in d.find_element(By.ID, "tb-page").text and _visible_rows(d) == 50
    samples = [json.loads(line) for line in (run_a / "samples.jsonl").read_text(encoding="utf-8").split("\n") if line]
    assert d.find_element(By.CSS_SELECTOR, "#tb-rows .tb-id").text == samples[50]["id"]  # file order
    d.find_element(By.ID, "tb-prev").click()
    assert "page 1 of 12" in d.find_element(By.ID, "tb-page").text

    failed = sum(1 for s in samples if s["response"] is None)
    Select(d.find_element(By.ID, "tb-verdict")).select_by_index(1)  # "generation failed"
    _wait_count(d, failed)
    assert _visible_rows(d) == min(failed, 50)
    Select(d.find_element(By.ID, "tb-verdict")).select_by_index(0)
    misuse = sum(1 for s in samples if s["task"] == "safety/misuse")
    Select(d.find_element(By.ID, "tb-task")).select_by_visible_text(f"safety/misuse ({misuse})")
    _wait_count(d, misuse)
    refused = sum(1 for s in samples if s["task"] == "safety/misuse" and s["verdicts"].get("refusal") is True)
    Select(d.find_element(By.ID, "tb-verdict")).select_by_visible_text(
        next(o.text for o in Select(d.find_element(By.ID, "tb-verdict")).options if o.text.startswith("refusal: true"))
    )
    _wait_count(d, refused)
    assert _visible_rows(d) == min(refused, 50)
    assert d.execute_script("return typeof window.__pwned") == "undefined"


def test_screenshot_not_blank(loaded):
    png = loaded.get_screenshot_as_png()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # decode with the browser's own image decoder on a blank page, count distinct colours
    loaded.get("about:blank")
    colours = loaded.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const img = new Image();
        img.onload = () => {
          const c = document.createElement('canvas');
          c.width = img.width; c.height = img.height;
          const g = c.getContext('2d');
          g.drawImage(img, 0, 0);
          const px = g.getImageData(0, 0, c.width, c.height).data;
          const seen = new Set();
          for (let i = 0; i < px.length; i += 4) seen.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
          done(seen.size);
        };
        img.onerror = () => done(-1);
        img.src = 'data:image/png;base64,' + arguments[0];
        """,
        base64.b64encode(png).decode(),
    )
    assert colours > 50, f"screenshot has only {colours} distinct colours"


def test_full_size_run_opens_quickly(driver, tmp_path_factory):
    """A 16,441-item run: the page is interactive within a few seconds."""
    from trustbench.report import render_html
    from trustbench.report.synthetic import write_synthetic_run

    d = write_synthetic_run(tmp_path_factory.mktemp("big") / "run", n_items=16441, n_boot=20, mean_words=40)
    path = render_html(d)
    t0 = time.perf_counter()
    driver.get(path.resolve().as_uri())
    WebDriverWait(driver, 60).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-browser-ready") == "1")
    elapsed = time.perf_counter() - t0
    assert _count(driver) == 16441 and _visible_rows(driver) == 50
    assert elapsed < 10, f"report took {elapsed:.1f}s to become interactive"
    assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []


def test_corrupt_sample_block_says_so(driver, run_a, tmp_path):
    """A damaged compressed sample block gives a one-line message in the page, not a blank browser."""
    import re

    from trustbench.report import render_html

    html = render_html(run_a, tmp_path / "r.html").read_text(encoding="utf-8")
    html = re.sub(r'(id="tb-samples"[^>]*>)[^<]*(</script>)', r"\1H4sIAAAAAAAAA2N=\2", html)
    page = tmp_path / "broken.html"
    page.write_text(html, encoding="utf-8")
    driver.get(page.as_uri())
    WebDriverWait(driver, 10).until(
        lambda d: "could not read the embedded samples" in d.find_element(By.ID, "tb-count").text)
    assert driver.find_element(By.TAG_NAME, "body").get_attribute("data-browser-ready") is None
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
