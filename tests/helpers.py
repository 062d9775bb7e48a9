"""Small builders shared by tests: grid files from WKT, loaded through the real import."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

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
