"""Xeno Mini CRM: the application factory."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from xeno import auth, campaigns, customers, ingest, segments, vendor
from xeno.extensions import csrf, db, login_manager, oauth
from xeno.platform import api_docs, broker, config, filters, health, logs, security
from xeno.platform.errors import register_error_handlers
from xeno.platform.http import ids_fit_bigint

# Each domain's init_app registers its blueprints and stream stores; order is not significant.
DOMAINS = (auth, ingest, customers, segments, campaigns, vendor)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then the environment, then the mapping a test passes."""
    config.load_env_file()
    app = Flask(__name__, instance_path=config.instance_path(), instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.json.sort_keys = False  # keep SPEC's field order in responses
    app.config.update(WTF_CSRF_CHECK_DEFAULT=False, WTF_CSRF_TIME_LIMIT=None)
    app.config.update(config.from_environment(app.instance_path))
    if test_config:
        app.config.update(test_config)
    config.finalise(app.config)
    logs.init_app(app)

    try:
        db.init_app(app)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        driver = app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0]
        raise config.ConfigError(
            f"XENO_DATABASE_URL asks for {driver}, which this installation cannot use ({exc})"
        ) from None
    csrf.init_app(app)
    login_manager.init_app(app)
    oauth.init_app(app)
    try:
        broker.init_app(app)
    except ValueError:
        raise config.ConfigError(
            "XENO_REDIS_URL is not a Redis URL; write it like redis://host:6379/0"
        ) from None
    register_error_handlers(app)
    security.init_app(app)
    filters.init_app(app)
    app.url_value_preprocessor(ids_fit_bigint)
    app.register_blueprint(health.bp)
    app.register_blueprint(api_docs.bp)
    for domain in DOMAINS:
        domain.init_app(app)
    return app
