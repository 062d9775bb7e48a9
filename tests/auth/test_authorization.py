"""Who may see and do what, route by route: every route of the OpenAPI schema has a rule
here (a new route fails the first test until it gets one), and each rule is checked for
every role, on objects inside and outside that role's scope.

The expected answers are written out by hand below (SEES, the role sets), independently of
onegrid.auth.scope, so a mistake there shows up here.

A street of two communities (C1 west, C2 east), one grid each (C1-01, C2-01), and four cases:
  west       in C1-01, dispatched to department D01, with a photo
  east       in C2-01, dispatched to department D02, with a photo
  courtyard  in C2-01, in a courtyard whose red-property company P01 got it dispatched
  own        in C1-01, reported by the resident account through /api/reports
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import sessionmaker
from tests.cases.test_attachments_api import JPEG
from tests.cases.test_workflow_api import (
    DISPATCHER,
    IN_COURTYARD,
    IN_WEST,
    act,
    build_street,
    community_of,
    report,
)
from tests.helpers import FakeClock, Persona, bearer

from onegrid.settings import Settings

MONDAY_9 = "2026-11-30T09:00:00+08:00"
ROLES = (
    "street_admin",
    "street_dispatcher",
    "auditor",
    "gis_editor",
    "community_staff",
    "grid_leader",
    "grid_worker",
    "department_handler",
    "property_staff",
    "resident",
)
AS = {
    "street_admin": Persona("z-admin", "street_admin"),
    "street_dispatcher": Persona("z-dispatcher", "street_dispatcher"),
    "auditor": Persona("z-auditor", "auditor"),
    "gis_editor": Persona("z-gis", "gis_editor"),
    "community_staff": Persona("z-community", "community_staff", grid="C1"),
    "grid_leader": Persona("z-leader", "grid_leader", grid="C1-01"),
    "grid_worker": Persona("z-worker", "grid_worker", grid="C1-01"),
    "department_handler": Persona("z-d01", "department_handler", unit="D01"),
    "property_staff": Persona("z-p01", "property_staff", unit="P01"),
    "resident": Persona("z-resident", "resident"),
}
ALL_CASES = {"west", "east", "courtyard", "own"}
SEES = {
    "street_admin": ALL_CASES,
    "street_dispatcher": ALL_CASES,
    "auditor": ALL_CASES,
    "gis_editor": set(),
    "community_staff": {"west", "own"},
    "grid_leader": {"west", "own"},
    "grid_worker": {"west", "own"},
    "department_handler": {"west"},
    "property_staff": {"courtyard"},
    "resident": {"own"},
}
GRIDS_OF_CASE = {
    "west": {"S", "C1", "C1-01"},
    "own": {"S", "C1", "C1-01"},
    "east": {"S", "C2", "C2-01"},
    "courtyard": {"S", "C2", "C2-01"},
}
ALL_GRIDS = {"S", "C1", "C2", "C1-01", "C2-01", "D1"}
SEES_GRIDS = {role: ALL_GRIDS for role in ROLES if role != "resident"} | {
    "community_staff": {"C1", "C1-01"},
    "grid_leader": {"C1-01"},
    "grid_worker": {"C1-01"},
}
TERRITORY = {"community_staff", "grid_leader", "grid_worker"}
STAFF = set(ROLES) - {"resident"}
REPORTERS = STAFF - {"auditor", "gis_editor"}
ACCOUNT_READERS = {"street_admin", "auditor", "community_staff", "grid_leader"}
ADMINS = {"street_admin"}
AUDIT_READERS = {"street_admin", "auditor"}


@dataclass
class World:
    client: TestClient
    cases: dict[str, int]  # name -> id
    photos: dict[str, int]  # case name -> attachment id
    external: dict[str, str]  # name -> external id
    follow_token: str
    places: dict[str, int] = field(default_factory=dict)  # issue 5: name -> place id
    registry: dict[str, int] = field(default_factory=dict)  # red property, enterprises
    staff: dict[str, int] = field(default_factory=dict)  # duties: grid code -> grid staff id

    def as_(self, role: str) -> dict[str, str]:
        return bearer(self.client, AS[role])

    def visible(self, role: str) -> set[int]:
        return {self.cases[name] for name in SEES[role]}

    def name_of(self, case_id: int) -> str:
        return next(name for name, i in self.cases.items() if i == case_id)


@pytest.fixture(scope="module")
def world(engine, tmp_path_factory, database_url) -> Iterator[World]:
    """Built once for the module in a transaction rolled back at its end; each test runs in
    a savepoint of its own (see `each`), so what one test changes the next does not see."""
    from onegrid.main import create_app

    tmp = tmp_path_factory.mktemp("authz")
    with engine.connect() as connection:
        outer = connection.begin()
        factory = sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        settings = Settings(database_url=database_url, tile_url=None, upload_dir=tmp / "up")
        clock = FakeClock()
        clock.set(MONDAY_9)
        app = create_app(settings, clock=clock)
        app.state.session_factory = factory
        with factory() as session:
            build_street(session, tmp)
            registry = _build_registry(session)
            session.commit()
        with TestClient(app) as client:
            world = _populate(client)
            world.places = _populate_places(client)  # issue 5: the places registry
            world.registry = registry
            _populate_duties(client, world)
            yield world
        app.state.engine.dispose()
        outer.rollback()


def _populate(client: TestClient) -> World:
    office = bearer(client, AS["street_admin"])
    for persona in AS.values():  # every account exists before the first list of them
        bearer(client, persona)

    def dispatched_to(case: dict[str, Any], unit: str | None) -> dict[str, Any]:
        case = act(client, case, "screen", community_of(case))
        case = act(client, case, "file", DISPATCHER)
        extra = {"unit_code": unit} if unit else {}
        return act(client, case, "dispatch", DISPATCHER, **extra)

    west = dispatched_to(report(client), "D01")
    east = dispatched_to(report(client, at=(113.616, 34.765)), "D02")
    courtyard = dispatched_to(report(client, at=IN_COURTYARD), None)
    assert courtyard["unit_code"] == "P01", courtyard
    own = client.post(
        "/api/reports",
        json={"lon": IN_WEST[0] + 0.0005, "lat": IN_WEST[1], "description": "路灯不亮"},
        headers=bearer(client, AS["resident"]),
    )
    assert own.status_code == 201, own.text
    with client.app.state.session_factory() as session:
        own_id, own_external = session.execute(
            sa.text("SELECT id, external_id FROM cases WHERE source LIKE 'resident%'")
        ).one()
    photos = {}
    for name, case in (("west", west), ("east", east)):
        r = client.post(
            f"/api/cases/{case['id']}/attachments",
            files={"file": ("p.jpg", JPEG, "image/jpeg")},
            headers=office,
        )
        assert r.status_code == 201, r.text
        photos[name] = r.json()["id"]
    return World(
        client=client,
        cases={"west": west["id"], "east": east["id"], "courtyard": courtyard["id"], "own": own_id},
        photos=photos,
        external={
            "west": west["external_id"],
            "east": east["external_id"],
            "courtyard": courtyard["external_id"],
            "own": own_external,
        },
        follow_token=own.json()["follow_token"],
    )


@pytest.fixture
def each(world: World) -> Iterator[World]:
    connection = world.client.app.state.session_factory.kw["bind"]
    savepoint = connection.begin_nested()
    world.client.app.state.clock.set(MONDAY_9)
    yield world
    savepoint.rollback()


# --- the rules: one per route ---------------------------------------------------------------


def staff_view(role: str, name: str, ok: int = 200) -> int:
    """The answer to a staff view of case `name`: `ok` inside the scope, 404 outside; residents
    read their reports in the public view only (staff names and notes are not for them)."""
    if role == "resident":
        return 403
    return ok if name in SEES[role] else 404


def case_objects(path: str) -> Callable[[World, str], None]:
    """A GET of one case (or of its parts): 200 inside the scope, 404 outside."""

    def check(w: World, role: str) -> None:
        for name, case_id in w.cases.items():
            r = w.client.get(path.format(case_id=case_id), headers=w.as_(role))
            assert r.status_code == staff_view(role, name), (role, name, r.status_code, r.text)

    return check


def case_list(w: World, role: str) -> None:
    r = w.client.get("/api/cases", headers=w.as_(role))
    if role == "resident":
        assert r.status_code == 403, r.text
        return
    assert r.status_code == 200, (role, r.text)
    assert {f["id"] for f in r.json()["features"]} == w.visible(role), role
    # Filters narrow the scope, never widen it.
    everywhere = "113.5,34.7,113.7,34.8"
    r = w.client.get(
        "/api/cases", params={"bbox": everywhere, "status": "dispatched"}, headers=w.as_(role)
    )
    assert {f["id"] for f in r.json()["features"]} == w.visible(role) - {w.cases["own"]}
    r = w.client.get("/api/cases", params={"grid": "C2"}, headers=w.as_(role))
    if role in TERRITORY:
        assert r.status_code == 404, (role, r.text)  # C2 is not theirs: not even a filter
    else:
        east = {w.cases["east"], w.cases["courtyard"]}
        assert {f["id"] for f in r.json()["features"]} == w.visible(role) & east, role


def report_case(w: World, role: str) -> None:
    body = {"lon": IN_WEST[0], "lat": IN_WEST[1], "description": "井盖缺失"}
    r = w.client.post("/api/cases", json=body, headers=w.as_(role))
    if role not in REPORTERS:
        assert r.status_code == 403, (role, r.text)
        return
    assert r.status_code == 201, (role, r.text)
    # Their own report is theirs to read back; its duplicate suggestions name only cases
    # they see.
    assert w.client.get(f"/api/cases/{r.json()['id']}", headers=w.as_(role)).status_code == 200
    suggested = {d["id"] for d in r.json()["possible_duplicates"]}
    assert suggested <= w.visible(role), role
    # Reported outside their grid or unit, it is theirs to read, not to move.
    body = {"lon": 113.6165, "lat": 34.7655, "description": "东区的井盖"}
    elsewhere = w.client.post("/api/cases", json=body, headers=w.as_(role)).json()
    assert w.client.get(f"/api/cases/{elsewhere['id']}", headers=w.as_(role)).status_code == 200
    r = w.client.post(
        f"/api/cases/{elsewhere['id']}/actions/escalate",
        json={"version": 10**6, "note": "x"},
        headers=w.as_(role),
    )
    assert r.status_code == (409 if SEES[role] == ALL_CASES else 404), (role, r.text)


def export(w: World, role: str) -> None:
    for fmt in ("csv", "geojson"):
        r = w.client.get("/api/cases/export", params={"format": fmt}, headers=w.as_(role))
        if role not in STAFF:
            assert r.status_code == 403, (role, r.text)
            continue
        assert r.status_code == 200, (role, r.text)
        if fmt == "csv":
            rows = csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")))
            exported = {row["external_id"] for row in rows}
        else:
            exported = {f["properties"]["external_id"] for f in r.json()["features"]}
        assert exported == {w.external[name] for name in SEES[role]}, (role, fmt)
    if role in STAFF:
        logged = w.client.get(
            "/api/audit", params={"action": "cases_exported"}, headers=w.as_("street_admin")
        ).json()
        assert any(e["actor"] == AS[role].name for e in logged), role


def act_on_case(w: World, role: str) -> None:
    """A move with a stale version: 409 for a case the role sees (its version is checked),
    404 for one it does not (nothing about it is checked or told)."""
    for name, case_id in w.cases.items():
        r = w.client.post(
            f"/api/cases/{case_id}/actions/escalate",
            json={"version": 10**6, "note": "x"},
            headers=w.as_(role),
        )
        assert r.status_code == staff_view(role, name, ok=409), (role, name, r.text)


def upload(w: World, role: str) -> None:
    for name, case_id in w.cases.items():
        r = w.client.post(
            f"/api/cases/{case_id}/attachments",
            files={"file": ("p.jpg", JPEG, "image/jpeg")},
            headers=w.as_(role),
        )
        if role not in REPORTERS:
            expected = 403
        else:
            expected = 201 if name in SEES[role] else 404
        assert r.status_code == expected, (role, name, r.text)


def download(w: World, role: str) -> None:
    for name, photo in w.photos.items():
        r = w.client.get(f"/api/attachments/{photo}", headers=w.as_(role))
        assert r.status_code == staff_view(role, name), (role, name, r.text)


def duplicates(w: World, role: str) -> None:
    case_objects("/api/cases/{case_id}/duplicates")(w, role)
    for name in SEES[role] if role != "resident" else ():
        r = w.client.get(f"/api/cases/{w.cases[name]}/duplicates", headers=w.as_(role))
        assert {d["id"] for d in r.json()} <= w.visible(role), role


def deadlines(w: World, role: str) -> None:
    w.client.app.state.clock.set("2026-12-31T09:00:00+08:00")  # every open case is red
    r = w.client.get("/api/deadlines", headers=w.as_(role))
    if role not in STAFF:
        assert r.status_code == 403, (role, r.text)
        return
    assert r.status_code == 200, (role, r.text)
    assert {c["id"] for c in r.json()} == w.visible(role), role
    r = w.client.get("/api/deadlines", params={"grid": "C2"}, headers=w.as_(role))
    assert r.status_code == (404 if role in TERRITORY else 200), (role, r.text)


def indicators(w: World, role: str) -> None:
    params = {"from": "2026-11-01", "to": "2026-12-01", "by": "community"}
    r = w.client.get("/api/indicators", params=params, headers=w.as_(role))
    if role not in STAFF:
        assert r.status_code == 403, (role, r.text)
        return
    assert r.status_code == 200, (role, r.text)
    assert r.json()["total"]["reports"] == len(SEES[role]), role
    groups = {g["code"] for g in r.json()["groups"]}
    assert groups == {c for name in SEES[role] for c in GRIDS_OF_CASE[name]} & {"C1", "C2"}


def grid_layer(w: World, role: str) -> None:
    r = w.client.get("/api/grids", headers=w.as_(role))
    if role == "resident":
        assert r.status_code == 403, r.text
        return
    assert r.status_code == 200, (role, r.text)
    features = {f["id"]: f["properties"] for f in r.json()["features"]}
    assert set(features) == SEES_GRIDS[role], role
    for code, props in features.items():
        mine = [name for name in SEES[role] if code in GRIDS_OF_CASE[name]]
        assert props["case_count"] == len(mine), (role, code)


def grid_object(w: World, role: str) -> None:
    for code in ALL_GRIDS:
        r = w.client.get(f"/api/grids/{code}", headers=w.as_(role))
        if role == "resident":
            expected = 403
        else:
            expected = 200 if code in SEES_GRIDS[role] else 404
        assert r.status_code == expected, (role, code, r.text)


def any_signed_in(method: str, path: str, **kw: Any) -> Callable[[World, str], None]:
    def check(w: World, role: str) -> None:
        r = w.client.request(method, path, headers=w.as_(role), **kw)
        assert r.status_code == 200, (role, r.text)

    return check


def only(roles: set[str], method: str, path: str, ok: int = 200, **kw: Any):
    """A route for some roles only: the others get 403, whatever they send."""

    def check(w: World, role: str) -> None:
        r = w.client.request(method, path, headers=w.as_(role), **kw)
        assert r.status_code == (ok if role in roles else 403), (role, r.status_code, r.text)

    return check


def user_list(w: World, role: str) -> None:
    r = w.client.get("/api/users", headers=w.as_(role))
    if role not in ACCOUNT_READERS:
        assert r.status_code == 403, (role, r.text)
        return
    names = {u["username"] for u in r.json()}
    if role in TERRITORY:
        # Only the people of their own subtree.
        everyone = w.client.get("/api/users", headers=w.as_("street_admin")).json()
        expected = {u["username"] for u in everyone if u["grid_code"] in SEES_GRIDS[role]}
        assert names == expected and AS[role].name in names, role
    else:
        assert {p.name for p in AS.values()} <= names, role
    assert all("password_hash" not in u for u in r.json())


def own_password(w: World, role: str) -> None:
    # Test accounts have no password: the current one can never be right.
    r = w.client.post(
        "/api/auth/password",
        json={"current_password": "x" * 12, "new_password": "a new long passphrase"},
        headers=w.as_(role),
    )
    assert r.status_code in (401, 422), (role, r.text)


def own_reports(w: World, role: str) -> None:
    """A signed-in resident lists their reports in the public view; this is not staff's."""
    r = w.client.get("/api/reports", headers=w.as_(role))
    if role != "resident":
        assert r.status_code == 403, (role, r.text)
        return
    assert [c["reference"] for c in r.json()] == [w.external["own"]]
    assert "actor" not in r.text and "unit_code" not in r.text


def follow_routes(method: str, path: str) -> Callable[[World, str], None]:
    """Routes reached with a follow token, not an account: a made-up token is 404 for
    everyone, whatever their role."""

    def check(w: World, role: str) -> None:
        r = w.client.request(
            method, path.format(token="not-a-real-token-0123456789abcdef"), headers=w.as_(role)
        )
        assert r.status_code in (404, 422), (role, r.text)

    return check


def public(method: str, path: str) -> Callable[[World, str], None]:
    def check(w: World, role: str) -> None:
        assert w.client.request(method, path, headers=w.as_(role)).status_code == 200

    return check


def token_body_route(path: str) -> Callable[[World, str], None]:
    """Sign-in and token routes: the credentials are in the body, not the bearer token."""

    def check(w: World, role: str) -> None:
        r = w.client.post(path, json={"refresh_token": "made-up"}, headers=w.as_(role))
        assert r.status_code in (204, 401, 422), (role, r.text)

    return check


RULES: dict[tuple[str, str], Callable[[World, str], None]] = {
    ("GET", "/api/cases"): case_list,
    ("POST", "/api/cases"): report_case,
    ("GET", "/api/cases/export"): export,
    ("GET", "/api/cases/{case_id}"): case_objects("/api/cases/{case_id}"),
    ("POST", "/api/cases/{case_id}/actions/{action}"): act_on_case,
    ("GET", "/api/cases/{case_id}/events"): case_objects("/api/cases/{case_id}/events"),
    ("POST", "/api/cases/{case_id}/attachments"): upload,
    ("GET", "/api/cases/{case_id}/attachments"): case_objects("/api/cases/{case_id}/attachments"),
    ("GET", "/api/attachments/{attachment_id}"): download,
    ("GET", "/api/cases/{case_id}/duplicates"): duplicates,
    ("GET", "/api/deadlines"): deadlines,
    ("GET", "/api/indicators"): indicators,
    ("GET", "/api/grids"): grid_layer,
    ("GET", "/api/grids/{code}"): grid_object,
    ("GET", "/api/lookup"): any_signed_in(
        "GET", "/api/lookup", params={"lon": IN_WEST[0], "lat": IN_WEST[1]}
    ),
    ("GET", "/api/auth/me"): any_signed_in("GET", "/api/auth/me"),
    ("POST", "/api/auth/password"): own_password,
    ("GET", "/api/users"): user_list,
    ("POST", "/api/users"): only(
        ADMINS,
        "POST",
        "/api/users",
        ok=201,
        json={"username": "new-worker", "password": "a long enough secret", "role": "auditor"},
    ),
    ("PATCH", "/api/users/{username}"): only(
        ADMINS, "PATCH", "/api/users/z-worker", json={"display_name": "王芳"}
    ),
    ("POST", "/api/users/{username}/password"): only(
        ADMINS,
        "POST",
        "/api/users/z-worker/password",
        ok=204,
        json={"password": "another long secret"},
    ),
    ("GET", "/api/audit"): only(AUDIT_READERS, "GET", "/api/audit"),
    # Reached without an account: by credentials or by a follow token.
    ("POST", "/api/auth/token"): token_body_route("/api/auth/token"),
    ("POST", "/api/auth/refresh"): token_body_route("/api/auth/refresh"),
    ("POST", "/api/auth/revoke"): token_body_route("/api/auth/revoke"),
    ("POST", "/api/reports"): lambda w, role: None,  # see tests/reports
    ("GET", "/api/reports"): own_reports,
    ("GET", "/api/reports/{token}"): follow_routes("GET", "/api/reports/{token}"),
    ("POST", "/api/reports/{token}/attachments"): follow_routes(
        "POST", "/api/reports/{token}/attachments"
    ),
    ("POST", "/api/reports/{token}/evaluation"): follow_routes(
        "POST", "/api/reports/{token}/evaluation"
    ),
    ("POST", "/api/reports/{token}/resubmit"): follow_routes(
        "POST", "/api/reports/{token}/resubmit"
    ),
    # Reference data with nothing personal in it.
    ("GET", "/api/workflow"): public("GET", "/api/workflow"),
    ("GET", "/api/units"): public("GET", "/api/units"),
    ("GET", "/api/categories"): public("GET", "/api/categories"),
    ("GET", "/api/config"): public("GET", "/api/config"),
    ("GET", "/api/health"): public("GET", "/api/health"),
}
# --- issue 5: the places registry --------------------------------------------------------------
# A building in C1-01, a merchant in C2-01 kept in touch with by department D01, and the
# courtyard Y1 (C2-01) whose red-property company is P01.
ALL_PLACES = {"west_building", "east_merchant", "courtyard"}
SEES_PLACES = {
    "street_admin": ALL_PLACES,
    "street_dispatcher": ALL_PLACES,
    "auditor": ALL_PLACES,
    "gis_editor": ALL_PLACES,
    "community_staff": {"west_building"},
    "grid_leader": {"west_building"},
    "grid_worker": {"west_building"},
    "department_handler": {"east_merchant"},
    "property_staff": {"courtyard"},
    "resident": set(),
}
PLACE_EDITORS = {"street_admin", "gis_editor"} | TERRITORY
WEST_SQUARE = [[113.604, 34.766], [113.605, 34.766], [113.605, 34.767], [113.604, 34.767]]


def _populate_places(client: TestClient) -> dict[str, int]:
    from onegrid.places import repository as places_repo

    office = bearer(client, AS["street_admin"])
    building = {
        "kind": "building",
        "code": "AZ-B1",
        "name": "西区1号楼",
        "geometry": {"type": "Polygon", "coordinates": [[*WEST_SQUARE, WEST_SQUARE[0]]]},
    }
    merchant = {
        "kind": "merchant",
        "code": "AZ-M1",
        "name": "东区烩面馆",
        "contact_unit_code": "D01",
        "geometry": {"type": "Point", "coordinates": [113.616, 34.765]},
    }
    ids = {}
    for name, body in (("west_building", building), ("east_merchant", merchant)):
        r = client.post("/api/places", json=body, headers=office)
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    with client.app.state.session_factory() as session, session.begin():
        ids["courtyard"] = session.scalar(sa.text("SELECT id FROM places WHERE code = 'Y1'"))
        session.execute(places_repo.ASSIGN_ONE, {"id": ids["courtyard"]})
    return ids


def place_list(w: World, role: str) -> None:
    r = w.client.get("/api/places", headers=w.as_(role))
    if role == "resident":
        assert r.status_code == 403, r.text
        return
    assert r.status_code == 200, (role, r.text)
    # Among the places of this block (the red-property block below adds courtyards and
    # enterprises of its own, checked by its rules).
    listed = {f["id"] for f in r.json()["features"]} & set(w.places.values())
    assert listed == {w.places[n] for n in SEES_PLACES[role]}
    r = w.client.get("/api/places", params={"grid": "C2", "q": "区"}, headers=w.as_(role))
    if role in TERRITORY:
        assert r.status_code == 404, (role, r.text)  # C2 is not theirs: not even a filter
    else:
        east = {w.places["east_merchant"], w.places["courtyard"]}
        seen = {w.places[n] for n in SEES_PLACES[role]}
        assert {f["id"] for f in r.json()["features"]} == seen & east, role


def place_object(w: World, role: str) -> None:
    for name, place_id in w.places.items():
        r = w.client.get(f"/api/places/{place_id}", headers=w.as_(role))
        expected = 403 if role == "resident" else 200 if name in SEES_PLACES[role] else 404
        assert r.status_code == expected, (role, name, r.text)


def place_export(w: World, role: str) -> None:
    for fmt in ("csv", "geojson"):
        r = w.client.get("/api/places/export", params={"format": fmt}, headers=w.as_(role))
        if role == "resident":
            assert r.status_code == 403, (role, r.text)
            continue
        assert r.status_code == 200, (role, r.text)
        if fmt == "csv":
            rows = csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")))
            exported = {int(row["id"]) for row in rows}
        else:
            exported = {f["id"] for f in r.json()["features"]}
        exported &= set(w.places.values())  # as in place_list
        assert exported == {w.places[n] for n in SEES_PLACES[role]}, (role, fmt)
    if role != "resident":
        logged = w.client.get(
            "/api/audit", params={"action": "places_exported"}, headers=w.as_("street_admin")
        ).json()
        assert any(e["actor"] == AS[role].name for e in logged), role


def place_create(w: World, role: str) -> None:
    for where, at in (("west", [113.607, 34.771]), ("east", [113.617, 34.771])):
        body = {
            "kind": "merchant",
            "name": "新店",
            "geometry": {"type": "Point", "coordinates": at},
        }
        r = w.client.post("/api/places", json=body, headers=w.as_(role))
        if role not in PLACE_EDITORS:
            expected = 403
        elif role in TERRITORY:
            expected = 201 if where == "west" else 403  # only inside their own grid
        else:
            expected = 201
        assert r.status_code == expected, (role, where, r.text)


def place_edit(w: World, role: str) -> None:
    for name, place_id in w.places.items():
        r = w.client.patch(f"/api/places/{place_id}", json={"name": "改名"}, headers=w.as_(role))
        if role not in PLACE_EDITORS:
            expected = 403
        else:
            expected = 200 if name in SEES_PLACES[role] else 404
        assert r.status_code == expected, (role, name, r.text)


RULES |= {
    ("GET", "/api/places"): place_list,
    ("GET", "/api/places/{place_id}"): place_object,
    ("GET", "/api/places/export"): place_export,
    ("POST", "/api/places"): place_create,
    ("PATCH", "/api/places/{place_id}"): place_edit,
}
# --- end of issue 5: the places registry -------------------------------------------------------


# --- places registry: red property (红色物业) and enterprise service (万人助万企) ---------------
# Courtyards: west_yard (C1, unmanaged, pending claim by P02), east_yard (C2, unmanaged,
# pending claim by P01), west_free and east_free (unmanaged, unclaimed), and the street's
# courtyard Y1 (C2, red property of P01, its approved claim y1_claim). Enterprises west_firm
# (C1-01) and east_firm (C2-01), each visited once with one problem.


def _yard(x: float, y: float) -> str:
    """A courtyard 0.002° square with its south-west corner at (x, y)."""
    east, north = x + 0.002, y + 0.002
    return f"MULTIPOLYGON((({x} {y}, {east} {y}, {east} {north}, {x} {north}, {x} {y})))"


def _build_registry(session) -> dict[str, int]:
    from onegrid.places import repository as places_repo
    from onegrid.units import repository as units_repo

    units_repo.upsert_units(
        session,
        [
            {
                "code": "P02",
                "name": "先锋物业",
                "kind": "property_company",
                "grid_code": None,
                "phone": None,
            }
        ],
    )
    ids: dict[str, int] = {}

    def place(name: str, sql: str, **params: Any) -> None:
        ids[name] = session.execute(sa.text(sql), params).scalar_one()

    courtyard = (
        "INSERT INTO places (kind, code, name, management_status, geom) VALUES ('courtyard',"
        " :code, :code, 'unmanaged', ST_GeomFromText(:wkt, 4326)) RETURNING id"
    )
    place("west_yard", courtyard, code="west_yard", wkt=_yard(113.604, 34.774))
    place("west_free", courtyard, code="west_free", wkt=_yard(113.607, 34.774))
    place("east_yard", courtyard, code="east_yard", wkt=_yard(113.617, 34.761))
    place("east_free", courtyard, code="east_free", wkt=_yard(113.615, 34.775))
    place("y1", "SELECT id FROM places WHERE kind = 'courtyard' AND code = 'Y1'")
    claim = (
        "INSERT INTO courtyard_claims (courtyard_id, company_code, status, claimed_on,"
        " requested_by, requested_at, decided_by, decided_at) VALUES (:yard, :company,"
        " :status, '2026-11-02', 'z-admin', :at, :decided_by, :decided_at) RETURNING id"
    )
    at = "2026-11-02T09:00:00+08:00"
    pending = {"status": "pending", "at": at, "decided_by": None, "decided_at": None}
    place("west_claim", claim, yard=ids["west_yard"], company="P02", **pending)
    place("east_claim", claim, yard=ids["east_yard"], company="P01", **pending)
    place(
        "y1_claim",
        claim,
        yard=ids["y1"],
        company="P01",
        status="approved",
        at=at,
        decided_by="z-admin",
        decided_at=at,
    )
    firm = (
        "INSERT INTO places (kind, code, name, service_officer, geom) VALUES ('enterprise',"
        " :code, :code, '李明', ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) RETURNING id"
    )
    place("west_firm", firm, code="west_firm", lon=113.605, lat=34.768)
    place("east_firm", firm, code="east_firm", lon=113.616, lat=34.769)
    for side in ("west", "east"):
        place(
            f"{side}_visit",
            "INSERT INTO enterprise_visits (enterprise_id, visited_on, officer, discussed,"
            " recorded_by, recorded_at) VALUES (:firm, '2026-11-20', '李明', '生产经营',"
            " 'z-admin', :at) RETURNING id",
            firm=ids[f"{side}_firm"],
            at=at,
        )
        place(
            f"{side}_problem",
            "INSERT INTO visit_problems (visit_id, description) VALUES (:visit, '用工难')"
            " RETURNING id",
            visit=ids[f"{side}_visit"],
        )
    places_repo.assign_places(session, "courtyard")
    places_repo.assign_places(session, "enterprise")
    return ids


RED_PROPERTY_READERS = {
    "street_admin",
    "street_dispatcher",
    "auditor",
    "community_staff",
    "grid_leader",
    "grid_worker",
    "property_staff",
}
CLAIMANTS = {"street_admin", "street_dispatcher", "community_staff", "property_staff"}
ENTERPRISE_RECORDERS = {
    "street_admin",
    "street_dispatcher",
    "community_staff",
    "grid_leader",
    "grid_worker",
}
ENTERPRISE_READERS = ENTERPRISE_RECORDERS | {"auditor"}
WHOLE = {"street_admin", "street_dispatcher", "auditor"}
# What each reading role sees of the registry (territory: the C1 side; P01: its own).
SEES_CLAIMS = {role: {"west_claim", "east_claim", "y1_claim"} for role in WHOLE} | {
    **{role: {"west_claim"} for role in TERRITORY},
    "property_staff": {"east_claim", "y1_claim"},
}
ALL_YARDS = {"west_yard", "west_free", "east_yard", "east_free", "y1"}
UNCLAIMED = {"west_free", "east_free"}
SEES_YARDS = {role: ALL_YARDS for role in WHOLE} | {
    **{role: {"west_yard", "west_free"} for role in TERRITORY},
    # the courtyard it manages, and the unmanaged ones it may claim
    "property_staff": ALL_YARDS,
}
MANAGES_OR_NEEDS = {role: ALL_YARDS for role in WHOLE} | {
    **{role: {"west_yard", "west_free"} for role in TERRITORY},
    "property_staff": {"y1", "east_yard"},  # the one it manages, the one it has claimed
}
SEES_FIRMS = {role: {"west", "east"} for role in WHOLE} | {role: {"west"} for role in TERRITORY}


@contextmanager
def undone(w: World) -> Iterator[None]:
    """What one role's attempt changes is rolled back before the next role tries."""
    savepoint = w.client.app.state.session_factory.kw["bind"].begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()


def red_property_list(path: str, seen: dict[str, set[str]], key: str = "id"):
    """A red-property list or layer: the objects of the role's view, 403 for other roles."""

    def check(w: World, role: str) -> None:
        r = w.client.get(path, headers=w.as_(role))
        if role not in RED_PROPERTY_READERS:
            assert r.status_code == 403, (role, r.text)
            return
        assert r.status_code == 200, (role, r.text)
        items = r.json()["features"] if "features" in r.json() else r.json()
        assert {i[key] for i in items} == {w.registry[n] for n in seen[role]}, role

    return check


def claim_object(w: World, role: str) -> None:
    for name in ("west_claim", "east_claim", "y1_claim"):
        r = w.client.get(f"/api/red-property/claims/{w.registry[name]}", headers=w.as_(role))
        if role not in RED_PROPERTY_READERS:
            expected = 403
        else:
            expected = 200 if name in SEES_CLAIMS[role] else 404
        assert r.status_code == expected, (role, name, r.text)


def courtyard_history(w: World, role: str) -> None:
    for name in ALL_YARDS:
        r = w.client.get(
            f"/api/red-property/courtyards/{w.registry[name]}/claims", headers=w.as_(role)
        )
        if role not in RED_PROPERTY_READERS:
            assert r.status_code == 403, (role, r.text)
            continue
        assert r.status_code == (200 if name in SEES_YARDS[role] else 404), (role, name, r.text)
        if r.status_code == 200:
            shown = {c["id"] for c in r.json()}
            assert shown <= {w.registry[n] for n in SEES_CLAIMS[role]}, (role, name)


def make_claim(w: World, role: str) -> None:
    """Claims of the free courtyards for P01: the street anywhere, a community in its own,
    P01's staff for P01 only; a managed courtyard is a conflict for whoever sees it."""
    for name in ("west_free", "east_free"):
        with undone(w):
            body = {
                "courtyard_id": w.registry[name],
                "company_code": "P01",
                "claimed_on": "2026-11-30",
            }
            r = w.client.post("/api/red-property/claims", json=body, headers=w.as_(role))
            if role not in CLAIMANTS:
                expected = 403
            else:
                expected = 201 if name in SEES_YARDS[role] else 404
            assert r.status_code == expected, (role, name, r.text)
    body = {"courtyard_id": w.registry["y1"], "company_code": "P01", "claimed_on": "2026-11-30"}
    r = w.client.post("/api/red-property/claims", json=body, headers=w.as_(role))
    if role not in CLAIMANTS:
        expected = 403
    else:
        expected = 409 if "y1" in SEES_YARDS[role] else 404
    assert r.status_code == expected, (role, r.text)
    if role == "property_staff":
        body = {**body, "courtyard_id": w.registry["west_free"], "company_code": "P02"}
        r = w.client.post("/api/red-property/claims", json=body, headers=w.as_(role))
        assert r.status_code == 403 and r.json()["field"] == "company_code", r.text


def red_property_coverage(w: World, role: str) -> None:
    r = w.client.get("/api/red-property/coverage", headers=w.as_(role))
    if role not in RED_PROPERTY_READERS:
        assert r.status_code == 403, (role, r.text)
        return
    assert r.json()["needing"] == len(MANAGES_OR_NEEDS[role]), (role, r.json())


def decide_claim(action: str, claim: str, **body: Any) -> Callable[[World, str], None]:
    def check(w: World, role: str) -> None:
        with undone(w):
            r = w.client.post(
                f"/api/red-property/claims/{w.registry[claim]}/{action}",
                json=body,
                headers=w.as_(role),
            )
            assert r.status_code == (200 if role in ADMINS else 403), (role, r.text)

    return check


def visit_list(w: World, role: str) -> None:
    r = w.client.get("/api/enterprise-service/visits", headers=w.as_(role))
    if role not in ENTERPRISE_READERS:
        assert r.status_code == 403, (role, r.text)
        return
    expected = {w.registry[f"{side}_visit"] for side in SEES_FIRMS[role]}
    assert {v["id"] for v in r.json()} == expected, role


def visit_object(w: World, role: str) -> None:
    for side in ("west", "east"):
        r = w.client.get(
            f"/api/enterprise-service/visits/{w.registry[side + '_visit']}", headers=w.as_(role)
        )
        if role not in ENTERPRISE_READERS:
            expected = 403
        else:
            expected = 200 if side in SEES_FIRMS[role] else 404
        assert r.status_code == expected, (role, side, r.text)


def record_visit(w: World, role: str) -> None:
    for side in ("west", "east"):
        with undone(w):
            body = {
                "enterprise_id": w.registry[side + "_firm"],
                "visited_on": "2026-11-30",
                "officer": "李明",
                "discussed": "回访",
            }
            r = w.client.post("/api/enterprise-service/visits", json=body, headers=w.as_(role))
            if role not in ENTERPRISE_RECORDERS:
                expected = 403
            else:
                expected = 201 if side in SEES_FIRMS[role] else 404
            assert r.status_code == expected, (role, side, r.text)


def problem_case(w: World, role: str) -> None:
    for side in ("west", "east"):
        with undone(w):
            r = w.client.post(
                f"/api/enterprise-service/problems/{w.registry[side + '_problem']}/case",
                json={},
                headers=w.as_(role),
            )
            if role not in ENTERPRISE_RECORDERS:
                expected = 403
            else:
                expected = 201 if side in SEES_FIRMS[role] else 404
            assert r.status_code == expected, (role, side, r.text)


def visit_coverage(w: World, role: str) -> None:
    r = w.client.get(
        "/api/enterprise-service/coverage", params={"quarter": "2026Q4"}, headers=w.as_(role)
    )
    if role not in ENTERPRISE_READERS:
        assert r.status_code == 403, (role, r.text)
        return
    assert (r.json()["enterprises"], r.json()["visited"]) == (len(SEES_FIRMS[role]),) * 2, role


RULES.update(
    {
        ("GET", "/api/red-property/claims"): red_property_list(
            "/api/red-property/claims", SEES_CLAIMS
        ),
        ("POST", "/api/red-property/claims"): make_claim,
        ("GET", "/api/red-property/claims/{claim_id}"): claim_object,
        ("POST", "/api/red-property/claims/{claim_id}/approve"): decide_claim(
            "approve", "west_claim"
        ),
        ("POST", "/api/red-property/claims/{claim_id}/reject"): decide_claim(
            "reject", "west_claim", note="不符合条件"
        ),
        ("POST", "/api/red-property/claims/{claim_id}/end"): decide_claim(
            "end", "y1_claim", ended_on="2026-11-30", reason="撤场"
        ),
        ("GET", "/api/red-property/courtyards/{courtyard_id}/claims"): courtyard_history,
        ("GET", "/api/red-property/claimable"): red_property_list(
            "/api/red-property/claimable",
            {role: SEES_YARDS[role] & UNCLAIMED for role in RED_PROPERTY_READERS},
        ),
        ("GET", "/api/red-property/coverage"): red_property_coverage,
        ("GET", "/api/red-property/map"): red_property_list("/api/red-property/map", SEES_YARDS),
        ("GET", "/api/enterprise-service/visits"): visit_list,
        ("POST", "/api/enterprise-service/visits"): record_visit,
        ("GET", "/api/enterprise-service/visits/{visit_id}"): visit_object,
        ("POST", "/api/enterprise-service/problems/{problem_id}/case"): problem_case,
        ("GET", "/api/enterprise-service/coverage"): visit_coverage,
    }
)
# --- end of places registry: red property and enterprise service -------------------------
# --- duties: responsibility items, grid staff, unit grids, registry statistics ----------------
# Items attached to C1 and to C2; a grid leader with a phone in C1-01 and a police officer
# with one in C2-01; department D01 serving C1-01 and C2-01. The courtyard of the cases above
# (in C2, managed by P01) is the one place the registry statistics count.

DUTY_ITEMS = {"ITEM-C1": "C1", "ITEM-C2": "C2"}
DUTY_STAFF = {"C1-01": ("王芳", "grid_leader"), "C2-01": ("张华", "police")}
PHONE_READERS = {"street_admin", "street_dispatcher", "community_staff", "grid_leader"}
STAFF_EDITORS = {"street_admin", "community_staff"}  # community staff: in their community
# Territory staff also see which items hang on the grids above theirs (they apply to them).
CHAIN_ABOVE = {"community_staff": {"S"}, "grid_leader": {"S", "C1"}, "grid_worker": {"S", "C1"}}
SEES_COURTYARD = {"street_admin", "street_dispatcher", "auditor", "gis_editor", "property_staff"}


def _populate_duties(client: TestClient, world: World) -> None:
    office = bearer(client, AS["street_admin"])
    for code, grid in DUTY_ITEMS.items():
        body = {"code": code, "name": code, "responsible_level": "community"}
        assert client.post("/api/responsibility-items", json=body, headers=office).is_success
        r = client.post(
            f"/api/responsibility-items/{code}/assignments",
            json={"grid_code": grid},
            headers=office,
        )
        assert r.status_code == 201, r.text
    for grid, (name, duty) in DUTY_STAFF.items():
        body = {"grid_code": grid, "name": name, "duty": duty, "phone": "13800000000"}
        r = client.post("/api/grid-staff", json=body, headers=office)
        assert r.status_code == 201, r.text
        world.staff[grid] = r.json()["id"]
    r = client.put("/api/units/D01/grids", json={"grid_codes": ["C1-01", "C2-01"]}, headers=office)
    assert r.status_code == 200, r.text


def responsibility_items(w: World, role: str) -> None:
    r = w.client.get("/api/responsibility-items", headers=w.as_(role))
    if role == "resident":
        assert r.status_code == 403, r.text
        return
    assert r.status_code == 200, (role, r.text)
    # The whole list for every staff member; the grids it is attached to as far as they see.
    attached = {i["code"]: set(i["grid_codes"]) for i in r.json()}
    shown = SEES_GRIDS[role] | CHAIN_ABOVE.get(role, set())
    assert attached == {code: {g} & shown for code, g in DUTY_ITEMS.items()}, role
    r = w.client.get("/api/responsibility-items", params={"grid": "C2-01"}, headers=w.as_(role))
    if role in TERRITORY:
        assert r.status_code == 404, (role, r.text)
    else:
        assert [i["code"] for i in r.json()] == ["ITEM-C2"], role


def grid_staff(w: World, role: str) -> None:
    r = w.client.get("/api/grid-staff", headers=w.as_(role))
    if role == "resident":
        assert r.status_code == 403, r.text
        return
    assert r.status_code == 200, (role, r.text)
    assert {s["grid_code"] for s in r.json()} == set(DUTY_STAFF) & SEES_GRIDS[role], role
    for s in r.json():
        assert (s["phone"] is not None) == (role in PHONE_READERS), (role, s)
    r = w.client.get("/api/grid-staff", params={"grid": "C2-01"}, headers=w.as_(role))
    assert r.status_code == (404 if role in TERRITORY else 200), (role, r.text)


def add_grid_staff(w: World, role: str) -> None:
    for grid in DUTY_STAFF:
        body = {"grid_code": grid, "name": "新人", "duty": "part_time_worker"}
        r = w.client.post("/api/grid-staff", json=body, headers=w.as_(role))
        if role not in STAFF_EDITORS:
            expected = 403
        else:
            expected = 201 if grid in SEES_GRIDS[role] else 422  # as a grid that does not exist
        assert r.status_code == expected, (role, grid, r.text)


def change_grid_staff(w: World, role: str) -> None:
    for grid, staff_id in w.staff.items():
        r = w.client.patch(
            f"/api/grid-staff/{staff_id}", json={"name": "改名"}, headers=w.as_(role)
        )
        if role not in STAFF_EDITORS:
            expected = 403
        else:
            expected = 200 if grid in SEES_GRIDS[role] else 404
        assert r.status_code == expected, (role, grid, r.text)


def unit_grids(w: World, role: str) -> None:
    r = w.client.get("/api/unit-grids", headers=w.as_(role))
    if role == "resident":
        assert r.status_code == 403, r.text
        return
    assert r.status_code == 200, (role, r.text)
    served = {u["unit_code"]: set(u["grid_codes"]) for u in r.json()}
    assert served == {"D01": {"C1-01", "C2-01"} & SEES_GRIDS[role]}, role


def registry_stats(w: World, role: str) -> None:
    r = w.client.get("/api/registry/stats", headers=w.as_(role))
    if role == "resident":
        assert r.status_code == 403, r.text
        return
    assert r.status_code == 200, (role, r.text)
    figures = r.json()
    assert sum(figures["grids_per_level"].values()) == len(SEES_GRIDS[role]), role
    staff = sum(figures["staff_per_duty"].values())
    assert staff == len(set(DUTY_STAFF) & SEES_GRIDS[role]), role
    # The courtyards counted are those the place list shows this role (checked above, by
    # place_list): at least Y1 for those who see it, never one the list hides.
    listed = w.client.get("/api/places", params={"kind": "courtyard"}, headers=w.as_(role))
    assert figures["courtyards"]["total"] == len(listed.json()["features"]), role
    assert (w.places["courtyard"] in {f["id"] for f in listed.json()["features"]}) == (
        role in SEES_COURTYARD
    ), role


DUTY_RULES: dict[tuple[str, str], Callable[[World, str], None]] = {
    ("GET", "/api/responsibility-items"): responsibility_items,
    ("POST", "/api/responsibility-items"): only(
        ADMINS,
        "POST",
        "/api/responsibility-items",
        ok=201,
        json={"code": "NEW-1", "name": "新事项", "responsible_level": "grid"},
    ),
    ("PATCH", "/api/responsibility-items/{code}"): only(
        ADMINS, "PATCH", "/api/responsibility-items/ITEM-C1", json={"on_the_spot": True}
    ),
    ("POST", "/api/responsibility-items/{code}/assignments"): only(
        ADMINS,
        "POST",
        "/api/responsibility-items/ITEM-C1/assignments",
        ok=201,
        json={"unit_code": "D02"},
    ),
    ("DELETE", "/api/responsibility-items/{code}/assignments"): only(
        ADMINS,
        "DELETE",
        "/api/responsibility-items/ITEM-C1/assignments",
        ok=204,
        params={"grid_code": "C1"},
    ),
    ("GET", "/api/grid-staff"): grid_staff,
    ("POST", "/api/grid-staff"): add_grid_staff,
    ("PATCH", "/api/grid-staff/{staff_id}"): change_grid_staff,
    ("GET", "/api/unit-grids"): unit_grids,
    ("PUT", "/api/units/{code}/grids"): only(
        ADMINS, "PUT", "/api/units/D02/grids", json={"grid_codes": ["C2-01"]}
    ),
    ("GET", "/api/registry/stats"): registry_stats,
}
RULES.update(DUTY_RULES)
# --- end of duties ----------------------------------------------------------------------------


# Answer without a token (everything else answers 401).
OPEN_ROUTES = {
    ("POST", "/api/auth/token"),
    ("POST", "/api/auth/refresh"),
    ("POST", "/api/auth/revoke"),
    ("POST", "/api/reports"),
    ("GET", "/api/reports/{token}"),
    ("POST", "/api/reports/{token}/attachments"),
    ("POST", "/api/reports/{token}/evaluation"),
    ("POST", "/api/reports/{token}/resubmit"),
    ("GET", "/api/workflow"),
    ("GET", "/api/units"),
    ("GET", "/api/categories"),
    ("GET", "/api/config"),
    ("GET", "/api/health"),
}


def routes(app) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }


def test_every_route_has_an_access_rule(world):
    assert routes(world.client.app) == set(RULES)


@pytest.mark.parametrize("route", sorted(RULES), ids=lambda r: f"{r[0]} {r[1]}")
def test_each_role_sees_and_changes_only_what_is_theirs(each, route):
    for role in ROLES:
        RULES[route](each, role)


@pytest.mark.parametrize("route", sorted(RULES), ids=lambda r: f"{r[0]} {r[1]}")
def test_without_a_token_only_open_routes_answer(each, route):
    method, path = route
    filled = path.format(
        case_id=each.cases["west"],
        action="screen",
        attachment_id=each.photos["west"],
        code="C1",
        username="z-worker",
        token=each.follow_token,
        place_id=each.places["west_building"],
        claim_id=each.registry["west_claim"],
        courtyard_id=each.registry["west_yard"],
        visit_id=each.registry["west_visit"],
        problem_id=each.registry["west_problem"],
        staff_id=each.staff["C1-01"],
    )
    r = each.client.request(method, filled)
    if route in OPEN_ROUTES:
        assert r.status_code != 401, (route, r.text)
    else:
        assert r.status_code == 401, (route, r.status_code, r.text)
