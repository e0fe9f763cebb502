"""api tokens can be revoked

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 02:03:49.586232
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("revoked_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("api_tokens", "revoked_at")
