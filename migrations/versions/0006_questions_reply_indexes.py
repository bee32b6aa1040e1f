"""Indexes on when questions were first answered: a team's week of answers, and the planner's
look-up of everyone's answers for the experts' weekly summaries (bench/insights.py: without them
both read every question of the team, or of all teams, on each call).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_questions_workspace_id_first_reply_at", "questions", ["workspace_id", "first_reply_at"])
    op.create_index("ix_questions_first_reply_at", "questions", ["first_reply_at"])


def downgrade() -> None:
    op.drop_index("ix_questions_first_reply_at", table_name="questions")
    op.drop_index("ix_questions_workspace_id_first_reply_at", table_name="questions")
