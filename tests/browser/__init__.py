"""Browser tests: Debian's Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
SEED_RULES = ("spend > 10000 AND visits <= 3", "inactive_days > 90", "last_visit < 3 months ago")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Every browser module's `pytestmark`: CI installs Chromium, so the skip only spares a
# developer's machine without it.
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"needs Chromium at {CHROMIUM}"),
]


def launch(playwright: Any) -> Any:
    """Headless Chromium with the flags a container without a desktop needs."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
