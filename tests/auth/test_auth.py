"""Google sign-in end to end against a fake OpenID provider, and sign-out."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from tests.auth.flows import (
    csrf_token,
    finish,
    make_app,
    sign_in_with_google,
    start_google,
    users,
)
from tests.auth.oidc_provider import TAMPERINGS
from xeno.db.models import User
from xeno.extensions import db


def test_google_sign_in_succeeds_for_allowed_verified_email(gclient, google_app, provider):
    response = sign_in_with_google(gclient, provider)
    assert response.status_code == 302
    assert response.location == "/"
    [user] = users(google_app)
    assert (user.email, user.name, user.picture) == (
        "asha@xeno.test",
        "Asha Rao",
        "https://example.invalid/asha.png",
    )
    assert user.first_login_at == user.last_login_at
    dashboard = gclient.get("/")
    assert dashboard.status_code == 200
    assert "Asha Rao" in dashboard.text


def test_google_sign_in_asks_for_openid_email_profile_with_state_nonce_and_pkce(gclient, provider):
    start = gclient.get("/login/google")
    query = parse_qs(urlsplit(start.location).query)
    assert query["scope"] == ["openid email profile"]
    assert query["redirect_uri"] == ["http://localhost/auth/callback"]
    assert query["state"][0] and query["nonce"][0]
    assert query["code_challenge_method"] == ["S256"]


def test_google_sign_in_again_keeps_first_login_and_updates_the_rest(gclient, google_app, provider):
    sign_in_with_google(gclient, provider)
    with google_app.app_context():
        user = db.session.scalar(select(User))
        user.first_login_at = user.last_login_at = datetime(2024, 1, 1, 9, 0)
        db.session.commit()
    gclient.post("/logout", data={"csrf_token": csrf_token(gclient)})
    provider.user["name"] = "Asha R. Rao"
    assert sign_in_with_google(gclient, provider).status_code == 302
    [user] = users(google_app)
    assert user.first_login_at == datetime(2024, 1, 1, 9, 0)
    assert user.last_login_at > datetime(2024, 1, 1, 9, 0)
    assert user.name == "Asha R. Rao"


@pytest.mark.parametrize(
    "email",
    ["mallory@evil.example", "asha@xeno.test.evil.example", "someone@partner.example"],
)
def test_google_sign_in_refused_for_disallowed_email(gclient, google_app, provider, email):
    provider.user["email"] = email
    response = sign_in_with_google(gclient, provider)
    assert response.status_code == 403
    assert "text/html" in response.content_type
    assert email in response.text
    assert "not on this CRM" in response.text
    assert users(google_app) == []
    assert gclient.get("/").status_code == 302


def test_google_sign_in_allows_a_listed_email_outside_the_domains(gclient, google_app, provider):
    provider.user["email"] = "Guest@Partner.example"
    assert sign_in_with_google(gclient, provider).status_code == 302
    assert [u.email for u in users(google_app)] == ["guest@partner.example"]


@pytest.mark.parametrize("verified", [False, "false", None])
def test_google_sign_in_refused_for_unverified_email(gclient, google_app, provider, verified):
    if verified is None:
        del provider.user["email_verified"]
    else:
        provider.user["email_verified"] = verified
    response = sign_in_with_google(gclient, provider)
    assert response.status_code == 403
    assert "not a verified Google address" in response.text
    assert users(google_app) == []


def test_google_callback_rejects_bad_state(gclient, google_app, provider):
    callback = start_google(gclient, provider).replace("state=", "state=forged")
    response = finish(gclient, callback)
    assert response.status_code == 400
    assert "expired or was opened in another browser" in response.text
    assert provider.token_requests == 0  # the code is never even redeemed
    assert users(google_app) == []


def test_google_callback_rejects_a_callback_nobody_started(gclient, google_app, provider):
    stranger = google_app.test_client()
    callback = start_google(stranger, provider)
    response = finish(gclient, callback)  # another browser, without the state in its session
    assert response.status_code == 400
    assert users(google_app) == []


def test_google_callback_cannot_be_replayed(gclient, google_app, provider):
    callback = start_google(gclient, provider)
    assert finish(gclient, callback).status_code == 302
    gclient.post("/logout", data={"csrf_token": csrf_token(gclient)})
    assert finish(gclient, callback).status_code == 400


@pytest.mark.parametrize("tamper", TAMPERINGS)
def test_google_callback_rejects_untrustworthy_id_token(gclient, google_app, provider, tamper):
    provider.tamper = tamper
    response = sign_in_with_google(gclient, provider)
    assert response.status_code == 400
    assert "could not be verified" in response.text
    assert users(google_app) == []
    assert gclient.get("/").status_code == 302


def test_google_callback_reports_a_refusal_at_the_provider(gclient):
    response = gclient.get("/auth/callback?error=access_denied")
    assert response.status_code == 400
    assert "access_denied" in response.text


def test_google_sign_in_shows_a_page_when_the_provider_is_unreachable(app, _schema, provider):
    dead = make_app(_schema, provider, GOOGLE_DISCOVERY_URL="http://127.0.0.1:9/nothing")
    response = dead.test_client().get("/login/google")
    assert response.status_code == 502
    assert "cannot be reached" in response.text


def test_google_sign_in_returns_to_the_page_asked_for(gclient, provider):
    first = gclient.get("/customers?q=asha")
    assert first.status_code == 302
    login = gclient.get(first.location)
    path = re.search(r'href="(/login/google[^"]*)"', login.text).group(1).replace("&amp;", "&")
    response = finish(gclient, start_google(gclient, provider, path))
    assert response.location == "/customers?q=asha"


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_google_sign_in_never_returns_to_another_site(gclient, provider, target):
    response = finish(gclient, start_google(gclient, provider, f"/login/google?next={target}"))
    assert response.location == "/"


def test_login_page_shows_google_button_when_configured(gclient):
    page = gclient.get("/login").text
    assert "Sign in with Google" in page
    assert "Sign in as demo user" not in page


def test_login_page_without_google_has_no_google_start(client):
    assert "Sign in with Google" not in client.get("/login").text
    assert client.get("/login/google").status_code == 404


def test_demo_login_is_not_found_when_dev_login_is_off(gclient):
    response = gclient.post("/login/demo", data={"csrf_token": csrf_token(gclient)})
    assert response.status_code == 404


def test_logout_needs_the_csrf_token(gclient, provider):
    sign_in_with_google(gclient, provider)
    assert gclient.post("/logout").status_code == 400
    assert gclient.get("/").status_code == 200


def test_logout_signs_out(gclient, provider):
    sign_in_with_google(gclient, provider)
    response = gclient.post("/logout", data={"csrf_token": csrf_token(gclient)})
    assert response.status_code == 302
    assert response.location == "/login"
    assert gclient.get("/").status_code == 302


def test_session_cookie_is_httponly_lax_and_secure_outside_demo(app, _schema, provider):
    secure = make_app(_schema, provider, SESSION_COOKIE_SECURE=True, PUBLIC_URL="https://localhost")
    client = secure.test_client()
    start = client.get("/login/google", base_url="https://localhost")
    cookie = start.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie
