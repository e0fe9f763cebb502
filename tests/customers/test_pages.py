"""Dashboard, customers page and the customer list API."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from flask import Flask

from xeno.customers import service as customers_module
from xeno.db.models import Campaign
from xeno.extensions import db
from xeno.platform.filters import group_indian, indian_number, initials, inr, short_date

CUSTOMERS = [
    {"id": "C1", "name": "Asha Rao", "email": "asha@example.com", "city": "Mumbai",
     "phone": "+919812345678", "signup_at": "2024-05-01T10:00:00Z"},
    {"id": "C2", "name": "Rahul Kumar", "email": "rahul@gmail.com", "city": "Pune",
     "signup_at": "2024-06-01T10:00:00Z"},
    {"id": "C3", "name": "Meera Shah", "email": "meera@example.com", "city": "Mumbai",
     "signup_at": "2024-07-01T10:00:00Z"},
    {"id": "C4", "name": "100%_Pure Foods", "email": "orders@pure.example", "city": "Nagpur",
     "signup_at": "2024-08-01T10:00:00Z"},
]  # fmt: skip
ORDERS = [
    {"id": "O1", "customer_id": "C1", "amount": 123456.50, "ordered_at": "2024-10-01T12:30:00Z"},
    {"id": "O2", "customer_id": "C1", "amount": 1000.00, "ordered_at": "2024-10-03T12:30:00Z"},
    {"id": "O3", "customer_id": "C2", "amount": 500.00, "ordered_at": "2024-09-01T08:00:00Z"},
]


@pytest.fixture
def shop(api) -> None:
    """Four customers and three orders, stored."""
    assert api.post_customers(CUSTOMERS).status_code == 202
    assert api.post_orders(ORDERS).status_code == 202


def add_campaigns(app: Flask, count: int) -> None:
    """Campaign rows with growing creation times, named Campaign 1..count."""
    start = datetime(2025, 1, 1, 9, 0)
    with app.app_context():
        for n in range(1, count + 1):
            db.session.add(
                Campaign(
                    name=f"Campaign {n}", rule="spend > 0", message="Hi", status="done",
                    created_at=start + timedelta(hours=n), audience_size=10 * n,
                    sent=9 * n, failed=n, pending=0,
                )
            )  # fmt: skip
        db.session.commit()


def ids(response) -> list[str]:
    """External ids of a customer list answer, in order."""
    return [item["id"] for item in response.json["items"]]


# --- dashboard ---------------------------------------------------------------------------
def test_dashboard_shows_headline_figures(signed_in, shop):
    page = signed_in.get("/").text
    assert re.search(r'id="figure-customers">4<', page)
    assert re.search(r'id="figure-orders">3<', page)
    assert re.search(r'id="figure-revenue">₹1,24,957<', page)
    assert re.search(r'id="figure-average">₹41,652.17<', page)


def test_dashboard_shows_the_five_latest_campaigns_newest_first(app, signed_in):
    add_campaigns(app, 7)
    page = signed_in.get("/").text
    shown = re.findall(r'<a href="/campaigns/\d+">(Campaign \d+)</a>', page)
    assert shown == ["Campaign 7", "Campaign 6", "Campaign 5", "Campaign 4", "Campaign 3"]
    assert "63" in page and '<svg class="bar"' in page


def test_dashboard_without_campaigns_shows_an_empty_state(signed_in):
    page = signed_in.get("/").text
    assert "No campaigns yet" in page
    assert 'href="/segments"' in page


def test_shell_has_navigation_user_and_sign_out(signed_in):
    page = signed_in.get("/customers").text
    for href in ("/", "/customers", "/segments", "/campaigns"):
        assert f'href="{href}"' in page
    assert 'aria-current="page">Customers<' in page
    assert "Mona Marketer" in page and ">MM<" in page
    assert re.search(r'<form method="post" action="/logout"', page)
    assert re.search(r'<meta name="csrf-token" content="[^"]+">', page)


# --- customers page ----------------------------------------------------------------------
def test_customers_page_lists_customers_by_spend(signed_in, shop):
    page = signed_in.get("/customers").text
    assert "4 customers" in page
    names = re.findall(r'<span class="cell-main">([^<]+)</span>', page)
    assert names[:2] == ["Asha Rao", "Rahul Kumar"]
    assert "₹1,24,456.50" in page


@pytest.mark.parametrize(
    ("q", "expected"),
    [("mum", {"Asha Rao", "Meera Shah"}), ("rahul@", {"Rahul Kumar"}), ("C3", {"Meera Shah"})],
)
def test_customers_page_searches_name_email_city_and_id(signed_in, shop, q, expected):
    page = signed_in.get(f"/customers?q={q}").text
    assert set(re.findall(r'<span class="cell-main">([^<]+)</span>', page)) == expected


def test_customers_page_says_when_nothing_matches(signed_in, shop):
    page = signed_in.get("/customers?q=zzz").text
    assert "No customers match “zzz”" in page


def test_customers_page_pages_through_results(signed_in, shop):
    page = signed_in.get("/customers?per_page=25&page=1").text
    assert "Page 1 of 1" not in page  # a single page needs no pager
    past = signed_in.get("/customers?page=9").text
    assert "past the end of the list" in past


def test_customers_page_pager_links_to_the_next_page(api, signed_in):
    api.post_customers([{"id": f"P{n:02}", "name": f"Person {n:02}"} for n in range(30)])
    first = signed_in.get("/customers?per_page=25&sort=name&order=asc").text
    assert "Page 1 of 2" in first
    next_link = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "page=2" in next_link and "per_page=25" in next_link and "sort=name" in next_link
    second = signed_in.get(next_link).text
    assert "Page 2 of 2" in second
    assert re.findall(r'<span class="cell-main">([^<]+)</span>', second) == [
        f"Person {n}" for n in range(25, 30)
    ]


def test_customers_page_with_capped_count_says_so(signed_in, shop, monkeypatch):
    monkeypatch.setattr(customers_module, "COUNT_CAP", 1)
    page = signed_in.get("/customers?q=m").text
    assert "1+ match" in page


# --- customers API -----------------------------------------------------------------------
def test_customer_api_answers_spec_shape(api, shop):
    response = api.get("/customers?q=asha")
    assert response.status_code == 200
    assert response.json == {
        "items": [
            {
                "id": "C1",
                "name": "Asha Rao",
                "email": "asha@example.com",
                "phone": "+919812345678",
                "city": "Mumbai",
                "spend": 124456.5,
                "visits": 2,
                "avg_order": 62228.25,
                "last_visit": "2024-10-03T12:30:00Z",
                "signup": "2024-05-01T10:00:00Z",
                "unsubscribed_at": None,
            }
        ],
        "page": 1,
        "per_page": 50,
        "total": 1,
    }


@pytest.mark.parametrize(
    ("sort", "order", "expected"),
    [
        ("spend", "desc", ["C1", "C2", "C4", "C3"]),
        ("spend", "asc", ["C3", "C4", "C2", "C1"]),
        ("visits", "desc", ["C1", "C2", "C4", "C3"]),
        ("name", "asc", ["C4", "C1", "C3", "C2"]),
        ("name", "desc", ["C2", "C3", "C1", "C4"]),
        ("last_visit", "desc", ["C1", "C2", "C4", "C3"]),
    ],
)
def test_customer_api_sorts(api, shop, sort, order, expected):
    assert ids(api.get(f"/customers?sort={sort}&order={order}")) == expected


def test_customer_api_pages_and_past_the_end_is_empty(api, shop):
    first = api.get("/customers?per_page=3")
    second = api.get("/customers?per_page=3&page=2")
    past = api.get("/customers?per_page=3&page=3")
    assert (first.json["total"], first.json["per_page"]) == (4, 3)
    assert ids(first) + ids(second) == ["C1", "C2", "C4", "C3"]
    assert past.json["items"] == [] and past.json["page"] == 3


def test_customer_api_caps_per_page_at_500(api):
    assert api.get("/customers?per_page=5000").json["per_page"] == 500
    assert api.get("/customers").json["per_page"] == 50


@pytest.mark.parametrize("query", ["page=two", "per_page=x", "sort=age", "order=sideways"])
def test_customer_api_refuses_bad_arguments(api, query):
    response = api.get(f"/customers?{query}")
    assert response.status_code == 422
    assert response.json["error"] == "validation_failed"


def test_customer_search_treats_percent_and_underscore_as_plain_text(api, shop):
    assert ids(api.get("/customers?q=100%25_")) == ["C4"]
    assert ids(api.get("/customers?q=%25")) == ["C4"]  # a wildcard would match all four
    assert ids(api.get("/customers?q=_")) == ["C4"]
    assert ids(api.get("/customers?q=0%25_p")) == ["C4"]
    assert ids(api.get("/customers?q=a%25a")) == []


def test_customer_search_finds_the_text_anywhere(api, shop):
    assert ids(api.get("/customers?q=kumar")) == ["C2"]  # a surname
    assert ids(api.get("/customers?q=ASHA")) == ["C1"]
    assert ids(api.get("/customers?q=gmail")) == ["C2"]  # the middle of an email
    assert ids(api.get("/customers?q=umba")) == ["C1", "C3"]  # Mumbai; by spend, descending
    assert ids(api.get("/customers?q=C3")) == ["C3"]  # the exact id


def test_narrow_and_broad_searches_page_alike(api, shop, monkeypatch):
    """Under the cap the matches are sorted by id lookups; over it the sort index is walked."""
    pages = [f"/customers?q=a&sort=name&order=asc&per_page=2&page={p}" for p in (1, 2)]
    narrow = [ids(api.get(page)) for page in pages]
    monkeypatch.setattr(customers_module, "COUNT_CAP", 1)
    broad = [ids(api.get(page)) for page in pages]
    assert narrow == broad == [["C4", "C1"], ["C3", "C2"]]


def test_customer_api_works_with_the_session(signed_in, shop):
    assert signed_in.get("/api/v1/customers").json["total"] == 4


def test_customer_api_signed_out_is_401_json(client):
    response = client.get("/api/v1/customers")
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"


def test_unfiltered_total_is_cached_briefly(app, api, shop):
    app.config["FIGURES_CACHE_SECONDS"] = 60
    assert api.get("/customers").json["total"] == 4
    api.post_customers([{"id": "C5", "name": "New Person"}])
    assert api.get("/customers").json["total"] == 4
    assert api.get("/customers?q=new").json["total"] == 1  # searches always count
    app.extensions.pop("xeno_figures_cache")
    assert api.get("/customers").json["total"] == 5


# --- formatting --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("digits", "grouped"),
    [("1", "1"), ("999", "999"), ("1000", "1,000"), ("123456", "1,23,456"),
     ("12345678", "1,23,45,678")],
)  # fmt: skip
def test_group_indian(digits, grouped):
    assert group_indian(digits) == grouped


def test_money_and_number_filters():
    assert inr(1234567.5) == "₹12,34,567.50"
    assert inr("99.995") == "₹100.00"
    assert inr(1234567.5, 0) == "₹12,34,568"
    assert inr(-1500) == "-₹1,500.00"
    assert inr(None) == "₹0.00"
    assert indian_number(1000000) == "10,00,000"
    assert short_date("2024-10-03T12:30:00Z") == "3 Oct 2024"
    assert short_date(None) == "—"
    assert initials("asha rao") == "AR"
    assert initials("") == "?"


def test_customers_page_shows_consent_and_can_change_it(api, signed_in, shop):
    api.post("/customers/C2/unsubscribe", None)
    page = signed_in.get("/customers?sort=name&order=asc").text
    assert page.count("badge-unsubscribed") == 1
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    back = "/customers?sort=name&order=asc"
    done = signed_in.post("/customers/C1/consent", data={
        "csrf_token": token, "action": "unsubscribe", "next": back})
    assert (done.status_code, done.location) == (303, back)
    assert api.get("/customers?q=C1").json["items"][0]["unsubscribed_at"]
    elsewhere = signed_in.post("/customers/C2/consent", data={
        "csrf_token": token, "action": "resubscribe", "next": "https://evil.example/"})
    assert elsewhere.location == "/customers"  # never an open redirect
    assert api.get("/customers?q=C2").json["items"][0]["unsubscribed_at"] is None
    page = signed_in.get(back).text
    assert page.count("badge-unsubscribed") == 1 and "subscribed again" in page
    refused = signed_in.post("/customers/C1/consent", data={"action": "resubscribe"})
    assert refused.status_code == 400  # no CSRF token
