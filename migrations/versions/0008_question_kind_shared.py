"""Questions: whether the asker let the expert see the kind of question (issue 11, finding 9).

The kind ("doubt about my own competence", "complex or unforeseen situation") is the asker's own
unless they choose to show it. Existing questions get false: nobody chose to share it, so from
now on the expert no longer sees it in their export either.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("questions", sa.Column("kind_shared", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("questions") as batch:
        batch.drop_column("kind_shared")
