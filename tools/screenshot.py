"""Regenerate docs/screenshot.png, the overview of the demo organisation that README.md shows.

    .venv/bin/python tools/screenshot.py [--out docs/screenshot.png] [--work-items 150000]

Builds the demo organisation (``python -m loaders init`` and ``demo``, the same data ``make run`` serves) in a
throwaway SQLite file, serves the app on 127.0.0.1 (:func:`dashboard.ui.serve.start_background`, as the browser
tests do), opens ``/overview`` in Debian's headless Chromium through Playwright, waits until the map and the
goal tiles are drawn and saves the page as a palette PNG (a few hundred kilobytes at most). Only loopback traffic;
the server and the data are removed afterwards. Needs ``make dev`` (Playwright) and ``/usr/bin/chromium``
(``make sysdeps``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
MAP = ".st-key-map .js-plotly-plot .scatterlayer .trace .point"
VIEWPORT = {"width": 1400, "height": 1000}


def build_demo(db_url: str, work_items: int) -> None:
    env_args = ["--database-url", db_url]
    for command in (["init"], ["demo", "--work-items", str(work_items)]):
        subprocess.run([sys.executable, "-m", "loaders", *command, *env_args], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)


def capture(base_url: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport=VIEWPORT)
        page.set_default_timeout(90_000)
        page.goto(f"{base_url}/overview")
        page.wait_for_selector(MAP)
        page.get_by_text("Shared goals").first.wait_for()
        page.wait_for_timeout(2_000)  # let the sparklines and fonts settle
        page.screenshot(path=str(out))
        browser.close()


def shrink(path: Path) -> None:
    """Palette PNG: the page is flat colours, so 256 of them keep it sharp at a fraction of the size."""
    from PIL import Image

    image = Image.open(path).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--work-items", type=int, default=150_000, help="demo size (default: make run's)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from dashboard.ui.serve import start_background

    with tempfile.TemporaryDirectory(prefix="hubspoke-screenshot-") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        build_demo(db_url, args.work_items)
        server = start_background(db_url, Path(tmp), refresh_seconds=3600)
        try:
            capture(server.url, args.out)
        finally:
            server.stop()
    shrink(args.out)
    print(f"{args.out}: {args.out.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
