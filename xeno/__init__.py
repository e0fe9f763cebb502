"""Xeno Mini CRM: the application factory."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from . import broker, config, logs, security
from .errors import register_error_handlers
from .extensions import csrf, db, login_manager, oauth


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then the environment, then the mapping a test passes."""
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.json.sort_keys = False  # keep SPEC's field order in responses
    app.config.update(WTF_CSRF_CHECK_DEFAULT=False, WTF_CSRF_TIME_LIMIT=None)
    app.config.update(config.from_environment(app.instance_path))
    if test_config:
        app.config.update(test_config)
    config.finalise(app.config)
    logs.init_app(app)

    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    oauth.init_app(app)
    broker.init_app(app)
    register_error_handlers(app)
    security.init_app(app)
    register_blueprints(app)
    return app


def register_blueprints(app: Flask) -> None:
    """Every HTTP face of the app."""
    from .blueprints import ids_fit_bigint

    app.url_value_preprocessor(ids_fit_bigint)
    from .blueprints import (
        api_campaigns,
        api_customers,
        api_docs,
        api_ingest,
        api_segments,
        auth,
        health,
        pages,
        vendor,
    )

    for module in (
        health, api_docs, api_ingest, api_customers, api_segments, api_campaigns, vendor,
        auth, pages,
    ):
        app.register_blueprint(module.bp)
    from .blueprints import pages_campaigns, pages_segments

    app.register_blueprint(pages_segments.bp)
    app.register_blueprint(pages_campaigns.bp)
