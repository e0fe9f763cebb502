"""Customers as marketers see them: the list, search and headline figures."""

from __future__ import annotations

from flask import Flask

from xeno.customers import api, pages


def init_app(app: Flask) -> None:
    """The customers API and page."""
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
