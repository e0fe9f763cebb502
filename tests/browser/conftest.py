"""Browser fixtures: one live embedded-mode server and one Chromium per module, a signed-in tab."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.browser import launch
from tests.helpers import test_config
from xeno import create_app
from xeno.auth.tokens import create_token
from xeno.extensions import db

# a rule (400), duplicate campaign or edit conflict (409) or template (422) error is an
# answer the page shows; Chromium logs it too
EXPECTED = re.compile(
    r"Failed to load resource: the server responded with a status of (400|409|422)"
)


def _when(days_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def shop_records() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """30 customers whose spend, visits and last visit spread over the seed's examples."""
    cities = ["Mumbai", "Pune", "Nagpur", "Delhi", ""]
    customers, orders = [], []
    for n in range(1, 31):
        customers.append({
            "id": f"C{1000 + n}", "name": f"Shopper {n} Rao", "email": f"s{n}@example.com",
            "city": cities[n % 5], "signup_at": _when(400 - n),
        })  # fmt: skip
        for k in range(n % 5):  # 0 to 4 orders
            orders.append({
                "id": f"O{n}-{k}", "customer_id": f"C{1000 + n}",
                "amount": 1500 + (n * 977 + k * 3001) % 9000,
                # half a day off whole days: "3 months ago" may be a whole number of days
                "ordered_at": _when(n * 7 + k + 0.5),
            })  # fmt: skip
    return customers, orders


class Shop:
    """The live server's URL and an API client on the same app (token-authenticated)."""

    def __init__(self, app: Flask, url: str) -> None:
        self.app, self.url = app, url
        self.client = app.test_client()
        with app.app_context():
            self.headers = {"Authorization": f"Bearer {create_token('browser-tests')}"}

    def post(self, path: str, body: Any) -> Any:
        """POST to the JSON API; return the parsed answer."""
        response = self.client.post(f"/api/v1{path}", json=body, headers=self.headers)
        assert response.status_code < 300, response.get_data(as_text=True)
        return response.json

    def count(self, rule: str) -> int:
        """The API's audience size for a rule."""
        return self.post("/segments/preview", {"rule": rule})["count"]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """A demo-mode app on its own SQLite file, served over HTTP, with the shop stored."""
    path = tmp_path_factory.mktemp("builder") / "shop.sqlite3"
    app = create_app(test_config(
        f"sqlite:///{path}", REDIS_URL=None, DEV_LOGIN=True, SECRET_KEY="builder-test-secret",
    ))  # fmt: skip
    with app.app_context():
        db.create_all()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_URL"] = url  # the dummy vendor calls the receipts API back here
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    shop = Shop(app, url)
    customers, orders = shop_records()
    shop.post("/customers", customers)  # embedded mode stores before answering
    shop.post("/orders", orders)
    yield shop
    server.shutdown()
    server.server_close()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, shop: Shop, tmp_path: Path) -> Iterator[Any]:
    """A signed-in tab; console errors (CSP violations included) must stay empty."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    errors: list[str] = []
    tab.on(
        "console",
        lambda msg: (
            msg.type == "error" and not EXPECTED.match(msg.text) and errors.append(msg.text)
        ),
    )
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto(shop.url + "/login")
    tab.click("#demo-login")
    tab.wait_for_url(shop.url + "/")
    yield tab
    tab.screenshot(path=str(tmp_path / "last.png"), full_page=True)
    context.close()
    assert errors == []
