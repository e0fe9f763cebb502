"""Signed-in sessions that can end: at sign-out, after idle hours, and 7 days after sign-in.

Flask's session is a signed cookie, so nothing on the server forgets it by itself: a copy
taken before sign-out would keep working until its signature expired. Each session
therefore carries the user's `session_generation` from the moment it began, and sign-out
moves the user's generation on, so every earlier cookie of that user stops loading a user.
The sign-in time and the last use are kept in the cookie too (the signature makes them
tamper-proof); the last use is rewritten at most once a minute, so an active page does not
send a new cookie with every response.
"""

from __future__ import annotations

import time
from typing import Any

from flask import current_app, session
from sqlalchemy import update

from xeno.db.models import User
from xeno.extensions import db
from xeno.platform.config import SESSION_MAX_AGE

GENERATION = "xeno_gen"
SIGNED_IN_AT = "xeno_signed_in"
SEEN_AT = "xeno_seen"
SEEN_EVERY = 60  # seconds between rewrites of the last use


def values_for(user: User, now: float | None = None) -> dict[str, Any]:
    """What a session signed in as `user` holds besides Flask-Login's own keys."""
    now = time.time() if now is None else now
    return {GENERATION: user.session_generation or 0, SIGNED_IN_AT: now, SEEN_AT: now}


def start(user: User) -> None:
    """Mark the current session as signed in now, in the user's current generation."""
    session.update(values_for(user))


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the user, unless this session has ended."""
    try:
        user = db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    if user is None or not _alive(user, time.time()):
        _forget()
        return None
    return user


def _alive(user: User, now: float) -> bool:
    generation, signed_in, seen = (session.get(k) for k in (GENERATION, SIGNED_IN_AT, SEEN_AT))
    # A session without these began before sessions could end, or was never signed in here.
    if not isinstance(generation, int) or not all(
        isinstance(t, (int, float)) for t in (signed_in, seen)
    ):
        return False
    if generation != user.session_generation:
        return False
    idle = current_app.config["SESSION_IDLE_HOURS"] * 3600
    if now - signed_in > SESSION_MAX_AGE.total_seconds() or now - seen > idle:
        return False
    if now - seen >= SEEN_EVERY:
        session[SEEN_AT] = now
    return True


def _forget() -> None:
    for key in ("_user_id", "_fresh", "_id", GENERATION, SIGNED_IN_AT, SEEN_AT):
        session.pop(key, None)


def end(user: User) -> None:
    """End every session of `user` (this one and any copy of its cookie)."""
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(session_generation=User.session_generation + 1)
    )
    db.session.commit()
