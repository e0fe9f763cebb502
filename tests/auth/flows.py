"""Plain helpers for sign-in tests: an app pointed at the fake provider, and the browser dance."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.auth.oidc_provider import CLIENT_ID, CLIENT_SECRET, FakeProvider
from tests.helpers import test_config
from xeno import create_app
from xeno.db.models import User
from xeno.extensions import db


def google_config(provider: FakeProvider, **overrides: object) -> dict[str, object]:
    """Google sign-in on, demo sign-in off, the allow-list naming one domain."""
    return {
        "GOOGLE_CLIENT_ID": CLIENT_ID,
        "GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
        "GOOGLE_DISCOVERY_URL": provider.discovery_url,
        "PUBLIC_URL": "http://localhost",
        "DEV_LOGIN": False,
        "DEMO_MODE": False,
        "ALLOWED_DOMAINS": ("xeno.test",),
        "ALLOWED_EMAILS": ("guest@partner.example",),
        **overrides,
    }


def make_app(database_url: str, provider: FakeProvider, **overrides: object) -> Flask:
    """A test app with Google sign-in pointed at the fake provider."""
    return create_app(test_config(database_url, **google_config(provider, **overrides)))


def start_google(client: FlaskClient, provider: FakeProvider, path: str = "/login/google") -> str:
    """Click "Sign in with Google" and let the provider approve; return the callback URL."""
    start = client.get(path)
    assert start.status_code == 302
    assert start.location.startswith(provider.url + "/authorize?")
    back = requests.get(start.location, allow_redirects=False, timeout=5)
    assert back.status_code == 302, back.text
    return back.headers["Location"]


def finish(client: FlaskClient, callback_url: str) -> TestResponse:
    """Follow the provider's redirect back into the app."""
    parts = urlsplit(callback_url)
    assert parts.path == "/auth/callback"
    return client.get(f"{parts.path}?{parts.query}")


def sign_in_with_google(client: FlaskClient, provider: FakeProvider) -> TestResponse:
    """The whole dance: app → provider → app."""
    return finish(client, start_google(client, provider))


def users(app: Flask) -> list[User]:
    """Every stored user."""
    with app.app_context():
        found = list(db.session.scalars(select(User)))
        db.session.expunge_all()
        return found


def csrf_token(client: FlaskClient) -> str:
    """The CSRF token a page of this session carries."""
    page = client.get("/login")
    if page.status_code == 302:
        page = client.get("/")
    return re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
