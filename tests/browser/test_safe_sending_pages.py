"""The three ways the new-campaign page used to mislead, in headless Chromium.

- Back after following a link showed the dropdown's segment with another audience's count;
- a double click, a reload or Back then Send created a second campaign;
- the first click sent, with no confirmation; the preview stayed up while the message was wrong.
"""

from __future__ import annotations

import re

import pytest

from tests.browser import BROWSER_MARKS

pytestmark = BROWSER_MARKS


def _campaigns(shop) -> int:
    response = shop.client.get("/api/v1/campaigns", headers=shop.headers)
    return response.json["total"]


def _segment(shop, name: str, rule: str) -> dict:
    found = [s for s in shop.client.get("/api/v1/segments?per_page=500",
                                        headers=shop.headers).json["items"] if s["name"] == name]
    return found[0] if found else shop.post("/segments", {"name": name, "rule": rule})


@pytest.fixture
def segments(shop):
    """Two segments of different sizes: a wrong preview cannot pass for the right one."""
    big = _segment(shop, "Ordered at all", "visits >= 1")
    small = _segment(shop, "Ordered 3 times", "visits >= 3")
    assert big["size"] != small["size"]
    return big, small


def _fill(page, shop, segment_id: int, message: str) -> None:
    from playwright.sync_api import expect

    page.goto(shop.url + "/campaigns/new")
    page.check("#audience-segment")
    page.select_option("#segment-id", str(segment_id))
    page.fill("#message", message)
    expect(page.locator("#review-button")).to_be_enabled()


def test_back_after_navigating_away_redraws_the_preview_of_the_selected_segment(
    page, shop, segments
):
    from playwright.sync_api import expect

    big, small = segments
    sizes = {big["id"]: big["size"], small["id"]: small["size"]}
    page.goto(shop.url + "/campaigns/new")
    # The segment the page draws selected, and the other one, which the marketer picks.
    drawn = int(page.locator("#segment-id").input_value())
    picked = big["id"] if drawn == small["id"] else small["id"]
    expect(page.locator("#campaign-audience")).to_have_text(str(sizes[drawn]))
    page.select_option("#segment-id", str(picked))
    expect(page.locator("#campaign-audience")).to_have_text(str(sizes[picked]))
    page.click("text=All campaigns")
    page.wait_for_url(shop.url + "/campaigns")
    page.go_back()  # the browser puts the picked segment back into the form it draws again
    page.wait_for_url(re.compile(r"/campaigns/new"))
    expect(page.locator("#segment-id")).to_have_value(str(picked))
    expect(page.locator("#campaign-audience")).to_have_text(str(sizes[picked]))
    expect(page.locator("#review-button")).to_be_enabled()
    # and every change after that is counted again before anything can be sent
    page.select_option("#segment-id", str(drawn))
    expect(page.locator("#campaign-audience")).to_have_text(str(sizes[drawn]))


def test_a_wrong_message_blocks_sending_until_it_is_fixed(page, shop, segments):
    from playwright.sync_api import expect

    big, _ = segments
    _fill(page, shop, big["id"], "Hi {{ first_name }}")
    page.fill("#message", "Hi {{ customer.name }}")
    expect(page.locator("#campaign-error")).to_contain_text("attribute access")
    expect(page.locator("#review-button")).to_be_disabled()
    expect(page.locator("#campaign-audience")).to_have_text("—")
    page.fill("#message", "Hi {{ first_name }}")
    expect(page.locator("#review-button")).to_be_enabled()
    expect(page.locator("#campaign-audience")).to_have_text(str(big["size"]))


def test_nothing_is_created_before_the_confirmation(page, shop, segments):
    from playwright.sync_api import expect

    _, small = segments
    before = _campaigns(shop)
    _fill(page, shop, small["id"], "Thanks for coming back, {{ first_name }}!")
    page.click("#review-button")
    page.wait_for_url(re.compile(r"/campaigns/confirm"))
    expect(page.locator("#confirm-matched")).to_have_text(str(small["size"]))
    expect(page.locator("#confirm-audience")).to_have_text(str(small["size"]))
    expect(page.locator("#send-button")).to_have_text(f"Send to {small['size']} customers")
    assert _campaigns(shop) == before
    page.reload()  # the confirmation is a GET: reloading it recounts and sends nothing
    expect(page.locator("#confirm-audience")).to_have_text(str(small["size"]))
    page.click("#edit-link")  # back to the form, with what was typed
    expect(page.locator("#message")).to_have_value("Thanks for coming back, {{ first_name }}!")
    assert _campaigns(shop) == before


def test_double_click_reload_and_back_then_send_make_one_campaign(page, shop, segments):
    from playwright.sync_api import expect

    big, _ = segments
    before = _campaigns(shop)
    _fill(page, shop, big["id"], "Only once, {{ first_name }}")
    page.click("#review-button")
    page.wait_for_url(re.compile(r"/campaigns/confirm"))
    page.dblclick("#send-button")
    page.wait_for_url(re.compile(r"/campaigns/\d+$"))
    sent_url = page.url
    assert _campaigns(shop) == before + 1
    page.reload()
    expect(page.locator("#figure-audience")).to_have_text(str(big["size"]))
    assert _campaigns(shop) == before + 1
    page.go_back()  # to the confirmation, then Send again
    page.wait_for_url(re.compile(r"/campaigns/confirm"))
    page.click("#send-button")
    page.wait_for_url(re.compile(r"/campaigns/\d+$"))
    assert page.url == sent_url  # the form's key answered with the same campaign
    assert _campaigns(shop) == before + 1
    page.go_back()
    page.go_back()  # to the form itself: a new review, then Send
    page.wait_for_url(re.compile(r"/campaigns/new"))
    expect(page.locator("#review-button")).to_be_enabled()
    page.click("#review-button")
    page.wait_for_url(re.compile(r"/campaigns/confirm"))
    expect(page.locator("#duplicate-warning")).to_be_visible()
    page.click("#send-button")
    page.wait_for_load_state()
    assert _campaigns(shop) == before + 1
