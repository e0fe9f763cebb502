"""Campaign pages through the Flask test client: history, new (no-JavaScript paths), detail."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from flask import Flask

from tests.helpers import customer, order, post_form, saved_segment
from xeno.db.models import Campaign, CommunicationLog
from xeno.extensions import db

MESSAGE = "Hi {{ first_name }} from {{ city | default('your city') }}"


@pytest.fixture(autouse=True)
def no_delivery(app: Flask) -> None:
    """Campaigns stay as created: these tests look at pages, not at delivery."""
    app.config["CAMPAIGN_AUTOSTART"] = False


@pytest.fixture
def shop(api) -> None:
    """Four customers, three of whom ordered."""
    people = [customer(1, name="Asha Rao"), customer(2, name="Ravi Kumar", city=None),
              customer(3), customer(4)]  # fmt: skip
    assert api.post_customers(people).status_code == 202
    orders = [order(1, 1, "500.00"), order(2, 2, "700.00"), order(3, 3, "900.00")]
    assert api.post_orders(orders).status_code == 202


def add_campaigns(app: Flask, count: int) -> list[int]:
    """Finished campaigns with growing creation times, named Campaign 1..count."""
    start = datetime(2025, 1, 1, 9, 0)
    with app.app_context():
        rows = [
            Campaign(
                name=f"Campaign {n}", rule="spend > 0", message="Hi", status="done",
                created_at=start + timedelta(hours=n), audience_size=10 * n,
                sent=8 * n, failed=n, pending=n,
            )
            for n in range(1, count + 1)
        ]  # fmt: skip
        db.session.add_all(rows)
        db.session.commit()
        return [c.id for c in rows]


def names(page: str) -> list[str]:
    """Campaign names in the history table, in order."""
    return re.findall(r'<a class="cell-main" href="/campaigns/\d+">([^<]*)</a>', page)


@pytest.mark.parametrize("path", ["/campaigns", "/campaigns/new", "/campaigns/1"])
def test_campaign_pages_signed_out_go_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/login" in response.location


def test_history_lists_most_recent_first_with_a_stacked_bar(app, signed_in):
    add_campaigns(app, 3)
    page = signed_in.get("/campaigns").get_data(as_text=True)
    assert names(page) == ["Campaign 3", "Campaign 2", "Campaign 1"]
    row = page[page.index("Campaign 3") :]
    assert '<td class="num" data-field="audience_size">30</td>' in row
    assert '<td class="num" data-field="sent">24</td>' in row
    assert '<td class="num" data-field="failed">3</td>' in row
    assert '<td class="num" data-field="pending">3</td>' in row
    assert '<rect class="bar-sent" x="0" y="0" width="80.00"' in row
    assert '<rect class="bar-failed" x="80.00" y="0" width="10.00"' in row
    assert "style=" not in page  # the CSP refuses inline styles


def test_history_pages_past_fifty(app, signed_in):
    add_campaigns(app, 52)
    first = signed_in.get("/campaigns").get_data(as_text=True)
    assert len(names(first)) == 50 and 'href="/campaigns?page=2"' in first
    second = signed_in.get("/campaigns?page=2").get_data(as_text=True)
    assert names(second) == ["Campaign 2", "Campaign 1"]
    assert "past the end" in signed_in.get("/campaigns?page=9").get_data(as_text=True)


def test_empty_history_invites_a_first_campaign(signed_in):
    assert "No campaigns yet." in signed_in.get("/campaigns").get_data(as_text=True)


def test_new_campaign_preselects_the_segment_from_the_list(app, signed_in):
    segment_id = saved_segment(app, "Loyal")
    page = signed_in.get(f"/campaigns/new?segment_id={segment_id}").get_data(as_text=True)
    assert re.search(rf'<option value="{segment_id}" selected>Loyal', page)
    assert 'id="audience-segment" name="audience" value="segment" checked' in page
    for variable in ("name", "first_name", "city", "email", "spend", "visits"):
        assert f'data-insert="{{{{ {variable} }}}}"' in page


def _confirm(client, **fields: str):
    """Step 1's submit, as a browser without JavaScript sends it (a GET)."""
    return client.get("/campaigns/confirm", query_string=fields)


def _count_campaigns(app: Flask) -> int:
    with app.app_context():
        n = db.session.query(Campaign).count()
        db.session.remove()
    return n


def test_the_form_draws_a_one_time_key_and_creates_nothing(app, signed_in, shop):
    page = signed_in.get("/campaigns/new").get_data(as_text=True)
    key = re.search(r'name="key" id="idempotency-key" value="([0-9a-f]{32})"', page).group(1)
    other = signed_in.get("/campaigns/new").get_data(as_text=True)
    assert key not in other
    assert 'method="get" action="/campaigns/confirm"' in page
    assert _count_campaigns(app) == 0


def test_confirmation_recounts_and_shows_the_breakdown_without_sending(app, api, signed_in,
                                                                        shop):
    api.post("/customers/C3/unsubscribe", None)
    page = _confirm(signed_in, audience="rule", rule="visits >= 1", message=MESSAGE,
                    key="k1").get_data(as_text=True)
    assert '<td class="num" id="confirm-matched">3</td>' in page
    assert '<td class="num" id="confirm-unsubscribed">− 1</td>' in page
    assert '<strong id="confirm-audience">2</strong>' in page
    assert "Send to 2 customers" in page
    assert "Hi Asha from Mumbai" in page and "Hi Ravi from your city" in page
    assert 'name="key" value="k1"' in page
    assert _count_campaigns(app) == 0


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"rule": "visits >", "message": "Hi"}, "line 1, column 9"),
        ({"rule": "visits > 1", "message": "Hi {{ customer.name }}"}, "attribute access"),
        ({"rule": "visits > 1", "message": "  "}, "message: String should have at least 1"),
    ],
)
def test_confirmation_sends_a_bad_form_back_to_step_one(signed_in, shop, fields, words):
    response = _confirm(signed_in, audience="rule", **fields)
    assert response.status_code == 422
    error = re.search(
        r'id="campaign-error"[^>]*>(.*?)</div>', response.get_data(as_text=True), re.S
    )
    assert words in error.group(1)


def test_send_creates_the_campaign_once_per_form_and_opens_its_page(app, signed_in, shop):
    segment_id = saved_segment(app, "Ordered", "visits >= 1")
    fields = dict(name="Thanks", audience="segment", segment_id=str(segment_id),
                  message=MESSAGE, key="form-1")
    response = post_form(signed_in, "/campaigns/send", **fields)
    assert response.status_code == 303
    campaign_id = int(response.location.rsplit("/", 1)[1])
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        assert (campaign.name, campaign.segment_id, campaign.audience_size) == (
            "Thanks", segment_id, 3,
        )  # fmt: skip
        assert campaign.created_by == "mona@xeno.test"
    again = post_form(signed_in, "/campaigns/send", **fields)  # reload, or Back then Send
    assert (again.status_code, again.location) == (303, response.location)
    assert _count_campaigns(app) == 1
    page = signed_in.get(response.location).get_data(as_text=True)
    assert '<span class="figure-value" id="figure-audience">3</span>' in page
    assert page.count("badge-log-pending") == 3
    assert "chart.umd.js" in page and 'id="delivery-chart"' in page


def test_a_new_form_for_the_same_campaign_is_warned_then_refused(app, signed_in, shop):
    fields = dict(audience="rule", rule="visits >= 1", message=MESSAGE)
    first = post_form(signed_in, "/campaigns/send", key="form-1", **fields)
    first_id = int(first.location.rsplit("/", 1)[1])
    warned = _confirm(signed_in, key="form-2", **fields).get_data(as_text=True)
    assert 'id="duplicate-warning"' in warned and f"/campaigns/{first_id}" in warned
    refused = post_form(signed_in, "/campaigns/send", key="form-2", **fields)
    assert refused.status_code == 409
    assert "in the last 24" in refused.get_data(as_text=True)
    assert _count_campaigns(app) == 1
    anyway = post_form(signed_in, "/campaigns/send", key="form-2", allow_duplicate="1",
                       **fields)
    assert anyway.status_code == 303 and _count_campaigns(app) == 2


def test_an_empty_audience_offers_no_send_button(app, signed_in, shop):
    page = _confirm(signed_in, audience="rule", rule="spend > 99999", message="Hi")
    text = page.get_data(as_text=True)
    assert 'id="empty-audience"' in text and 'id="send-button"' not in text
    refused = post_form(signed_in, "/campaigns/send", audience="rule", rule="spend > 99999",
                        message="Hi", key="k")
    assert refused.status_code == 422 and _count_campaigns(app) == 0


def test_detail_offers_retry_failed_and_send_again(app, api, signed_in, shop):
    created = api.post("/campaigns", {"rule": "visits >= 1", "message": MESSAGE,
                                      "name": "Thanks"}).json
    page = signed_in.get(f"/campaigns/{created['id']}").get_data(as_text=True)
    assert 'id="retry-form"' not in page  # nothing failed
    again = re.search(r'id="send-again" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    form = signed_in.get(again).get_data(as_text=True)
    assert 'id="audience-rule" name="audience" value="rule" checked' in form
    assert ">visits &gt;= 1</textarea>" in form and "Thanks" in form
    with app.app_context():
        db.session.query(CommunicationLog).filter(CommunicationLog.customer_id == 1).update(
            {"status": "FAILED"})
        campaign = db.session.get(Campaign, created["id"])
        campaign.failed, campaign.pending = 1, 2
        db.session.commit()
    page = signed_in.get(f"/campaigns/{created['id']}").get_data(as_text=True)
    key = re.search(r'name="key" value="([0-9a-f]{32})"', page).group(1)
    retried = post_form(signed_in, f"/campaigns/{created['id']}/retry", key=key)
    assert retried.status_code == 303
    twice = post_form(signed_in, f"/campaigns/{created['id']}/retry", key=key)  # double click
    assert twice.location == retried.location and _count_campaigns(app) == 2
    child = signed_in.get(retried.location).get_data(as_text=True)
    assert 'id="parent-note"' in child and f"/campaigns/{created['id']}" in child
    assert '<span class="figure-value" id="figure-audience">1</span>' in child


def test_detail_filters_the_log_by_status_and_pages_it(app, signed_in, api):
    assert api.post_customers([customer(n) for n in range(1, 61)]).status_code == 202
    created = api.post("/campaigns", {"rule": "visits = 0", "message": "Hi {{ name }}"}).json
    with app.app_context():
        db.session.query(CommunicationLog).filter(CommunicationLog.id % 3 == 0).update(
            {"status": "FAILED"}
        )
        campaign = db.session.get(Campaign, created["id"])
        campaign.failed, campaign.pending = 20, 40
        db.session.commit()
    base = f"/campaigns/{created['id']}"
    everything = signed_in.get(base).get_data(as_text=True)
    assert everything.count("<tr>") - 1 == 50  # header row + one page of 50
    assert "Page 1 of 2 · 60 messages" in everything
    assert f'href="{base}?page=2"' in everything
    failed = signed_in.get(f"{base}?status=FAILED").get_data(as_text=True)
    assert failed.count("badge-log-failed") == 20 and "badge-log-pending" not in failed
    assert '<option value="FAILED" selected>' in failed
    second = signed_in.get(f"{base}?status=pending&page=2").get_data(as_text=True)
    assert "No messages" not in second and second.count("badge-log-pending") == 0
    assert "No pending messages on this page." in second


def test_unknown_campaign_is_404(signed_in):
    assert signed_in.get("/campaigns/999").status_code == 404
