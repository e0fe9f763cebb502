"""Defaults every response gets: pages behind sign-in, CSRF on form posts, security headers."""

from __future__ import annotations

from flask import Flask, current_app, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from xeno.extensions import csrf

# Endpoints a signed-out browser may reach; everything else outside /api/ needs sign-in.
PUBLIC_ENDPOINTS = frozenset(
    {
        "auth.login",
        "auth.google_login",
        "auth.google_callback",
        "auth.demo_login",
        "static",
        "health.healthz",
    }
)
HSTS = "max-age=31536000"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def is_api_path(path: str) -> bool:
    """The JSON API authenticates per view (token, session or HMAC); pages are guarded here."""
    return path.startswith("/api/")


def guard_pages() -> Response | None:
    """Send signed-out browsers to sign-in, and check CSRF on every page form post."""
    if request.endpoint is None or is_api_path(request.path):
        return None  # 404/405 from routing, or an API view with its own authentication
    if request.endpoint not in PUBLIC_ENDPOINTS and not current_user.is_authenticated:
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        target = None if target == "/" else target
        return redirect(url_for("auth.login", next=target))
    if request.method not in SAFE_METHODS:
        csrf.protect()
    return None


def add_security_headers(response: Response) -> Response:
    """Refuse framing and sniffing, allow only this origin's scripts, styles and images."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        # Cookies that only travel over HTTPS mean the site is served over HTTPS: tell the
        # browser never to try plain HTTP, where the first request could be intercepted.
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if response.mimetype == "text/html":
        # Pages show personal data: never let a shared cache or the back button keep them.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    """Install the sign-in guard and the security headers on every request."""
    app.before_request(guard_pages)
    app.after_request(add_security_headers)
