"""delivery attempts and failure reasons on communications_log

`handed_at` and `attempts` let the receipt sweeper find messages the vendor never
answered for; `reason` says why a message FAILED (the vendor's words, or `no_receipt`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    # Nullable columns and a constant default: MariaDB adds them instantly, no table copy.
    with op.batch_alter_table("communications_log") as batch:
        batch.add_column(sa.Column("reason", sa.String(200), nullable=True))
        batch.add_column(sa.Column("handed_at", sa.DateTime(), nullable=True))
        batch.add_column(
            sa.Column("attempts", sa.SmallInteger(), nullable=False, server_default="0")
        )
    # The sweeper's one range: PENDING rows handed before a cutoff.
    op.create_index("ix_log_status_handed", "communications_log", ["status", "handed_at"])


def downgrade() -> None:
    op.drop_index("ix_log_status_handed", table_name="communications_log")
    with op.batch_alter_table("communications_log") as batch:
        batch.drop_column("attempts")
        batch.drop_column("handed_at")
        batch.drop_column("reason")
