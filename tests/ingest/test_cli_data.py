"""`xeno import`, `xeno generate`, `xeno token create`, `xeno db init`."""

from __future__ import annotations

import csv
import json
from decimal import Decimal

from sqlalchemy import func, select

from xeno.auth.tokens import hash_token
from xeno.db.models import ApiToken, Customer, Order
from xeno.extensions import db

BAD_LINES = {
    1_001: "not-an-email",
    20_002: "",
    33_333: "missing-name",
    70_000: "extra-cell",
    99_999: "bad-signup",
}


def write_customers_csv(path, rows: int) -> None:
    """A CSV with `rows` customers; the lines in BAD_LINES are broken in different ways."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "email", "city", "signup_at"])
        for line in range(2, rows + 2):
            row = [
                f"C{line}",
                f"Name {line}",
                f"c{line}@example.com",
                "Pune",
                "2024-01-02T03:04:05Z",
            ]
            kind = BAD_LINES.get(line)
            if kind == "not-an-email":
                row[2] = "nobody"
            elif kind == "":
                row[0] = ""
            elif kind == "missing-name":
                row[1] = ""
            elif kind == "extra-cell":
                row.append("surprise")
            elif kind == "bad-signup":
                row[4] = "last tuesday"
            writer.writerow(row)


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_import_csv_of_100k_lines_imports_the_rest_and_names_the_bad(app, api, runner, tmp_path):
    path = tmp_path / "customers.csv"
    write_customers_csv(path, 100_000)
    result = runner.invoke(args=["import", "customers", str(path)])
    api.drain()
    assert result.exit_code == 1, result.output
    assert "read 100000, stored 99995, rejected 5, repeated 0 in " in result.output
    named = [line for line in result.output.splitlines() if line.strip().startswith("line ")]
    assert [int(line.split()[1].rstrip(":")) for line in named] == sorted(BAD_LINES)
    assert "email" in named[0] and "6 cells" in named[3] and "signup_at" in named[4]
    assert count(app, Customer) == 99_995


def test_import_jsonl_and_json_array_keep_line_numbers(app, api, runner, tmp_path):
    orders = [
        {
            "id": f"O{n}",
            "customer_id": "C1",
            "amount": "10.50",
            "ordered_at": "2024-10-01T12:30:00Z",
        }
        for n in range(5)
    ]
    orders[2]["amount"] = "-1"
    jsonl = tmp_path / "orders.jsonl"
    jsonl.write_text("\n".join(json.dumps(o) for o in orders) + "\n{broken\n")
    result = runner.invoke(args=["import", "orders", str(jsonl)])
    assert "line 3: amount" in result.output and "line 6: not valid JSON" in result.output, (
        result.output
    )

    array = tmp_path / "orders.json"
    array.write_text("[\n" + ",\n".join(json.dumps(o) for o in orders) + "\n]\n")
    result = runner.invoke(args=["import", "orders", str(array)])
    api.drain()
    assert "line 4: amount" in result.output, result.output
    assert count(app, Order) == 4


def test_import_refuses_unknown_file_types(runner, tmp_path):
    path = tmp_path / "orders.xlsx"
    path.write_text("x")
    result = runner.invoke(args=["import", "orders", str(path)])
    assert result.exit_code == 2 and "not a .csv, .json or .jsonl file" in result.output


def test_generate_then_import_gives_exact_aggregates(app, api, runner, tmp_path):
    result = runner.invoke(
        args=["generate", "--customers", "300", "--orders", "1500", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    runner.invoke(args=["import", "orders", str(tmp_path / "orders.csv")])
    runner.invoke(args=["import", "customers", str(tmp_path / "customers.csv")])
    api.drain()
    with (tmp_path / "orders.csv").open() as handle:
        expected = sum(Decimal(row["amount"]) for row in csv.DictReader(handle))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 300
        assert db.session.scalar(select(func.sum(Customer.total_spend))) == expected
        assert db.session.scalar(select(func.sum(Customer.visits))) == 1500


def test_token_create_prints_a_token_stored_only_hashed(app, runner, client):
    result = runner.invoke(args=["token", "create", "shop"])
    token = result.output.strip()
    assert result.exit_code == 0 and token.startswith("xeno_")
    with app.app_context():
        stored = db.session.scalars(select(ApiToken.token_hash)).all()
    assert hash_token(token) in stored and token not in stored
    response = client.get("/api/v1/batches/x", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404


def test_db_init_is_repeatable(runner):
    for _ in range(2):
        result = runner.invoke(args=["db", "init"])
        assert result.exit_code == 0 and "schema ready" in result.output
