"""Security headers on every response: pages, API, errors, static files; HSTS behind https."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from privacyops.app import create_app
from privacyops.settings import Settings

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
EXPECTED = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200),
        ("/policy", 503),  # no policy published in this test: still a page, still headers
        ("/healthz", 200),
        ("/api/v1/policy/versions", 200),
        ("/no/such/page", 404),
        ("/api/v1/admin/me", 401),
        ("/admin", 303),
        ("/admin/login", 200),
        ("/static/site.css", 200),
        ("/static/missing.css", 404),
    ],
)
def test_every_response_carries_the_headers(client: TestClient, path: str, status: int) -> None:
    response = client.get(path, follow_redirects=False)

    assert response.status_code == status
    for name, value in EXPECTED.items():
        # Exactly once: a page's own copy is replaced, not doubled.
        assert response.headers.get_list(name) == [value], name
    assert "strict-transport-security" not in response.headers


@pytest.mark.parametrize("path", ["/admin", "/admin/login", "/api/v1/admin/me"])
def test_staff_answers_are_never_cached(client: TestClient, path: str) -> None:
    assert client.get(path, follow_redirects=False).headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/", "/static/site.css", "/api/v1/policy/versions"])
def test_public_answers_may_be_cached(client: TestClient, path: str) -> None:
    assert client.get(path).headers.get("cache-control") != "no-store"


def test_hsts_behind_https(settings: Settings, session_factory: sessionmaker[Session]) -> None:
    https = settings.model_copy(update={"public_url": "https://privacy.example.com"})
    with TestClient(create_app(https, session_factory=session_factory)) as client:
        for path in ("/", "/nope", "/static/site.css"):
            assert (
                client.get(path).headers["strict-transport-security"]
                == "max-age=31536000; includeSubDomains"
            )


def test_even_an_unexpected_error_carries_the_headers(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    app = create_app(settings, session_factory=session_factory)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")

    assert response.status_code == 500
    assert response.headers["content-security-policy"] == CSP
