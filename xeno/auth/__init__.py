"""Who may use the app: OpenID Connect sign-in for people, hashed API tokens for shop systems."""

from __future__ import annotations

from flask import Flask

from xeno.auth import sessions, views
from xeno.extensions import login_manager


def init_app(app: Flask) -> None:
    """Sign-in pages, the session's user loader and the OpenID client."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the sign-in page says what to do; no flash needed
    login_manager.user_loader(sessions.load_user)
    views.register_google(app)
    app.register_blueprint(views.bp)
