"""Nothing is reachable signed out; CSRF on forms and session API writes; security headers."""

from __future__ import annotations

import re
import uuid

import pytest
from flask import Flask, jsonify
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from xeno.auth import sessions
from xeno.auth.guard import api_auth_required
from xeno.db.models import User
from xeno.extensions import db
from xeno.platform.security import PUBLIC_ENDPOINTS

PUBLIC_PATHS = {"/api/v1/openapi.json"}
SAMPLE_VALUES = {"int": "1", "float": "1.5", "uuid": str(uuid.UUID(int=1)), "any": "x"}
ARGUMENT = re.compile(r"<(?:(?P<converter>[a-zA-Z_][a-zA-Z0-9_]*)(?:\([^)]*\))?:)?[^>]+>")


def sample_path(rule: Rule) -> str:
    """A concrete URL for a rule, each variable filled with a plausible value."""
    return ARGUMENT.sub(lambda m: SAMPLE_VALUES.get(m.group("converter") or "", "x"), rule.rule)


def sign_in(app: Flask, client: FlaskClient, email: str = "marketer@xeno.test") -> User:
    """Put a signed-in user in the client's session (as a completed sign-in would)."""
    with app.app_context():
        user = User(email=email, name="Mona Marketer")
        db.session.add(user)
        db.session.commit()
        user_id, signed = user.id, sessions.values_for(user)
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
        session.update(signed)
    return user


def csrf_token(client: FlaskClient) -> str:
    """The CSRF token the pages of this session carry."""
    page = client.get("/")
    return re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)


def every_route(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, path) for each method of each registered URL rule."""
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"OPTIONS"}):
            routes.append((rule.endpoint, method, sample_path(rule)))
    return routes


def test_every_route_is_closed_when_signed_out(app, client):
    routes = every_route(app)
    assert len(routes) > 10
    checked = 0
    for endpoint, method, path in routes:
        body = {} if method in {"POST", "PUT", "PATCH", "DELETE"} else None
        response = client.open(path, method=method, json=body)
        where = f"{method} {path} ({endpoint}) answered {response.status_code}"
        assert response.status_code < 500, where
        if endpoint in PUBLIC_ENDPOINTS or path in PUBLIC_PATHS:
            continue
        checked += 1
        if path.startswith("/api/"):
            assert response.status_code == 401, where
            if method != "HEAD":
                assert response.is_json and response.json["error"], where
        elif response.status_code != 401:  # 401: an HMAC-signed machine endpoint
            assert response.status_code == 302, where
            assert response.location.startswith("/login"), where
    assert checked > 5


def test_public_endpoints_are_only_sign_in_static_and_health():
    assert {
        "auth.login",
        "auth.google_login",
        "auth.google_callback",
        "auth.demo_login",
        "static",
        "health.healthz",
    } == PUBLIC_ENDPOINTS


def test_api_token_never_signs_in_to_pages(app, api, client):
    pages = [
        path
        for endpoint, method, path in every_route(app)
        if method == "GET" and endpoint not in PUBLIC_ENDPOINTS and not path.startswith("/api/")
    ]
    assert "/" in pages and "/customers" in pages
    for path in pages:
        response = client.get(path, headers=api.headers)
        assert response.status_code == 302, path
        assert response.location.startswith("/login"), path


def test_api_token_works_on_the_customer_api(api):
    assert api.get("/customers").status_code == 200


def test_signed_out_page_redirect_remembers_the_page(client):
    response = client.get("/customers?q=ra&sort=name")
    assert response.status_code == 302
    assert response.location == "/login?next=/customers?q%3Dra%26sort%3Dname"


@pytest.fixture
def form_app(app: Flask) -> Flask:
    """The app plus one page form and one session API write, registered for this test."""

    def save_form():
        return "saved"

    @api_auth_required
    def api_write():
        return jsonify(ok=True)

    app.add_url_rule("/test-form", "test_form", save_form, methods=["POST"])
    app.add_url_rule("/api/v1/test-write", "test_write", api_write, methods=["POST"])
    return app


def test_page_form_post_signed_out_goes_to_sign_in(form_app, client):
    response = client.post("/test-form", data={})
    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_page_form_post_without_csrf_token_is_refused(form_app, client):
    sign_in(form_app, client)
    response = client.post("/test-form", data={})
    assert response.status_code == 400
    assert "text/html" in response.content_type


def test_page_form_post_with_csrf_token_passes(form_app, client):
    sign_in(form_app, client)
    response = client.post("/test-form", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 200


def test_session_api_write_needs_the_csrf_header(form_app, client):
    sign_in(form_app, client)
    refused = client.post("/api/v1/test-write", json={})
    assert refused.status_code == 400
    assert refused.json["error"] == "csrf_failed"
    allowed = client.post(
        "/api/v1/test-write", json={}, headers={"X-CSRFToken": csrf_token(client)}
    )
    assert allowed.status_code == 200


@pytest.mark.parametrize("path", ["/login", "/healthz", "/api/v1/customers", "/nope"])
def test_security_headers_on_every_response(client, path):
    headers = client.get(path).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_pages_load_nothing_from_another_origin(app, client):
    sign_in(app, client)
    for path in ("/login", "/", "/customers"):
        html = client.get(path).text
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert sources
        external = [s for s in sources if re.match(r"^(https?:)?//", s)]
        assert external == [], f"{path} loads {external}"
        assert "<script>" not in html and ' style="' not in html  # CSP forbids inline code


def test_static_files_are_public(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "text/css" in response.content_type
