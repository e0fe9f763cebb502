"""Sign-in fixtures: the fake OpenID provider and an app that signs in through it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.auth.flows import make_app
from tests.auth.oidc_provider import FakeProvider
from xeno.extensions import db


@pytest.fixture(scope="session")
def provider() -> Iterator[FakeProvider]:
    """The fake Google, serving on a free local port for the whole session."""
    fake = FakeProvider().start()
    yield fake
    fake.stop()


@pytest.fixture
def google_app(app: Flask, _schema: str, provider: FakeProvider) -> Iterator[Flask]:
    """An app with Google sign-in (the `app` fixture has cleaned the tables)."""
    provider.reset()
    google = make_app(_schema, provider)
    yield google
    with google.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def gclient(google_app: Flask) -> FlaskClient:
    """A browser for the Google-enabled app."""
    return google_app.test_client()
