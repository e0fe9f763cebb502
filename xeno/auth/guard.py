"""Who may call the API: bearer tokens everywhere, the web session where SPEC allows it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request
from flask_login import current_user

from xeno.auth.tokens import verify_token
from xeno.extensions import csrf
from xeno.platform.errors import Unauthorized

F = TypeVar("F", bound=Callable[..., Any])
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer` header, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _check_token() -> bool:
    token = bearer_token()
    if token is None:
        return False
    token_id = verify_token(token)
    if token_id is None:
        raise Unauthorized("the API token is invalid or revoked")
    g.api_token_id = token_id
    return True


def token_required(view: F) -> F:
    """Machine endpoints (ingestion): a bearer token and nothing else."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not _check_token():
            raise Unauthorized("send an API token: Authorization: Bearer <token>")
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def api_auth_required(view: F) -> F:
    """A bearer token, or the signed-in session with a CSRF header on state changes."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not _check_token():
            if not current_user.is_authenticated:
                raise Unauthorized("sign in or send an API token: Authorization: Bearer <token>")
            if request.method not in SAFE_METHODS:
                csrf.protect()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def current_actor() -> str | None:
    """Who is acting, for `created_by` columns: the user's email or the token's id."""
    if current_user and current_user.is_authenticated:
        return current_user.email
    token_id = g.get("api_token_id")
    return f"token:{token_id}" if token_id else None
