"""Sign-in with any OpenID Connect provider: claims from the id_token or from UserInfo, and
the provider's name (XENO_SSO_NAME) on the button and in messages (SPEC "Faults")."""

from __future__ import annotations

import pytest

from tests.auth.flows import make_app, sign_in_with_google, users
from xeno.platform import config


def test_sign_in_with_claims_only_from_userinfo(gclient, google_app, provider):
    provider.claims_in = "userinfo"
    response = sign_in_with_google(gclient, provider)
    assert response.status_code == 302, response.text
    assert response.location == "/"
    [user] = users(google_app)
    assert (user.email, user.name, user.picture) == (
        "asha@xeno.test",
        "Asha Rao",
        "https://example.invalid/asha.png",
    )
    assert provider.userinfo_requests == 1
    assert gclient.get("/").status_code == 200


def test_userinfo_is_not_asked_when_the_id_token_holds_the_email(gclient, google_app, provider):
    assert sign_in_with_google(gclient, provider).status_code == 302
    assert provider.userinfo_requests == 0
    assert [u.email for u in users(google_app)] == ["asha@xeno.test"]


def test_userinfo_claims_pass_the_same_allow_list(gclient, google_app, provider):
    provider.claims_in = "userinfo"
    provider.user["email"] = "mallory@evil.example"
    response = sign_in_with_google(gclient, provider)
    assert response.status_code == 403
    assert "not on this CRM" in response.text
    assert users(google_app) == []


@pytest.mark.parametrize("verified", [False, None])
def test_userinfo_email_must_be_verified(gclient, google_app, provider, verified):
    provider.claims_in = "userinfo"
    provider.userinfo_override = {"email_verified": verified}
    response = sign_in_with_google(gclient, provider)
    assert response.status_code == 403
    assert "not a verified Google address" in response.text
    assert users(google_app) == []


def test_userinfo_about_another_subject_is_refused(gclient, google_app, provider):
    provider.claims_in = "userinfo"
    provider.userinfo_override = {"sub": "someone-else"}
    response = sign_in_with_google(gclient, provider)
    assert response.status_code == 400
    assert "could not be verified" in response.text
    assert users(google_app) == []


def test_userinfo_without_an_email_says_so_with_the_provider_name(gclient, google_app, provider):
    provider.claims_in = "userinfo"
    del provider.user["email"]
    response = sign_in_with_google(gclient, provider)
    assert response.status_code == 403
    assert "Google did not share an email address" in response.text
    assert users(google_app) == []


def test_userinfo_endpoint_failing_is_a_page_not_a_crash(gclient, google_app, provider):
    provider.claims_in = "userinfo"
    provider.userinfo_status = 503
    response = sign_in_with_google(gclient, provider)
    assert response.status_code == 502
    assert "text/html" in response.content_type
    assert "cannot be reached" in response.text
    assert users(google_app) == []


def test_login_button_shows_the_default_provider_name(gclient):
    page = gclient.get("/login").text
    assert "Sign in with Google" in page


@pytest.fixture
def acme(app, _schema, provider):
    """An app whose provider is called "Acme ID"."""
    provider.reset()
    return make_app(_schema, provider, SSO_NAME="Acme ID")


def test_login_button_shows_xeno_sso_name(acme):
    page = acme.test_client().get("/login").text
    assert "Sign in with Acme ID" in page
    assert "Google" not in page


def test_messages_name_the_configured_provider(acme, provider):
    provider.user["email_verified"] = False
    response = sign_in_with_google(acme.test_client(), provider)
    assert response.status_code == 403
    assert "not a verified Acme ID address" in response.text
    assert "Google" not in response.text


def test_sso_name_and_discovery_url_come_from_the_environment():
    env = {
        "XENO_SSO_NAME": "Okta",
        "XENO_GOOGLE_DISCOVERY_URL": "https://id.example/.well-known/openid-configuration",
    }
    settings = config.from_environment("/tmp", env=env)
    assert settings["SSO_NAME"] == "Okta"
    assert settings["GOOGLE_DISCOVERY_URL"] == env["XENO_GOOGLE_DISCOVERY_URL"]
    defaults = config.from_environment("/tmp", env={"XENO_GOOGLE_DISCOVERY_URL": ""})
    assert defaults["SSO_NAME"] == "Google"
    assert defaults["GOOGLE_DISCOVERY_URL"].startswith("https://accounts.google.com/")
    assert defaults["SESSION_IDLE_HOURS"] == 12
    assert config.from_environment("/tmp", env={"XENO_SESSION_IDLE_HOURS": "2"})[
        "SESSION_IDLE_HOURS"
    ] == 2


@pytest.mark.parametrize("hours", ["soon", "0", "-1", "nan"])
def test_idle_hours_that_are_not_a_positive_number_stop_the_start(hours):
    with pytest.raises(config.ConfigError, match="XENO_SESSION_IDLE_HOURS"):
        config.from_environment("/tmp", env={"XENO_SESSION_IDLE_HOURS": hours})
