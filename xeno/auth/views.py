"""Sign-in through an OpenID Connect provider (Google by default), the demo sign-in, sign-out.

The provider is whatever XENO_GOOGLE_DISCOVERY_URL describes; XENO_SSO_NAME is what people
call it, on the button and in every message. Claims come from the verified id_token, or,
when it holds no email (OpenID Connect lets a provider keep claims for its UserInfo
endpoint), from UserInfo, asked with the access token just received.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.flask_client import FlaskOAuth2App
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from xeno.auth import sessions
from xeno.auth.rules import (
    ProviderUnavailable,
    SignInFailed,
    check_claims,
    demo_user,
    upsert_user,
)
from xeno.db.models import User
from xeno.extensions import csrf, oauth

bp = Blueprint("auth", __name__)

GOOGLE = "xeno_google"
NEXT_KEY = "xeno_next"


def register_google(app: Flask) -> None:
    """Build this app's OpenID client from discovery (none without GOOGLE_CLIENT_ID)."""
    if not app.config.get("GOOGLE_CLIENT_ID"):
        return
    # One client per app, not `oauth.register`: the shared registry caches clients by name,
    # so a second app in the same process (tests, CLI) would reuse the first one's settings.
    app.extensions[GOOGLE] = oauth.oauth2_client_cls(
        oauth.framework_integration_cls("google"),
        "google",
        client_id=app.config["GOOGLE_CLIENT_ID"],
        client_secret=app.config.get("GOOGLE_CLIENT_SECRET"),
        server_metadata_url=app.config["GOOGLE_DISCOVERY_URL"],
        client_kwargs={
            "scope": "openid email profile",
            "code_challenge_method": "S256",
            "default_timeout": 10,
        },
    )


def _google() -> FlaskOAuth2App:
    client = current_app.extensions.get(GOOGLE)
    if client is None:
        abort(404)
    return client


def safe_next(target: str | None) -> str:
    """A same-site path to return to after sign-in; anything else means the dashboard.

    Control characters are refused outright: CR/LF would split the Location header, and
    browsers drop tabs and newlines from URLs, so `/\t/evil.com` would leave the site.
    """
    if target and target.isprintable():
        parts = urlsplit(target)
        if (
            target.startswith("/")
            and not target.startswith(("//", "/\\"))
            and not parts.scheme
            and not parts.netloc
        ):
            return target
    return url_for("campaign_pages.dashboard")


def _sign_in(user: User) -> Response:
    target = safe_next(session.pop(NEXT_KEY, None) or request.form.get("next"))
    session.clear()  # nothing from before sign-in (OAuth state, old ids) survives it
    login_user(user)
    sessions.start(user)
    return redirect(target)


def _sso_name() -> str:
    return current_app.config["SSO_NAME"]


def _unreachable() -> ProviderUnavailable:
    return ProviderUnavailable(f"{_sso_name()} sign-in cannot be reached right now; try again.")


def _unverifiable() -> SignInFailed:
    return SignInFailed(
        f"{_sso_name()}'s answer could not be verified, so you were not signed in."
    )


@bp.get("/login")
def login():
    """The sign-in page."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    return render_template(
        "auth/login.html",
        google=GOOGLE in current_app.extensions,
        sso_name=_sso_name(),
        dev_login=current_app.config["DEV_LOGIN"],
        next=request.args.get("next", ""),
    )


@bp.get("/login/google")
def google_login():
    """Send the browser to the provider's consent screen (state and nonce kept in the session)."""
    client = _google()
    session[NEXT_KEY] = request.args.get("next", "")
    redirect_uri = current_app.config["PUBLIC_URL"] + url_for("auth.google_callback")
    try:
        return client.authorize_redirect(redirect_uri)
    except requests.RequestException as exc:
        raise _unreachable() from exc


@bp.get("/auth/callback")
def google_callback():
    """Finish sign-in: check state, nonce and the id_token (and UserInfo), then the allow-lists."""
    client = _google()
    if request.args.get("error"):
        reason = request.args.get("error_description") or request.args["error"]
        raise SignInFailed(f"{_sso_name()} did not sign you in ({reason}).")
    try:
        token = client.authorize_access_token()
    except MismatchingStateError as exc:
        raise SignInFailed(
            "This sign-in link has expired or was opened in another browser. Start again."
        ) from exc
    except (AuthlibBaseError, JoseError, ValueError) as exc:
        current_app.logger.warning("sign-in rejected: %r", exc)
        raise _unverifiable() from exc
    except requests.RequestException as exc:
        raise _unreachable() from exc
    claims = token.get("userinfo")
    if not claims:
        raise SignInFailed(
            f"{_sso_name()}'s answer held no identity token, so you were not signed in."
        )
    if not claims.get("email"):
        claims = _with_userinfo(client, token, claims)
    email, name, picture = check_claims(
        claims,
        current_app.config["ALLOWED_DOMAINS"],
        current_app.config["ALLOWED_EMAILS"],
        _sso_name(),
    )
    return _sign_in(upsert_user(email, name, picture))


def _with_userinfo(
    client: FlaskOAuth2App, token: dict[str, Any], claims: dict[str, Any]
) -> dict[str, Any]:
    """The id_token's claims completed from the UserInfo endpoint, for the same subject."""
    try:
        info = client.userinfo(token=token)
    except requests.HTTPError as exc:  # the provider answered, but not with claims
        current_app.logger.warning("UserInfo refused: %r", exc)
        raise _unreachable() from exc
    except requests.RequestException as exc:
        raise _unreachable() from exc
    except (AuthlibBaseError, ValueError) as exc:
        current_app.logger.warning("UserInfo unreadable: %r", exc)
        raise _unverifiable() from exc
    # OpenID Connect Core 5.3.2: UserInfo about another subject than the id_token must not
    # be used; otherwise the verified id_token vouches for these claims too.
    if not isinstance(info, dict) or info.get("sub") != claims.get("sub"):
        current_app.logger.warning("UserInfo subject differs from the id_token's")
        raise _unverifiable()
    return {**claims, **info}


@bp.post("/login/demo")
def demo_login():
    """Sign in as the demo user (demo mode only)."""
    if not current_app.config["DEV_LOGIN"]:
        abort(404)
    csrf.protect()
    return _sign_in(demo_user())


@bp.post("/logout")
def logout():
    """Sign out and forget the session."""
    csrf.protect()
    if current_user.is_authenticated:
        sessions.end(current_user)  # copies of this cookie die too, not just this browser's
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
