"""Who is spending a Slack refresh token right now (issue 16, token rotation across replicas).

Slack revokes a refresh token once it has been used. Two replicas refreshing one workspace at the same moment
would both send it, and the second would fail. ``refresh_claimed_until`` is set by the one replica that takes
the refresh (a conditional UPDATE), cleared when it stores the new tokens, and runs out by itself if that
replica dies meanwhile.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("slack_installations",
                  sa.Column("refresh_claimed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("slack_installations") as batch:
        batch.drop_column("refresh_claimed_until")
