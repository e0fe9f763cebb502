"""Sign-in rules: who may come in, and the users table kept in step with the provider."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from xeno.db.clock import utcnow
from xeno.db.models import User
from xeno.extensions import db
from xeno.platform.errors import XenoError

DEMO_EMAIL = "demo@xeno.local"
DEMO_NAME = "Demo Marketer"


class SignInRefused(XenoError, status=403, code="sign_in_refused"):
    """The identity provider vouched for the person, but this CRM does not let them in."""


class SignInFailed(XenoError, status=400, code="sign_in_failed"):
    """The answer from the identity provider could not be trusted (state, signature, claims)."""


class ProviderUnavailable(XenoError, status=502, code="provider_unavailable"):
    """The identity provider could not be reached."""


def is_allowed(email: str, domains: Iterable[str], emails: Iterable[str]) -> bool:
    """True when the allow-lists are empty or name this address or its domain."""
    email = email.strip().lower()
    domains, emails = tuple(domains), tuple(emails)
    if not domains and not emails:
        return True
    domain = email.rpartition("@")[2]
    return email in emails or domain in domains


def check_claims(
    claims: Mapping[str, Any],
    domains: Iterable[str],
    emails: Iterable[str],
    provider: str = "Google",
) -> tuple[str, str | None, str | None]:
    """Return (email, name, picture) of verified, allowed claims, or raise `SignInRefused`.

    `provider` is the identity provider's name as people know it (XENO_SSO_NAME).
    """
    email = str(claims.get("email") or "").strip().lower()
    if not email or "@" not in email:
        raise SignInRefused(f"{provider} did not share an email address for this account.")
    # Google sends a JSON boolean; accept the string form some providers use, nothing else.
    verified = claims.get("email_verified")
    if verified is not True and str(verified).lower() != "true":
        raise SignInRefused(
            f"{email} is not a verified {provider} address, so it cannot sign in here."
        )
    if not is_allowed(email, domains, emails):
        raise SignInRefused(
            f"{email} is not on this CRM's list of people who may sign in. "
            "Ask an administrator to add you."
        )
    name = str(claims.get("name") or "").strip()[:200] or None
    picture = str(claims.get("picture") or "").strip()[:500] or None
    return email, name, picture


def upsert_user(email: str, name: str | None, picture: str | None) -> User:
    """Create the user on first sign-in, refresh name, picture and last sign-in after."""
    now = utcnow()
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, first_login_at=now)
        db.session.add(user)
    user.name = name or user.name
    user.picture = picture or user.picture
    user.last_login_at = now
    try:
        db.session.commit()
    except IntegrityError:  # the same person signed in twice at once: the other insert won
        db.session.rollback()
        return upsert_user(email, name, picture)
    return user


def demo_user() -> User:
    """The local demo account that demo mode signs in as."""
    return upsert_user(DEMO_EMAIL, DEMO_NAME, None)
