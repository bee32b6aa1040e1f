"""Text retention: when reply texts and sent messages lost their text, and indexes to find what is due.

Questions already had ``text_redacted_at`` (0001). Each index leads with the redaction time, so the
daily job's "not yet redacted and older than the cutoff" is one index range that skips everything
redacted on earlier days.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("replies", sa.Column("text_redacted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("outbox", sa.Column("text_redacted_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_questions_text_redacted_at_asked_at", "questions", ["text_redacted_at", "asked_at"])
    op.create_index("ix_replies_text_redacted_at_created_at", "replies", ["text_redacted_at", "created_at"])
    op.create_index("ix_outbox_text_redacted_at_created_at", "outbox", ["text_redacted_at", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_text_redacted_at_created_at", table_name="outbox")
    op.drop_index("ix_replies_text_redacted_at_created_at", table_name="replies")
    op.drop_index("ix_questions_text_redacted_at_asked_at", table_name="questions")
    # Batch mode: on SQLite this copies the table; on PostgreSQL it is a plain ALTER TABLE.
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("text_redacted_at")
    with op.batch_alter_table("replies") as batch:
        batch.drop_column("text_redacted_at")
