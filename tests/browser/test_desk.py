"""The customer desk in headless Chromium: profiles reached from the list, a builder that never
drops an unfinished condition, and an edit made from an old copy of a segment."""

from __future__ import annotations

import re
from typing import Any

from tests.browser import BROWSER_MARKS

pytestmark = BROWSER_MARKS


def test_a_customers_list_row_opens_the_profile(page, shop, tmp_path):
    from playwright.sync_api import expect

    shop.post("/segments", {"name": "Desk: ordered", "rule": "visits >= 1"})
    shop.post("/segments", {"name": "Desk: nobody", "rule": "spend > 100000000"})
    page.goto(shop.url + "/customers?q=C1004")
    page.locator("#customers-table tbody tr").first.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/customers/C1004$"))
    expect(page.locator("#customer-name")).to_have_text("Shopper 4 Rao")
    profile = shop.client.get("/api/v1/customers/C1004", headers=shop.headers).json
    assert profile["orders_total"] == 4  # shopper n has n % 5 orders
    expect(page.locator("#orders-table tbody tr")).to_have_count(4)
    expect(page.locator("#figure-visits")).to_have_text("4")
    segments = page.locator("#customer-segments .customer-segment")
    expect(segments).to_have_count(1)
    expect(segments.first).to_contain_text("Desk: ordered")
    expect(segments.first.locator(".explain-node.is-true")).to_have_count(1)
    page.screenshot(path=str(tmp_path / "profile.png"), full_page=True)


def _rows(page: Any) -> Any:
    return page.locator("#builder .rb-condition")


def test_an_unfinished_condition_blocks_count_and_save_and_says_why(page, shop, tmp_path):
    from playwright.sync_api import expect

    page.goto(shop.url + "/segments/new")
    page.wait_for_selector("#builder .rb-group")
    page.fill("#segment-name", "Desk: unfinished")
    head = page.locator("#builder .rb-group-head").first
    head.get_by_role("button", name="+ Condition").click()
    row = _rows(page).last
    row.locator("select.rb-field").select_option("spend")
    expect(row).to_have_class(re.compile(r"\brb-unfinished\b"))
    expect(row.locator(".rb-problem")).to_contain_text("needs a value")
    expect(page.locator("#audience-count")).to_have_text("—")  # not a silent grey 0

    page.click("#count-button")
    status = page.locator("#builder-status")
    expect(status).to_have_text("Finish the marked condition first: spend needs a value.")
    expect(status).to_be_visible()

    row.locator("input.rb-value").fill("1e400")
    expect(row.locator("input.rb-value")).to_have_value("1e400")  # what was typed stays
    expect(row.locator(".rb-problem")).to_contain_text("“1e400” is not a number it can read")
    page.click("#save-button")
    expect(status).to_contain_text("“1e400” is not a number it can read")
    assert page.url.endswith("/segments/new")  # nothing saved, still here
    saved = shop.client.get("/api/v1/segments", headers=shop.headers).json["items"]
    assert "Desk: unfinished" not in [s["name"] for s in saved]

    # "+ Group" adds a group to fill in, not a blank condition
    head.get_by_role("button", name="+ Group").click()
    expect(_rows(page)).to_have_count(1)
    expect(page.locator("#builder .rb-empty")).to_contain_text("add a condition")

    row.locator("input.rb-value").fill("5000")
    expect(row).not_to_have_class(re.compile(r"\brb-unfinished\b"))
    expect(page.locator("#rule")).to_have_value("spend > 5000")
    expect(page.locator("#audience-count")).to_have_text(str(shop.count("spend > 5000")))
    page.screenshot(path=str(tmp_path / "finished.png"), full_page=True)
    page.click("#save-button")
    page.wait_for_url(re.compile(r"/campaigns\?saved=\d+$"))


def test_saving_over_someone_elses_change_offers_reload_or_overwrite(page, shop, tmp_path):
    from playwright.sync_api import expect

    segment = shop.post("/segments", {"name": "Desk: shared", "rule": "visits >= 2"})
    page.goto(shop.url + f"/segments/{segment['id']}/edit")
    expect(page.locator("#builder input.rb-value")).to_have_value("2")
    changed = shop.client.put(f"/api/v1/segments/{segment['id']}", headers=shop.headers,
                              json={"rule": "visits >= 3", "version": segment["version"]})
    assert changed.status_code == 200
    page.fill("#segment-name", "Desk: shared, renamed")
    page.click("#save-button")
    conflict = page.locator("#conflict-box")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text("visits >= 3")
    expect(page.locator("#conflict-reload")).to_be_visible()
    stored = shop.client.get(f"/api/v1/segments/{segment['id']}", headers=shop.headers).json
    assert (stored["name"], stored["rule"]) == ("Desk: shared", "visits >= 3")
    page.screenshot(path=str(tmp_path / "conflict.png"), full_page=True)
    page.click("#conflict-overwrite")
    page.wait_for_url(re.compile(r"/campaigns\?saved=\d+$"))
    stored = shop.client.get(f"/api/v1/segments/{segment['id']}", headers=shop.headers).json
    assert (stored["name"], stored["rule"], stored["version"]) == (
        "Desk: shared, renamed", "visits >= 2", 3)
