"""The segment builder in headless Chromium against a live embedded-mode server.

The server always runs in embedded mode (SQLite file + in-process broker), also on the
real-server run, so these tests never skip there. One server and one browser serve the
module; every test signs in on a fresh browser context.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser import BROWSER_MARKS, SEED_RULES

pytestmark = BROWSER_MARKS


def open_builder(page: Any, shop: Any) -> None:
    """Open an empty builder and wait until its menus are drawn."""
    page.goto(shop.url + "/segments/new")
    page.wait_for_selector("#builder .rb-group")


def add_condition(page: Any, field: str, op: str, **value: str) -> None:
    """Add a condition to the top group and fill it in like a user would."""
    page.locator("#builder .rb-group-head").first.get_by_role("button", name="+ Condition").click()
    row = page.locator("#builder .rb-condition").last
    row.locator("select.rb-field").select_option(field)
    row.locator("select.rb-op").select_option(op)
    if "mode" in value:
        row.locator("select.rb-mode").select_option(value["mode"])
    if "amount" in value:
        row.locator("input.rb-amount").fill(value["amount"])
    if "unit" in value:
        row.locator("select.rb-unit").select_option(value["unit"])
    if "value" in value:
        row.locator("input.rb-value").fill(value["value"])
    if "list" in value:
        row.locator("input.rb-list").fill(value["list"])


def wait_for_count(page: Any, expected: int) -> None:
    """The live audience size settles on the expected plain number."""
    from playwright.sync_api import expect

    expect(page.locator("#audience-count")).to_have_text(str(expected))


def test_builder_builds_the_seed_examples_with_the_api_counts(page, shop, tmp_path):
    from playwright.sync_api import expect

    examples = [
        (SEED_RULES[0], [("spend", ">", {"value": "10000"}), ("visits", "<=", {"value": "3"})]),
        (SEED_RULES[1], [("inactive_days", ">", {"value": "90"})]),
        (SEED_RULES[2], [("last_visit", "<", {"mode": "relative", "amount": "3",
                                              "unit": "months"})]),
    ]  # fmt: skip
    counts = [shop.count(rule) for rule, _ in examples]
    assert all(counts) and len(set(counts)) == 3  # the shop tells the three apart
    for n, (rule, conditions) in enumerate(examples):
        open_builder(page, shop)
        total = shop.count("spend >= 0")
        wait_for_count(page, total)  # no conditions yet: every customer, no preview
        for field, op, value in conditions:
            add_condition(page, field, op, **value)
        expect(page.locator("#rule")).to_have_value(rule)
        wait_for_count(page, counts[n])
        expect(page.locator("#audience-sample tbody tr")).to_have_count(min(counts[n], 10))
        page.screenshot(path=str(tmp_path / f"example-{n + 1}.png"), full_page=True)
    # the relative date shows the window it resolved to
    expect(page.locator("#builder .rb-resolved").first).to_contain_text("before 20")


def test_builder_counts_each_condition_and_explains_a_customer(page, shop, tmp_path):
    from playwright.sync_api import expect

    rule = SEED_RULES[0]
    explained = shop.post("/segments/explain", {"rule": rule})["tree"]
    open_builder(page, shop)
    page.fill("#rule", rule)
    wait_for_count(page, explained["left_count"])
    counts = page.locator("#builder .rb-condition .rb-count")
    expect(counts).to_have_count(2)
    for i, child in enumerate(explained["children"]):
        expect(counts.nth(i)).to_have_text(
            f"{child['own_count']} match · {child['left_count']} left"
        )
    inside = shop.post("/segments/preview", {"rule": rule})["sample"][0]["id"]
    outside = shop.post("/segments/preview", {"rule": f"NOT ({rule})"})["sample"][0]["id"]
    for customer, verdict in ((inside, "in"), (outside, "out")):
        trace = shop.post("/segments/explain", {"rule": rule, "customer_id": customer})["tree"]
        page.fill("#why-customer", customer)
        page.click("#why-button")
        expect(page.locator("#why-result")).to_contain_text(f"({customer}) is {verdict}")
        marks = page.locator("#builder .rb-condition")
        for i, child in enumerate(trace["children"]):
            expected = "is-true" if child["matches"] else "is-false"
            expect(marks.nth(i)).to_have_class(re.compile(expected))
    page.screenshot(path=str(tmp_path / "why.png"), full_page=True)


def test_switching_between_text_and_builder_keeps_the_rule(page, shop, tmp_path):
    from playwright.sync_api import expect

    rule = '(spend >= 5000 OR visits > 3) AND NOT city IN ("Pune", "Nagpur")'
    open_builder(page, shop)
    page.fill("#rule", rule)
    wait_for_count(page, shop.count(rule))
    expect(page.locator("#builder .rb-condition")).to_have_count(3)
    expect(page.locator("#builder .rb-group")).to_have_count(3)  # top, the OR, the NOT
    expect(page.locator("#builder input.rb-list")).to_have_value("Pune, Nagpur")
    expect(page.locator("#builder input[type=checkbox]:checked")).to_have_count(1)
    # builder → text: change one value, the rest of the rule stays as it was
    page.locator("#builder .rb-condition").nth(1).locator("input.rb-value").fill("2")
    changed = '(spend >= 5000 OR visits > 2) AND NOT city IN ("Pune", "Nagpur")'
    expect(page.locator("#rule")).to_have_value(changed)
    wait_for_count(page, shop.count(changed))
    # switch the OR group to AND, then back again
    page.locator("#builder .rb-group .rb-group select").first.select_option("and")
    anded = 'spend >= 5000 AND visits > 2 AND NOT city IN ("Pune", "Nagpur")'
    expect(page.locator("#rule")).to_have_value(anded)
    wait_for_count(page, shop.count(anded))
    # text → builder again: edit the text, the builder follows
    page.fill("#rule", changed + " AND last_visit >= 2024-01-01")
    expect(page.locator("#builder .rb-condition")).to_have_count(4)
    expect(page.locator("#builder select.rb-mode").last).to_have_value("date")
    expect(page.locator("#builder input[type=date]")).to_have_value("2024-01-01")
    wait_for_count(page, shop.count(changed + " AND last_visit >= 2024-01-01"))
    page.screenshot(path=str(tmp_path / "round-trip.png"), full_page=True)


@pytest.mark.parametrize(
    "rule", ["spend > 10000 AND visits <=", "spnd > 5", "spend > 1 AND\ncity CONTAINS 5"]
)
def test_a_broken_rule_shows_its_error_at_the_spot(page, shop, tmp_path, rule):
    from playwright.sync_api import expect

    answer = shop.client.post(
        "/api/v1/segments/preview", json={"rule": rule}, headers=shop.headers
    ).json
    open_builder(page, shop)
    page.fill("#rule", rule)
    expect(page.locator("#rule-error")).to_be_visible()
    expect(page.locator("#rule-error")).to_contain_text(answer["message"])
    where = f"line {answer['line']}, column {answer['column']}"
    expect(page.locator("#rule-error-where")).to_have_text(where)
    line, caret = page.locator("#rule-error-context").inner_text().split("\n")[:2]
    assert line == rule.split("\n")[answer["line"] - 1]
    assert caret == " " * (answer["column"] - 1) + "^"
    expect(page.locator("#rule")).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=str(tmp_path / "error.png"), full_page=True)
    page.fill("#rule", "spend > 1")  # fixing it clears the error
    expect(page.locator("#rule-error")).to_be_hidden()


def test_saving_a_segment_lands_on_the_campaign_history(page, shop, tmp_path):
    from playwright.sync_api import expect

    open_builder(page, shop)
    add_condition(page, "spend", ">", value="10000")
    expect(page.locator("#rule")).to_have_value("spend > 10000")
    page.fill("#segment-name", "Big spenders")
    page.click("#save-button")
    page.wait_for_url(re.compile(r"/campaigns\?saved=\d+$"))
    expect(page.locator("h1")).to_have_text("Campaigns")
    expect(page.locator("#saved-notice")).to_contain_text("Big spenders")
    expect(page.locator("#saved-notice strong")).to_have_text(str(shop.count("spend > 10000")))
    page.screenshot(path=str(tmp_path / "saved.png"), full_page=True)
    page.goto(shop.url + "/segments")
    expect(page.locator("#segments-table")).to_contain_text("spend > 10000")
    # edit it: the builder opens on the saved rule, a change is saved with PUT
    page.locator("#segments-table tbody tr", has_text="Big spenders").get_by_role(
        "link", name="Edit"
    ).click()
    expect(page.locator("#builder input.rb-value")).to_have_value("10000")
    page.locator("#builder input.rb-value").fill("20000")
    expect(page.locator("#rule")).to_have_value("spend > 20000")
    page.click("#save-button")
    page.wait_for_url(re.compile(r"/campaigns\?saved=\d+$"))
    expect(page.locator("#saved-notice strong")).to_have_text(str(shop.count("spend > 20000")))


def test_a_plug_in_field_appears_in_the_builder_by_itself(page, shop):
    from playwright.sync_api import expect

    from xeno.dsl import Field, registry

    registry.register(Field("home_town", "text", lambda t: t.c.city, help="Where they live."))
    try:
        open_builder(page, shop)
        add_condition(page, "home_town", "starts with", value="Mum")
        expect(page.locator("#rule")).to_have_value('home_town STARTS WITH "Mum"')
        wait_for_count(page, shop.count('city STARTS WITH "Mum"'))
        ops = page.locator("#builder select.rb-op option").evaluate_all("o => o.map(x => x.value)")
        assert (
            ops == [f.describe() for f in registry.all() if f.name == "home_town"][0]["operators"]
        )
    finally:
        registry.unregister("home_town")
