"""Segments: rules over customers, counted, explained and saved."""

from __future__ import annotations

from flask import Flask

from xeno.customers.profile import register_section
from xeno.segments import api, pages
from xeno.segments.holding import holding


def init_app(app: Flask) -> None:
    """The segments API and pages, and the segments section of customer profiles."""
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    register_section(app, "segments", holding)
