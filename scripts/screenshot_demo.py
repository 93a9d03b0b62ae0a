"""Write docs/images/report-demo.png (1280 px, the whole page) and report-demo-phone.png (390 × 844 px, the top).

Run it after changing the HTML report or the demo: `.venv/bin/python scripts/screenshot_demo.py`.
It renders `thankyou-scan demo --format html` and opens it in Debian's Chromium through
Playwright, launched as the browser test launches it (tests/browser.py); it needs
`apt-get install chromium` and the dev extra, never `playwright install`.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser import chromium, missing, screenshot  # noqa: E402
from thankyou_scan.cli import main  # noqa: E402

IMAGES = ROOT / "docs" / "images"
SHOTS = {"report-demo.png": (1280, 900, True), "report-demo-phone.png": (390, 844, False)}


def run() -> int:
    problem = missing()
    if problem:
        print(f"screenshot_demo: {problem}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "demo.html"
        main(["demo", "--format", "html", "--output", str(page)])
        with chromium() as context:
            for name, (width, height, full_page) in SHOTS.items():
                seen = screenshot(
                    context, page, IMAGES / name, width=width, height=height, full_page=full_page
                )
                if seen.errors or seen.dialogs or len(seen.requests) > 1:
                    print(f"screenshot_demo: the page misbehaved: {seen}", file=sys.stderr)
                    return 1
                print(IMAGES / name)
    return 0


if __name__ == "__main__":
    sys.exit(run())
