"""Small builders shared by tests: grid files from WKT, loaded through the real import."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import shapely
from sqlalchemy.orm import Session

from onegrid.db.base import ASSIGNMENT_FIELDS
from onegrid.grids import service as grids_service

# Cases whose stored assignment differs from what grid_assignment() says at their point.
DIFFERENCES = f"""
    SELECT c.external_id FROM cases c
    CROSS JOIN LATERAL grid_assignment(c.geom) a
    WHERE ({", ".join("c." + f for f in ASSIGNMENT_FIELDS)})
          IS DISTINCT FROM ({", ".join("a." + f for f in ASSIGNMENT_FIELDS)})
"""


def write_grid_file(path: Path, grids: dict[str, str], **extra_props) -> Path:
    features = []
    for code, wkt in grids.items():
        props = {"code": code, "name": f"grid {code}"}
        props.update(
            {
                k: (v[code] if isinstance(v, dict) else v)
                for k, v in extra_props.items()
                if not isinstance(v, dict) or code in v
            }
        )
        features.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": json.loads(shapely.to_geojson(shapely.from_wkt(wkt))),
            }
        )
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def load_grids(session: Session, tmp_path: Path, level: str, grids: dict[str, str], **kw):
    """Import grids of one level through the import service and write them."""
    path = write_grid_file(tmp_path / f"{level}-{len(list(tmp_path.iterdir()))}.geojson", grids)
    report = grids_service.import_grids(session, path, level=level, **kw)
    assert not report.rejected, [r.describe() for r in report.rejected]
    grids_service.write_grids(session, level)
    return report


class FakeClock:
    """A settable clock for the app (create_app(clock=...)): real time until set."""

    def __init__(self) -> None:
        self.fixed: datetime | None = None

    def __call__(self) -> datetime:
        from onegrid.cases.deadlines import TIME_ZONE

        return self.fixed or datetime.now(TIME_ZONE)

    def set(self, iso: str) -> datetime:
        self.fixed = datetime.fromisoformat(iso)
        assert self.fixed.tzinfo is not None, "give the offset, e.g. +08:00"
        return self.fixed

    def advance(self, **delta: float) -> datetime:
        self.fixed = self() + timedelta(**delta)
        return self.fixed


@dataclass(frozen=True)
class Persona:
    """Someone a test acts as: an account with a role and its scope (a grid or a unit)."""

    name: str
    role: str
    unit: str | None = None
    grid: str | None = None


def bearer(client, persona: Persona) -> dict[str, str]:
    """The Authorization header of `persona`, signed in on `client`'s app (the account is
    made on first use, straight in the database, without the cost of a password hash)."""
    from onegrid.auth import repository as auth_repo
    from onegrid.auth import service as auth_service

    app = client.app
    now = app.state.clock()
    name = persona.name.lower()
    with app.state.session_factory() as session, session.begin():
        user = auth_repo.get_user(session, name) or auth_repo.insert_user(
            session,
            {
                "username": name,
                "display_name": persona.name,
                "role": persona.role,
                "unit_code": persona.unit,
                "grid_code": persona.grid,
                "password_hash": "!",  # no password signs in to a test persona
                # Long ago: tests move the clock back and forth.
                "password_changed_at": datetime(2000, 1, 1, tzinfo=UTC),
            },
        )
    token = auth_service.access_token(user, now, app.state.settings)
    return {"Authorization": f"Bearer {token}"}


class SignedIn(httpx.Auth):
    """Signs every request of a test client in as `persona`, with a token minted at the app's
    current time (tests move the clock by days), unless the request names someone else."""

    def __init__(self, client, persona: Persona):
        self.client = client
        self.persona = persona

    def auth_flow(self, request):
        if "authorization" not in request.headers:
            request.headers.update(bearer(self.client, self.persona))
        yield request


# The street office at its big screen: sees the whole street. The default of `client`.
STREET_OFFICE = Persona("office", "street_admin")
