"""The campaign page's results panel and conversions chart, on a campaign with a holdout."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from tests.browser import BROWSER_MARKS

pytestmark = BROWSER_MARKS


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def test_results_panel_compares_recipients_with_the_holdout(page, shop, tmp_path):
    from playwright.sync_api import expect

    created = shop.post("/campaigns", {"name": "Coupon", "rule": "visits >= 0",
                                       "message": "Hi {{ name }}", "holdout_percent": 50,
                                       "attribution_days": 7})
    campaign_id = created["id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the dummy vendor answers over HTTP
        detail = shop.client.get(f"/api/v1/campaigns/{campaign_id}", headers=shop.headers).json
        if detail["status"] == "done":
            break
        time.sleep(0.2)
    assert detail["status"] == "done" and detail["holdout"] > 0
    soon = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    shop.post("/orders", [{"id": f"R{n}", "customer_id": f"C{1000 + n}", "amount": 1000 + n,
                           "ordered_at": soon} for n in range(1, 31, 2)])
    results = shop.client.get(f"/api/v1/campaigns/{campaign_id}/results",
                              headers=shop.headers).json
    assert results["recipients"]["converted"] + results["holdout"]["converted"] > 0

    page.goto(f"{shop.url}/campaigns/{campaign_id}")
    panel = page.locator("#results")
    expect(panel.locator("h2")).to_have_text("Did it work?")
    recipients = page.locator("#results-recipients td")
    holdout = page.locator("#results-holdout td")
    assert _number(recipients.nth(0).inner_text()) == detail["sent"]
    assert _number(holdout.nth(0).inner_text()) == detail["holdout"]
    assert _number(recipients.nth(1).inner_text()) == results["recipients"]["converted"]
    assert _number(holdout.nth(1).inner_text()) == results["holdout"]["converted"]
    assert _number(page.locator("#figure-holdout").inner_text()) == detail["holdout"]
    low, high = (x * 100 for x in results["uplift"]["ci95"])
    expect(page.locator("#results-ci")).to_have_text(f"{low:+.2f} to {high:+.2f} pts")
    words = page.locator("#results-words").inner_text()
    assert words.startswith("between ") and "points: " in words
    page.wait_for_function("() => !!Chart.getChart('conversions-chart')")
    series = page.evaluate(
        "() => Chart.getChart('conversions-chart').data.datasets.map(d => d.data)")
    assert [sum(s) for s in series] == [results["recipients"]["converted"],
                                        results["holdout"]["converted"]]
    page.screenshot(path=str(tmp_path / "results.png"), full_page=True)
