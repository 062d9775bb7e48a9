"""The client address the audit log and the rate limits see cannot be chosen by the client."""

from __future__ import annotations

import httpx


def test_a_forwarded_for_header_does_not_change_the_logged_address(live_server_url, live_accounts):
    worker, office = live_accounts["worker"], live_accounts["office"]
    with httpx.Client(base_url=live_server_url, timeout=10) as http:
        refused = http.post(
            "/api/auth/token",
            data={"username": worker["username"], "password": "not the password at all"},
            headers={"X-Forwarded-For": "203.0.113.77"},
        )
        assert refused.status_code == 401
        token = http.post(
            "/api/auth/token",
            data={"username": office["username"], "password": office["password"]},
        ).json()["access_token"]
        logged = http.get(
            "/api/audit",
            params={"action": "sign_in_failed", "actor": worker["username"]},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
    assert logged and {entry["client"] for entry in logged} == {"127.0.0.1"}
