"""Real headless Chromium: demo sign-in, dashboard, customers page, sign-out."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.browser import BROWSER_MARKS, launch
from tests.helpers import test_config
from xeno import create_app
from xeno.extensions import db

pytestmark = BROWSER_MARKS


@pytest.fixture
def live_server(app: Flask, _schema: str) -> Iterator[str]:
    """A demo-mode app served over HTTP on a free local port (tables cleaned by `app`)."""
    demo = create_app(test_config(_schema, DEV_LOGIN=True, SECRET_KEY="browser-test-secret"))
    server = make_server("127.0.0.1", 0, demo, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    with demo.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def page():
    """A fresh Chromium page; console errors (CSP violations included) are collected."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        tab = context.new_page()
        tab.set_default_timeout(10_000)
        tab.console_errors = []  # type: ignore[attr-defined]
        tab.on(
            "console",
            lambda msg: msg.type == "error" and tab.console_errors.append(msg.text),
        )
        yield tab
        browser.close()


def test_demo_sign_in_dashboard_and_customers_in_chromium(api, live_server, page, tmp_path):
    customers = [
        {"id": "B1", "name": "Asha Rao", "email": "asha@example.com", "city": "Mumbai"},
        {"id": "B2", "name": "Rahul Kumar", "email": "rahul@example.com", "city": "Pune"},
        {"id": "B3", "name": "Meera Shah", "email": "meera@example.com", "city": "Mumbai"},
    ]
    assert api.post_customers(customers).status_code == 202
    assert (
        api.post_orders(
            [
                {
                    "id": "BO1",
                    "customer_id": "B2",
                    "amount": 2599,
                    "ordered_at": "2024-10-01T12:30:00Z",
                }
            ]
        ).status_code
        == 202
    )

    page.goto(live_server + "/customers")
    assert page.url.startswith(live_server + "/login")
    page.screenshot(path=str(tmp_path / "login.png"))
    page.click("#demo-login")
    page.wait_for_url(live_server + "/customers")
    page.click("nav >> text=Dashboard")
    page.wait_for_url(live_server + "/")
    assert page.inner_text("h1") == "Dashboard"
    assert page.inner_text("#figure-customers") == "3"
    assert page.inner_text("#figure-revenue") == "₹2,599"
    assert "Demo Marketer" in page.inner_text(".topbar")
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

    page.click("nav >> text=Customers")
    page.wait_for_url(live_server + "/customers")
    assert page.locator("#customers-table tbody tr").count() == 3
    assert page.locator("#customers-table tbody tr").first.inner_text().startswith("Rahul Kumar")
    page.fill("input[name=q]", "mum")
    page.press("input[name=q]", "Enter")
    page.wait_for_url("**/customers?q=mum*")
    assert page.locator("#customers-table tbody tr").count() == 2
    page.select_option("select[name=sort]", "name")  # app.js submits on change
    page.wait_for_url("**sort=name*")
    names = page.locator("#customers-table .cell-main").all_inner_texts()
    assert names == ["Meera Shah", "Asha Rao"]  # name, high → low
    page.screenshot(path=str(tmp_path / "customers.png"), full_page=True)
    assert (tmp_path / "customers.png").stat().st_size > 1000

    page.click("text=Sign out")
    page.wait_for_url(live_server + "/login")
    assert page.console_errors == []
