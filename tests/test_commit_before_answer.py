"""An answer is sent only after its transaction committed: read-your-writes at once."""

from __future__ import annotations

import httpx


def test_a_reported_case_can_be_read_and_moved_the_moment_the_answer_arrives(live_server_url):
    with httpx.Client(base_url=live_server_url, timeout=10) as http:
        features = http.get("/api/cases", params={"limit": 50}).json()["features"]
        inside = next(f for f in features if f["properties"]["third_code"] and f["geometry"])
        lon, lat = inside["geometry"]["coordinates"]
        for _ in range(30):
            created = http.post("/api/cases", json={"lon": lon, "lat": lat, "description": "x"})
            assert created.status_code == 201, created.text
            case = created.json()
            assert http.get(f"/api/cases/{case['id']}").status_code == 200
            moved = http.post(
                f"/api/cases/{case['id']}/actions/void",
                json={"version": case["version"], "reason": "test", "report_valid": False},
                headers={"X-OneGrid-User": "tester", "X-OneGrid-Role": "community_staff"},
            )
            assert moved.status_code == 200, moved.text
