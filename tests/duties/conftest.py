"""A small street for the duty tests: communities C1 (grids C1-01 with micro grid C1-01-M, and
C1-02) and C2 (grid C2-01), the seed units (departments D01...) and property company P01;
and the people who act on it."""

from __future__ import annotations

import pytest
from tests.helpers import Persona, load_grids

from onegrid.units import repository as units_repo
from onegrid.units import service as units_service

STREET = "POLYGON((113.60 34.76, 113.62 34.76, 113.62 34.78, 113.60 34.78, 113.60 34.76))"
WEST = "POLYGON((113.60 34.76, 113.61 34.76, 113.61 34.78, 113.60 34.78, 113.60 34.76))"
EAST = "POLYGON((113.61 34.76, 113.62 34.76, 113.62 34.78, 113.61 34.78, 113.61 34.76))"
WEST_SOUTH = "POLYGON((113.60 34.76, 113.61 34.76, 113.61 34.77, 113.60 34.77, 113.60 34.76))"
WEST_NORTH = "POLYGON((113.60 34.77, 113.61 34.77, 113.61 34.78, 113.60 34.78, 113.60 34.77))"
MICRO = "POLYGON((113.601 34.761, 113.603 34.761, 113.603 34.763, 113.601 34.763, 113.601 34.761))"

ADMIN = Persona("duty-admin", "street_admin")
DISPATCHER = Persona("duty-dispatcher", "street_dispatcher")
AUDITOR = Persona("duty-auditor", "auditor")
COMMUNITY_C1 = Persona("duty-c1", "community_staff", grid="C1")
LEADER_C1_01 = Persona("duty-leader", "grid_leader", grid="C1-01")
WORKER_C1_01 = Persona("duty-worker", "grid_worker", grid="C1-01")
HANDLER_D01 = Persona("duty-d01", "department_handler", unit="D01")
RESIDENT = Persona("duty-resident", "resident")


@pytest.fixture
def duty_street(session, tmp_path, clock):
    clock.set("2026-12-01T09:00:00+08:00")
    units_service.load_seed(session)
    load_grids(session, tmp_path, "street", {"S": STREET})
    load_grids(session, tmp_path, "second", {"C1": WEST, "C2": EAST})
    load_grids(
        session, tmp_path, "third", {"C1-01": WEST_SOUTH, "C1-02": WEST_NORTH, "C2-01": EAST}
    )
    load_grids(session, tmp_path, "micro", {"C1-01-M": MICRO})
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
    return session
