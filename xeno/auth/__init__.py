"""Who may use the app: Google sign-in for people, hashed API tokens for shop systems."""

from __future__ import annotations

from flask import Flask

from xeno.auth import views
from xeno.db.models import User
from xeno.extensions import db, login_manager


def load_user(user_id: str) -> User | None:
    """Flask-Login's session lookup."""
    return db.session.get(User, int(user_id))


def init_app(app: Flask) -> None:
    """Sign-in pages, the session's user loader and the OpenID client."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the sign-in page says what to do; no flash needed
    login_manager.user_loader(load_user)
    views.register_google(app)
    app.register_blueprint(views.bp)
