"""record versions, batch outcomes, ids compared exactly

- `customers.version`, `orders.version`: when the stored record was accepted, so an older
  one delivered late never overwrites a newer one.
- `batches`: what a published batch stored and rejected, kept beside the records.
- External ids in a binary collation on MySQL. The old case- and accent-insensitive one let
  an order of `casea` count for customer `CaseA`; such pairs are reported (logged) and
  those customers' aggregates recomputed. Two customers (or orders) whose ids differ only
  in case or accents were already merged into one row by the old unique index and cannot
  be told apart any more.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"

log = logging.getLogger("alembic.runtime.migration")
SAMPLE = 20
CHUNK = 1000


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("version", sa.BigInteger(), server_default="0", nullable=False))
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("version", sa.BigInteger(), server_default="0", nullable=False))
    op.create_table(
        "batches",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    op.create_index("ix_batches_created", "batches", ["created_at"], unique=False)
    if op.get_bind().dialect.name == "mysql":
        _ids_to_binary()


def _ids_to_binary() -> None:
    """Report orders that counted for a customer only by case/accent, switch, recompute."""
    conn = op.get_bind()
    clashes = conn.execute(
        sa.text(
            "SELECT o.external_id, o.customer_external_id, c.external_id FROM orders o"
            " JOIN customers c ON c.external_id = o.customer_external_id"
            " WHERE CAST(o.customer_external_id AS BINARY) <> CAST(c.external_id AS BINARY)"
        )
    ).all()
    for column, table in (
        ("external_id", "customers"),
        ("external_id", "orders"),
        ("customer_external_id", "orders"),
    ):
        op.execute(
            f"ALTER TABLE `{table}` MODIFY `{column}` VARCHAR(64)"
            " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL"
        )
    if not clashes:
        log.info("external ids now compared exactly; no order named its customer inexactly")
        return
    sample = ", ".join(
        f"order {o!r} -> {named!r} (was {stored!r})" for o, named, stored in clashes[:SAMPLE]
    )
    log.warning(
        "external ids now compared exactly: %d stored orders named their customer only up to"
        " case or accents and no longer count for them: %s%s",
        len(clashes), sample, " …" if len(clashes) > SAMPLE else "",
    )
    customers = sorted({stored for _o, _named, stored in clashes} | {n for _o, n, _s in clashes})
    for start in range(0, len(customers), CHUNK):
        conn.execute(_recompute(), {"ids": customers[start : start + CHUNK]})


def _recompute() -> sa.TextClause:
    of_customer = "FROM orders o WHERE o.customer_external_id = c.external_id"
    return sa.text(
        "UPDATE customers c SET"
        f" total_spend = COALESCE((SELECT ROUND(SUM(o.amount), 2) {of_customer}), 0),"
        f" visits = (SELECT COUNT(*) {of_customer}),"
        f" last_visit_at = (SELECT MAX(o.ordered_at) {of_customer})"
        " WHERE c.external_id IN :ids"
    ).bindparams(sa.bindparam("ids", expanding=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "mysql":
        for column, table in (
            ("customer_external_id", "orders"),
            ("external_id", "orders"),
            ("external_id", "customers"),
        ):
            op.execute(
                f"ALTER TABLE `{table}` MODIFY `{column}` VARCHAR(64)"
                " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL"
            )
    op.drop_index("ix_batches_created", table_name="batches")
    op.drop_table("batches")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("version")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("version")
