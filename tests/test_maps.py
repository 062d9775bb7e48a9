"""Exported folium maps get [lat, lon], never the GeoJSON order (fault B06c)."""

from __future__ import annotations

import pytest
from tests.helpers import load_grids
from tests.shared_data import geo_fault

from onegrid.errors import InvalidCoordinates
from onegrid.stats.maps import case_map, heat_points


def test_heat_map_rows_are_lat_lon(client, session, tmp_path):
    load_grids(session, tmp_path, "third", geo_fault("B01")["input"]["grids"])
    session.commit()
    client.post("/api/cases", json={"lon": 116.405, "lat": 39.905, "description": "x"})
    feature = client.get("/api/cases").json()["features"][0]
    points = heat_points([tuple(feature["geometry"]["coordinates"])])
    assert points[0] == [39.905, 116.405]
    grids = {"third": client.get("/api/grids", params={"level": "third"}).json()}
    html = case_map(grids, points).get_root().render()
    assert "[39.905, 116.405]" in html


def test_heat_points_refuse_what_cannot_be_lon_lat():
    assert heat_points([(None, None)]) == []
    with pytest.raises(InvalidCoordinates):
        heat_points([(116.4, 139.9)])
