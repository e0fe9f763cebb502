"""Start-up rules for sign-in: demo sign-in never beside Google in production, secrets required."""

from __future__ import annotations

import pytest

from tests.helpers import test_config
from xeno import create_app
from xeno.auth.rules import check_claims, is_allowed
from xeno.platform import config

PRODUCTION = {
    "XENO_SECRET_KEY": "s" * 32,
    "XENO_RECEIPT_SECRET": "r" * 32,
    "XENO_DATABASE_URL": "sqlite://",
}


def settings(**env: str) -> dict[str, object]:
    """The config a process with this environment would start with."""
    return config.from_environment("/tmp", env={**PRODUCTION, **env})


def test_demo_login_refused_with_google_client_id_when_debug_is_off():
    cfg = settings(XENO_DEV_LOGIN="1", GOOGLE_CLIENT_ID="id.apps.googleusercontent.com")
    with pytest.raises(config.ConfigError, match="XENO_DEV_LOGIN=1 is refused"):
        config.finalise(cfg)


def test_demo_login_refused_by_create_app_too(_schema):
    with pytest.raises(config.ConfigError, match="XENO_DEV_LOGIN"):
        create_app(test_config(_schema, DEV_LOGIN=True, GOOGLE_CLIENT_ID="id"))


def test_demo_login_beside_google_allowed_in_debug():
    cfg = settings(XENO_DEV_LOGIN="1", GOOGLE_CLIENT_ID="id.apps.googleusercontent.com")
    cfg["DEBUG"] = True
    config.finalise(cfg)
    assert cfg["DEV_LOGIN"] is True


@pytest.mark.parametrize("variable", ["XENO_SECRET_KEY", "XENO_RECEIPT_SECRET"])
def test_production_start_up_needs_secret(variable):
    env = {**PRODUCTION, variable: ""}
    cfg = config.from_environment("/tmp", env=env)
    with pytest.raises(config.ConfigError, match=variable):
        config.finalise(cfg)


def test_demo_mode_makes_up_secrets_and_allows_plain_http_cookies():
    cfg = config.from_environment("/tmp", env={"XENO_DEV_LOGIN": "1"})
    config.finalise(cfg)
    assert len(cfg["SECRET_KEY"]) >= 32
    assert cfg["SESSION_COOKIE_SECURE"] is False


def test_production_cookies_are_secure_httponly_and_lax():
    cfg = settings()
    config.finalise(cfg)
    assert cfg["SESSION_COOKIE_SECURE"] is True
    assert cfg["SESSION_COOKIE_HTTPONLY"] is True
    assert cfg["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_allow_lists_are_read_lower_case_from_comma_lists():
    cfg = settings(XENO_ALLOWED_DOMAINS=" Xeno.test, shop.IN ", XENO_ALLOWED_EMAILS="A@B.example")
    assert cfg["ALLOWED_DOMAINS"] == ("xeno.test", "shop.in")
    assert cfg["ALLOWED_EMAILS"] == ("a@b.example",)


@pytest.mark.parametrize(
    ("email", "allowed"),
    [
        ("asha@xeno.test", True),
        ("ASHA@XENO.TEST", True),
        ("a@sub.xeno.test", False),
        ("a@notxeno.test", False),
        ("boss@b.example", True),
        ("other@b.example", False),
    ],
)
def test_is_allowed_matches_whole_domain_or_listed_email(email, allowed):
    assert is_allowed(email, ("xeno.test",), ("boss@b.example",)) is allowed


def test_empty_allow_lists_let_any_verified_account_in():
    claims = {"email": "Someone@Gmail.com", "email_verified": True, "name": "S"}
    assert check_claims(claims, (), ()) == ("someone@gmail.com", "S", None)
