"""Browser set-up for the map page tests.

Playwright cannot download its own browsers here, so the tests drive Debian's Chromium
(`apt-get install -y chromium fonts-wqy-microhei`; without the font Chinese renders as boxes).
The `live_server_url` fixture (a running OneGrid server with the demo street) comes from
tests/conftest.py.
"""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("ONEGRID_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: apt-get install -y chromium fonts-wqy-microhei",
            pytrace=False,
        )
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {
        **browser_context_args,
        "viewport": {"width": 1280, "height": 800},
        "locale": "zh-CN",
        "timezone_id": "Asia/Shanghai",
    }
