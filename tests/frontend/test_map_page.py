"""Browser tests of the map page (frontend/index.html) against a running OneGrid server.

The page is driven as a person would: the sign-in form, clicks on clusters, markers, the layer
control, the lookup form. `window.oneGrid.map` (exposed by main.js for diagnostics) is used only
to turn a lon/lat into a screen position and to wait for the map to settle. The accounts come
from the `live_accounts` fixture (tests/conftest.py).
"""

import pytest
from playwright.sync_api import Browser, Page, Route, expect
from tests.frontend.pages import (
    ACCESS_KEY,
    READY,
    REFRESH_KEY,
    SIGN_IN,
)
from tests.frontend.pages import api_get as _api
from tests.frontend.pages import keep_off_the_network as _keep_off_the_network
from tests.frontend.pages import open_map as _open
from tests.frontend.pages import settle as _settle
from tests.frontend.pages import sign_in as _sign_in
from tests.frontend.pages import stored as _stored

LEVELS = ["street", "second", "third", "micro", "dedicated"]
LEVEL_NAMES = {
    "street": "街道",
    "second": "二级网格(社区)",
    "third": "三级网格",
    "micro": "微网格",
    "dedicated": "专属网格",
}
UNREACHABLE_TILES = "http://tiles.invalid/{z}/{x}/{y}.png"


def _grid_counts(page: Page, base: str) -> dict[str, int]:
    return {
        level: len(
            [f for f in _api(page, base, f"/api/grids?level={level}")["features"] if f["geometry"]]
        )
        for level in LEVELS
    }


def _located_cases(page: Page, base: str) -> list[dict]:
    cases = _api(page, base, "/api/cases?limit=5000")["features"]
    return [c for c in cases if c.get("geometry")]


def _nearest_to_centre(page: Page, selector: str):
    """The visible element matching selector closest to the map's centre (away from controls)."""
    box = page.locator("#map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    best, best_d = None, None
    for handle in page.locator(selector).element_handles():
        b = handle.bounding_box()
        if not b or b["width"] == 0:
            continue
        x, y = b["x"] + b["width"] / 2, b["y"] + b["height"] / 2
        if not (box["x"] + 60 < x < box["x"] + box["width"] - 60):
            continue
        if not (box["y"] + 60 < y < box["y"] + box["height"] - 60):
            continue
        d = (x - cx) ** 2 + (y - cy) ** 2
        if best_d is None or d < best_d:
            best, best_d = handle, d
    return best


def _set_overlay(page: Page, name: str, on: bool) -> None:
    row = page.locator(".leaflet-control-layers-overlays label").filter(has_text=name).first
    checkbox = row.locator("input")
    if checkbox.is_checked() != on:
        checkbox.click()
    _settle(page)


def _screen_point(page: Page, lon: float, lat: float) -> tuple[float, float]:
    box = page.locator("#map").bounding_box()
    p = page.evaluate(
        "([lat, lon]) => { const p = window.oneGrid.map.latLngToContainerPoint([lat, lon]);"
        " return [p.x, p.y]; }",
        [lat, lon],
    )
    return box["x"] + p[0], box["y"] + p[1]


def _inside_case(page: Page, base: str) -> dict:
    """A located case well inside a third-level grid (not on a boundary, not outside)."""
    for case in _located_cases(page, base):
        p = case["properties"]
        if p.get("third_code") and not p.get("on_boundary") and not p.get("outside_coverage"):
            return case
    pytest.fail("the demo data has no case inside a third-level grid")


def test_page_loads_without_console_errors(map_page: Page, problems: list[str]):
    expect(map_page.locator(".og-status-info")).to_contain_text("网格")
    expect(map_page.locator(".og-status-info")).to_contain_text("事件")
    expect(map_page.locator(".og-status-errors li[role=alert]")).to_have_count(0)
    assert problems == []


def test_every_grid_level_is_drawn_as_its_own_overlay(map_page: Page, base_url_: str):
    expected = _grid_counts(map_page, base_url_)
    for level in LEVELS:
        assert expected[level] > 0, f"the demo street has no {level} grids"
        assert map_page.locator(f"path.og-grid-{level}").count() == expected[level], level
        entry = map_page.locator(".leaflet-control-layers-overlays label").filter(
            has_text=LEVEL_NAMES[level]
        )
        expect(entry.first).to_contain_text(f"({expected[level]})")


def test_dedicated_grids_are_dashed_over_the_comprehensive_grids(map_page: Page):
    dedicated = map_page.locator("path.og-grid-dedicated").first
    assert dedicated.get_attribute("stroke-dasharray")
    assert not map_page.locator("path.og-grid-third").first.get_attribute("stroke-dasharray")
    # dedicated grids are drawn after (so above) the third-level grids
    order = map_page.evaluate(
        """() => [...document.querySelectorAll('path.og-grid')].map((p) =>
            [...p.classList].find((c) => c.startsWith('og-grid-')))"""
    )
    assert max(i for i, c in enumerate(order) if c == "og-grid-third") < min(
        i for i, c in enumerate(order) if c == "og-grid-dedicated"
    )


def test_labels_show_communities_then_finer_grids_when_zoomed_in(map_page: Page, base_url_: str):
    names = {
        f["properties"]["name"] or f["properties"]["code"]
        for f in _api(map_page, base_url_, "/api/grids?level=second")["features"]
    }
    second_labels = map_page.locator(".og-label-second")
    assert second_labels.count() > 0
    assert set(second_labels.all_inner_texts()) <= names

    third_labels = map_page.locator(".og-label-third")
    for _ in range(5):
        if third_labels.count() > 0:
            break
        map_page.locator(".leaflet-control-zoom-in").click()
        _settle(map_page)
    assert third_labels.count() > 0, "no third-level labels even when zoomed in"
    third_names = {
        f["properties"]["name"] or f["properties"]["code"]
        for f in _api(map_page, base_url_, "/api/grids?level=third")["features"]
    }
    assert set(third_labels.all_inner_texts()) <= third_names


def test_cases_appear_as_clusters_counted_in_the_legend(map_page: Page, base_url_: str):
    located = _located_cases(map_page, base_url_)
    assert len(located) > 100, "the demo street should have thousands of cases"
    assert map_page.locator(".og-cluster").count() > 0
    legend_total = sum(
        int(t) for t in map_page.locator(".og-legend-count").all_inner_texts() if t.strip()
    )
    assert legend_total == len(located)
    expect(map_page.locator(".og-status-info")).to_contain_text(f"地图显示 {len(located)} 件")


def test_clicking_a_case_shows_its_details_and_third_level_grid(map_page: Page, base_url_: str):
    for _ in range(25):
        marker = _nearest_to_centre(map_page, ".og-case")
        if marker:
            break
        cluster = _nearest_to_centre(map_page, ".og-cluster")
        assert cluster, "neither a case marker nor a cluster in view"
        cluster.click()  # zooms into the cluster, or spiderfies it at the last zoom level
        _settle(map_page)
    assert marker, "no single case marker after zooming in"
    marker.click()

    panel = map_page.locator("#details[data-kind=case]")
    expect(panel).to_be_visible()
    case_id = panel.get_attribute("data-case-id")
    cases = {str(c["properties"]["id"]): c for c in _located_cases(map_page, base_url_)}
    props = cases[case_id]["properties"]
    third = panel.locator(".og-assignment [data-level=third] dd")
    expect(third).to_contain_text(props["third_code"] or "无")
    expect(panel.locator(".og-status-chip")).to_be_visible()
    # The workflow section comes from GET /api/cases/{id} and its events.
    expect(panel.locator(".og-progress .og-props")).to_be_visible()
    if props.get("category"):
        expect(panel).to_contain_text(props["category"])
    if props.get("outside_coverage"):
        expect(panel.locator(".og-flag-outside")).to_be_visible()


def test_lookup_form_shows_the_grid_of_a_point(map_page: Page, base_url_: str):
    case = _inside_case(map_page, base_url_)
    lon, lat = case["geometry"]["coordinates"]
    map_page.get_by_role("button", name="坐标查询").click()
    form = map_page.locator("#lookup-form")
    form.locator("input[name=lon]").fill(f"{lon:.7f}")
    form.locator("input[name=lat]").fill(f"{lat:.7f}")
    form.locator("select[name=crs]").select_option("wgs84")
    form.get_by_role("button", name="查询").click()

    panel = map_page.locator("#details[data-kind=lookup]")
    expect(panel).to_be_visible()
    expect(panel.locator("[data-level=third] dd")).to_contain_text(case["properties"]["third_code"])
    expect(panel.locator("[data-level=street] dd")).not_to_have_text("无")
    expect(map_page.locator("path.og-lookup-marker")).to_have_count(1)


def test_lookup_by_clicking_the_map(map_page: Page, base_url_: str):
    case = _inside_case(map_page, base_url_)
    lon, lat = case["geometry"]["coordinates"]
    _set_overlay(map_page, "事件", False)  # markers would take the click
    map_page.evaluate("([lat, lon]) => window.oneGrid.map.setView([lat, lon], 17)", [lat, lon])
    _settle(map_page)
    map_page.get_by_role("button", name="点选查询").click()
    expect(map_page.get_by_role("button", name="点选查询")).to_have_attribute(
        "aria-pressed", "true"
    )
    x, y = _screen_point(map_page, lon, lat)
    map_page.mouse.click(x, y)

    panel = map_page.locator("#details[data-kind=lookup]")
    expect(panel).to_be_visible()
    expect(panel.locator("[data-level=third] dd")).to_contain_text(case["properties"]["third_code"])


def test_lookup_error_message_from_the_api_is_shown(map_page: Page):
    message = "坐标不在本街道范围内，请检查坐标系"
    map_page.route(
        "**/api/lookup?*",
        lambda route: route.fulfill(
            status=422,
            json={"error": "point_outside_extent", "message": message, "field": "lon"},
        ),
    )
    map_page.get_by_role("button", name="坐标查询").click()
    map_page.locator("#lookup-form input[name=lon]").fill("100.0")
    map_page.locator("#lookup-form input[name=lat]").fill("20.0")
    map_page.locator("#lookup-form").get_by_role("button", name="查询").click()
    expect(map_page.locator("#details[data-kind=message]")).to_contain_text(message)
    expect(map_page.locator(".og-status-errors")).to_contain_text(message)


def test_clicking_a_grid_shows_its_properties_and_parent(map_page: Page, base_url_: str):
    _set_overlay(map_page, "事件", False)
    _set_overlay(map_page, LEVEL_NAMES["micro"], False)
    _set_overlay(map_page, LEVEL_NAMES["dedicated"], False)
    third = {
        f["properties"]["code"]: f["properties"]
        for f in _api(map_page, base_url_, "/api/grids?level=third")["features"]
    }
    case = _inside_case(map_page, base_url_)
    lon, lat = case["geometry"]["coordinates"]
    map_page.evaluate("([lat, lon]) => window.oneGrid.map.setView([lat, lon], 17)", [lat, lon])
    _settle(map_page)
    x, y = _screen_point(map_page, lon, lat)
    map_page.mouse.click(x, y)

    panel = map_page.locator("#details[data-kind=grid]")
    expect(panel).to_be_visible()
    code = panel.get_attribute("data-code")
    assert code == case["properties"]["third_code"]
    expect(panel).to_contain_text(LEVEL_NAMES["third"])
    parent = third[code]["parent_code"]
    if parent:
        panel.locator(f".og-grid-ref[data-code='{parent}']").click()
        expect(map_page.locator(f"#details[data-kind=grid][data-code='{parent}']")).to_be_visible()


def test_status_filter_hides_cases_of_that_status(map_page: Page, base_url_: str):
    located = _located_cases(map_page, base_url_)
    closed = sum(1 for c in located if c["properties"]["status"] == "closed")
    assert closed > 0
    map_page.locator(".og-legend input[data-status=closed]").uncheck()
    expect(map_page.locator(".og-status-info")).to_contain_text(
        f"地图显示 {len(located) - closed} 件"
    )
    map_page.locator(".og-legend input[data-status=closed]").check()
    expect(map_page.locator(".og-status-info")).to_contain_text(f"地图显示 {len(located)} 件")


@pytest.mark.parametrize("tile_url", [UNREACHABLE_TILES, None], ids=["unreachable", "none"])
def test_grids_render_without_a_base_map(
    page: Page, base_url_: str, problems: list[str], office: dict, tile_url: str | None
):
    def config(route: Route) -> None:
        body = route.fetch().json()
        body["tile_url"] = tile_url
        route.fulfill(json=body)

    page.route("**/api/config", config)
    page.route(lambda url: not url.startswith(base_url_), lambda route: route.abort())
    _open(page, base_url_, office)

    for level in LEVELS:
        assert page.locator(f"path.og-grid-{level}").count() > 0, level
    assert page.locator(".og-label").count() > 0
    expect(page.locator(".og-status-notice[data-key=basemap]")).to_contain_text("底图")
    # the only acceptable errors are the browser's own notes about the refused tiles
    unexpected = [p for p in problems if "tiles.invalid" not in p]
    assert unexpected == []


def test_phone_layout_shows_lookup_as_a_bottom_sheet(
    browser: Browser, base_url_: str, office: dict
):
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    try:
        page = phone.new_page()
        _keep_off_the_network(page, base_url_)
        _open(page, base_url_, office, tap=True)
        assert page.locator("path.og-grid-third").count() > 0
        expect(page.locator("#account")).to_be_visible()
        expect(page.locator(".leaflet-control-layers")).not_to_have_class(
            "leaflet-control-layers-expanded"
        )
        case = _inside_case(page, base_url_)
        lon, lat = case["geometry"]["coordinates"]
        page.get_by_role("button", name="坐标查询").tap()
        page.locator("#lookup-form input[name=lon]").fill(str(lon))
        page.locator("#lookup-form input[name=lat]").fill(str(lat))
        page.locator("#lookup-form").get_by_role("button", name="查询").tap()
        panel = page.locator("#details[data-kind=lookup]")
        expect(panel).to_be_visible()
        box = panel.bounding_box()
        assert box["width"] >= 380 and box["y"] > 844 * 0.4, box
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        phone.close()


# --- signing in and out -------------------------------------------------------------------------

DATA_PATHS = ("/api/config", "/api/grids", "/api/cases", "/api/lookup", "/api/workflow")


def _data_requests(page: Page) -> list[str]:
    """URLs of the data requests the page makes from now on (anything but /api/auth)."""
    seen: list[str] = []
    page.on(
        "request",
        lambda request: (
            seen.append(request.url) if any(p in request.url for p in DATA_PATHS) else None
        ),
    )
    return seen


def _refuse_stale_token(page: Page, stale: str) -> None:
    """Answers 401 to every data request that carries the access token `stale`, as the server
    does for an expired access token; every other request goes to the server unchanged."""

    def handle(route: Route) -> None:
        if route.request.headers.get("authorization") == f"Bearer {stale}":
            route.fulfill(
                status=401,
                headers={"WWW-Authenticate": "Bearer"},
                json={"error": "NotAuthenticated", "message": "access token expired"},
            )
        else:
            route.fallback()

    page.route(lambda url: any(p in url for p in DATA_PATHS), handle)


def test_sign_in_screen_comes_first_and_loads_no_data(
    page: Page, base_url_: str, problems: list[str]
):
    _keep_off_the_network(page, base_url_)
    requests = _data_requests(page)
    page.goto(base_url_ + "/")
    form = page.locator(SIGN_IN + " form")
    expect(form).to_be_visible()
    expect(form.get_by_label("用户名")).to_be_focused()
    expect(page.locator("body")).to_have_attribute("data-state", "sign-in")
    expect(page.locator("#account")).to_be_hidden()
    page.wait_for_timeout(300)
    assert requests == []
    assert page.locator("path.og-grid").count() == 0
    assert problems == []  # nothing broke the content security policy either


def test_a_wrong_password_shows_the_servers_message_and_loads_no_data(
    page: Page, base_url_: str, live_accounts: dict, problems: list[str]
):
    _keep_off_the_network(page, base_url_)
    requests = _data_requests(page)
    page.goto(base_url_ + "/")
    worker = live_accounts["worker"]
    with page.expect_response("**/api/auth/token") as answer:
        _sign_in(page, {**worker, "password": worker["password"] + "-wrong"})
    assert answer.value.status == 401
    message = answer.value.json()["message"]
    assert message

    expect(page.locator(".og-signin-message")).to_have_text(message)
    expect(page.locator(SIGN_IN + " form")).to_be_visible()
    assert _stored(page, ACCESS_KEY) is None and _stored(page, REFRESH_KEY) is None
    assert requests == []
    assert page.locator("path.og-grid").count() == 0
    # the browser's own note about the 401 answer is the only console error
    assert [p for p in problems if "401" not in p] == []


def test_a_resident_is_told_the_map_is_not_theirs_and_keeps_no_session(
    page: Page, base_url_: str, live_accounts: dict, problems: list[str]
):
    _keep_off_the_network(page, base_url_)
    requests = _data_requests(page)
    page.goto(base_url_ + "/")
    with page.expect_response("**/api/auth/revoke") as revoked:
        _sign_in(page, live_accounts["resident"])
    assert revoked.value.status == 204
    expect(page.locator(".og-signin-message")).to_contain_text("居民账号不能使用网格工作地图")
    expect(page.locator(SIGN_IN + " form")).to_be_visible()
    expect(page.locator("#account")).to_be_hidden()
    assert _stored(page, ACCESS_KEY) is None and _stored(page, REFRESH_KEY) is None
    assert requests == []
    assert problems == []


def test_signing_in_shows_who_and_loads_the_map_with_the_bearer_token(
    page: Page, base_url_: str, office: dict, problems: list[str]
):
    _keep_off_the_network(page, base_url_)
    sent: list[tuple[str, str | None]] = []
    page.on(
        "request",
        lambda r: (
            sent.append((r.url, r.headers.get("authorization")))
            if any(p in r.url for p in ("/api/grids", "/api/cases"))
            else None
        ),
    )
    _open(page, base_url_, office)

    me = _api(page, base_url_, "/api/auth/me")
    assert me["username"] == office["username"]
    expect(page.locator(SIGN_IN)).to_be_hidden()
    account = page.locator("#account")
    expect(account.locator(".og-account-name")).to_have_text(
        me.get("display_name") or me["username"]
    )
    expect(account.locator(".og-account-role")).to_have_text("街道管理员")
    expect(account.get_by_role("button", name="退出登录")).to_be_visible()
    assert page.locator("path.og-grid-third").count() > 0
    expect(page.locator(".og-status-info")).to_contain_text("事件")

    # Both tokens in this tab's sessionStorage, nothing in localStorage; every call carries one.
    access = _stored(page, ACCESS_KEY)
    assert access and _stored(page, REFRESH_KEY)
    assert page.evaluate("localStorage.length") == 0
    assert sent, "the page asked for no grids or cases"
    assert {auth for _, auth in sent} == {f"Bearer {access}"}
    assert problems == []


def test_an_expired_access_token_is_refreshed_once_and_the_requests_retried(
    map_page: Page, base_url_: str
):
    case = _inside_case(map_page, base_url_)
    lon, lat = case["geometry"]["coordinates"]
    old_refresh = _stored(map_page, REFRESH_KEY)
    map_page.evaluate(f"sessionStorage.setItem('{ACCESS_KEY}', 'stale-token')")
    _refuse_stale_token(map_page, "stale-token")
    refreshes: list[str] = []
    map_page.on(
        "request", lambda r: refreshes.append(r.url) if "/api/auth/refresh" in r.url else None
    )
    # The lookup is refused once (401), then answered after the refresh.
    map_page.get_by_role("button", name="坐标查询").click()
    form = map_page.locator("#lookup-form")
    form.locator("input[name=lon]").fill(f"{lon:.7f}")
    form.locator("input[name=lat]").fill(f"{lat:.7f}")
    form.get_by_role("button", name="查询").click()

    panel = map_page.locator("#details[data-kind=lookup]")
    expect(panel.locator("[data-level=third] dd")).to_contain_text(case["properties"]["third_code"])
    assert len(refreshes) == 1
    # the used-up refresh token was replaced by a new pair
    assert _stored(map_page, ACCESS_KEY) not in (None, "stale-token")
    assert _stored(map_page, REFRESH_KEY) not in (None, old_refresh)
    expect(map_page.locator(SIGN_IN)).to_be_hidden()


def test_parallel_401s_share_one_refresh(map_page: Page, base_url_: str):
    map_page.evaluate(f"sessionStorage.setItem('{ACCESS_KEY}', 'stale-token')")
    _refuse_stale_token(map_page, "stale-token")
    refreshes: list[str] = []
    map_page.on(
        "request", lambda r: refreshes.append(r.url) if "/api/auth/refresh" in r.url else None
    )
    # Several requests at once, all with the stale token (straight through the page's api.js):
    # one refresh, or the rotation would see its used-up token again and revoke the session.
    results = map_page.evaluate(
        """async () => {
            const api = await import('./js/api.js');
            const answers = await Promise.allSettled([
                api.getWorkflow(), api.getConfig(),
                api.getGrids('second'), api.getCases({limit: 5}),
            ]);
            return answers.map((a) => a.status === 'fulfilled' ? a.status : String(a.reason));
        }"""
    )
    assert results == ["fulfilled"] * 4
    assert len(refreshes) == 1
    expect(map_page.locator(SIGN_IN)).to_be_hidden()


def test_a_revoked_session_returns_to_the_sign_in_screen(
    map_page: Page, base_url_: str, office: dict
):
    # Signed out elsewhere: the refresh token is revoked, and the access token has expired.
    revoked = map_page.request.post(
        base_url_ + "/api/auth/revoke", data={"refresh_token": _stored(map_page, REFRESH_KEY)}
    )
    assert revoked.status == 204
    map_page.evaluate(f"sessionStorage.setItem('{ACCESS_KEY}', 'stale-token')")
    _refuse_stale_token(map_page, "stale-token")

    with map_page.expect_response("**/api/auth/refresh") as refreshed:
        map_page.get_by_role("button", name="坐标查询").click()
        map_page.locator("#lookup-form input[name=lon]").fill("113.68")
        map_page.locator("#lookup-form input[name=lat]").fill("34.78")
        map_page.locator("#lookup-form").get_by_role("button", name="查询").click()
    assert refreshed.value.status == 401

    expect(map_page.locator(SIGN_IN + " form")).to_be_visible()
    expect(map_page.locator(".og-signin-message")).to_contain_text("重新登录")
    assert _stored(map_page, ACCESS_KEY) is None and _stored(map_page, REFRESH_KEY) is None

    # Signing in again starts the page afresh, with the map.
    _sign_in(map_page, office)
    map_page.wait_for_selector(READY, timeout=30_000)
    expect(map_page.locator(SIGN_IN)).to_be_hidden()
    assert map_page.locator("path.og-grid-third").count() > 0


def test_a_session_that_cannot_be_refreshed_shows_the_sign_in_screen_on_reload(
    map_page: Page, base_url_: str
):
    requests = _data_requests(map_page)
    revoked = map_page.request.post(
        base_url_ + "/api/auth/revoke", data={"refresh_token": _stored(map_page, REFRESH_KEY)}
    )
    assert revoked.status == 204
    map_page.evaluate(f"sessionStorage.setItem('{ACCESS_KEY}', 'not-a-token')")
    map_page.reload()
    expect(map_page.locator(SIGN_IN + " form")).to_be_visible()
    expect(map_page.locator("body")).to_have_attribute("data-state", "sign-in")
    assert _stored(map_page, ACCESS_KEY) is None and _stored(map_page, REFRESH_KEY) is None
    assert requests == []


def test_sign_out_revokes_the_session_and_clears_session_storage(map_page: Page, base_url_: str):
    refresh = _stored(map_page, REFRESH_KEY)
    with map_page.expect_response("**/api/auth/revoke") as revoked:
        map_page.locator("#account").get_by_role("button", name="退出登录").click()
    assert revoked.value.status == 204
    assert revoked.value.request.post_data_json == {"refresh_token": refresh}
    expect(map_page.locator(SIGN_IN + " form")).to_be_visible()
    expect(map_page.locator("#account")).to_be_hidden()
    assert map_page.evaluate("sessionStorage.length") == 0
    assert map_page.locator("path.og-grid").count() == 0


def test_sign_in_screen_fits_a_phone_with_large_touch_targets(browser: Browser, base_url_: str):
    phone = browser.new_context(
        viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    try:
        page = phone.new_page()
        _keep_off_the_network(page, base_url_)
        page.goto(base_url_ + "/")
        form = page.locator(SIGN_IN + " form")
        expect(form).to_be_visible()
        for target in (
            form.get_by_label("用户名"),
            form.get_by_label("密码"),
            form.get_by_role("button", name="登录"),
        ):
            box = target.bounding_box()
            assert box["height"] >= 44 and box["width"] >= 280, box
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        phone.close()
