"""Screenshots of the lab page for the README, one PNG per view.

Usage: python tests/lab/screenshots.py [--page PAGE.html] [-o docs/lab]

Builds the default page (what ``csuper lab`` writes, seed 0) unless ``--page`` gives one, opens
it in headless Chromium (the browser tests' setup, ``_lab_browser.py``), moves the sliders to a
telling state (view 1 at sparse data, view 2 at an obtuse angle, view 3 at the pentagon, view 4
at 5 latents) and saves each view as an 8-bit palette PNG to keep the files small.
"""

from __future__ import annotations

import argparse
import io
import tempfile
from pathlib import Path

import _lab_browser as lb

#: view -> (slider id, value) pairs set before its screenshot
STATES = {
    "neurons": [("v1-sparsity", "sparse")],
    "interference": [("v2-angle", 120), ("v2-bias", 0.0)],
    "packing": [("v3-n", 5), ("v3-sparsity", "last")],
    "sae": [("v4-width", "five")],
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--page", type=Path, default=None, help="an existing lab page")
    ap.add_argument("-o", "--output", type=Path, default=Path("docs/lab"), help="folder")
    ap.add_argument("--width", type=int, default=1100, help="viewport width in CSS pixels")
    args = ap.parse_args(argv)
    if lb.missing_browser():
        raise SystemExit(f"cannot take screenshots: {lb.missing_browser()}")
    page = args.page
    if page is None:
        from csuper.lab import write_lab

        page = Path(tempfile.mkdtemp()) / "lab.html"
        write_lab(page, rng=0, progress=True)
    from PIL import Image

    args.output.mkdir(parents=True, exist_ok=True)
    driver = lb.start_browser()
    try:
        lb.emulate(driver, {**lb.LAPTOP, "width": args.width})
        lb.load(driver, page)
        for view, moves in STATES.items():
            for slider, value in moves:
                if value in ("sparse", "last"):
                    top = int(driver.find_element("id", slider).get_attribute("max"))
                    value = top - 2 if value == "sparse" else top
                elif value == "five":  # the SAE width equal to the number of features
                    value = driver.execute_script(
                        "return JSON.parse(document.getElementById('lab-data').textContent)"
                        ".sae.widths.indexOf(5)"
                    )
                driver.execute_script(
                    "const s = document.getElementById(arguments[0]); s.value = arguments[1];"
                    "s.dispatchEvent(new Event('input'));",
                    slider,
                    str(value),
                )
            png = Image.open(io.BytesIO(lb.screenshot(driver, f"#{view}")))
            small = png.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
            path = args.output / f"{view}.png"
            small.save(path, optimize=True)
            print(f"{path}: {png.width}x{png.height}, {path.stat().st_size / 1e3:.0f} kB")
        errors = lb.console_errors(driver)
        if errors:
            raise SystemExit(f"console errors: {errors}")
    finally:
        driver.quit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
