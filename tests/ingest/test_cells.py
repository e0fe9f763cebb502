"""The small parts of `xeno import`: amounts, dates, delimiters and the repeated-id counter."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from xeno.ingest.cells import check_date_format, parse_amount, parse_date
from xeno.ingest.importers import SeenIds
from xeno.ingest.sources import sniff_delimiter


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1299", "1299"),
        ("1299.00", "1299.00"),
        ("1,299.00", "1299.00"),
        ("1,299,000.5", "1299000.5"),
        ("1,29,999.50", "129999.50"),
        ("12,34,56,789", "123456789"),
        ("₹ 1,29,999.50", "129999.50"),
        ("₹1,299", "1299"),
        ("Rs. 1,299.00", "1299.00"),
        ("Rs 250", "250"),
        ("rs.250", "250"),
        ("INR 1 299.50", "1299.50"),
        ("  42.5  ", "42.5"),
        ("1\u00a0299", "1299"),  # a no-break space, as spreadsheets group thousands
        ("0", "0"),
        ("0.00", "0.00"),
        ("-5", "-5"),  # read as written; validation then refuses a negative amount
    ],
)
def test_amounts_read_as_written(text, amount):
    assert parse_amount(text) == Decimal(amount)


@pytest.mark.parametrize(
    "text",
    ["", "abc", "12,34", "1,2345", "1,299,00", "1.299,00", "1.2.3", "₹", "INR", "12abc",
     "$12", "12 ₹", "1e5", "NaN", "Infinity", ",123", "1,,299"],
)  # fmt: skip
def test_what_is_not_an_amount_is_refused_in_a_sentence(text):
    with pytest.raises(ValueError) as caught:
        parse_amount(text)
    assert str(caught.value) == (
        f'"{text.strip()}" is not an amount; write it like 1299.00, 1,299.00 or ₹ 1,29,999.50'
    )


def test_dates_follow_the_given_strftime_format():
    assert parse_date("19970101", "%Y%m%d") == "1997-01-01T00:00:00"
    assert parse_date(" 01/05/2024 ", "%d/%m/%Y") == "2024-05-01T00:00:00"
    assert parse_date("2024-05-01 10:00 +0530", "%Y-%m-%d %H:%M %z") == "2024-05-01T10:00:00+05:30"
    with pytest.raises(ValueError, match="does not match the date format %d/%m/%Y"):
        parse_date("2024-05-01", "%d/%m/%Y")


@pytest.mark.parametrize("fmt", ["%Q", "%", "no date here"])
def test_a_date_format_that_reads_no_date_is_refused(fmt):
    with pytest.raises(ValueError, match="strftime codes such as %d/%m/%Y"):
        check_date_format(fmt)


@pytest.mark.parametrize(
    ("sample", "delimiter"),
    [
        ("id,name,email\nC1,Asha,a@x.in\nC2,Ravi,r@x.in\n", ","),
        ("id;name;amount\nO1;C1;1,299.00\nO2;C2;12,34,567.00\n", ";"),
        ("id\tname\nC1\tAsha Rao\n", "\t"),
        ("id|name|city\nC1|Asha|Pune, MH\n", "|"),
        ('id,name,amount\nO1,C1,"1,299.00"\nO2,C2,"12,345.00"\n', ","),
        ("id\n", ","),
    ],
)
def test_delimiter_is_sniffed_among_the_four(sample, delimiter):
    assert sniff_delimiter(sample) == delimiter


def test_seen_ids_counts_repeats_across_growth():
    seen = SeenIds()
    ids = [f"O{n}" for n in range(50_000)]
    assert [seen.add(i) for i in ids[:5]] == [0, 0, 0, 0, 0]
    assert all(seen.add(i) == 0 for i in ids[5:])  # grows past its first 1024 slots
    random.seed(3)
    again = random.sample(ids, 500)
    assert [seen.add(i) for i in again] == [1] * 500
    assert [seen.add(i) for i in again[:10]] == [2] * 10
    assert seen.add("O50000") == 0 and seen.add("o1") == 0  # exact: case matters
