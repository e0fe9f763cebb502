"""The session cookie dies at sign-out, after XENO_SESSION_IDLE_HOURS unused and 7 days after
sign-in; HSTS when cookies are secure (SPEC "Faults")."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.auth.flows import csrf_token, make_app, sign_in_with_google
from tests.helpers import test_config
from xeno import create_app
from xeno.auth import sessions
from xeno.db.models import User
from xeno.extensions import db

HOUR = 3600
DAY = 24 * HOUR


def session_cookie(client: FlaskClient, app: Flask) -> str:
    """The value of the client's session cookie right now."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return cookie.value


def browser_with(app: Flask, cookie: str) -> FlaskClient:
    """Another browser, holding a copy of a session cookie."""
    other = app.test_client()
    other.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    return other


def age_session(client: FlaskClient, *, signed_in: float = 0, seen: float = 0) -> None:
    """Move the session's sign-in and last-use times `signed_in` / `seen` seconds back."""
    with client.session_transaction() as session:
        session[sessions.SIGNED_IN_AT] -= signed_in
        session[sessions.SEEN_AT] -= seen


def is_signed_in(client: FlaskClient) -> bool:
    """True when the dashboard opens; False when it sends the browser to sign in."""
    response = client.get("/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def test_a_cookie_copied_before_sign_out_is_dead_after_it(gclient, google_app, provider):
    sign_in_with_google(gclient, provider)
    copy = session_cookie(gclient, google_app)
    assert is_signed_in(browser_with(google_app, copy))
    assert gclient.post("/logout", data={"csrf_token": csrf_token(gclient)}).status_code == 302
    stolen = browser_with(google_app, copy)
    response = stolen.get("/")
    assert response.status_code == 302
    assert response.location.startswith("/login")
    api = stolen.get("/api/v1/segments")
    assert api.status_code == 401
    assert api.get_json()["error"] == "unauthorized"


def test_signing_in_again_after_sign_out_works(gclient, google_app, provider):
    sign_in_with_google(gclient, provider)
    gclient.post("/logout", data={"csrf_token": csrf_token(gclient)})
    assert not is_signed_in(gclient)
    sign_in_with_google(gclient, provider)
    assert is_signed_in(gclient)
    with google_app.app_context():
        assert db.session.scalar(select(User.session_generation)) == 1


def test_sign_out_is_stored_as_a_new_session_generation(gclient, google_app, provider):
    sign_in_with_google(gclient, provider)
    with gclient.session_transaction() as session:
        assert session[sessions.GENERATION] == 0
    gclient.post("/logout", data={"csrf_token": csrf_token(gclient)})
    with google_app.app_context():
        assert db.session.scalar(select(User.session_generation)) == 1


def test_session_idle_for_longer_than_12_hours_is_dead(gclient, provider):
    sign_in_with_google(gclient, provider)
    age_session(gclient, signed_in=12 * HOUR + 60, seen=12 * HOUR + 60)
    assert not is_signed_in(gclient)


def test_session_idle_for_less_than_12_hours_lives_and_is_marked_used(gclient, provider):
    sign_in_with_google(gclient, provider)
    age_session(gclient, signed_in=11 * HOUR, seen=11 * HOUR)
    assert is_signed_in(gclient)
    with gclient.session_transaction() as session:
        assert time.time() - session[sessions.SEEN_AT] < 60


def test_idle_hours_come_from_the_setting(app, _schema, provider):
    short = make_app(_schema, provider, SESSION_IDLE_HOURS=1)
    client = short.test_client()
    sign_in_with_google(client, provider)
    age_session(client, seen=2 * HOUR)
    assert not is_signed_in(client)


def test_session_used_every_hour_still_dies_7_days_after_sign_in(gclient, provider):
    sign_in_with_google(gclient, provider)
    age_session(gclient, signed_in=7 * DAY - 60)
    assert is_signed_in(gclient)
    age_session(gclient, signed_in=120)
    assert not is_signed_in(gclient)


def test_last_use_is_written_at_most_once_a_minute(gclient, google_app, provider):
    sign_in_with_google(gclient, provider)
    gclient.get("/")
    quiet = gclient.get("/")
    assert quiet.status_code == 200
    assert "Set-Cookie" not in quiet.headers  # nothing changed: no new cookie per request
    age_session(gclient, seen=61)
    refreshed = gclient.get("/")
    assert "Set-Cookie" in refreshed.headers


def test_a_session_from_before_generations_is_signed_out(app, client):
    with app.app_context():
        user = User(email="old@xeno.test", name="Old")
        db.session.add(user)
        db.session.commit()
        user_id = user.id
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)  # what a cookie made before this release holds
    assert not is_signed_in(client)


def test_demo_sign_in_starts_a_session_that_sign_out_ends(app, _schema):
    demo = create_app(test_config(_schema, DEV_LOGIN=True, DEMO_MODE=True))
    client = demo.test_client()
    assert client.post("/login/demo", data={"csrf_token": csrf_token(client)}).status_code == 302
    copy = session_cookie(client, demo)
    assert is_signed_in(client)
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert not is_signed_in(browser_with(demo, copy))


@pytest.mark.parametrize("path", ["/login", "/healthz", "/api/v1/segments", "/nope"])
def test_hsts_when_cookies_are_secure(app, _schema, path):
    secure = create_app(test_config(_schema, SESSION_COOKIE_SECURE=True))
    response = secure.test_client().get(path, base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


@pytest.mark.parametrize("path", ["/login", "/healthz"])
def test_no_hsts_when_cookies_may_travel_over_http(client, path):
    assert "Strict-Transport-Security" not in client.get(path).headers
