"""Headless Chromium for the lab's browser tests and screenshots (selenium + chromedriver).

Not a test module: ``tests/lab/test_lab_browser.py`` and ``tests/lab/screenshots.py`` import
it. The browser starts with no network features (the brief's flag set and an empty profile), and
the helpers read the console log and the DevTools network events the page produced.
"""

from __future__ import annotations

import base64
import json
import shutil
import tempfile

#: Chromium flags: headless, no sandbox (containers run as root), and nothing that phones home.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

LAPTOP = {"width": 1280, "height": 860, "deviceScaleFactor": 1, "mobile": False}
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        return "no chromium on PATH (Debian: apt-get install chromium chromium-driver)"
    if not shutil.which("chromedriver"):
        return "no chromedriver on PATH (Debian: apt-get install chromium-driver)"
    return None


def start_browser():
    """A selenium Chrome driver on Debian's chromium, with console and performance logging."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser") or ""
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='csuper-lab-chromium-')}")
    options.add_argument(f"--window-size={LAPTOP['width']},{LAPTOP['height']}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    # an explicit driver path: selenium never runs Selenium Manager (which would go online)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    emulate(driver, LAPTOP)
    return driver


def emulate(driver, metrics: dict) -> None:
    """Set the viewport (width, height, device scale factor, mobile) through DevTools."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", dict(metrics))


def load(driver, path) -> None:
    """Open a local file and wait until the page's script has drawn everything."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get_log("performance")  # drop the events of earlier pages
    driver.get_log("browser")
    driver.get(path.resolve().as_uri())
    try:
        WebDriverWait(driver, 10).until(
            lambda d: d.execute_script("return document.body.dataset.ready === '1'")
        )
    except TimeoutException:
        raise AssertionError(
            f"the page's script did not finish drawing; console: {console_errors(driver)}"
        ) from None


def console_errors(driver) -> list[dict]:
    """Console entries of level SEVERE (errors and uncaught exceptions) since the last call."""
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def requested_urls(driver) -> list[str]:
    """Every URL the page asked the network stack for since the last call (DevTools events)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] in ("Network.requestWillBeSent", "Network.webSocketCreated"):
            params = message["params"]
            urls.append(params.get("request", {}).get("url") or params.get("url", ""))
    return urls


def screenshot(driver, css_selector: str) -> bytes:
    """PNG of one element, captured beyond the viewport if it is taller."""
    rect = driver.execute_script(
        "const r = document.querySelector(arguments[0]).getBoundingClientRect();"
        "return {x: r.left + window.scrollX, y: r.top + window.scrollY,"
        " width: r.width, height: r.height};",
        css_selector,
    )
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {"format": "png", "captureBeyondViewport": True, "clip": {**rect, "scale": 1}},
    )
    return base64.b64decode(shot["data"])
