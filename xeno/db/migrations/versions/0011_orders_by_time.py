"""orders by time: a campaign's results range over the orders of its window"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    op.create_index("ix_orders_ordered_at", "orders",
                    ["ordered_at", "customer_external_id", "amount"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_orders_ordered_at", table_name="orders")
