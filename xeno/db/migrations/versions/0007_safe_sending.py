"""safe sending: consent, frequency cap index, campaign breakdown, idempotency keys"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"

MYSQL = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("unsubscribed_at", sa.DateTime(), nullable=True))
        batch.create_index("ix_customers_unsubscribed_at", ["unsubscribed_at"], unique=False)
    with op.batch_alter_table("campaigns") as batch:
        for name in ("matched", "excluded_unsubscribed", "excluded_frequency_cap"):
            batch.add_column(sa.Column(name, sa.Integer(), server_default="0", nullable=False))
        batch.add_column(
            sa.Column("ignore_frequency_cap", sa.Boolean(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=True))
        batch.create_foreign_key(
            "fk_campaigns_parent", "campaigns", ["parent_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index(
            "ix_campaigns_fingerprint", ["fingerprint", "created_at"], unique=False
        )
    op.create_index(
        "ix_log_customer_recent",
        "communications_log",
        ["customer_id", "created_at", "status"],
        unique=False,
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("response", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
        **MYSQL,
    )
    op.create_index(
        "ix_idempotency_keys_created", "idempotency_keys", ["created_at"], unique=False
    )
    op.create_table(
        "campaign_locks",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("locked_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("fingerprint"),
        **MYSQL,
    )


def downgrade() -> None:
    op.drop_table("campaign_locks")
    op.drop_index("ix_idempotency_keys_created", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_log_customer_recent", table_name="communications_log")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_index("ix_campaigns_fingerprint")
        batch.drop_constraint("fk_campaigns_parent", type_="foreignkey")
        for name in ("fingerprint", "parent_id", "ignore_frequency_cap",
                     "excluded_frequency_cap", "excluded_unsubscribed", "matched"):
            batch.drop_column(name)
    with op.batch_alter_table("customers") as batch:
        batch.drop_index("ix_customers_unsubscribed_at")
        batch.drop_column("unsubscribed_at")
