"""Browser tests of the places registry on the map page: the place overlays, a place's details
and the 台账 panel, each compared with the API's own answer for the person signed in (the demo
street's claims and visits may or may not be loaded: nothing here counts on fixed numbers)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, Page, Route, expect
from tests.frontend.pages import (
    api_get,
    keep_off_the_network,
    open_map,
    settle,
)

POINT_KINDS = ["merchant", "enterprise", "resident_unit"]
AREA_KINDS = ["building", "site"]
KIND_NAMES = {
    "building": "楼栋",
    "courtyard": "小区/院落",
    "merchant": "商户",
    "enterprise": "企业",
    "site": "项目工地",
    "resident_unit": "驻街单位",
}
LIMIT = 20000


def _overlay(page: Page, name: str):
    return page.locator(".leaflet-control-layers-overlays label").filter(has_text=name).first


def _switch_on(page: Page, name: str) -> None:
    checkbox = _overlay(page, name).locator("input")
    if not checkbox.is_checked():
        checkbox.click()


def _switch_off(page: Page, name: str) -> None:
    checkbox = _overlay(page, name).locator("input")
    if checkbox.is_checked():
        checkbox.click()


def _ids(collection: dict) -> list[int]:
    return sorted(f["properties"]["id"] for f in collection["features"])


def _drawn_markers(page: Page, kind: str) -> int:
    """Places drawn as single markers plus those counted in the clusters of that kind."""
    singles = page.locator(f".og-place-marker.og-place-{kind}").count()
    clustered = sum(
        int(t) for t in page.locator(f".og-place-cluster-{kind} span").all_inner_texts()
    )
    return singles + clustered


def _nearest_to_centre(page: Page, selector: str):
    """The element matching selector whose centre is closest to the map's centre."""
    box = page.locator("#map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    def distance(b: dict) -> float:
        return (b["x"] + b["width"] / 2 - cx) ** 2 + (b["y"] + b["height"] / 2 - cy) ** 2

    found = [(distance(b), e) for e in page.locator(selector).all() if (b := e.bounding_box())]
    assert found, f"no {selector} on the map"
    return min(found, key=lambda pair: pair[0])[1]


def _quarter_of(day: str) -> str:
    year, month = int(day[:4]), int(day[5:7])
    return f"{year}Q{(month - 1) // 3 + 1}"


def _expected_quarter(page: Page, base: str) -> str:
    """The quarter the panel opens with: the latest with visits, else the current one."""
    latest = api_get(page, base, "/api/enterprise-service/visits?limit=1")
    if latest:
        return _quarter_of(latest[0]["visited_on"])
    return _quarter_of(datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat())


def _value_at(answer: dict, path: str):
    value = answer
    for part in path.split("."):
        value = value[part]
    return value


def _share(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _assert_figures(page: Page, prefix: str, answer: dict) -> int:
    """Every figure of the panel named `prefix.…` shows the API's value; returns how many."""
    figures = page.locator(f"#registry [data-figure^='{prefix}.']")
    checked = 0
    for i in range(figures.count()):
        row = figures.nth(i)
        path = row.get_attribute("data-figure").removeprefix(prefix + ".")
        value = _value_at(answer, path)
        shown = row.locator("dd").inner_text()
        if isinstance(value, dict) and "numerator" in value:
            assert f"（{value['numerator']}/{value['denominator']}）" in shown, (path, shown)
            assert shown.startswith(_share(value["value"])), (path, shown)
        elif isinstance(value, dict):  # per-level items: "n（随手办 m）"
            assert shown == f"{value['items']}（随手办 {value['on_the_spot']}）", (path, shown)
        elif isinstance(value, float) or path.endswith("share"):
            assert shown == _share(value), (path, shown)
        else:
            assert shown == str(value), (path, shown)
        checked += 1
    return checked


def _open_registry(page: Page) -> None:
    page.get_by_role("button", name="台账").click()
    expect(page.locator("#registry")).to_be_visible()
    expect(page.locator("#registry")).to_have_attribute("data-state", "ready", timeout=20_000)


def test_courtyards_are_on_by_default_coloured_by_status(
    map_page: Page, base_url_: str, problems: list[str]
):
    courtyards = api_get(map_page, base_url_, "/api/red-property/map")["features"]
    assert courtyards, "the demo street has no courtyards"
    expect(_overlay(map_page, KIND_NAMES["courtyard"])).to_contain_text(f"({len(courtyards)})")
    assert _overlay(map_page, KIND_NAMES["courtyard"]).locator("input").is_checked()
    for status in {c["properties"]["map_status"] for c in courtyards}:
        expected = sum(1 for c in courtyards if c["properties"]["map_status"] == status)
        assert map_page.locator(f"path.og-courtyard-{status}").count() == expected, status
        legend = map_page.locator(f".og-courtyard-legend [data-courtyard-status={status}]")
        expect(legend.locator(".og-courtyard-count")).to_have_text(str(expected))
    # The other kinds wait until someone switches them on.
    for kind in AREA_KINDS + POINT_KINDS:
        assert not _overlay(map_page, KIND_NAMES[kind]).locator("input").is_checked(), kind
    assert problems == []


def test_place_overlays_show_the_street_admins_places_as_the_api_lists_them(
    map_page: Page, base_url_: str, problems: list[str]
):
    _switch_off(map_page, "事件")  # fewer markers to wait for
    for kind in AREA_KINDS + POINT_KINDS:
        expected = api_get(map_page, base_url_, f"/api/places?kind={kind}&limit={LIMIT}")
        count = len(expected["features"])
        assert count > 0, f"the demo street has no {kind}"
        with map_page.expect_response(f"**/api/places?kind={kind}*"):
            _switch_on(map_page, KIND_NAMES[kind])
        expect(_overlay(map_page, KIND_NAMES[kind])).to_contain_text(f"({count})")
        assert map_page.evaluate(f"window.oneGrid.places.ids('{kind}')") == [
            f["properties"]["id"] for f in expected["features"]
        ]
        settle(map_page)
        if kind in AREA_KINDS:
            assert map_page.locator(f"path.og-place-{kind}").count() == count, kind
        else:
            # the whole street is in view: every place is a marker or in a cluster
            assert _drawn_markers(map_page, kind) == count, kind
    # Enterprises of key tax source are marked 税, the other above-scale ones 规.
    marks = map_page.evaluate(
        """() => window.oneGrid.places.overlays.enterprise.group.getLayers().map((m) => [
            m.feature.properties.key_tax_source, m.feature.properties.above_scale,
            m.options.icon.options.className])"""
    )
    for tax, scale, class_name in marks:
        expected_mark = "og-mark-tax" if tax else "og-mark-scale" if scale else "og-mark-plain"
        assert expected_mark in class_name
    assert problems == []


def test_a_grid_worker_sees_only_the_places_of_their_grid(
    page: Page, base_url_: str, live_accounts: dict, office: dict, problems: list[str]
):
    keep_off_the_network(page, base_url_)
    token = page.request.post(
        base_url_ + "/api/auth/token",
        form={"username": office["username"], "password": office["password"]},
    ).json()["access_token"]

    def as_office(path: str) -> dict:
        return page.request.get(
            base_url_ + path, headers={"Authorization": f"Bearer {token}"}
        ).json()

    open_map(page, base_url_, live_accounts["worker"])
    grid = api_get(page, base_url_, "/api/auth/me")["grid_code"]
    for kind, path in (
        ("courtyard", "/api/red-property/map"),
        ("building", f"/api/places?kind=building&limit={LIMIT}"),
    ):
        mine = api_get(page, base_url_, path)
        everyone = as_office(path)
        assert set(_ids(mine)) < set(_ids(everyone)), kind
        if kind == "courtyard":
            shown = page.evaluate("window.oneGrid.courtyards.ids()")
        else:
            with page.expect_response("**/api/places?kind=building*"):
                _switch_on(page, KIND_NAMES[kind])
            expect(_overlay(page, KIND_NAMES[kind])).to_contain_text(f"({len(mine['features'])})")
            shown = page.evaluate("window.oneGrid.places.ids('building')")
        assert sorted(shown) == _ids(mine), kind
    for f in api_get(page, base_url_, f"/api/places?kind=building&limit={LIMIT}")["features"]:
        codes = {g["code"] for g in f["properties"]["grids"].values() if g}
        assert any(c == grid or c.startswith(grid) for c in codes), f["properties"]["code"]

    # The registry counts what the worker sees, as the API does.
    _open_registry(page)
    quarter = page.locator("#registry").get_attribute("data-quarter")
    stats = api_get(page, base_url_, f"/api/registry/stats?quarter={quarter}")
    assert _assert_figures(page, "stats", stats) > 10
    assert problems == []


def test_clicking_a_courtyard_shows_its_status_grids_and_claim_history(
    map_page: Page, base_url_: str, problems: list[str]
):
    courtyards = api_get(map_page, base_url_, "/api/red-property/map")["features"]
    # One with a claim when the demo has claims, else any.
    chosen = next((c for c in courtyards if c["properties"]["claim_id"]), courtyards[0])
    props = chosen["properties"]
    place = api_get(map_page, base_url_, f"/api/places/{props['id']}")["properties"]
    claims = api_get(map_page, base_url_, f"/api/red-property/courtyards/{props['id']}/claims")

    _switch_off(map_page, "事件")  # case markers would take the click
    map_page.evaluate(
        "([lat, lon]) => window.oneGrid.map.setView([lat, lon], 18, {animate: false})",
        [place["lat"], place["lon"]],
    )
    settle(map_page)
    box = map_page.locator("#map").bounding_box()
    point = map_page.evaluate(
        "([lat, lon]) => { const p = window.oneGrid.map.latLngToContainerPoint([lat, lon]);"
        " return [p.x, p.y]; }",
        [place["lat"], place["lon"]],
    )
    map_page.mouse.click(box["x"] + point[0], box["y"] + point[1])

    panel = map_page.locator(f"#details[data-kind=place][data-place-id='{props['id']}']")
    expect(panel).to_be_visible()
    expect(panel.locator(".og-courtyard-status")).to_have_text(props["map_label"])
    expect(panel.locator(".og-courtyard-status")).to_have_attribute(
        "data-status", props["map_status"]
    )
    expect(panel.locator(".og-panel-title")).to_have_text(place["name"] or place["code"])
    expect(panel.locator(".og-assignment [data-level=third] dd")).to_contain_text(
        place["grids"]["third"]["code"]
    )
    if claims:
        expect(panel.locator(".og-claims li")).to_have_count(len(claims))
        for claim, item in zip(claims, panel.locator(".og-claims li").all(), strict=True):
            expect(item).to_contain_text(claim["company_name"])
            expect(item).to_contain_text(claim["claimed_on"])
    else:
        expect(panel.locator(".og-claims-empty")).to_be_visible()
    assert problems == []


def test_an_enterprise_shows_its_key_flags_and_recent_visits(
    map_page: Page, base_url_: str, problems: list[str]
):
    enterprises = api_get(map_page, base_url_, f"/api/places?kind=enterprise&limit={LIMIT}")
    visited = {
        v["enterprise_id"]
        for v in api_get(map_page, base_url_, "/api/enterprise-service/visits?limit=500")
    }
    # A key enterprise, visited if the demo has visits.
    chosen = sorted(
        enterprises["features"],
        key=lambda f: (
            f["properties"]["id"] not in visited,
            not f["properties"]["key_tax_source"],
        ),
    )[0]["properties"]
    visits = api_get(
        map_page, base_url_, f"/api/enterprise-service/visits?enterprise={chosen['id']}&limit=5"
    )
    _switch_off(map_page, "事件")
    _switch_on(map_page, KIND_NAMES["enterprise"])
    expect(_overlay(map_page, KIND_NAMES["enterprise"])).to_contain_text(
        f"({len(enterprises['features'])})"
    )
    map_page.evaluate(
        "([lat, lon]) => window.oneGrid.map.setView([lat, lon], 19, {animate: false})",
        [chosen["lat"], chosen["lon"]],
    )
    settle(map_page)
    marker = map_page.get_by_title(chosen["name"], exact=False)
    if marker.count() == 0:  # neighbours share its cluster even at the last zoom: spread it
        _nearest_to_centre(map_page, ".og-place-cluster-enterprise").click()
        settle(map_page)
    marker.first.click()

    panel = map_page.locator(f"#details[data-kind=place][data-place-id='{chosen['id']}']")
    expect(panel).to_be_visible()
    expect(panel.locator(".og-row").filter(has_text="重点税源").locator("dd")).to_have_text(
        "是" if chosen["key_tax_source"] else "否"
    )
    expect(panel.locator(".og-row").filter(has_text="规上企业").locator("dd")).to_have_text(
        "是" if chosen["above_scale"] else "否"
    )
    if visits:
        expect(panel.locator(".og-visits li")).to_have_count(len(visits))
        expect(panel.locator(".og-visits li").first).to_contain_text(visits[0]["officer"])
    else:
        expect(panel.locator(".og-visits-empty")).to_be_visible()
    assert problems == []


def test_the_registry_panel_shows_the_apis_figures_for_the_chosen_quarter(
    map_page: Page, base_url_: str, problems: list[str]
):
    quarter = _expected_quarter(map_page, base_url_)
    _open_registry(map_page)
    registry = map_page.locator("#registry")
    expect(registry).to_have_attribute("data-quarter", quarter)
    expect(registry.locator("select[name=quarter]")).to_have_value(quarter)

    stats = api_get(map_page, base_url_, f"/api/registry/stats?quarter={quarter}")
    coverage = api_get(map_page, base_url_, "/api/red-property/coverage")
    claimable = api_get(map_page, base_url_, "/api/red-property/claimable")
    visits = api_get(map_page, base_url_, f"/api/enterprise-service/coverage?quarter={quarter}")
    assert _assert_figures(map_page, "stats", stats) > 20
    assert _assert_figures(map_page, "coverage", coverage) == 5
    assert _assert_figures(map_page, "visits", visits) == 7
    expect(registry.locator("[data-list='coverage.companies'] tbody tr")).to_have_count(
        len(coverage["companies"])
    )
    expect(registry.locator("[data-list='coverage.claimed_courtyards'] li")).to_have_count(
        len(coverage["claimed_courtyards"])
    )
    expect(registry.locator("[data-list=claimable] li")).to_have_count(len(claimable["features"]))
    expect(registry.locator("[data-list='visits.unvisited'] li")).to_have_count(
        len(visits["unvisited"])
    )
    unvisited = {str(e["id"]) for e in visits["unvisited"]}
    shown = registry.locator("[data-list='visits.unvisited'] li")
    assert {shown.nth(i).get_attribute("data-enterprise-id") for i in range(shown.count())} == (
        unvisited
    )

    # Another quarter: the statistics' visits and the coverage follow it.
    other = registry.locator("select[name=quarter] option").nth(1).get_attribute("value")
    assert other != quarter
    registry.locator("select[name=quarter]").select_option(other)
    expect(registry).to_have_attribute("data-quarter", other)
    expect(registry).to_have_attribute("data-state", "ready", timeout=20_000)
    stats = api_get(map_page, base_url_, f"/api/registry/stats?quarter={other}")
    visits = api_get(map_page, base_url_, f"/api/enterprise-service/coverage?quarter={other}")
    assert _assert_figures(map_page, "stats", stats) > 20
    assert _assert_figures(map_page, "visits", visits) == 7
    assert problems == []


def test_sections_a_role_may_not_read_are_left_out_without_an_error(
    page: Page, base_url_: str, office: dict, problems: list[str]
):
    """As for a role the red-property and enterprise-service routes refuse (403): courtyards
    come from the places registry, the panel shows the statistics only, and nothing says
    'error'."""

    def refuse(route: Route) -> None:
        route.fulfill(
            status=403,
            json={"error": "Forbidden", "message": "your role may not read this", "field": None},
        )

    keep_off_the_network(page, base_url_)
    page.route("**/api/red-property/**", refuse)
    page.route("**/api/enterprise-service/**", refuse)
    open_map(page, base_url_, office)

    courtyards = api_get(page, base_url_, f"/api/places?kind=courtyard&limit={LIMIT}")
    expect(_overlay(page, KIND_NAMES["courtyard"])).to_contain_text(
        f"({len(courtyards['features'])})"
    )
    assert page.locator("path.og-place-courtyard").count() == len(courtyards["features"])
    _open_registry(page)
    expect(page.locator("#registry [data-section=stats]")).to_be_visible()
    expect(page.locator("#registry [data-section=red-property]")).to_have_count(0)
    expect(page.locator("#registry [data-section=visits]")).to_have_count(0)
    expect(page.locator(".og-status-errors li[role=alert]")).to_have_count(0)
    expect(page.locator("#registry .og-flag")).to_have_count(0)
    # only the browser's own notes about the refused requests
    assert [p for p in problems if "403" not in p] == []


def test_the_registry_fills_a_phone_screen_with_large_targets(
    browser: Browser, base_url_: str, office: dict
):
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    try:
        page = phone.new_page()
        keep_off_the_network(page, base_url_)
        open_map(page, base_url_, office, tap=True)
        page.get_by_role("button", name="台账").tap()
        registry = page.locator("#registry")
        expect(registry).to_have_attribute("data-state", "ready", timeout=20_000)
        box = registry.bounding_box()
        assert box["width"] >= 388 and box["height"] >= 700, box
        assert registry.locator("select[name=quarter]").bounding_box()["height"] >= 44
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        places = registry.locator(".og-place-ref")
        if places.count():
            target = places.first
            assert target.bounding_box()["height"] >= 44
            place_id = target.get_attribute("data-place-id")
            target.tap()
            expect(registry).to_be_hidden()  # one sheet at a time
            expect(
                page.locator(f"#details[data-kind=place][data-place-id='{place_id}']")
            ).to_be_visible()
    finally:
        phone.close()
