"""Helpers shared by the browser tests: signing in on the map page as a person would, keeping
the browser off the internet, waiting for the map to settle, and asking the API as the person
signed in on the page (to compare what the page shows with the API's own answer)."""

import struct
import zlib

from playwright.sync_api import Page, Route, expect

READY = "body[data-state=ready]"
SIGN_IN = "#sign-in"
ACCESS_KEY = "onegrid.access_token"
REFRESH_KEY = "onegrid.refresh_token"


def _png_1x1() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00\x00"))
        + chunk(b"IEND", b"")
    )


BLANK_TILE = _png_1x1()


def keep_off_the_network(page: Page, base: str) -> None:
    """Tiles from any other host get a blank image, anything else is refused: tests never
    reach the internet, and a configured online base map still 'loads'."""

    def handle(route: Route) -> None:
        if route.request.resource_type == "image":
            route.fulfill(status=200, content_type="image/png", body=BLANK_TILE)
        else:
            route.abort()

    page.route(lambda url: not url.startswith(base), handle)


def sign_in(page: Page, account: dict, *, tap: bool = False) -> None:
    """Fills in the sign-in form as a person would and submits it."""
    form = page.locator(SIGN_IN + " form")
    expect(form).to_be_visible()
    form.get_by_label("用户名").fill(account["username"])
    form.get_by_label("密码").fill(account["password"])
    button = form.get_by_role("button", name="登录")
    if tap:
        button.tap()
    else:
        button.click()


def open_map(page: Page, base: str, account: dict, *, tap: bool = False) -> Page:
    """Opens the map page, signs in and waits until it is loaded and still."""
    page.goto(base + "/")
    sign_in(page, account, tap=tap)
    page.wait_for_selector(READY, timeout=30_000)
    settle(page)
    return page


def stored(page: Page, key: str) -> str | None:
    return page.evaluate("(key) => sessionStorage.getItem(key)", key)


def settle(page: Page) -> None:
    """Waits for pan/zoom animations and the label pass that follows them."""
    page.wait_for_function(
        """() => new Promise((resolve) => {
            const map = window.oneGrid.map;
            const frame = () => requestAnimationFrame(() => resolve(true));
            const done = () => requestAnimationFrame(frame);
            const moving = map._animatingZoom || (map._panAnim && map._panAnim._inProgress);
            if (moving) map.once('moveend', done);
            else done();
        })"""
    )
    page.wait_for_timeout(400)  # marker-cluster animations run 300 ms after the move


def api_get(page: Page, base: str, path: str):
    """GET path as the person signed in on the page (with the page's own access token)."""
    token = stored(page, ACCESS_KEY)
    response = page.request.get(base + path, headers={"Authorization": f"Bearer {token}"})
    assert response.ok, f"{path}: HTTP {response.status}"
    return response.json()
