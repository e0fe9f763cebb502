"""orders carry free-form attributes"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    # batch_alter_table: SQLite cannot add a column with every constraint in place.
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("attributes", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("attributes")
