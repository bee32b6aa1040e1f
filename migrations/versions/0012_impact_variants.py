"""Which reframing text variant each person received (issue 17).

The outbox row of a rotated reframing nudge (in-role, confirmation, curt, autonomy, werk tag) keeps
the number of the variant it was written with, so the impact report can compare how people fared
after each text (docs/impact.md). The number lives and dies with the message row: forget-me deletes
it with the person's messages, and retention clears it once it is older than any impact report can
look back (handlers.retention).

A partial index on when such rows were queued, so that clearing reads only rows that still carry a
variant; the report itself reads variants through the existing index on the question id.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WITH_VARIANT = "text_variant IS NOT NULL"


def upgrade() -> None:
    op.add_column("outbox", sa.Column("text_variant", sa.Integer(), nullable=True))  # no table copy
    op.create_index("ix_outbox_variant_created_at", "outbox", ["created_at"],
                    sqlite_where=sa.text(_WITH_VARIANT), postgresql_where=sa.text(_WITH_VARIANT))


def downgrade() -> None:
    op.drop_index("ix_outbox_variant_created_at", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("text_variant")
