"""What tests do through the API, in one place (flaskr's AuthActions)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from xeno.auth.tokens import create_token
from xeno.platform.worker import QUEUES, AppWorker


class ApiActions:
    """A token-holding API client; `drain()` runs queued jobs when a real broker is used."""

    def __init__(self, app: Flask, client: FlaskClient) -> None:
        self.app = app
        self.client = client
        with app.app_context():
            self.token = create_token("tests")
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def post(self, path: str, body: Any, **kwargs: Any) -> TestResponse:
        """POST JSON with the token."""
        return self.client.post(f"/api/v1{path}", json=body, headers=self.headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        """GET with the token."""
        return self.client.get(f"/api/v1{path}", headers=self.headers, **kwargs)

    def post_customers(self, records: Any) -> TestResponse:
        """Publish customers and make sure they are applied."""
        response = self.post("/customers", records)
        self.drain()
        return response

    def post_orders(self, records: Any) -> TestResponse:
        """Publish orders and make sure they are applied."""
        response = self.post("/orders", records)
        self.drain()
        return response

    def drain(self) -> None:
        """Run every queued job to the end, in-process (no-op in embedded mode)."""
        if not self.app.config.get("REDIS_URL"):
            return
        conn = self.app.extensions["xeno_redis"]
        worker = AppWorker(list(QUEUES), connection=conn)
        worker.app = self.app
        worker.work(burst=True, logging_level="WARNING")
