"""Security basics: headers on pages and answers, CORS closed unless configured."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_pages_and_answers_carry_security_headers(client):
    page = client.get("/")
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert client.get("/api/health").headers["referrer-policy"] == "same-origin"


def test_cors_is_closed_by_default(client):
    r = client.get("/api/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers


def test_cors_allows_only_the_configured_origins(settings, session_factory):
    from onegrid.main import create_app

    app = create_app(settings.model_copy(update={"cors_origins": ["https://grid.example.cn"]}))
    app.state.session_factory = session_factory
    with TestClient(app) as c:
        ok = c.get("/api/health", headers={"Origin": "https://grid.example.cn"})
        other = c.get("/api/health", headers={"Origin": "https://evil.example"})
    assert ok.headers["access-control-allow-origin"] == "https://grid.example.cn"
    assert "access-control-allow-origin" not in other.headers
    app.state.engine.dispose()


def test_an_unexpected_failure_answers_500_without_its_details(settings):
    from onegrid.main import create_app

    def broken_database():
        raise RuntimeError('connection to "db" failed: password=hunter2 (engine.py line 42)')

    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as c:
        app.state.session_factory = broken_database
        r = c.get("/api/units")
    assert r.status_code == 500
    assert r.json() == {"error": "InternalError", "message": "unexpected server error"}
    assert "hunter2" not in r.text and "Traceback" not in r.text
    app.state.engine.dispose()


def test_answers_of_the_body_limit_carry_the_headers_too(anonymous):
    r = anonymous.post(
        "/api/reports", content=b"x" * 2_000_000, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
