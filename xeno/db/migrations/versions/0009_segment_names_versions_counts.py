"""segments: unique names ignoring case, an edit version, when the size was counted;
a customer's messages by index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"

NAME_KEY = sa.String(200).with_variant(sa.String(200, collation="utf8mb4_bin"), "mysql", "mariadb")


def _unique_names(conn: sa.Connection) -> None:
    """Fill name_key; names already taken (ignoring case) get their id appended, once."""
    segments = sa.table(
        "segments", sa.column("id", sa.Integer), sa.column("name", sa.String),
        sa.column("name_key", sa.String),
    )
    rows = conn.execute(sa.select(segments.c.id, segments.c.name).order_by(segments.c.id)).all()
    seen: set[str] = set()
    for segment_id, name in rows:  # segments are few (a team's saved audiences)
        key = name.strip().casefold()
        if key in seen:
            name = f"{name} ({segment_id})"[:200]
            key = name.strip().casefold()
        seen.add(key)
        conn.execute(
            segments.update().where(segments.c.id == segment_id).values(name=name, name_key=key)
        )


def upgrade() -> None:
    with op.batch_alter_table("segments") as batch:
        batch.add_column(sa.Column("name_key", NAME_KEY, nullable=True))
        batch.add_column(sa.Column("counted_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    _unique_names(op.get_bind())
    op.execute("UPDATE segments SET counted_at = updated_at")
    with op.batch_alter_table("segments") as batch:
        batch.alter_column("name_key", existing_type=NAME_KEY, nullable=False)
        batch.create_unique_constraint("uq_segments_name_key", ["name_key"])
    op.create_index("ix_log_customer", "communications_log", ["customer_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_log_customer", table_name="communications_log")
    with op.batch_alter_table("segments") as batch:
        batch.drop_constraint("uq_segments_name_key", type_="unique")
        batch.drop_column("version")
        batch.drop_column("counted_at")
        batch.drop_column("name_key")
