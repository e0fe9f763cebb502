"""SPEC's ingestion rules over HTTP: ISO dates only, amounts >= 0, `attributes` and its limits."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.helpers import customer, order
from xeno.db.models import Customer, Order
from xeno.extensions import db

ACCEPTED_FORM = "2024-05-01T10:00:00Z"


def nested(levels: int) -> dict:
    """An object `levels` deep, counting itself as level 1."""
    value: dict = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"next": value}
    return value


def test_free_order_is_stored_and_counts_as_a_visit(app, api):
    api.post_customers([customer(1)])
    response = api.post_orders([order(1, 1, amount=0), order(2, 1, amount="0.00")])
    assert response.status_code == 202, response.json
    with app.app_context():
        c1 = db.session.scalars(select(Customer)).one()
        assert (c1.visits, c1.total_spend) == (2, Decimal("0.00"))
        assert c1.last_visit_at is not None


@pytest.mark.parametrize(
    "when",
    [19970101, "19970101", "01/05/2024", 1714557600.0, "2024-05-01T10:00:00 IST", "May 1 2024"],
)
def test_dates_that_are_not_iso_strings_are_422_showing_the_accepted_form(api, when):
    response = api.post("/orders", [order(1, 1, ordered_at=when)])
    assert response.status_code == 422
    (error,) = response.json["errors"]
    assert error["field"] == "ordered_at"
    assert ACCEPTED_FORM in error["message"] and "ISO 8601" in error["message"]


@pytest.mark.parametrize("when", ["1899-12-31", "2101-01-01T00:00:00Z", "0001-01-01"])
def test_years_outside_1900_to_2100_are_refused(api, when):
    response = api.post("/customers", [customer(1, signup_at=when)])
    assert response.status_code == 422
    (error,) = response.json["errors"]
    assert error["field"] == "signup_at" and "outside 1900–2100" in error["message"]


@pytest.mark.parametrize(
    ("when", "stored"),
    [
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10)),
        ("2024-05-01T10:00:00+05:30", datetime(2024, 5, 1, 4, 30)),
        ("2024-05-01T10:00:00", datetime(2024, 5, 1, 10)),
        ("2024-05-01", datetime(2024, 5, 1)),
    ],
)
def test_iso_forms_are_read_as_spec_says(app, api, when, stored):
    assert api.post_customers([customer(1, signup_at=when)]).status_code == 202
    with app.app_context():
        assert db.session.scalars(select(Customer.signup_at)).one() == stored


def test_order_attributes_are_stored_and_replaced_by_a_resend(app, api):
    attributes = {"store": "Pune-2", "items": [{"sku": "A1", "qty": 2}], "gift": True}
    assert api.post_orders([order(1, 1, attributes=attributes)]).status_code == 202
    with app.app_context():
        assert db.session.scalars(select(Order.attributes)).one() == attributes
    api.post_orders([order(1, 1, attributes={"store": "Mumbai-1"})])
    with app.app_context():
        db.session.expire_all()
        assert db.session.scalars(select(Order.attributes)).one() == {"store": "Mumbai-1"}


def test_attributes_may_nest_ten_levels_not_eleven(app, api):
    assert api.post_orders([order(1, 1, attributes=nested(10))]).status_code == 202
    response = api.post("/orders", [order(2, 1, attributes=nested(11))])
    assert response.status_code == 422
    assert response.json["errors"] == [
        {"index": 0, "field": "attributes", "message": "nests deeper than 10 levels"}
    ]


def test_attributes_over_16_kib_are_refused_with_their_size(api):
    response = api.post("/customers", [customer(1, attributes={"note": "x" * 16_400})])
    assert response.status_code == 422
    (error,) = response.json["errors"]
    assert error["field"] == "attributes" and "at most 16384" in error["message"]


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (customer(1, name="Asha\x00Rao"), "name"),
        (customer(1, attributes={"deep": {"note": ["ok", "bad\x00"]}}), "attributes"),
        (customer(1, attributes={"key\x00": "v"}), "attributes"),
    ],
)
def test_nul_characters_are_refused_anywhere_in_a_record(api, record, field):
    response = api.post("/customers", [record])
    assert response.status_code == 422
    (error,) = response.json["errors"]
    assert error["field"] == field and "NUL character" in error["message"]


def test_field_messages_are_sentences_without_patterns(api):
    response = api.post("/customers", [customer(1, email="nobody", phone="call me")])
    messages = {e["field"]: e["message"] for e in response.json["errors"]}
    assert messages["email"] == "not an email address"
    assert messages["phone"].startswith("not a phone number")
    assert not any(mark in m for m in messages.values() for mark in ("^", "$", "[", "\\"))
