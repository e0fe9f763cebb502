"""Customers and orders in: the ingestion API, `xeno import`, and the streams' bulk stores."""

from __future__ import annotations

from flask import Flask

from xeno.ingest import api
from xeno.ingest.store import store_customers, store_orders
from xeno.platform import streams


def init_app(app: Flask) -> None:
    """The ingestion endpoints and the customers and orders streams' stores."""
    app.register_blueprint(api.bp)
    streams.register(app, "customers", store_customers)
    streams.register(app, "orders", store_orders)
