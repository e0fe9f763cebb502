"""Segments: rules over customers, counted, explained and saved."""

from __future__ import annotations

from flask import Flask

from xeno.segments import api, pages


def init_app(app: Flask) -> None:
    """The segments API and pages."""
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
