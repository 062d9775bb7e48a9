"""Browser set-up for the map page tests.

Playwright cannot download its own browsers here, so the tests drive Debian's Chromium
(`apt-get install -y chromium fonts-wqy-microhei`; without the font Chinese renders as boxes).
The `live_server_url` fixture (a running OneGrid server with the demo street) comes from
tests/conftest.py.
"""

import os
import shutil

import pytest
from playwright.sync_api import Page
from tests.frontend.pages import keep_off_the_network, open_map

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


@pytest.fixture
def base_url_(live_server_url: str) -> str:
    return live_server_url.rstrip("/")


@pytest.fixture
def problems(page: Page) -> list[str]:
    """Console errors and uncaught exceptions of the page, as text (a script or style the
    content security policy refuses shows up here too)."""
    found: list[str] = []
    page.on(
        "console",
        lambda msg: (
            found.append(f"console: {msg.text} ({msg.location.get('url')})")
            if msg.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda err: found.append(f"pageerror: {err}"))
    return found


@pytest.fixture
def office(live_accounts: dict) -> dict:
    """The street office's account (street_admin): sees the whole street."""
    return live_accounts["office"]


@pytest.fixture
def map_page(page: Page, base_url_: str, problems: list[str], office: dict) -> Page:
    """The map page, signed in as the street office, off the internet."""
    keep_off_the_network(page, base_url_)
    return open_map(page, base_url_, office)
