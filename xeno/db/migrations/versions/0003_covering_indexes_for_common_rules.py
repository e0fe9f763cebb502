"""covering indexes for common rules"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    # New indexes first: the old ones keep serving reads while these build.
    op.create_index(
        "ix_customers_spend_visits", "customers", ["total_spend", "visits"], unique=False
    )
    op.create_index(
        "ix_customers_last_visit_signup", "customers", ["last_visit_at", "signup_at"], unique=False
    )
    op.drop_index("ix_customers_total_spend", table_name="customers")
    op.drop_index("ix_customers_last_visit_at", table_name="customers")


def downgrade() -> None:
    op.create_index("ix_customers_total_spend", "customers", ["total_spend"], unique=False)
    op.create_index("ix_customers_last_visit_at", "customers", ["last_visit_at"], unique=False)
    op.drop_index("ix_customers_spend_visits", table_name="customers")
    op.drop_index("ix_customers_last_visit_signup", table_name="customers")
