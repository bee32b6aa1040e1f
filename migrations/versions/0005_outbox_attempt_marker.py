"""Outbox: when a delivery attempt whose outcome is unknown began (exactly-once after a crash).

Set when a row is claimed for sending (kept from the first such attempt), cleared once the outcome
is recorded as sent, failed for good or skipped. A claimed row that still has it set was being sent
when its sender died or timed out: the dispatcher asks the platform before sending it again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("attempt_started_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("attempt_started_at")
