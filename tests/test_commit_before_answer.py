"""An answer is sent only after its transaction committed: read-your-writes at once."""

from __future__ import annotations

import httpx


def test_a_reported_case_can_be_read_and_moved_the_moment_the_answer_arrives(
    live_server_url, live_accounts
):
    office = live_accounts["office"]  # street_admin: may report cases and void them
    with httpx.Client(base_url=live_server_url, timeout=10) as http:
        signed_in = http.post(
            "/api/auth/token",
            data={"username": office["username"], "password": office["password"]},
        )
        assert signed_in.status_code == 200, signed_in.text
        http.headers["Authorization"] = f"Bearer {signed_in.json()['access_token']}"

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
            )
            assert moved.status_code == 200, moved.text
