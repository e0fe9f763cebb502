"""API tokens: shown once, stored as SHA-256, checked without a database trip per call."""

from __future__ import annotations

import hashlib
import secrets
import time

from flask import current_app
from sqlalchemy import select

from xeno.db.clock import utcnow
from xeno.db.models import ApiToken
from xeno.extensions import db

PREFIX = "xeno_"
# A revoked token stops working within this long; each process checks a token against the
# database at most once per period, so ingestion stays off the database all the same.
CACHE_SECONDS = 5.0


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(name: str) -> str:
    """Create a token named `name`; the plain value is returned once and never stored."""
    token = PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(name=name, token_hash=hash_token(token)))
    db.session.commit()
    return token


def verify_token(token: str) -> int | None:
    """Return the token's id if valid; cached briefly so ingestion stays off the database."""
    digest = hash_token(token)
    now = time.monotonic()
    # per app, not per module: two apps in one process (tests, CLI) never share answers
    _cache: dict[str, tuple[int | None, float]] = current_app.extensions.setdefault(
        "xeno_token_cache", {}
    )
    cached = _cache.get(digest)
    if cached and cached[1] > now:
        return cached[0]
    token_id = db.session.execute(
        select(ApiToken.id).where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None))
    ).scalar_one_or_none()
    if token_id is not None:  # at most once per CACHE_SECONDS per process
        db.session.execute(
            db.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow())
        )
    db.session.commit()
    # Unknown tokens are remembered for less time, so a new token works within seconds.
    _cache[digest] = (token_id, now + (CACHE_SECONDS if token_id else 2.0))
    if len(_cache) > 10_000:
        _cache.clear()
    return token_id


def revoke_tokens(name: str) -> int:
    """Revoke every live token named `name`; return how many.

    Running servers stop taking them within CACHE_SECONDS (their per-process cache).
    """
    result = db.session.execute(
        db.update(ApiToken)
        .where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    db.session.commit()
    return result.rowcount


def list_tokens() -> list[ApiToken]:
    """Every token, newest first (the hashes only; plain tokens are never kept)."""
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc())))
