"""The lab page in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver``) driven by selenium.

Every slider is moved with the keyboard, as a reader would; the readouts and the drawn elements
are compared with the Python values (the payload and :func:`csuper.lab.two_feature_interference`);
the console must stay free of errors and the page must request nothing but itself. One browser
session serves the whole module, on the ``--quick`` page built once per test session. Screenshots
go to ``$CSUPER_LAB_SCREENSHOTS`` (or a temporary folder, printed) for review.

Without selenium, chromium or chromedriver the tests skip, saying what is missing; CI sets
``CSUPER_REQUIRE_BROWSER=1`` (``.ci/run``), which turns a missing browser into a failure.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import _lab_browser as lb
import pytest

from csuper.lab import two_feature_interference

MISSING = lb.missing_browser()
REQUIRED = os.environ.get("CSUPER_REQUIRE_BROWSER") == "1"


def test_a_browser_is_present_where_required():
    if MISSING and REQUIRED:
        pytest.fail(f"CSUPER_REQUIRE_BROWSER=1 but the browser tests cannot run: {MISSING}")
    if MISSING:
        pytest.skip(f"browser tests skipped: {MISSING}")


def test_ci_installs_the_browser_before_the_tests():
    ci = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text()
    tests = ci.index("python3 -m pytest")
    install = ci.index("apt-get install -y -q chromium chromium-driver")
    require = ci.index("export CSUPER_REQUIRE_BROWSER=1")
    assert install < tests and require < tests


needs_browser = pytest.mark.skipif(MISSING is not None, reason=f"no browser: {MISSING}")


@pytest.fixture(scope="module")
def browser(quick_page):
    if MISSING:
        pytest.skip(f"no browser: {MISSING}")
    driver = lb.start_browser()
    try:
        lb.load(driver, quick_page.path)
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("CSUPER_LAB_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("lab-screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def assert_clean(driver, page_path: Path) -> None:
    """No console error; no request but the page itself; no resource loaded by the page."""
    assert lb.console_errors(driver) == []
    assert set(lb.requested_urls(driver)) <= {page_path.resolve().as_uri()}
    assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0


def move(driver, slider_id: str, value: float) -> None:
    """Move a range input to ``value`` with the arrow keys (it fires input events as a reader's
    keyboard does)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    el = driver.find_element(By.ID, slider_id)
    step = float(el.get_attribute("step"))
    k = round((value - float(el.get_attribute("value"))) / step)
    if k:
        el.send_keys(*([Keys.ARROW_RIGHT if k > 0 else Keys.ARROW_LEFT] * abs(k)))
    assert float(el.get_attribute("value")) == pytest.approx(value, abs=1e-9)


def text(driver, element_id: str) -> str:
    return driver.execute_script(
        "return document.getElementById(arguments[0]).textContent", element_id
    )


def js(driver, script: str, *args):
    return driver.execute_script(script, *args)


# ------------------------------------------------------------------ view 2: interference
READOUTS = {  # element id -> (field of TwoFeatureInterference, decimals shown)
    "v2-overlap": ("overlap", 3),
    "v2-squared": ("squared_interference", 3),
    "v2-pre": ("preactivation", 3),
    "v2-spurious": ("spurious_activation", 3),
    "v2-relu-error": ("relu_error", 3),
    "v2-linear-error": ("linear_error", 3),
    "v2-filtered": ("filtered", 3),
    "v2-exp-relu": ("expected_relu_cost", 4),
    "v2-exp-linear": ("expected_linear_cost", 4),
}


@needs_browser
def test_interference_readouts_match_python(browser, quick_page):
    move(browser, "v2-bias", 0.0)
    move(browser, "v2-angle", 60)
    # cos 60 degrees = 1/2: overlap 0.5, squared interference 0.25, all of it passes the ReLU
    assert text(browser, "v2-overlap") == "0.500"
    assert text(browser, "v2-squared") == "0.250"
    assert text(browser, "v2-spurious") == "0.500"
    assert text(browser, "v2-filtered") == "0.000"
    for angle, bias in [
        (120, 0.0),
        (120, 0.6),
        (45, -0.3),
        (90, 0.25),
        (180, -1.0),
        (0, 1.0),
        (100, -0.55),
        (37, 0.05),
    ]:
        move(browser, "v2-angle", angle)
        move(browser, "v2-bias", bias)
        r = two_feature_interference(angle, bias)
        assert text(browser, "v2-angle-out") == f"{angle}\u00b0"
        for element_id, (field, digits) in READOUTS.items():
            shown = float(text(browser, element_id))
            assert abs(shown - getattr(r, field)) <= 0.5 * 10**-digits + 1e-12, (
                angle,
                bias,
                field,
                shown,
                getattr(r, field),
            )
        # the drawing: two feature arrows; the overlap bar points along w1 iff cos > 0
        assert js(browser, "return document.querySelectorAll('#v2-vectors g.feature').length") == 2
        dx = js(
            browser,
            "const l = document.querySelector('#v2-vectors .overlap');"
            "return l.x2.baseVal.value - l.x1.baseVal.value",
        )
        assert (
            dx == pytest.approx(0.0, abs=1e-6)
            if abs(r.overlap) < 1e-9
            else (dx > 0) == (r.overlap > 0)
        )
    assert_clean(browser, quick_page.path)


# ------------------------------------------------------------------ view 1: neurons
CELLS = """
return Array.from(document.querySelectorAll('#' + arguments[0] + ' rect.cell')).map(
  (e) => [+e.dataset.neuron, +e.dataset.feature, e.dataset.value]);
"""


@needs_browser
def test_neuron_view_follows_the_sparsity_slider(browser, quick_page):
    neurons = quick_page.payload["neurons"]
    m, n = neurons["n_dims"], neurons["n_features"]
    order = list(range(len(neurons["models"])))
    for j in order + order[-2::-1]:  # towards sparse data and back
        move(browser, "v1-sparsity", j)
        row = neurons["models"][j]
        assert text(browser, "v1-s-out").startswith(f"S = {row['sparsity']:.3f}")
        assert text(browser, "v1-represented") == f"{row['n_represented']} of {n}"
        assert text(browser, "v1-polysemantic") == f"{row['n_polysemantic']} of {m}"
        assert text(browser, "v1-regime") == row["regime"]
        for svg_id, key in (("v1-corr", "correlation"), ("v1-weights", "W")):
            cells = js(browser, CELLS, svg_id)
            assert len(cells) == m * n
            for k, i, value in cells:
                want = row[key][k][i]
                assert (value == "null") if want is None else float(value) == want
            kinds = js(
                browser,
                "return Array.from(document.querySelectorAll("
                "'#' + arguments[0] + ' .badge')).map((e) => e.dataset.kind)",
                svg_id,
            )
            assert [kd == "poly" for kd in kinds] == row["polysemantic"]
            reps = js(
                browser,
                "return document.querySelectorAll('#' + arguments[0] + ' .rep.yes').length",
                svg_id,
            )
            assert reps == row["n_represented"]
        outlined = sum(v > neurons["represented_threshold"] for r in row["W"] for v in r)
        assert js(browser, "return document.querySelectorAll('#v1-weights .drive').length") == (
            outlined
        )
    # a click on the trend chart selects that grid point
    js(
        browser,
        "document.querySelectorAll('#v1-trend circle.clickable')[arguments[0]]"
        ".dispatchEvent(new MouseEvent('click', {bubbles: true}))",
        2,
    )
    assert browser.find_element("id", "v1-sparsity").get_attribute("value") == "2"
    assert_clean(browser, quick_page.path)


# ------------------------------------------------------------------ view 3: packing
@needs_browser
def test_packing_view_follows_both_sliders(browser, quick_page):
    packing = quick_page.payload["packing"]
    for g in packing["grid"]:
        n = g["n_features"]
        move(browser, "v3-n", n)
        for j, row in enumerate(g["models"]):
            move(browser, "v3-sparsity", j)
            assert text(browser, "v3-n-out") == f"n = {n}"
            assert text(browser, "v3-s-out").startswith(f"S = {row['sparsity']:.3f}")
            assert text(browser, "v3-represented") == f"{row['n_represented']} of {n}"
            shown = text(browser, "v3-polytopes")
            assert [p["name"] for p in row["polytopes"]] == [
                part.split(" (feature")[0] for part in shown.split("; ") if part != "none"
            ]
            assert float(text(browser, "v3-dstar")) == pytest.approx(
                row["dimensions_per_feature"], abs=5e-4
            )
            counts = js(
                browser,
                """return [
                document.querySelectorAll('#v3-arrows g.feature').length,
                document.querySelectorAll('#v3-arrows g.feature.represented').length,
                document.querySelectorAll('#v3-arrows .polytope').length]""",
            )
            big = sum(len(p["features"]) >= 3 for p in row["polytopes"])
            assert counts == [n, row["n_represented"], big]
            bars = js(
                browser,
                "return Array.from(document.querySelectorAll('#v3-dims rect.dim'))"
                ".map((e) => +e.dataset.value)",
            )
            assert bars == row["feature_dimensionality"]
    # a click on the overview map selects that (n, S)
    js(
        browser,
        'document.querySelector(\'#v3-map rect.mapcell[data-n="5"][data-sparsity="\''
        " + arguments[0] + '\"]').dispatchEvent(new MouseEvent('click', {bubbles: true}))",
        str(packing["sparsities"][-1]),
    )
    assert text(browser, "v3-n-out") == "n = 5"
    assert "pentagon" in text(browser, "v3-polytopes")
    assert_clean(browser, quick_page.path)


# ------------------------------------------------------------------ view 4: an SAE
@needs_browser
def test_sae_view_follows_the_width_slider_and_the_architecture(browser, quick_page):
    sae = quick_page.payload["sae"]
    for arch in sae["architectures"]:
        browser.find_element("id", f"v4-arch-{arch['name']}").click()
        for j, row in enumerate(arch["models"]):
            move(browser, "v4-width", j)
            assert text(browser, "v4-width-out") == f"{row['width']} latents"
            recovered = round(row["recovery_rate"] * sae["n_features"])
            assert text(browser, "v4-recovered") == f"{recovered} of {sae['n_features']}"
            assert float(text(browser, "v4-mmcs")) == pytest.approx(row["mmcs"], abs=5e-4)
            assert text(browser, "v4-dead") == f"{row['dead_latents']} of {row['width']}"
            assert float(text(browser, "v4-fvu")) == pytest.approx(row["fvu"], abs=5e-4)
            drawn = js(
                browser,
                """return [
                document.querySelectorAll('#v4-plane g.atom').length,
                document.querySelectorAll('#v4-plane g.truth').length,
                document.querySelectorAll('#v4-plane circle.point').length,
                Array.from(document.querySelectorAll('#v4-cos rect.cos'))
                    .map((e) => +e.dataset.value)]""",
            )
            assert drawn == [row["width"], sae["n_features"], len(sae["points"][0]),
                             row["best_cosine"]]  # fmt: skip
    assert_clean(browser, quick_page.path)


# ------------------------------------------------------------------ layout and screenshots
@needs_browser
def test_phone_layout_and_screenshots(browser, quick_page, shots):
    from PIL import Image

    try:
        for name, metrics in (("laptop", lb.LAPTOP), ("phone", lb.PHONE)):
            lb.emulate(browser, metrics)
            lb.load(browser, quick_page.path)
            # nothing wider than the screen: no sideways scrolling, every figure fits
            widths = js(
                browser,
                """return [document.documentElement.scrollWidth,
                window.innerWidth, Math.max(...Array.from(document.querySelectorAll('svg'))
                .map((s) => s.getBoundingClientRect().right))]""",
            )
            assert widths[0] <= widths[1] and widths[2] <= widths[1], widths
            for section in ("neurons", "interference", "packing", "sae"):
                png = lb.screenshot(browser, f"#{section}")
                path = shots / f"{name}-{section}.png"
                path.write_bytes(png)
                image = Image.open(io.BytesIO(png))
                box = js(
                    browser,
                    "const r = document.getElementById(arguments[0])"
                    ".getBoundingClientRect(); return [r.width, r.height]",
                    section,
                )
                assert (image.width, image.height) == pytest.approx(box, abs=1.5)
                assert len(image.convert("RGB").getcolors(1 << 20) or ()) > 50  # not blank
            assert_clean(browser, quick_page.path)
    finally:
        lb.emulate(browser, lb.LAPTOP)
    print(f"lab screenshots for review: {shots}")
