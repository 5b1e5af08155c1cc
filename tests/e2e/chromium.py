"""Which Chromium the browser tests and the screenshot script start, and how."""

from __future__ import annotations

from pathlib import Path

# Debian's Chromium where there is one (Playwright's own download is blocked on
# some machines); Playwright's browser elsewhere.
DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
# Headless and quiet: no sandbox as root, and none of Chromium's background
# connections, which a machine with no network refuses by the dozen.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
