"""A small street for the account tests: grids of every level an account can name, the seed
units and a property company."""

from __future__ import annotations

import pytest
from tests.helpers import load_grids, write_grid_file

from onegrid.grids import service as grids_service
from onegrid.units import repository as units_repo
from onegrid.units import service as units_service

STREET = "POLYGON((113.60 34.76, 113.62 34.76, 113.62 34.78, 113.60 34.78, 113.60 34.76))"
WEST = "POLYGON((113.60 34.76, 113.61 34.76, 113.61 34.78, 113.60 34.78, 113.60 34.76))"
EAST = "POLYGON((113.61 34.76, 113.62 34.76, 113.62 34.78, 113.61 34.78, 113.61 34.76))"
WEST_SOUTH = "POLYGON((113.60 34.76, 113.61 34.76, 113.61 34.77, 113.60 34.77, 113.60 34.76))"
WEST_NORTH = "POLYGON((113.60 34.77, 113.61 34.77, 113.61 34.78, 113.60 34.78, 113.60 34.77))"
MICRO = "POLYGON((113.601 34.761, 113.603 34.761, 113.603 34.763, 113.601 34.763, 113.601 34.761))"
SCHOOL = "POLYGON((113.612 34.762, 113.614 34.762, 113.614 34.764, 113.612 34.764, 113.612 34.762))"

PASSWORD = "correct horse battery"


@pytest.fixture
def street(session, tmp_path, clock):
    """Street S; communities C1 (grids C1-01, C1-02, micro grid C1-01-M) and C2 (grid C2-01);
    dedicated grid D1 (a school); the seed units (D.., S..) and property company P01."""
    clock.set("2026-12-01T09:00:00+08:00")
    units_service.load_seed(session)
    load_grids(session, tmp_path, "street", {"S": STREET})
    load_grids(session, tmp_path, "second", {"C1": WEST, "C2": EAST})
    load_grids(
        session, tmp_path, "third", {"C1-01": WEST_SOUTH, "C1-02": WEST_NORTH, "C2-01": EAST}
    )
    load_grids(session, tmp_path, "micro", {"C1-01-M": MICRO})
    path = write_grid_file(tmp_path / "dedicated.geojson", {"D1": SCHOOL}, unit_name="第一小学")
    assert not grids_service.import_grids(session, path, level="dedicated").rejected
    grids_service.write_grids(session, "dedicated")
    units_repo.upsert_units(
        session,
        [
            {
                "code": "P01",
                "name": "红盾物业",
                "kind": "property_company",
                "grid_code": None,
                "phone": None,
            }
        ],
    )
    session.flush()
