"""schemathesis against /api/v1/openapi.json: no 5xx, no answer that breaks its schema.

Bounded: at most FUZZ_EXAMPLES generated requests per operation (about 20 operations),
through the WSGI app on the suite's database (SQLite, or MariaDB + Redis on the real run).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.helpers import customer, order

FUZZ_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]


@pytest.fixture
def fuzz_app(app, api):
    """The app with a few customers, orders, a segment and a campaign to find."""
    app.config["CAMPAIGN_AUTOSTART"] = False  # no vendor to call back here
    api.post_customers([customer(n) for n in range(1, 21)])
    api.post_orders([order(n, 1 + n % 20, f"{100 * n}.50") for n in range(1, 41)])
    api.post("/segments", {"name": "Big spenders", "rule": "spend > 1000"})
    api.post("/campaigns", {"name": "Hello", "rule": "visits >= 1", "message": "Hi [Name]"})
    app.config["FUZZ_TOKEN"] = api.token
    return app


@pytest.fixture
def api_schema(fuzz_app):
    """The app's own description, loaded through the app."""
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_within_its_description(case, fuzz_app):
    token = fuzz_app.config["FUZZ_TOKEN"]
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
