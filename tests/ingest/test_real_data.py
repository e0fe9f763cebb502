"""A real, public transaction log through `xeno import`: CDNOW.

CDNOW_master.txt is the purchase history of the 23,570 customers who first bought at the
CDNOW online music store in the first quarter of 1997, through June 1998: 69,659 lines of
customer id, date (19970101), number of CDs and dollar value, 80 of them 0.00. It ships in
the `lifetimes` package (MIT licence; a test extra) as lifetimes/datasets/CDNOW_master.txt.
The test reshapes its whitespace-aligned columns into the ;-separated CSV a shop would
export, keeps the dates as written (read with --date-format %Y%m%d) and number_of_cds as an
extra column, and checks every customer's spend, visits and last visit against an oracle
computed here from the raw file.
"""

from __future__ import annotations

import importlib.util
import re
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from xeno.db.models import Customer, Order
from xeno.extensions import db

SUMMARY = re.compile(r"read (\d+), stored (\d+), rejected (\d+), repeated (\d+) in ")


def cdnow_file() -> Path:
    spec = importlib.util.find_spec("lifetimes")  # found, not imported: it pulls in pandas
    assert spec and spec.submodule_search_locations, "pip install -e '.[test]' brings lifetimes"
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "CDNOW_master.txt"
    assert path.is_file(), f"{path} is missing from the lifetimes package"
    return path


def read_raw(path: Path) -> list[tuple[str, str, str, str]]:
    """(customer id, yyyymmdd, number of CDs, dollar value) per purchase, header skipped."""
    lines = path.read_text().splitlines()
    assert lines[0].split() == ["customer_id", "date", "number_of_cds", "dollar_value"]
    return [tuple(line.split()) for line in lines[1:] if line.strip()]  # type: ignore[misc]


def test_cdnow_imports_with_every_customers_spend_visits_and_last_visit_exact(
    app, api, runner, tmp_path
):
    purchases = read_raw(cdnow_file())
    assert len(purchases) == 69_659

    orders_csv = tmp_path / "cdnow_orders.csv"
    with orders_csv.open("w") as out:
        out.write("id;customer_id;ordered_at;number_of_cds;amount\n")
        for n, (customer, day, cds, dollars) in enumerate(purchases, start=2):
            out.write(f"{customer}-{n};{customer};{day};{cds};{dollars}\n")
    ids = sorted({customer for customer, *_ in purchases})
    customers_csv = tmp_path / "cdnow_customers.csv"
    customers_csv.write_text("id;name\n" + "".join(f"{c};Customer {c}\n" for c in ids))

    # Orders first: a customer who arrives later gets the orders already stored counted.
    result = runner.invoke(
        args=["import", "orders", str(orders_csv), "--date-format", "%Y%m%d"]
    )
    api.drain()
    assert result.exit_code == 0, result.output
    assert SUMMARY.search(result.output).groups() == ("69659", "69659", "0", "0")
    assert "Columns kept in each record's attributes: number_of_cds." in result.output
    result = runner.invoke(args=["import", "customers", str(customers_csv)])
    api.drain()
    assert result.exit_code == 0, result.output
    assert SUMMARY.search(result.output).groups() == ("23570", "23570", "0", "0")

    spend: dict[str, Decimal] = defaultdict(Decimal)
    visits: dict[str, int] = defaultdict(int)
    last: dict[str, datetime] = {}
    for customer, day, _cds, dollars in purchases:
        spend[customer] += Decimal(dollars)
        visits[customer] += 1
        when = datetime.strptime(day, "%Y%m%d")
        last[customer] = max(last.get(customer, when), when)
    oracle = {c: (spend[c], visits[c], last[c]) for c in ids}
    assert len(oracle) == 23_570
    assert sum(1 for *_, dollars in purchases if Decimal(dollars) == 0) == 80

    with app.app_context():
        stored = {
            ext: (total, count, when)
            for ext, total, count, when in db.session.execute(
                select(Customer.external_id, Customer.total_spend, Customer.visits,
                       Customer.last_visit_at)
            )
        }  # fmt: skip
        first = db.session.scalars(select(Order).where(Order.external_id == "00001-2")).one()
        assert (first.amount, first.ordered_at) == (Decimal("11.77"), datetime(1997, 1, 1))
        assert first.attributes == {"number_of_cds": "1"}
    assert stored == oracle
