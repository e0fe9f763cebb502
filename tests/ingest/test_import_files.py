"""`xeno import` on the files a shop's export really produces: each failure the import of
real data once met, with the file built here, checked by exit status, rows stored, the
summary line, the rejected-lines file and the columns that went to `attributes`."""

from __future__ import annotations

import csv
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from xeno.db.models import Customer, Order
from xeno.extensions import db

SUMMARY = re.compile(
    r"read (\d+), stored (\d+), rejected (\d+), repeated (\d+) in \d+\.\d\d s \(\d+ rows/s\)"
)
# What a regular expression or a Python repr leaves in a message; none may reach a user.
NOT_PLAIN = ("^", "[^", "\\s", "(?", "{'", "Decimal(", "datetime.", "Traceback", "input_value",
             "type=", "errors.pydantic")  # fmt: skip
ORDERS_HEADER = "id,customer_id,amount,ordered_at"


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding, newline="")
    return path


def run(runner, api, kind: str, path: Path, *options: str):
    result = runner.invoke(args=["import", kind, str(path), *options])
    api.drain()
    return result


def figures(result) -> tuple[int, int, int, int]:
    """read, stored, rejected, repeated from the summary's last line."""
    last = result.output.strip().splitlines()[-1]
    match = SUMMARY.fullmatch(last)
    assert match, f"the summary ends with the figures line, not: {last!r}"
    return tuple(int(n) for n in match.groups())  # type: ignore[return-value]


def assert_plain(text: str) -> None:
    found = [mark for mark in NOT_PLAIN if mark in text]
    assert not found, f"{found} in: {text}"


def rejected_rows(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def orders(app) -> dict[str, Order]:
    with app.app_context():
        rows = db.session.scalars(select(Order)).all()
        db.session.expunge_all()
    return {o.external_id: o for o in rows}


def customers(app) -> dict[str, Customer]:
    with app.app_context():
        rows = db.session.scalars(select(Customer)).all()
        db.session.expunge_all()
    return {c.external_id: c for c in rows}


def test_raw_digit_dates_are_refused_not_read_as_unix_times(app, api, runner, tmp_path):
    path = write(tmp_path, "orders.csv", f"{ORDERS_HEADER}\nO1,C1,11.77,19970101\n")
    result = run(runner, api, "orders", path)
    assert result.exit_code == 2, result.output
    assert figures(result) == (1, 0, 1, 0)
    assert orders(app) == {}
    [row] = rejected_rows(tmp_path / "orders.csv.rejected.csv")
    assert row["line"] == "2" and row["ordered_at"] == "19970101"
    assert row["error"].startswith("ordered_at: not an ISO 8601 date or time; write it like")
    assert "2024-05-01T10:00:00Z" in row["error"]
    assert_plain(result.output)


def test_date_format_reads_digit_dates_and_day_first_dates(app, api, runner, tmp_path):
    compact = write(tmp_path, "a.csv", f"{ORDERS_HEADER}\nO1,C1,11.77,19970101\n")
    result = run(runner, api, "orders", compact, "--date-format", "%Y%m%d")
    assert result.exit_code == 0 and figures(result) == (1, 1, 0, 0), result.output
    text = f"{ORDERS_HEADER}\nO2,C1,5,01/05/2024\nO3,C1,5,13/13/2024\n"
    day_first = write(tmp_path, "b.csv", text)
    result = run(runner, api, "orders", day_first, "--date-format", "%d/%m/%Y")
    assert result.exit_code == 1 and figures(result) == (2, 1, 1, 0), result.output
    stored = orders(app)
    assert stored["O1"].ordered_at == datetime(1997, 1, 1)
    assert stored["O2"].ordered_at == datetime(2024, 5, 1)  # the 1st of May, not January 5th
    assert 'line 3: ordered_at: "13/13/2024" does not match the date format %d/%m/%Y' in (
        result.output
    )


def test_free_orders_are_stored_and_count_as_visits(app, api, runner, tmp_path):
    run(runner, api, "customers", write(tmp_path, "c.csv", "id,name\nC1,Asha\n"))
    path = write(tmp_path, "o.csv", f"{ORDERS_HEADER}\nO1,C1,0.00,2024-05-01\nO2,C1,0,2024-05-02\n")
    result = run(runner, api, "orders", path)
    assert result.exit_code == 0 and figures(result) == (2, 2, 0, 0), result.output
    c1 = customers(app)["C1"]
    assert (c1.visits, c1.total_spend, c1.last_visit_at) == (2, 0, datetime(2024, 5, 2))


def test_repeated_ids_last_line_wins_and_the_summary_says_so(app, api, runner, tmp_path):
    lines = [ORDERS_HEADER]
    for n in range(1, 31):  # O1..O3 appear on every tenth line: 27 lines repeat an id
        lines.append(f"O{n % 3 + 1},C1,{n}.00,2024-05-01")
    lines.append("O9,C1,9.00,2024-05-01")
    result = run(runner, api, "orders", write(tmp_path, "o.csv", "\n".join(lines) + "\n"))
    assert result.exit_code == 0, result.output
    assert figures(result) == (31, 4, 0, 27)
    stored = orders(app)
    assert len(stored) == 4
    # The last line of each id wins: O2 on line 29, O3 on line 30, O1 on line 31.
    assert {k: stored[k].amount for k in ("O1", "O2", "O3")} == {
        "O1": Decimal("30.00"), "O2": Decimal("28.00"), "O3": Decimal("29.00"),
    }  # fmt: skip
    first_20 = ", ".join(str(n) for n in range(5, 25))
    assert (
        f"3 ids were repeated: 27 lines repeat the id of an earlier line (lines {first_20}, "
        "the first 20); the last line of each id is the one kept."
    ) in result.output


def test_extra_columns_go_to_attributes_and_the_summary_names_them(app, api, runner, tmp_path):
    text = (
        f"{ORDERS_HEADER},number_of_cds,Store\n"
        "O1,C1,11.77,2024-05-01,3,Pune\nO2,C1,5,2024-05-01,,\n"
    )
    result = run(runner, api, "orders", write(tmp_path, "o.csv", text))
    assert result.exit_code == 0 and figures(result) == (2, 2, 0, 0), result.output
    assert "Columns kept in each record's attributes: number_of_cds, Store." in result.output
    stored = orders(app)
    assert stored["O1"].attributes == {"number_of_cds": "3", "Store": "Pune"}
    assert stored["O2"].attributes is None


@pytest.mark.parametrize(
    ("cell", "amount"),
    [
        ('"1,299.00"', "1299.00"),
        ('"₹ 1,29,999.50"', "129999.50"),
        ("Rs. 250", "250.00"),
        ("INR 1 299.5", "1299.50"),
        ("₹99", "99.00"),
    ],
)
def test_amounts_with_separators_and_currency_marks_are_read(app, api, runner, tmp_path, cell,
                                                             amount):
    path = write(tmp_path, "o.csv", f"{ORDERS_HEADER}\nO1,C1,{cell},01/05/2024\n")
    result = run(runner, api, "orders", path, "--date-format", "%d/%m/%Y")
    assert result.exit_code == 0 and figures(result) == (1, 1, 0, 0), result.output
    assert orders(app)["O1"].amount == Decimal(amount)


def test_bad_lines_are_explained_in_sentences_and_written_to_fix(app, api, runner, tmp_path):
    text = (
        "id,name,email,signup_at\n"
        "C1,Asha,asha@example.com,2024-05-01\n"
        "C2,Ravi,nobody,2024-05-01\n"
        "C3,,c3@example.com,2024-05-01\n"
        "C4,Meera,meera@example.com,last tuesday\n"
        "C5,Too,many,cells,here\n"
    )
    path = write(tmp_path, "customers.csv", text)
    result = run(runner, api, "customers", path)
    assert result.exit_code == 1, result.output
    assert figures(result) == (5, 1, 4, 0)
    assert set(customers(app)) == {"C1"}
    output = result.output
    assert "line 3: email: not an email address" in output
    assert "line 4: name is empty or missing" in output
    assert "line 5: signup_at: not an ISO 8601 date or time" in output
    assert "line 6: the line has 5 cells where the header has 4" in output
    assert_plain(output)
    rejected = tmp_path / "customers.csv.rejected.csv"
    assert f"The rejected lines are in {rejected}" in output
    rows = rejected_rows(rejected)
    assert [(r["id"], r["line"]) for r in rows] == [("C2", "3"), ("C3", "4"), ("C4", "5"),
                                                    ("C5", "6")]  # fmt: skip
    assert rows[0]["error"] == "email: not an email address" and rows[0]["name"] == "Ravi"
    for row in rows:
        assert_plain(row["error"])

    # Fixed in place, the rejected file imports as it is: its line and error columns are left out.
    fixed = rejected.read_text(encoding="utf-8").replace("nobody", "ravi@example.com")
    fixed = fixed.replace("C3,,", "C3,Chitra,").replace("last tuesday", "2024-05-02")
    fixed = fixed.replace("C5,Too,many,cells,6,the line has 5 cells where the header has 4,here",
                          "C5,Too,too@example.com,2024-05-03,6,")
    rejected.write_text(fixed, encoding="utf-8")
    again = run(runner, api, "customers", rejected)
    assert again.exit_code == 0 and figures(again) == (4, 4, 0, 0), again.output
    assert "attributes" not in again.output
    assert customers(app)["C2"].email == "ravi@example.com"
    assert customers(app)["C2"].attributes is None


def test_missing_column_is_one_error_naming_it_and_the_header(app, api, runner, tmp_path):
    rows = "".join(f"O{n},C1,10,2024-05-01\n" for n in range(200))
    path = write(tmp_path, "o.csv", "id,customer,amount,ordered_at\n" + rows)
    result = run(runner, api, "orders", path)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        'Error: o.csv: the required column "customer_id" is missing; the header found is: '
        "id, customer, amount, ordered_at (read as comma-separated)"
    ]
    assert orders(app) == {} and not (tmp_path / "o.csv.rejected.csv").exists()


@pytest.mark.parametrize("delimiter", [";", "\t", "|", ","])
def test_delimiter_is_found_among_comma_semicolon_tab_and_pipe(app, api, runner, tmp_path,
                                                               delimiter):
    header = delimiter.join(["id", "name", "email", "city"])
    body = "\n".join(
        delimiter.join([f"C{n}", f"Name {n}", f"c{n}@example.com", "Pune, MH"
                        if delimiter != "," else '"Pune, MH"']) for n in range(1, 6)
    )  # fmt: skip
    result = run(runner, api, "customers", write(tmp_path, "c.csv", f"{header}\n{body}\n"))
    assert result.exit_code == 0 and figures(result) == (5, 5, 0, 0), result.output
    assert customers(app)["C3"].city == "Pune, MH"


def test_bom_and_header_case_and_spaces_do_not_matter(app, api, runner, tmp_path):
    text = " ID ;NAME; Email \nC1;Asha;asha@example.com\n"
    result = run(runner, api, "customers", write(tmp_path, "c.csv", text, encoding="utf-8-sig"))
    assert result.exit_code == 0 and figures(result) == (1, 1, 0, 0), result.output
    assert customers(app)["C1"].email == "asha@example.com"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "c.csv is empty"),
        (b"\n\n  \n", "c.csv is empty"),
        (b"\xef\xbb\xbf", "c.csv is empty"),
        (b"id,name\n", "c.csv has a header but no lines to import"),
        (b"id,name\n,\n\n", "c.csv has a header but no lines to import"),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", "c.csv is not a text file"),
        (b"id,name\nC1,Jos\xe9\n", "c.csv is not UTF-8 text"),
    ],
)
def test_files_that_cannot_be_imported_exit_2_storing_nothing(app, api, runner, tmp_path,
                                                              content, message):
    path = tmp_path / "c.csv"
    path.write_bytes(content)
    result = run(runner, api, "customers", path)
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line.startswith(f"Error: {message}")
    assert_plain(line)
    assert customers(app) == {}


def test_a_line_that_is_not_utf8_is_rejected_and_kept_byte_for_byte(app, api, runner, tmp_path):
    good = "".join(f"C{n},Name {n}\n" for n in range(6000)).encode()  # past the sniffed sample
    path = tmp_path / "c.csv"
    path.write_bytes(b"id,name\n" + good + b"C9,Jos\xe9\n")
    result = run(runner, api, "customers", path)
    assert result.exit_code == 1 and figures(result) == (6001, 6000, 1, 0), result.output
    assert "line 6002: the line is not UTF-8 text" in result.output
    assert b"C9,Jos\xe9,6002," in (tmp_path / "c.csv.rejected.csv").read_bytes()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--date-format", "%Q"], '--date-format "%Q" is not a date format'),
        (["--date-format", "daily"], '--date-format "daily" reads no date'),
        (["--rejected", "/nowhere/at/all.csv"], "the folder /nowhere/at does not exist"),
    ],
)
def test_bad_options_exit_2_before_reading(app, api, runner, tmp_path, options, message):
    path = write(tmp_path, "o.csv", f"{ORDERS_HEADER}\nO1,C1,1,2024-05-01\n")
    result = run(runner, api, "orders", path, *options)
    assert result.exit_code == 2 and message in result.output, result.output
    assert orders(app) == {}


def test_every_line_rejected_is_exit_2(app, api, runner, tmp_path):
    path = write(tmp_path, "o.csv", f"{ORDERS_HEADER}\nO1,C1,abc,2024-05-01\nO2,C1,-1,2024-05-01\n")
    result = run(runner, api, "orders", path, "--rejected", str(tmp_path / "fix-me.csv"))
    assert result.exit_code == 2 and figures(result) == (2, 0, 2, 0)
    rows = rejected_rows(tmp_path / "fix-me.csv")
    assert rows[0]["error"].startswith('amount: "abc" is not an amount; write it like 1299.00')
    assert rows[1]["error"] == "amount: Input should be greater than or equal to 0"


def test_dry_run_checks_and_reports_but_stores_nothing(app, api, runner, tmp_path):
    text = f"{ORDERS_HEADER}\nO1,C1,1,2024-05-01\nO1,C1,2,2024-05-01\nO2,C1,x,2024-05-01\n"
    result = run(runner, api, "orders", write(tmp_path, "o.csv", text), "--dry-run")
    assert result.exit_code == 1
    assert figures(result) == (3, 0, 1, 1)
    assert "Dry run: nothing was stored; 1 line would be stored." in result.output
    assert orders(app) == {}


def test_json_lines_follow_the_same_rules(app, api, runner, tmp_path):
    text = (
        '{"id": "O1", "customer_id": "C1", "amount": "₹ 1,299", "ordered_at": "01/05/2024",'
        ' "attributes": {"gift": true}}\n'
        '{"id": "O2", "customer_id": "C1", "amount": 5, "ordered_at": "01/05/2024", "note": 1}\n'
        "{broken\n"
    )
    result = run(runner, api, "orders", write(tmp_path, "o.jsonl", text), "--date-format",
                 "%d/%m/%Y")  # fmt: skip
    assert result.exit_code == 1 and figures(result) == (3, 1, 2, 0), result.output
    assert "line 2: note is not a field of orders; free-form data goes under attributes" in (
        result.output
    )
    assert "line 3: not valid JSON" in result.output
    assert_plain(result.output)
    o1 = orders(app)["O1"]
    assert (o1.amount, o1.attributes) == (Decimal("1299.00"), {"gift": True})
    rows = rejected_rows(tmp_path / "o.jsonl.rejected.csv")
    assert [r["line"] for r in rows] == ["2", "3"] and rows[1]["record"] == "{broken"


@pytest.mark.parametrize("shape", ["jsonl", "json"])
def test_a_record_nested_too_deep_to_decode_is_rejected_and_the_rest_stored(
        app, api, runner, tmp_path, shape):
    """JSON nested 100,000 deep makes Python's decoder give up (RecursionError): that one
    record is reported, the records around it are stored, the command does not crash."""
    deep = ('{"id": "O9", "customer_id": "C1", "amount": 1, "ordered_at": "2024-05-01",'
            ' "attributes": {"a": ' + "[" * 100_000 + "]" * 100_000 + "}}")
    first = '{"id": "O1", "customer_id": "C1", "amount": 5, "ordered_at": "2024-05-01"}'
    last = '{"id": "O2", "customer_id": "C1", "amount": 6, "ordered_at": "2024-05-01"}'
    text = (f"{first}\n{deep}\n{last}\n" if shape == "jsonl"
            else f"[{first},\n{deep},\n{last}]")
    result = run(runner, api, "orders", write(tmp_path, f"o.{shape}", text))
    assert result.exit_code == 1 and figures(result) == (3, 2, 1, 0), result.output
    assert "line 2: not valid JSON (it nests too deep to read)" in result.output
    assert_plain(result.output)
    assert sorted(orders(app)) == ["O1", "O2"]
    rows = rejected_rows(tmp_path / f"o.{shape}.rejected.csv")
    assert [r["line"] for r in rows] == ["2"] and rows[0]["record"].startswith('{"id": "O9"')
