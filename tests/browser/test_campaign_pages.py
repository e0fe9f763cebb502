"""Campaign pages in headless Chromium: preview, send, watch delivery, filter the log."""

from __future__ import annotations

import re

from tests.browser import BROWSER_MARKS

pytestmark = BROWSER_MARKS


def figure(page, name: str) -> int:  # noqa: F811
    """A delivery figure on the detail page as a number."""
    return int(page.locator(f"#figure-{name}").inner_text().replace(",", ""))


def test_send_a_campaign_and_watch_sent_and_failed_add_up(page, shop, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    segment = shop.post("/segments", {"name": "Everyone who ordered", "rule": "visits >= 1"})
    page.goto(f"{shop.url}/campaigns/new?segment_id={segment['id']}")
    expect(page.locator("#segment-id")).to_have_value(str(segment["id"]))
    message = page.locator("#message")
    message.fill("Hi ")
    message.press("End")
    page.get_by_role("button", name="Insert the first name variable").click()
    message.press("End")
    message.type(", see you in ")
    page.get_by_role("button", name="Insert the city variable").click()
    expect(message).to_have_value("Hi {{ first_name }}, see you in {{ city }}")
    expect(page.locator("#campaign-audience")).to_have_text(str(segment["size"]))
    previews = page.locator("#message-previews li")
    expect(previews).to_have_count(5)
    expected = shop.post(
        "/campaigns/preview",
        {"segment_id": segment["id"], "message": "Hi {{ first_name }}, see you in {{ city }}"},
    )
    expect(previews.first.locator(".message-text")).to_have_text(expected["messages"][0]["text"])
    page.fill("#campaign-name", "Thank-you note")
    page.screenshot(path=str(tmp_path / "new.png"), full_page=True)

    page.click("#review-button")
    page.wait_for_url(re.compile(r"/campaigns/confirm"))
    expect(page.locator("#confirm-audience")).to_have_text(str(segment["size"]))
    page.click("#send-button")
    page.wait_for_url(re.compile(r"/campaigns/\d+$"))
    expect(page.locator("h1")).to_have_text("Thank-you note")
    assert page.evaluate("() => !!window.Chart && !!Chart.getChart('delivery-chart')")
    expect(page.locator("#campaign-status")).to_have_text("done", timeout=30_000)
    audience = figure(page, "audience")
    assert audience == segment["size"]
    assert figure(page, "sent") + figure(page, "failed") == audience
    assert figure(page, "pending") == 0
    chart = page.evaluate("() => Chart.getChart('delivery-chart').data.datasets[0].data")
    assert chart == [figure(page, "sent"), figure(page, "failed"), 0]
    expect(page.locator("#log-table tbody tr")).to_have_count(audience)
    expect(page.locator("#log-table tbody .badge-log-pending")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "detail.png"), full_page=True)

    failed = figure(page, "failed")
    page.select_option("#log-status", "FAILED")  # app.js submits the GET form
    page.wait_for_url(re.compile(r"status=FAILED"))
    if failed:
        expect(page.locator("#log-table tbody .badge-log-failed")).to_have_count(failed)
    else:
        expect(page.locator("#log-table tbody .empty-row")).to_have_count(1)

    page.goto(shop.url + "/campaigns")
    row = page.locator("#campaigns-table tbody tr").first
    expect(row).to_contain_text("Thank-you note")
    expect(row.locator('[data-field="status"]')).to_have_text("done")
    page.screenshot(path=str(tmp_path / "history.png"), full_page=True)


def test_new_campaign_shows_template_and_rule_errors(page, shop, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    page.goto(shop.url + "/campaigns/new")
    page.check("#audience-rule")
    page.fill("#campaign-rule", "spend >")
    expect(page.locator("#campaign-error")).to_contain_text("line 1, column 8")
    page.fill("#campaign-rule", "spend > 10000")
    page.fill("#message", "Hi {{ customer.name }}")
    expect(page.locator("#campaign-error")).to_contain_text("attribute access")
    page.fill("#message", "Hi [Name]")
    expect(page.locator("#campaign-error")).to_be_hidden()
    expect(page.locator("#campaign-audience")).to_have_text(str(shop.count("spend > 10000")))
    page.screenshot(path=str(tmp_path / "errors.png"), full_page=True)
