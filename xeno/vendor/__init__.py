"""The dummy vendor: takes messages at `/vendor/send`, reports each one to `/receipts`."""

from __future__ import annotations

from flask import Flask

from xeno.vendor import api


def init_app(app: Flask) -> None:
    """The vendor's endpoint."""
    app.register_blueprint(api.bp)
