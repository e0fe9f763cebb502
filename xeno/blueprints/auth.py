"""Sign-in and sign-out (minimal: demo sign-in only, Google comes with the sign-in work)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, url_for
from flask_login import login_user, logout_user

from ..extensions import csrf, db, login_manager
from ..models import User, utcnow

bp = Blueprint("auth", __name__)
login_manager.login_view = "auth.login"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Flask-Login's session lookup."""
    return db.session.get(User, int(user_id))


@bp.get("/login")
def login():
    """The sign-in page."""
    return render_template("login.html", dev_login=current_app.config["DEV_LOGIN"])


@bp.post("/login/demo")
def demo_login():
    """Sign in as the demo user (demo mode only)."""
    if not current_app.config["DEV_LOGIN"]:
        abort(404)
    csrf.protect()
    user = db.session.scalar(db.select(User).where(User.email == "demo@xeno.local"))
    if user is None:
        user = User(email="demo@xeno.local", name="Demo Marketer")
        db.session.add(user)
    user.last_login_at = utcnow()
    db.session.commit()
    login_user(user)
    return redirect(url_for("pages.dashboard"))


@bp.post("/logout")
def logout():
    """Sign out."""
    csrf.protect()
    logout_user()
    return redirect(url_for("auth.login"))
