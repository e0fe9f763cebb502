"""holdout and attribution: campaign settings, holdout counter, log index by customer"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("holdout", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("holdout_percent", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("attribution_days", sa.Integer(), nullable=False, server_default="7"))
    op.create_index("ix_log_customer_status_updated", "communications_log",
                    ["customer_id", "status", "updated_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_log_customer_status_updated", table_name="communications_log")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("attribution_days")
        batch.drop_column("holdout_percent")
        batch.drop_column("holdout")
